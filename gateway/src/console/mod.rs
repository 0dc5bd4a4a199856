//! The web console under `/ui/`: server-rendered HTML (maud) for operators, on the gateway's
//! own port, from assets compiled into the binary. No JavaScript toolchain, no CDN, nothing
//! fetched at run time. One small script (`console.js`, also compiled in) adds copy buttons and
//! countdowns where a page asks for them; every page works without it.
//!
//! It is a front door like the Akeyless and Vault APIs and nothing more: a session holds a
//! normal Mayfly token (from the core's API-key login, behind the same login throttle as
//! `/auth`), every page calls the same core operations the Akeyless routes call
//! (`mayfly_app::targets`, `dynamic_secrets`, `items`, `tmp_creds`, `leases::issue::get_value`,
//! `audit_trail`, `roles`, `auth_methods`) with the session's caller, and forms are parsed into
//! the API's own request DTOs and checked by the same parsers, so authorization, validation and
//! the audit trail (`crate::http::audit_request`, operations named `console:*`) cannot drift
//! from the API's.
//!
//! Browser-facing hardening, on every `/ui` response: a strict Content-Security-Policy (no
//! inline script or style, nothing from another origin, no framing), `X-Frame-Options: DENY`,
//! `nosniff`, no referrer, `no-store`. The session cookie is `HttpOnly; Secure;
//! SameSite=Strict; Path=/ui` and carries the token sealed ([`session`]); every form carries a
//! CSRF token bound to the session, checked on every POST before anything else.
//!
//! - [`session`]: the sealed cookie and the CSRF tokens.
//! - [`view`]: the page frame and form pieces; `console.css` and `icon.svg` beside it.
//! - [`login`]: log in and log out.
//! - [`overview`], [`secrets`], [`targets`], [`audit`], [`access`]: the pages.
//! - [`secret_form`]: the dynamic secret forms, one per mode (create, edit), and delete.

pub mod access;
pub mod audit;
pub mod login;
pub mod overview;
pub mod secret_form;
pub mod secrets;
pub mod session;
pub mod targets;
pub mod view;

use std::collections::HashMap;

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{
        header::{self, HeaderName, HeaderValue},
        StatusCode,
    },
    middleware::{from_fn, Next},
    web, HttpRequest, HttpResponse,
};
use maud::Markup;
use mayfly_app::{access::Caller, state::AppState};
use secrecy::SecretString;

use crate::{call::AuditNote, error::ApiError, http::audit_request, operation::Effect};
use view::{Nav, Who};

/// The console's Content-Security-Policy: everything from this origin only, no inline script
/// or style (none is written), no plugins, no `<base>` tricks, forms post only here, and no
/// page may frame the console.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Mounts the console under `/ui`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/ui")
            .wrap(from_fn(security_headers))
            .route("", web::get().to(to_root))
            .route("/", web::get().to(overview::show))
            .route("/static/console.css", web::get().to(css))
            .route("/static/icon.svg", web::get().to(icon))
            .route("/login", web::get().to(login::form))
            .route("/login", web::post().to(login::submit))
            .route("/logout", web::post().to(login::logout))
            .route("/secrets", web::get().to(secrets::list))
            .route("/secrets/new", web::get().to(secret_form::new_form))
            .route("/secrets/new", web::post().to(secret_form::create))
            .route("/secret", web::get().to(secrets::details))
            .route(
                "/secret/credential",
                web::post().to(secrets::get_credential),
            )
            .route("/secret/revoke", web::post().to(secrets::revoke))
            .route("/targets", web::get().to(targets::list))
            .route("/targets/new", web::get().to(targets::new_form))
            .route("/targets/new", web::post().to(targets::create))
            .route("/target", web::get().to(targets::details))
            .route("/audit", web::get().to(audit::show))
            .route("/access", web::get().to(access::show))
            // Editing, deleting, rotating and revealing targets; dynamic secrets of every mode
            // created, edited and deleted; the script of copy buttons and countdowns.
            .route("/static/console.js", web::get().to(js))
            .route("/target/edit", web::get().to(targets::edit_form))
            .route("/target/edit", web::post().to(targets::update))
            .route("/target/delete", web::get().to(targets::delete_confirm))
            .route("/target/delete", web::post().to(targets::delete))
            .route("/target/rotate", web::post().to(targets::rotate))
            .route("/target/reveal", web::post().to(targets::reveal))
            .route("/secret/edit", web::get().to(secret_form::edit_form))
            .route("/secret/edit", web::post().to(secret_form::update))
            .route("/secret/delete", web::get().to(secret_form::delete_confirm))
            .route("/secret/delete", web::post().to(secret_form::delete))
            // (end of the block)
            // --- Access management (auth methods, roles, rules, associations) ---
            .route(
                "/access/auth-methods/new",
                web::post().to(access::create_auth_method),
            )
            .route("/auth-method/edit", web::get().to(access::edit_form))
            .route("/auth-method/edit", web::post().to(access::edit))
            .route(
                "/access/auth-methods/reset",
                web::post().to(access::reset_access_key),
            )
            .route(
                "/access/auth-methods/delete",
                web::post().to(access::delete_auth_method),
            )
            .route("/access/roles/new", web::post().to(access::create_role))
            .route("/access/roles/delete", web::post().to(access::delete_role))
            .route("/role", web::get().to(access::role))
            .route("/role/rules/set", web::post().to(access::set_rule))
            .route("/role/rules/delete", web::post().to(access::delete_rule))
            .route("/role/assoc/new", web::post().to(access::associate))
            .route("/role/assoc/delete", web::post().to(access::dissociate))
            // --- end of access management ---
            .default_service(web::to(not_found)),
    );
}

/// The browser-facing headers, on every `/ui` response (pages, assets, errors).
async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let set = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        // Pages show who is logged in and what they hold; never kept by a cache.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

async fn to_root() -> HttpResponse {
    redirect("/ui/")
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(view::CSS)
}

async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(view::JS)
}

async fn icon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(view::ICON)
}

async fn not_found() -> HttpResponse {
    html(
        StatusCode::NOT_FOUND,
        view::page(
            "Page not found",
            None,
            Nav::None,
            view::notice(
                "error",
                "The console has no such page; start again from the overview.",
            ),
        ),
    )
}

/// `303 See Other` to `location` (after a POST, so a reload does not post again).
pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

pub fn html(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

/// A logged-in browser: the caller behind the session's token, the token (to log out) and
/// the CSRF token its forms carry.
pub struct Session {
    pub caller: Caller,
    token: SecretString,
    pub csrf: String,
}

impl Session {
    /// The session of the request, resolved by the core exactly as an API token is; `Err`
    /// is the answer to send instead: to the login page when there is no live session.
    pub async fn of(state: &AppState, req: &HttpRequest) -> Result<Session, HttpResponse> {
        let Some(token) = session::token_of(state, req) else {
            return Err(redirect("/ui/login"));
        };
        match mayfly_app::authn::resolve(state, Some(secrecy::ExposeSecret::expose_secret(&token)))
            .await
        {
            Ok(caller) => Ok(Session {
                caller,
                csrf: session::csrf_for(&token),
                token,
            }),
            Err(mayfly_app::error::AppError::Unauthenticated(_)) => {
                let mut res = redirect("/ui/login?ended=1");
                if let Ok(v) = HeaderValue::from_str(&session::set_cookie(
                    session::SESSION_COOKIE,
                    "",
                    Some(0),
                )) {
                    res.headers_mut().insert(header::SET_COOKIE, v);
                }
                Err(res)
            }
            Err(e) => Err(error_page(None, &ApiError::from(e))),
        }
    }

    pub fn who(&self) -> Who<'_> {
        Who {
            access_id: &self.caller.access_id,
            csrf: &self.csrf,
        }
    }

    /// Whether a POSTed form carries this session's CSRF token.
    pub fn csrf_ok(&self, form: &Form) -> bool {
        session::csrf_matches(&self.token, form.get("csrf"))
    }

    pub fn token(&self) -> &SecretString {
        &self.token
    }
}

/// A POSTed form's fields, in order.
pub struct Form(pub Vec<(String, String)>);

impl Form {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The fields named in `allowed` as the JSON object the API would receive: the form's
    /// inputs are named as the API's fields, so the API's DTO and parsers read them as they
    /// read an API request. Fields not in `allowed` are dropped.
    pub fn as_request(&self, allowed: &[&str]) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        for (k, v) in &self.0 {
            if allowed.contains(&k.as_str()) && !body.contains_key(k) {
                body.insert(k.clone(), serde_json::Value::String(v.clone()));
            }
        }
        serde_json::Value::Object(body)
    }
}

/// What a console handler produces.
pub enum Outcome {
    /// A page with its status; `problem` goes to the audit record when the page reports one
    /// (a form sent back with validation errors), `detail` when it reports a success
    /// (`issued tmp creds ...`).
    Page {
        status: StatusCode,
        title: String,
        nav: Nav,
        body: Markup,
        problem: Option<String>,
        detail: String,
    },
    /// A done action: `303` to `to`, `detail` for the audit record.
    Redirect { to: String, detail: String },
}

impl Outcome {
    pub fn ok(title: impl Into<String>, nav: Nav, body: Markup) -> Outcome {
        Outcome::Page {
            status: StatusCode::OK,
            title: title.into(),
            nav,
            body,
            problem: None,
            detail: String::new(),
        }
    }

    /// The same outcome with `note` as its audit detail.
    pub fn noting(mut self, note: String) -> Outcome {
        match &mut self {
            Outcome::Page { detail, .. } | Outcome::Redirect { detail, .. } => *detail = note,
        }
        self
    }

    pub fn redirect(to: impl Into<String>) -> Outcome {
        Outcome::Redirect {
            to: to.into(),
            detail: String::new(),
        }
    }
}

/// The app as a console handler's extractor takes it.
pub type State = web::Data<AppState>;
/// A POSTed form as a console handler's extractor takes it: its fields in order, repeats
/// kept (read through [`Form`]).
pub type FormBody = web::Form<Vec<(String, String)>>;
/// A page's query as a console handler's extractor takes it.
pub type Query = web::Query<HashMap<String, String>>;

/// The work of a console handler, borrowing what [`post`] or [`get`] resolved for it.
pub type Work<'a> = futures_util::future::LocalBoxFuture<'a, Result<Outcome, ApiError>>;

/// What a form POST's work is given: the request, the app, the signed-in session, the form
/// (its CSRF token already checked) and the raw item it names (as the audit record has it).
#[derive(Clone, Copy)]
pub struct Posted<'a> {
    pub req: &'a HttpRequest,
    pub state: &'a AppState,
    pub session: &'a Session,
    pub form: &'a Form,
    pub raw: &'a str,
}

impl From<FormBody> for Form {
    fn from(form: FormBody) -> Form {
        Form(form.into_inner())
    }
}

/// The frame of every form POST, so that none can skip a step: the session (or the answer
/// that sends the browser to log in), the form's CSRF token checked before anything else,
/// then `work` run by [`finish`] as `operation` with `effect`, on the item the form's
/// `item_field` names.
pub async fn post<W>(
    req: HttpRequest,
    state: State,
    form: impl Into<Form>,
    (operation, effect, item_field): (&str, Effect, &str),
    work: W,
) -> HttpResponse
where
    W: for<'a> FnOnce(Posted<'a>) -> Work<'a>,
{
    let session = match Session::of(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = form.into();
    let raw = form.get(item_field).unwrap_or_default().to_owned();
    let posted = Posted {
        req: &req,
        state: &state,
        session: &session,
        form: &form,
        raw: &raw,
    };
    let run = async {
        check_csrf(&session, &form)?;
        work(posted).await
    };
    finish(&state, &req, &session, operation, effect, &raw, run).await
}

/// What a page's work is given: the app, the signed-in session, the query and the raw item
/// its item parameter names (empty when there is none).
#[derive(Clone, Copy)]
pub struct Viewed<'a> {
    pub state: &'a AppState,
    pub session: &'a Session,
    pub query: &'a HashMap<String, String>,
    pub raw: &'a str,
}

/// The frame of a page (GET): the session (or the answer that sends the browser to log in),
/// then `work` run by [`finish`] as `operation` with `effect` on the item the query's
/// `item_param` names (none: the page is about no one item).
pub async fn get<W>(
    req: HttpRequest,
    state: State,
    query: Query,
    (operation, effect, item_param): (&str, Effect, Option<&str>),
    work: W,
) -> HttpResponse
where
    W: for<'a> FnOnce(Viewed<'a>) -> Work<'a>,
{
    let session = match Session::of(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let query = query.into_inner();
    let raw = item_param
        .and_then(|p| query.get(p).cloned())
        .unwrap_or_default();
    let viewed = Viewed {
        state: &state,
        session: &session,
        query: &query,
        raw: &raw,
    };
    finish(
        &state,
        &req,
        &session,
        operation,
        effect,
        &raw,
        work(viewed),
    )
    .await
}

/// Runs a handler's work for `session` under the request deadline, then renders it, records
/// metrics and writes the audit record as the API does for an operation with `effect`.
pub async fn finish<F>(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    operation: &str,
    effect: Effect,
    item: &str,
    work: F,
) -> HttpResponse
where
    F: std::future::Future<Output = Result<Outcome, ApiError>>,
{
    let started = std::time::Instant::now();
    let deadline = state.request_timeout();
    let work =
        mayfly_app::metrics::with_aws_timer(Some(mayfly_app::metrics::new_aws_timer()), work);
    let result = match tokio::time::timeout(deadline, work).await {
        Ok(r) => r,
        Err(_) => Err(ApiError::Timeout(deadline.as_secs())),
    };
    if effect == Effect::Configure && matches!(result, Ok(Outcome::Redirect { .. })) {
        state.invalidate_caches();
    }
    // A redirect is how a successful action answers (post, redirect, get): recorded as the
    // success it is.
    let succeeded = matches!(result, Ok(Outcome::Redirect { .. }));
    let (response, problem, detail) = match result {
        Ok(Outcome::Redirect { to, detail }) => (redirect(&to), None, detail),
        Ok(Outcome::Page {
            status,
            title,
            nav,
            body,
            problem,
            detail,
        }) => (
            html(status, view::page(&title, Some(&session.who()), nav, body)),
            problem,
            detail,
        ),
        Err(ApiError::Unauthorized(_)) => (redirect("/ui/login?ended=1"), None, String::new()),
        Err(e) => (
            error_page(Some(session), &e),
            Some(e.to_string()),
            String::new(),
        ),
    };
    let status = if succeeded {
        200
    } else {
        response.status().as_u16()
    };
    state
        .metrics()
        .record_request(operation, status, started.elapsed());
    let note = AuditNote {
        access_id: session.caller.access_id.clone(),
        identity: session.caller.identity.clone(),
        item: item.chars().take(512).collect(),
        detail,
    };
    let problem = problem.filter(|_| status >= 400);
    audit_request(
        state,
        req,
        operation.to_owned(),
        effect,
        status,
        note,
        problem,
    )
    .await;
    response
}

/// A refused or failed action as a page that says what happened and what to do.
pub fn error_page(session: Option<&Session>, e: &ApiError) -> HttpResponse {
    let status = actix_web::ResponseError::status_code(e);
    let (title, advice) = match status.as_u16() {
        400 => ("Check your input", "Correct the request and try again."),
        403 => (
            "Not allowed",
            "Your access id's roles do not allow this. Ask an administrator for a role with that capability.",
        ),
        404 => ("Not found", "It may have been deleted or renamed."),
        409 => ("Conflict", "Something with this name exists or is protected."),
        429 => ("Too many requests", "Wait a little and try again."),
        502..=504 => (
            "AWS did not do it",
            "The gateway could not complete the AWS call; retry, or check the target's key and endpoints.",
        ),
        _ => ("Something failed", "Retry; the gateway log has the details under this request's id."),
    };
    let who = session.map(Session::who);
    let body = maud::html! {
        (view::notice("error", &e.to_string()))
        p { (advice) }
        p { a href="/ui/" { "Back to the overview" } }
    };
    html(status, view::page(title, who.as_ref(), Nav::None, body))
}

/// The refusal of a POST whose CSRF token is missing or wrong: nothing was done.
pub fn csrf_error() -> ApiError {
    ApiError::Forbidden(
        "the form's security token does not match your session, so nothing was done; reload the page and submit the form again".into(),
    )
}

/// Checks a POST's CSRF token, first thing in every action.
pub fn check_csrf(session: &Session, form: &Form) -> Result<(), ApiError> {
    if session.csrf_ok(form) {
        Ok(())
    } else {
        Err(csrf_error())
    }
}
