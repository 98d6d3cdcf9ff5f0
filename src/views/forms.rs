//! Form pieces shared by every form.

use std::collections::HashMap;

use maud::{html, Markup};

use crate::auth::Visitor;

/// Messages to show next to fields, by field name.
#[derive(Debug, Default)]
pub struct FieldErrors(pub HashMap<&'static str, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }
}

/// The hidden CSRF field every POST form carries.
pub fn csrf(visitor: &Visitor) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(visitor.csrf_token()); }
}

/// One labelled input with its error (and `aria-invalid`) when there is one.
pub struct Field<'a> {
    pub name: &'static str,
    pub label: &'a str,
    pub kind: &'a str,
    pub value: &'a str,
    pub autocomplete: &'a str,
    pub hint: Option<&'a str>,
}

pub fn field(f: &Field, errors: &FieldErrors) -> Markup {
    let id = format!("field-{}", f.name);
    let error = errors.get(f.name);
    let described = match (error.is_some(), f.hint.is_some()) {
        (true, _) => Some(format!("{id}-error")),
        (false, true) => Some(format!("{id}-hint")),
        _ => None,
    };
    html! {
        div class="field" {
            label for=(id) { (f.label) }
            input id=(id) name=(f.name) type=(f.kind) value=(f.value) autocomplete=(f.autocomplete) required
                aria-invalid=[error.map(|_| "true")] aria-describedby=[described];
            @if let Some(hint) = f.hint {
                small id={ (id) "-hint" } class="hint" { (hint) }
            }
            @if let Some(error) = error {
                p id={ (id) "-error" } class="field-error" { (error) }
            }
        }
    }
}

/// A one-button form posting to `action`.
pub fn button_form(visitor: &Visitor, action: &str, label: &str, class: &str) -> Markup {
    html! {
        form method="post" action=(action) class="inline-form" {
            (csrf(visitor))
            button type="submit" class=(class) { (label) }
        }
    }
}
