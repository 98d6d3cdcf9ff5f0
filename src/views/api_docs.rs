//! `/api/docs`: the API for people, rendered from its OpenAPI document (no script, no
//! assets of its own): the introduction, authentication, every operation by tag, and
//! the shapes it reads and answers. Whatever is added to the document shows here.

use maud::{html, Markup, PreEscaped};
use serde_json::Value;

use super::layout::{self, Meta};
use crate::auth::Visitor;

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Markdown of the document (trusted text, still cleaned like everything rendered).
fn prose(text: Option<&str>) -> Markup {
    match text.filter(|t| !t.trim().is_empty()) {
        Some(text) => PreEscaped(crate::markdown::render(text)),
        None => html! {},
    }
}

/// The name of a `#/components/schemas/…` reference.
fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix("#/components/schemas/")
}

/// A schema in a few words: its type, a link to a named one, an array of …
fn type_of(schema: &Value) -> Markup {
    if let Some(name) = ref_name(schema) {
        return html! { a href={ "#schema-" (name) } { (name) } };
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let joiner = if key == "allOf" { " and " } else { " or " };
            return html! {
                @for (i, option) in options.iter().enumerate() {
                    @if i > 0 { (joiner) }
                    (type_of(option))
                }
            };
        }
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    html! {
        @for (i, t) in types.iter().enumerate() {
            @if i > 0 { " or " }
            @if *t == "array" {
                "array of " (schema.get("items").map(type_of).unwrap_or_else(|| html! { "anything" }))
            } @else {
                (t)
            }
        }
        @if types.is_empty() && schema.get("enum").is_none() { "any" }
        @if let Some(format) = schema.get("format").and_then(Value::as_str) { " (" (format) ")" }
        @if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            " one of: "
            @for (i, v) in values.iter().enumerate() {
                @if i > 0 { ", " }
                code { (v) }
            }
        }
    }
}

/// The limits a schema sets, in words.
fn limits(schema: &Value) -> Markup {
    let number = |key: &str| schema.get(key).filter(|v| v.is_number()).map(Value::to_string);
    html! {
        @if let Some(n) = number("minimum") { " At least " (n) "." }
        @if let Some(n) = number("maximum") { " At most " (n) "." }
        @if let Some(n) = number("minLength") { " At least " (n) " characters." }
        @if let Some(n) = number("maxLength") { " At most " (n) " characters." }
        @if let Some(n) = number("maxItems") { " At most " (n) " items." }
    }
}

fn security(operation: &Value, document: &Value) -> Markup {
    let required = operation.get("security").or_else(|| document.get("security")).and_then(Value::as_array);
    let Some(options) = required else { return html! { p class="hint" { "No authentication." } } };
    let anonymous = options.iter().any(|o| o.as_object().is_some_and(|o| o.is_empty()));
    let schemes: Vec<&str> =
        options.iter().filter_map(Value::as_object).flat_map(|o| o.keys()).map(String::as_str).collect();
    html! {
        p class="hint" {
            @if anonymous { "Anonymous, or signed in: " } @else { "Signed in: " }
            @for (i, scheme) in schemes.iter().enumerate() {
                @if i > 0 { " or " }
                a href={ "#auth-" (scheme) } { (scheme) }
            }
            @if anonymous { " (what the caller sees may differ)" }
            "."
        }
    }
}

/// An operation's summary and description. A summary that is the first line of a doc
/// comment (utoipa's) is continued by the description: one text, as it was written.
fn explanation(op: &Value) -> Markup {
    let summary = op.get("summary").and_then(Value::as_str).unwrap_or("").trim();
    let description = op.get("description").and_then(Value::as_str).unwrap_or("").trim();
    if summary.is_empty() || description.starts_with(summary) {
        return prose(Some(description));
    }
    if summary.ends_with(['.', '!', '?', ':']) {
        return html! { (prose(Some(summary))) (prose(Some(description))) };
    }
    prose(Some(&format!("{summary}\n{description}")))
}

fn operation(method: &str, path: &str, op: &Value, document: &Value) -> Markup {
    let anchor = op
        .get("operationId")
        .and_then(Value::as_str)
        .map(|id| format!("op-{id}"))
        .unwrap_or_else(|| format!("op-{method}-{path}").replace(['/', '{', '}'], "-"));
    let upper = method.to_uppercase();
    let parameters = op.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    html! {
        section class="operation" aria-labelledby=(anchor) {
            h3 id=(anchor) class="operation-title" { span class="method" { (upper) } " " code { (path) } }
            (explanation(op))
            (security(op, document))
            @if !parameters.is_empty() {
                h4 { "Parameters" }
                table {
                    thead { tr { th scope="col" { "Name" } th scope="col" { "In" } th scope="col" { "Type" } th scope="col" { "Description" } } }
                    tbody {
                        @for p in &parameters {
                            tr {
                                td { code { (p.get("name").and_then(Value::as_str).unwrap_or("")) }
                                     @if p.get("required").and_then(Value::as_bool) == Some(true) { " (required)" } }
                                td { (p.get("in").and_then(Value::as_str).unwrap_or("")) }
                                td { @if let Some(s) = p.get("schema") { (type_of(s)) (limits(s)) }
                                     @if let Some(pattern) = p.get("schema").and_then(|s| s.get("pattern")).and_then(Value::as_str) {
                                         " Matches " code { (pattern) } "." } }
                                td { (prose(p.get("description").and_then(Value::as_str))) }
                            }
                        }
                    }
                }
            }
            @if let Some(body) = op.get("requestBody") {
                h4 { "Request body" }
                (prose(body.get("description").and_then(Value::as_str)))
                @if let Some(content) = body.get("content").and_then(Value::as_object) {
                    ul {
                        @for (media, item) in content {
                            li { code { (media) } ": " @if let Some(s) = item.get("schema") { (type_of(s)) } }
                        }
                    }
                }
            }
            h4 { "Responses" }
            table {
                thead { tr { th scope="col" { "Status" } th scope="col" { "Description" } th scope="col" { "Body" } } }
                tbody {
                    @if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                        @for (status, response) in responses {
                            tr class="response" {
                                td { code { (status) } }
                                td {
                                    (prose(response.get("description").and_then(Value::as_str)))
                                    @if let Some(headers) = response.get("headers").and_then(Value::as_object) {
                                        @for (name, header) in headers {
                                            p { "Header " code { (name) } ": " (header.get("description").and_then(Value::as_str).unwrap_or("")) }
                                        }
                                    }
                                }
                                td {
                                    @if let Some(content) = response.get("content").and_then(Value::as_object) {
                                        @for (media, item) in content {
                                            code { (media) } ": " @if let Some(s) = item.get("schema") { (type_of(s)) } br;
                                        }
                                    } @else { "None" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn schema_section(name: &str, schema: &Value) -> Markup {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    html! {
        section class="operation" aria-labelledby={ "schema-" (name) } {
            h3 id={ "schema-" (name) } { (name) }
            (prose(schema.get("description").and_then(Value::as_str)))
            @if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                table {
                    thead { tr { th scope="col" { "Field" } th scope="col" { "Type" } th scope="col" { "Description" } } }
                    tbody {
                        @for (field, property) in properties {
                            tr {
                                td { code { (field) } @if required.contains(&field.as_str()) { " (required)" } }
                                td { (type_of(property)) (limits(property)) }
                                td { (prose(property.get("description").and_then(Value::as_str))) }
                            }
                        }
                    }
                }
                @if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
                    p class="hint" { "Other fields are refused." }
                }
            } @else {
                p { (type_of(schema)) (limits(schema)) }
            }
        }
    }
}

/// The body of the page: everything but the site's frame. Rendered once per process.
pub fn body(document: &Value) -> Markup {
    let info = &document["info"];
    let paths = document.get("paths").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut tags: Vec<(String, Option<String>)> = document
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(|t| {
                    Some((
                        t.get("name")?.as_str()?.to_owned(),
                        t.get("description").and_then(Value::as_str).map(str::to_owned),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    // Operations by tag, in the document's order; an untagged or unlisted tag still shows.
    let mut operations: Vec<(String, &str, &str, &Value)> = Vec::new();
    for (path, item) in &paths {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let tag = op.get("tags").and_then(|t| t.get(0)).and_then(Value::as_str).unwrap_or("other").to_owned();
            if !tags.iter().any(|(name, _)| *name == tag) {
                tags.push((tag.clone(), None));
            }
            operations.push((tag, method, path.as_str(), op));
        }
    }
    let schemes =
        document.pointer("/components/securitySchemes").and_then(Value::as_object).cloned().unwrap_or_default();
    let schemas = document.pointer("/components/schemas").and_then(Value::as_object).cloned().unwrap_or_default();
    html! {
        div class="api-docs" {
            h1 { (info.get("title").and_then(Value::as_str).unwrap_or("API")) }
            p class="hint" { "Version " (info.get("version").and_then(Value::as_str).unwrap_or("")) ". The machine-readable document: "
                a href="/api/openapi.json" { "/api/openapi.json" } " (OpenAPI " (document.get("openapi").and_then(Value::as_str).unwrap_or("")) ")." }
            (prose(info.get("description").and_then(Value::as_str)))
            nav aria-labelledby="api-contents" {
                h2 id="api-contents" { "Contents" }
                ul {
                    li { a href="#authentication" { "Authentication" } }
                    li { a href="#errors" { "Errors, caching and paging" } }
                    @for (tag, _) in &tags {
                        li {
                            a href={ "#tag-" (tag) } { (tag) }
                            ul {
                                @for (t, method, path, op) in &operations {
                                    @if t == tag {
                                        li { a href={ "#op-" (op.get("operationId").and_then(Value::as_str).unwrap_or("")) } {
                                            (method.to_uppercase()) " " (path) } }
                                    }
                                }
                            }
                        }
                    }
                    @if !schemas.is_empty() { li { a href="#schemas" { "Shapes" } } }
                }
            }
            section aria-labelledby="authentication" {
                h2 id="authentication" { "Authentication" }
                p { "Reading public things needs nothing. Everything else is done as an account, in one of two ways:" }
                dl {
                    @for (name, scheme) in &schemes {
                        dt id={ "auth-" (name) } { code { (name) } }
                        dd { (prose(scheme.get("description").and_then(Value::as_str)))
                             @if scheme.get("scheme").and_then(Value::as_str) == Some("bearer") {
                                 p { "Make one in " a href="/settings#api-tokens" { "Settings → API tokens" }
                                     ": give it a name, its scopes and when it expires. It is shown once; the site keeps only its SHA-256. Send it as "
                                     code { "Authorization: Bearer aw_…" } " on every request. Scopes: "
                                     strong { "read" } " (what the account may read), " strong { "write" } " (comment, reply, edit, vote, save, report) and "
                                     strong { "moderate" } " (moderation and administration, as far as the account's role allows). A request with a token is never asked for a CSRF token; one with an unknown, revoked or expired token is answered 401." }
                             }
                             @if scheme.get("type").and_then(Value::as_str) == Some("apiKey") {
                                 p { "The site's own pages call the API with the reader's session cookie; a request that changes anything then carries the page's CSRF token in the "
                                     code { "X-CSRF-Token" } " header and comes from the site itself (its " code { "Origin" } ")." }
                             }
                        }
                    }
                }
            }
            section aria-labelledby="errors" {
                h2 id="errors" { "Errors, caching and paging" }
                p { "A refusal is answered with its status and a JSON body " code { "{\"code\": …, \"message\": …}" }
                    ": " code { "code" } " is stable (" code { "bad_request" } ", " code { "unauthorized" } ", " code { "forbidden" } ", "
                    code { "not_found" } ", " code { "too_many_requests" } " …), " code { "message" } " is for people. "
                    "Reads carry an " code { "ETag" } "; sending it back in " code { "If-None-Match" } " is answered 304 while nothing changed. "
                    "Lists come a page at a time: pass a page's " code { "next_cursor" } " as " code { "cursor" } " for the next. "
                    "Creating answers 201 with the new thing's address in " code { "Location" } "." }
            }
            @for (tag, description) in &tags {
                section aria-labelledby={ "tag-" (tag) } {
                    h2 id={ "tag-" (tag) } { (tag) }
                    (prose(description.as_deref()))
                    @for (t, method, path, op) in &operations {
                        @if t == tag { (operation(method, path, op, document)) }
                    }
                }
            }
            @if !schemas.is_empty() {
                section aria-labelledby="schemas" {
                    h2 id="schemas" { "Shapes" }
                    @for (name, schema) in &schemas { (schema_section(name, schema)) }
                }
            }
        }
    }
}

/// The whole page, in the site's frame.
pub fn page(v: &Visitor, body: &str) -> Markup {
    let meta = Meta {
        title: Some("API documentation"),
        description: "How to use Afterword's JSON API",
        url: None,
        og_type: "website",
        feed: None,
    };
    layout::page(Some(v), &meta, PreEscaped(body.to_owned()))
}
