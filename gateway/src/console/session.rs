//! The console's session: a cookie that carries the caller's Mayfly token sealed with the
//! gateway's master key (AES-256-GCM, `MasterKeys::seal`), and the CSRF token derived from it.
//!
//! Sealing instead of a server-side session table keeps the console stateless: any gateway
//! sharing the master key (as every gateway of one deployment must) opens the cookie, a
//! restart loses nothing, and the session lives exactly as long as the token. The token's
//! checks (expiry, revocation, the auth method's rules) are the core's, on every request.
//! The cookie is `HttpOnly`, so page script could not read even the sealed value.
//!
//! The CSRF token is HMAC-SHA256 keyed by the token: bound to the session, unguessable
//! without it, and nothing to store. The login form, before any session, gets the same
//! protection from a sealed random nonce in a short-lived cookie of its own.

use actix_web::HttpRequest;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use mayfly_app::state::AppState;
use ring::hmac;
use secrecy::{ExposeSecret, SecretString};

/// The session cookie (the sealed token).
pub const SESSION_COOKIE: &str = "mayfly_console";
/// The login form's cookie (a sealed nonce), set by `GET /ui/login`.
pub const LOGIN_COOKIE: &str = "mayfly_console_login";
/// How long a login form stays valid.
const LOGIN_FORM_SECS: u32 = 3600;

/// Associated data binding each sealed value to its use: a session cookie cannot be passed
/// off as a login nonce or anything the store seals.
const SESSION_AAD: &[u8] = b"mayfly-console-session-v1";
const LOGIN_AAD: &[u8] = b"mayfly-console-login-v1";

/// The value of cookie `name` in the request, if sent.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// A `Set-Cookie` value with the console's flags: `HttpOnly; Secure; SameSite=Strict;
/// Path=/ui`. `max_age` `Some(0)` deletes it; `None` makes it last for the browser session.
pub fn set_cookie(name: &str, value: &str, max_age: Option<u32>) -> String {
    let mut cookie = format!("{name}={value}; Path=/ui; HttpOnly; Secure; SameSite=Strict");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    cookie
}

/// The session cookie for `token`.
pub fn session_cookie(state: &AppState, token: &SecretString) -> String {
    let sealed = state
        .keys()
        .seal(token.expose_secret().as_bytes(), SESSION_AAD);
    set_cookie(SESSION_COOKIE, &sealed, None)
}

/// The token sealed in the request's session cookie; `None` when there is no cookie or it
/// does not open (forged, cut, or sealed under a key this gateway does not hold).
pub fn token_of(state: &AppState, req: &HttpRequest) -> Option<SecretString> {
    let sealed = cookie(req, SESSION_COOKIE)?;
    let plain = state.keys().open(&sealed, SESSION_AAD).ok()?;
    String::from_utf8(plain).ok().map(SecretString::from)
}

/// The CSRF token of a session: HMAC-SHA256(token, purpose), base64url.
pub fn csrf_for(token: &SecretString) -> String {
    tag(token.expose_secret(), b"mayfly-console-csrf-v1")
}

/// Whether `given` is the CSRF token of the session holding `token` (constant time).
pub fn csrf_matches(token: &SecretString, given: Option<&str>) -> bool {
    verify(token.expose_secret(), b"mayfly-console-csrf-v1", given)
}

/// A new login form: its cookie (a sealed random nonce) and the form's CSRF token.
pub fn new_login_form(state: &AppState) -> (String, String) {
    let nonce = mayfly_crypto::generate_token();
    let sealed = state
        .keys()
        .seal(nonce.expose_secret().as_bytes(), LOGIN_AAD);
    (
        set_cookie(LOGIN_COOKIE, &sealed, Some(LOGIN_FORM_SECS)),
        tag(nonce.expose_secret(), b"mayfly-console-login-csrf-v1"),
    )
}

/// Whether the login form's CSRF token matches the nonce in its cookie.
pub fn login_form_matches(state: &AppState, req: &HttpRequest, given: Option<&str>) -> bool {
    let Some(sealed) = cookie(req, LOGIN_COOKIE) else {
        return false;
    };
    let Ok(nonce) = state.keys().open(&sealed, LOGIN_AAD) else {
        return false;
    };
    let Ok(nonce) = String::from_utf8(nonce) else {
        return false;
    };
    verify(&nonce, b"mayfly-console-login-csrf-v1", given)
}

fn tag(key: &str, purpose: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
    URL_SAFE_NO_PAD.encode(hmac::sign(&key, purpose).as_ref())
}

fn verify(key: &str, purpose: &[u8], given: Option<&str>) -> bool {
    let Some(given) = given.and_then(|g| URL_SAFE_NO_PAD.decode(g.trim()).ok()) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
    hmac::verify(&key, purpose, &given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_are_bound_to_their_session() {
        let a = SecretString::from("t-aaaa".to_owned());
        let b = SecretString::from("t-bbbb".to_owned());
        let token_a = csrf_for(&a);
        assert!(csrf_matches(&a, Some(&token_a)));
        assert!(!csrf_matches(&b, Some(&token_a)));
        assert!(!csrf_matches(&a, None));
        assert!(!csrf_matches(&a, Some("")));
        assert!(!csrf_matches(&a, Some("not base64 !")));
    }

    #[test]
    fn cookies_carry_the_console_flags() {
        let c = set_cookie("x", "v", None);
        assert_eq!(c, "x=v; Path=/ui; HttpOnly; Secure; SameSite=Strict");
        assert!(set_cookie("x", "", Some(0)).ends_with("; Max-Age=0"));
    }
}
