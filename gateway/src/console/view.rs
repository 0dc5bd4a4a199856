//! The console's page frame and the small pieces every page is built from, as maud markup
//! (every interpolated value is HTML-escaped by maud). No inline script or style anywhere:
//! the Content-Security-Policy forbids both, and the one stylesheet is served from
//! `/ui/static/` out of the binary.

use maud::{html, Markup, DOCTYPE};
use mayfly_domain::ValidationErrors;

/// The stylesheet, compiled into the binary.
pub const CSS: &str = include_str!("console.css");
/// The tab icon (browsers ask for one; without it they log a failed request).
pub const ICON: &str = include_str!("icon.svg");

/// The section of the console a page belongs to, for the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Secrets,
    Targets,
    Audit,
    Access,
    None,
}

const SECTIONS: [(Nav, &str, &str); 5] = [
    (Nav::Overview, "/ui/", "Overview"),
    (Nav::Secrets, "/ui/secrets", "Dynamic secrets"),
    (Nav::Targets, "/ui/targets", "Targets"),
    (Nav::Audit, "/ui/audit", "Audit"),
    (Nav::Access, "/ui/access", "Access"),
];

/// Who is logged in, as the frame shows it: the access id and the CSRF token of the log-out
/// form.
pub struct Who<'a> {
    pub access_id: &'a str,
    pub csrf: &'a str,
}

/// A whole page: the frame, the navigation (when logged in) and `body` under an `h1`.
pub fn page(title: &str, who: Option<&Who<'_>>, nav: Nav, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Mayfly console" }
                link rel="icon" type="image/svg+xml" href="/ui/static/icon.svg";
                link rel="stylesheet" href="/ui/static/console.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/ui/" { "Mayfly" }
                    @if let Some(who) = who {
                        nav aria-label="Console sections" {
                            ul {
                                @for (section, href, label) in SECTIONS {
                                    li {
                                        @if section == nav {
                                            a href=(href) aria-current="page" { (label) }
                                        } @else {
                                            a href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                        form.logout method="post" action="/ui/logout" {
                            (csrf_field(who.csrf))
                            span.who title="Logged in as" { (who.access_id) }
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main #main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// A message at the top of a page: `kind` is `error`, `ok` or `info`.
pub fn notice(kind: &str, text: &str) -> Markup {
    let role = if kind == "error" { "alert" } else { "status" };
    html! { p class={"notice " (kind)} role=(role) { (text) } }
}

/// A labelled form field with its inline errors (from the same domain rules as the API:
/// `errors` name fields by their wire names, which are the form's input names).
pub struct Field<'a> {
    pub name: &'static str,
    pub label: &'a str,
    pub kind: &'a str,
    pub value: &'a str,
    pub hint: &'a str,
    pub required: bool,
}

pub fn field(f: &Field<'_>, errors: &ValidationErrors) -> Markup {
    field_with("f", true, f, errors)
}

/// An input like [`field`]'s with ids under `prefix` (`am-name`), for the forms of a page
/// whose field names repeat those of another; no `autocomplete` hint.
pub fn prefixed_field(prefix: &str, f: &Field<'_>, errors: &ValidationErrors) -> Markup {
    field_with(prefix, false, f, errors)
}

/// A field whose input's id is `prefix-name`; `autocomplete` says whether a text input says
/// `autocomplete` (`off` for a password).
fn field_with(
    prefix: &str,
    autocomplete: bool,
    f: &Field<'_>,
    errors: &ValidationErrors,
) -> Markup {
    let id = format!("{prefix}-{}", f.name);
    let hint_id = format!("{id}-hint");
    let err_id = format!("{id}-error");
    let messages: Vec<&str> = errors
        .iter()
        .filter(|e| e.field == f.name)
        .map(|e| e.message.as_str())
        .collect();
    let invalid = !messages.is_empty();
    let mut described = Vec::new();
    if !f.hint.is_empty() {
        described.push(hint_id.clone());
    }
    if invalid {
        described.push(err_id.clone());
    }
    let described = described.join(" ");
    html! {
        div class={"field" @if invalid {" invalid"}} {
            label for=(id) { (f.label) @if f.required { " " span.req aria-hidden="true" { "*" } } }
            @if f.kind == "checkbox" {
                input type="checkbox" id=(id) name=(f.name) value="true"
                    checked[f.value == "true"] aria-describedby=[non_empty(&described)];
            } @else if f.kind == "textarea" {
                textarea id=(id) name=(f.name) rows="4" aria-invalid=[invalid.then_some("true")]
                    aria-describedby=[non_empty(&described)] { (f.value) }
            } @else {
                input type=(f.kind) id=(id) name=(f.name) value=(f.value) required[f.required]
                    autocomplete=[autocomplete.then_some(if f.kind == "password" { "off" } else { "on" })]
                    aria-invalid=[invalid.then_some("true")]
                    aria-describedby=[non_empty(&described)];
            }
            @if !f.hint.is_empty() { p.hint id=(hint_id) { (f.hint) } }
            @if invalid {
                p.field-error id=(err_id) { @for m in &messages { (m) br; } }
            }
        }
    }
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

/// Errors that name no field of the form (shown above it).
pub fn other_errors(errors: &ValidationErrors, fields: &[&str]) -> Markup {
    let rest: Vec<String> = errors
        .iter()
        .filter(|e| !fields.contains(&e.field))
        .map(ToString::to_string)
        .collect();
    html! {
        @if !errors.is_empty() {
            div.notice.error role="alert" {
                p { "Fix the fields marked below and submit again." }
                @if !rest.is_empty() { ul { @for r in &rest { li { (r) } } } }
            }
        }
    }
}

/// An empty state: what is missing and what to do about it.
pub fn empty(text: &str, action: Option<(&str, &str)>) -> Markup {
    html! {
        div.empty {
            p { (text) }
            @if let Some((href, label)) = action { p { a.button href=(href) { (label) } } }
        }
    }
}

/// A URL-safe query value (item names carry `/`, which stays readable).
pub fn q(value: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.');
    percent_encoding::utf8_percent_encode(value, SET).to_string()
}

/// A Unix time in milliseconds as `2026-01-31 12:00:00 UTC`.
pub fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// The console's one script (copy buttons, countdowns to expiry), compiled into the binary
/// and served from `/ui/static/console.js`: progressive enhancement only, every page works
/// without it, and the Content-Security-Policy (`script-src 'self'`) allows nothing else.
pub const JS: &str = include_str!("console.js");

/// The `<script>` element of [`JS`], put by the pages that use it at the end of their body.
pub fn script() -> Markup {
    html! { script src="/ui/static/console.js" defer {} }
}

/// The confirm step of a delete: what deleting `name` (a `what`, e.g. "target") means, and a
/// form that POSTs its name to `action` with the session's CSRF token, or goes back to
/// `back`. It reads and changes nothing: the POST is authorized by the core.
pub fn confirm_delete(
    csrf: &str,
    (what, name): (&str, &str),
    consequence: &str,
    (action, back): (&str, &str),
) -> Markup {
    html! {
        (notice("info", &format!("Delete the {what} {name}? This cannot be undone.")))
        p { (consequence) }
        form.actions method="post" action=(action) {
            (csrf_field(csrf))
            input type="hidden" name="name" value=(name);
            button.danger type="submit" { "Delete " (name) }
            a href={(back) (q(name))} { "Cancel" }
        }
    }
}
