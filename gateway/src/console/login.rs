//! Logging in and out. The login is the Akeyless `/auth` login (`crate::authn::login`): the
//! same throttle per access id and address, the same core check of the key, the same token.
//! Logging out revokes that token in the core, so the session cannot be replayed.

use actix_web::{
    http::{
        header::{self, HeaderValue},
        StatusCode,
    },
    HttpRequest, HttpResponse,
};
use maud::html;
use mayfly_api_types::request;
use mayfly_app::state::AppState;
use secrecy::SecretString;

use super::{
    check_csrf, finish, html as html_response, session,
    view::{self, Nav},
    Form, FormBody, Outcome, Query, Session, State,
};
use crate::{call::AuditNote, error::ApiError, http::audit_request, operation::Effect};

/// `GET /ui/login`: the form, with a fresh login cookie; a live session goes to the overview.
pub async fn form(req: HttpRequest, state: State, query: Query) -> HttpResponse {
    if let Some(token) = session::token_of(&state, &req) {
        let live =
            mayfly_app::authn::resolve(&state, Some(secrecy::ExposeSecret::expose_secret(&token)))
                .await
                .is_ok();
        if live {
            return super::redirect("/ui/");
        }
    }
    let message = if query.contains_key("ended") {
        Some((
            "info",
            "Your session ended (it expired or was revoked): log in again.",
        ))
    } else if query.contains_key("out") {
        Some(("ok", "You are logged out; your session's token is revoked."))
    } else {
        None
    };
    login_page(&state, StatusCode::OK, message, "")
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    message: Option<(&str, &str)>,
    access_id: &str,
) -> HttpResponse {
    let (cookie, csrf) = session::new_login_form(state);
    let body = html! {
        @if let Some((kind, text)) = message { (view::notice(kind, text)) }
        p { "Log in with an API key: the access id and access key an administrator gave you (the first start of the gateway writes the admin key to "
            code { "data/admin-credentials" } ")." }
        form.stack method="post" action="/ui/login" {
            (view::csrf_field(&csrf))
            div.field {
                label for="access-id" { "Access id" }
                input #access-id type="text" name="access-id" value=(access_id) required
                    autocomplete="username" spellcheck="false" placeholder="p-xxxxxxxxxxxxxx";
            }
            div.field {
                label for="access-key" { "Access key" }
                input #access-key type="password" name="access-key" required autocomplete="current-password";
            }
            button type="submit" { "Log in" }
        }
    };
    let mut res = html_response(status, view::page("Log in", None, Nav::None, body));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// `POST /ui/login`: the login form's CSRF token, then the API's login; on success the
/// session cookie and the overview.
pub async fn submit(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let started = std::time::Instant::now();
    let form = Form(form.into_inner());
    let access_id_raw = form.get("access-id").unwrap_or_default().trim().to_owned();
    let mut note = AuditNote {
        access_id: mayfly_app::authn::canonical_access_id(Some(&access_id_raw))
            .unwrap_or_else(|_| access_id_raw.escape_debug().take(512).collect()),
        ..AuditNote::default()
    };
    let result = if session::login_form_matches(&state, &req, form.get("csrf")) {
        let auth = request::Auth {
            access_id: Some(access_id_raw.clone()),
            access_key: form
                .get("access-key")
                .map(|k| request::Secret(k.to_owned())),
            ..request::Auth::default()
        };
        crate::authn::login(&crate::call::Anonymous::new(&state, &req), auth).await
    } else {
        Err(ApiError::Forbidden(
            "this login form expired or did not come from this console; log in again".into(),
        ))
    };
    let response = match &result {
        Ok(out) => {
            note.access_id = out.creds.access_id.clone();
            let token = SecretString::from(out.token.clone());
            let mut res = super::redirect("/ui/");
            for cookie in [
                session::session_cookie(&state, &token),
                session::set_cookie(session::LOGIN_COOKIE, "", Some(0)),
            ] {
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
        Err(e) => {
            let status = actix_web::ResponseError::status_code(e);
            let text = match e {
                ApiError::Unauthorized(_) => {
                    "The access id or access key is wrong. Check both (the key is shown only once, when it is created) and try again.".to_owned()
                }
                other => other.to_string(),
            };
            login_page(&state, status, Some(("error", &text)), &access_id_raw)
        }
    };
    // A successful login answers with a redirect; it is recorded as the success it is.
    let status = if result.is_ok() {
        200
    } else {
        response.status().as_u16()
    };
    state
        .metrics()
        .record_request("console:login", status, started.elapsed());
    let error = result.err().map(|e| e.to_string());
    audit_request(
        &state,
        &req,
        "console:login".into(),
        Effect::Login,
        status,
        note,
        error,
    )
    .await;
    response
}

/// `POST /ui/logout`: revokes the session's token in the core and drops the cookie.
pub async fn logout(req: HttpRequest, state: State, form: FormBody) -> HttpResponse {
    let session = match Session::of(&state, &req).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = Form(form.into_inner());
    let mut res = finish(
        &state,
        &req,
        &session,
        "console:logout",
        Effect::Configure,
        "",
        async {
            check_csrf(&session, &form)?;
            mayfly_app::authn::revoke_token(
                &state,
                &session.caller,
                secrecy::ExposeSecret::expose_secret(session.token()),
                None,
            )
            .await?;
            Ok(Outcome::redirect("/ui/login?out=1"))
        },
    )
    .await;
    if res.status() == StatusCode::SEE_OTHER {
        if let Ok(v) =
            HeaderValue::from_str(&session::set_cookie(session::SESSION_COOKIE, "", Some(0)))
        {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}
