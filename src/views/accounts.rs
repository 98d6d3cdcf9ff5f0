//! Sign-up, login, password reset, email verification and settings.

use maud::{html, Markup};

use super::display_time;
use super::forms::{button_form, csrf, field, Field, FieldErrors};
use super::layout::{self, Meta};
use crate::auth::Visitor;
use crate::db::tokens::ApiToken;
use crate::db::users::{Session, User};

fn meta(title: &str) -> Meta<'_> {
    Meta { title: Some(title), description: "Afterword account", url: None, og_type: "website", feed: None }
}

fn next_field(next: &str) -> Markup {
    html! { input type="hidden" name="next" value=(next); }
}

/// A link to the other of login and sign-up that keeps `next` and `save`.
fn with_next(path: &str, next: &str, save: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if next != "/" {
        query.append_pair("next", next);
    }
    if let Some(slug) = save {
        query.append_pair("save", slug);
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

pub struct SignupValues<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub next: &'a str,
    /// An article to save once the account exists.
    pub save: Option<&'a str>,
}

fn save_field(save: Option<&str>) -> Markup {
    html! {
        @if let Some(slug) = save {
            input type="hidden" name="save" value=(slug);
        }
    }
}

pub fn signup(v: &Visitor, values: &SignupValues, errors: &FieldErrors) -> Markup {
    layout::page(
        Some(v),
        &meta("Sign up"),
        html! {
            section class="auth-card" {
                h1 { "Create your account" }
                p { "Save articles to your profile and join the discussion." }
                form method="post" action="/signup" novalidate {
                    (csrf(v))
                    (next_field(values.next))
                    (save_field(values.save))
                    (field(&Field { name: "username", label: "Username", kind: "text", value: values.username,
                        autocomplete: "username", hint: Some("3 to 30 letters, digits, '_' or '-'.") }, errors))
                    (field(&Field { name: "email", label: "Email", kind: "email", value: values.email,
                        autocomplete: "email", hint: None }, errors))
                    (field(&Field { name: "password", label: "Password", kind: "password", value: "",
                        autocomplete: "new-password", hint: Some("At least 10 characters. A few unrelated words work well.") }, errors))
                    button type="submit" class="button" { "Sign up" }
                }
                p { "Already have an account? " a href=(with_next("/login", values.next, values.save)) { "Log in" } }
            }
        },
    )
}

pub fn login(
    v: &Visitor,
    login: &str,
    next: &str,
    save: Option<&str>,
    error: Option<&str>,
    notice: Option<&str>,
) -> Markup {
    layout::page(
        Some(v),
        &meta("Log in"),
        html! {
            section class="auth-card" {
                h1 { "Log in" }
                @if let Some(notice) = notice {
                    p class="notice" role="status" { (notice) }
                }
                @if let Some(error) = error {
                    p class="flash error" role="alert" { (error) }
                }
                form method="post" action="/login" {
                    (csrf(v))
                    (next_field(next))
                    (save_field(save))
                    (field(&Field { name: "login", label: "Username or email", kind: "text", value: login,
                        autocomplete: "username", hint: None }, &FieldErrors::default()))
                    (field(&Field { name: "password", label: "Password", kind: "password", value: "",
                        autocomplete: "current-password", hint: None }, &FieldErrors::default()))
                    button type="submit" class="button" { "Log in" }
                }
                p { a href="/password-reset" { "Forgot your password?" } }
                p { "New here? " a href=(with_next("/signup", next, save)) { "Create an account" } }
            }
        },
    )
}

pub fn reset_request(v: &Visitor, sent_to: Option<&str>) -> Markup {
    layout::page(
        Some(v),
        &meta("Reset your password"),
        html! {
            section class="auth-card" {
                h1 { "Reset your password" }
                @if let Some(email) = sent_to {
                    p class="notice" role="status" {
                        "If an account uses " strong { (email) } ", we have sent it a link to choose a new password. "
                        "The link works once, within one hour."
                    }
                } @else {
                    p { "Enter the email address of your account and we will send you a link to choose a new password." }
                    form method="post" action="/password-reset" {
                        (csrf(v))
                        (field(&Field { name: "email", label: "Email", kind: "email", value: "", autocomplete: "email",
                            hint: None }, &FieldErrors::default()))
                        button type="submit" class="button" { "Send the link" }
                    }
                }
            }
        },
    )
}

pub fn reset_form(v: &Visitor, token: &str, username: &str, errors: &FieldErrors) -> Markup {
    layout::page(
        Some(v),
        &meta("Choose a new password"),
        html! {
            section class="auth-card" {
                h1 { "Choose a new password" }
                p { "For the account " strong { (username) } ". Every session of the account will be logged out." }
                form method="post" action={ "/password-reset/" (token) } {
                    (csrf(v))
                    (field(&Field { name: "password", label: "New password", kind: "password", value: "",
                        autocomplete: "new-password", hint: Some("At least 10 characters.") }, errors))
                    button type="submit" class="button" { "Save the new password" }
                }
            }
        },
    )
}

pub fn verify_email(v: &Visitor, token: &str, email: &str) -> Markup {
    link_page(
        v,
        "Confirm your email",
        html! { "Confirm that " strong { (email) } " is your address." },
        &format!("/verify-email/{token}"),
        "Confirm",
    )
}

/// An email-confirmation link that expired or was used: a new one is sent from the
/// settings page.
pub fn verify_link_expired(v: &Visitor) -> Markup {
    link_expired(v, "confirmation", "/settings", "(log in first if need be) and press “Send me a confirmation link”.")
}

/// The page a claim link opens: the button that moves the imported comments.
pub fn claim_comments(v: &Visitor, token: &str, username: &str) -> Markup {
    link_page(
        v,
        "Claim your imported comments",
        html! { "The comments imported with your address will show as written by " strong { (username) } "." },
        &format!("/claim-comments/{token}"),
        "Claim them",
    )
}

/// A claim link that expired or was used.
pub fn claim_link_expired(v: &Visitor) -> Markup {
    link_expired(v, "claim", "/settings#imported-comments", "and press “Claim my imported comments”.")
}

/// The page a mailed link opens: what it does, and the button (a form to `action`)
/// that does it; opening the link changes nothing.
fn link_page(v: &Visitor, title: &str, what: Markup, action: &str, button: &str) -> Markup {
    layout::page(
        Some(v),
        &meta(title),
        html! {
            section class="auth-card" {
                h1 { (title) }
                p { (what) }
                form method="post" action=(action) {
                    (csrf(v))
                    button type="submit" class="button" { (button) }
                }
            }
        },
    )
}

/// A mailed `kind` link ("confirmation", "claim") that expired or was used, and where
/// in the settings (`settings`) a new one is asked for (`then`, after "your settings").
fn link_expired(v: &Visitor, kind: &str, settings: &str, then: &str) -> Markup {
    layout::page(
        Some(v),
        &meta("This link has expired"),
        html! {
            section class="auth-card" {
                h1 { "This link has expired" }
                p { "This " (kind) " link is not valid: it has expired or was already used." }
                p {
                    "To get a new one, open " a class="settings-link" href=(settings) { "your settings" }
                    " " (then)
                }
            }
        },
    )
}

pub fn message(v: &Visitor, title: &str, text: &str) -> Markup {
    layout::page(
        Some(v),
        &meta(title),
        html! {
            section class="auth-card" {
                h1 { (title) }
                p { (text) }
                p { a href="/" { "Go to the articles" } }
            }
        },
    )
}

/// The email digest's choice: off, daily or weekly.
fn digest_section(v: &Visitor, user: &User, digest: &str, e: &FieldErrors) -> Markup {
    const CHOICES: [(&str, &str); 3] = [("off", "Off"), ("daily", "Daily"), ("weekly", "Weekly")];
    html! {
        section class="settings-section" aria-labelledby="digest-heading" {
            h2 id="digest-heading" { "Email digest" }
            p { "A daily or weekly email of the replies to you and the new comments on the articles you "
                a href="/saved" { "saved" } ", sent only when there is something new." }
            @if !user.email_verified {
                p class="hint" { "Your address is not confirmed yet: no digest is sent until it is." }
            }
            form method="post" action="/settings/digest" {
                (csrf(v))
                div class="field" {
                    label for="field-digest" { "Email digest" }
                    select id="field-digest" name="digest" aria-invalid=[e.get("digest").map(|_| "true")]
                        aria-describedby=[e.get("digest").map(|_| "field-digest-error")] {
                        @for (value, words) in CHOICES {
                            option value=(value) selected[value == digest] { (words) }
                        }
                    }
                    @if let Some(error) = e.get("digest") {
                        p id="field-digest-error" class="field-error" { (error) }
                    }
                }
                button type="submit" class="button secondary" { "Save" }
            }
        }
    }
}

/// Errors and values for the forms of the settings page.
#[derive(Default)]
pub struct SettingsForms<'a> {
    pub errors: FieldErrors,
    pub new_email: &'a str,
    /// The profile as the reader typed it (display name, bio), when it was refused.
    pub profile: Option<(&'a str, &'a str)>,
    /// The API token form as the reader filled it in, when it was refused.
    pub token: Option<TokenValues<'a>>,
    /// A token just made: its name and the token itself, shown this once.
    pub new_token: Option<(&'a str, &'a str)>,
}

/// What the API token form holds.
#[derive(Debug, Clone, Copy)]
pub struct TokenValues<'a> {
    pub name: &'a str,
    pub scopes: crate::auth::tokens::Scopes,
    /// One of `service::tokens::EXPIRIES`.
    pub expires: &'a str,
}

impl Default for TokenValues<'_> {
    fn default() -> Self {
        let scopes = crate::auth::tokens::Scopes { read: true, ..Default::default() };
        TokenValues { name: "", scopes, expires: "90" }
    }
}

/// The API tokens section of the settings: the account's tokens (never the tokens
/// themselves), a form to make one, and a new token shown once.
fn api_tokens(v: &Visitor, user: &User, tokens: &[ApiToken], forms: &SettingsForms) -> Markup {
    use crate::service::tokens::{grantable, EXPIRIES, MAX_NAME};
    let e = &forms.errors;
    let values = forms.token.unwrap_or_default();
    let allowed = grantable(user.role);
    let now = crate::db::now();
    html! {
        section id="api-tokens" class="settings-section" aria-labelledby="tokens-heading" {
            h2 id="tokens-heading" { "API tokens" }
            p {
                "Programs use a token to call the " a href="/api/docs" { "API" }
                " as you: send it as " code { "Authorization: Bearer TOKEN" } ". A token can do only what its scopes allow, and only what your account may."
            }
            @if let Some((name, token)) = forms.new_token {
                div class="flash new-token" role="status" {
                    p { "Your new token “" (name) "”:" }
                    p { code class="token-value" { (token) } }
                    p { strong { "Copy it now: it will not be shown again." } " Only a fingerprint of it is kept." }
                }
            }
            @if tokens.is_empty() {
                p class="hint" { "You have no API tokens." }
            } @else {
                table class="tokens" {
                    caption class="visually-hidden" { "Your API tokens" }
                    thead {
                        tr { th scope="col" { "Name" } th scope="col" { "Scopes" } th scope="col" { "Created" }
                             th scope="col" { "Last used" } th scope="col" { "Expires" } th scope="col" { span class="visually-hidden" { "Revoke" } } }
                    }
                    tbody {
                        @for t in tokens {
                            tr {
                                td { (t.name) }
                                td { (t.scopes.replace(',', ", ")) }
                                td { (display_time(t.created_at)) }
                                td { @if let Some(at) = t.last_used_at { (display_time(at)) } @else { "Never" } }
                                td {
                                    @match t.expires_at {
                                        None => "Never",
                                        Some(at) if at <= now => { "Expired " (display_time(at)) },
                                        Some(at) => (display_time(at)),
                                    }
                                }
                                td {
                                    form method="post" action={ "/settings/tokens/" (t.id) "/revoke" } class="inline-form" {
                                        (csrf(v))
                                        button type="submit" class="link-button danger" aria-label={ "Revoke " (t.name) } { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form method="post" action="/settings/tokens" {
                (csrf(v))
                (field(&Field { name: "token_name", label: "Token name", kind: "text", value: values.name,
                    autocomplete: "off", hint: Some("What uses it, e.g. “import pipeline”; 1 to 60 characters.") }, e))
                fieldset aria-describedby=[e.get("scopes").map(|_| "field-scopes-error")] {
                    legend { "Scopes" }
                    label class="checkbox" {
                        input type="checkbox" name="scope_read" value="on" checked[values.scopes.read];
                        " Read: what your account may read"
                    }
                    label class="checkbox" {
                        input type="checkbox" name="scope_write" value="on" checked[values.scopes.write];
                        " Write: comment, reply, edit, vote, save and report as you"
                    }
                    @if allowed.moderate {
                        label class="checkbox" {
                            input type="checkbox" name="scope_moderate" value="on" checked[values.scopes.moderate];
                            " Moderate: what your role lets you do to comments, articles and accounts"
                        }
                    }
                    @if let Some(error) = e.get("scopes") {
                        p id="field-scopes-error" class="field-error" { (error) }
                    }
                }
                div class="field" {
                    label for="field-expires" { "Expires" }
                    select id="field-expires" name="expires" aria-invalid=[e.get("expires").map(|_| "true")]
                        aria-describedby=[e.get("expires").map(|_| "field-expires-error")] {
                        @for (value, words) in EXPIRIES {
                            option value=(value) selected[value == values.expires] { (words) }
                        }
                    }
                    @if let Some(error) = e.get("expires") {
                        p id="field-expires-error" class="field-error" { (error) }
                    }
                }
                button type="submit" class="button secondary" { "Make a token" }
            }
            p class="hint" { "At most " (crate::db::tokens::MAX_PER_USER) " tokens; names up to " (MAX_NAME) " characters. "
                a href="/api/docs" { "The API's documentation" } "." }
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn settings(
    v: &Visitor,
    user: &User,
    sessions: &[Session],
    tokens: &[ApiToken],
    current_session: &str,
    notice: Option<&str>,
    forms: &SettingsForms,
    verification_required: bool,
    digest: &str,
) -> Markup {
    let e = &forms.errors;
    layout::page(
        Some(v),
        &meta("Settings"),
        html! {
            h1 { "Settings" }
            @if let Some(notice) = notice {
                p class="notice" role="status" { (notice) }
            }
            section class="settings-section" aria-labelledby="email-heading" {
                h2 id="email-heading" { "Email" }
                p {
                    "Your address: " strong { (user.shown_email().unwrap_or("")) }
                    @if !user.email_verified { " (not confirmed yet)" }
                }
                @if !user.email_verified {
                    @if !verification_required {
                        p class="hint" { "Reply emails go only to a confirmed address." }
                    }
                    (button_form(v, "/settings/verify-email", "Send me a confirmation link", "link-button"))
                }
                form method="post" action="/settings/email" {
                    (csrf(v))
                    (field(&Field { name: "new_email", label: "New email", kind: "email", value: forms.new_email,
                        autocomplete: "email", hint: None }, e))
                    (field(&Field { name: "email_password", label: "Your password", kind: "password", value: "",
                        autocomplete: "current-password", hint: None }, e))
                    button type="submit" class="button" { "Change email" }
                }
            }
            section class="settings-section" id="imported-comments" aria-labelledby="imported-heading" {
                h2 id="imported-heading" { "Imported comments" }
                p class="hint" {
                    "Comments this site imported from the comment system it used before keep the name they were "
                    "written under. If you wrote some with your confirmed address, we send a link to it; "
                    "following it moves them to this account."
                }
                (button_form(v, "/settings/claim-comments", "Claim my imported comments", "link-button"))
            }
            section class="settings-section" aria-labelledby="password-heading" {
                h2 id="password-heading" { "Password" }
                form method="post" action="/settings/password" {
                    (csrf(v))
                    (field(&Field { name: "current_password", label: "Current password", kind: "password", value: "",
                        autocomplete: "current-password", hint: None }, e))
                    (field(&Field { name: "new_password", label: "New password", kind: "password", value: "",
                        autocomplete: "new-password", hint: Some("At least 10 characters. Your other sessions will be logged out.") }, e))
                    button type="submit" class="button" { "Change password" }
                }
            }
            section class="settings-section" aria-labelledby="profile-heading" {
                h2 id="profile-heading" { "Profile" }
                p { "Your public page: " a href={ "/users/" (user.username) } { "/users/" (user.username) } }
                @let (display_name, bio) = forms.profile.unwrap_or((
                    user.display_name.as_deref().unwrap_or(""),
                    user.bio_source.as_deref().unwrap_or(""),
                ));
                @if let Some(error) = e.get("profile") {
                    p class="flash error" role="alert" { (error) }
                }
                form method="post" action="/settings/profile" {
                    (csrf(v))
                    (field(&Field { name: "display_name", label: "Display name", kind: "text",
                        value: display_name, autocomplete: "nickname",
                        hint: Some("Optional; at most 50 characters.") }, e))
                    div class="field" {
                        label for="field-bio" { "About you" }
                        textarea id="field-bio" name="bio" rows="4" maxlength="500"
                            aria-invalid=[e.get("bio").map(|_| "true")] aria-describedby=[e.get("bio").map(|_| "field-bio-error")] { (bio) }
                        small class="hint" { "Optional; Markdown, at most 500 characters." }
                        @if let Some(error) = e.get("bio") {
                            p id="field-bio-error" class="field-error" { (error) }
                        }
                    }
                    label class="checkbox" {
                        input type="checkbox" name="show_saved" value="on" checked[user.show_saved];
                        " Show my saved articles on my profile"
                    }
                    button type="submit" class="button secondary" { "Save profile" }
                }
            }
            section class="settings-section" aria-labelledby="notifications-heading" {
                h2 id="notifications-heading" { "Notifications" }
                p { "Replies to your comments always show in your " a href="/inbox" { "inbox" } "." }
                form method="post" action="/settings/notifications" {
                    (csrf(v))
                    label class="checkbox" {
                        input type="checkbox" name="email_replies" value="on" checked[user.email_replies];
                        " Also email me when someone replies to my comments"
                    }
                    button type="submit" class="button secondary" { "Save" }
                }
            }
            (digest_section(v, user, digest, e))
            section class="settings-section" aria-labelledby="sessions-heading" {
                h2 id="sessions-heading" { "Sessions" }
                ul class="sessions" {
                    @for s in sessions {
                        li {
                            (s.user_agent.as_deref().unwrap_or("Unknown browser"))
                            " — last active " (display_time(s.last_seen_at))
                            @if s.token_hash == current_session { strong { " (this session)" } }
                        }
                    }
                }
                (button_form(v, "/settings/sessions", "Log out of all other sessions", "button secondary"))
            }
            (api_tokens(v, user, tokens, forms))
            section class="settings-section" aria-labelledby="data-heading" {
                h2 id="data-heading" { "Your data" }
                p { a href="/settings/export" download { "Download my data (JSON)" } }
            }
            section class="settings-section danger" aria-labelledby="delete-heading" {
                h2 id="delete-heading" { "Delete account" }
                p { "Your account, email and sessions are removed. This cannot be undone." }
                form method="post" action="/settings/delete" {
                    (csrf(v))
                    (field(&Field { name: "delete_password", label: "Your password", kind: "password", value: "",
                        autocomplete: "current-password", hint: None }, e))
                    button type="submit" class="button danger" { "Delete my account" }
                }
            }
        },
    )
}
