//! The web console (`/ui/`) as an attacker sees it, over plain HTTPS: the browser-facing
//! headers on every response, the session cookie's flags and sealing, CSRF tokens refused when
//! missing or from another session, a logged-out cookie dead on replay, and a scoped key that
//! sees and does through the console only what its rules allow, whatever item or target a
//! form field names.

use std::collections::BTreeMap;

use mayfly_testkit::TestGateway;
use reqwest::blocking::{Client, Response};
use serde_json::json;

use crate::helpers::{create_target, iam_user_body, on_each_database};

/// A cookie-keeping client that does not follow redirects (so each 303 is seen).
struct Browser<'a> {
    gw: &'a TestGateway,
    client: Client,
    cookies: BTreeMap<String, String>,
}

/// What a response said.
struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn location(&self) -> &str {
        self.header("location")
    }

    /// The `Set-Cookie` line for cookie `name`.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The value of the first `csrf` hidden input.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find(r#"name="csrf" value=""#)
            .unwrap_or_else(|| panic!("no csrf field in:\n{}", self.body));
        let rest = &self.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

impl<'a> Browser<'a> {
    fn new(gw: &'a TestGateway) -> Self {
        let pem = std::fs::read(gw.ca_cert_path()).unwrap();
        let client = Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            gw,
            client,
            cookies: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn read(&mut self, response: Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for line in headers.get_all("set-cookie").iter() {
            let line = line.to_str().unwrap();
            let (pair, attrs) = line.split_once(';').unwrap_or((line, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = response.text().unwrap();
        Page {
            status,
            headers,
            body,
        }
    }

    fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(self.gw.url(path))
            .header("cookie", self.cookie_header())
            .send()
            .unwrap();
        self.read(response)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(self.gw.url(path))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .unwrap();
        self.read(response)
    }

    /// Logs in through the form; returns the answer to the POST.
    fn login(&mut self, access_id: &str, access_key: &str) -> Page {
        let form = self.get("/ui/login");
        assert_eq!(form.status, 200);
        let csrf = form.csrf();
        self.post(
            "/ui/login",
            &[
                ("csrf", &csrf),
                ("access-id", access_id),
                ("access-key", access_key),
            ],
        )
    }

    fn login_admin(&mut self) -> Page {
        let gw = self.gw;
        let page = self.login(gw.admin_access_id(), gw.admin_access_key());
        assert_eq!(page.status, 303, "{}", page.body);
        assert_eq!(page.location(), "/ui/");
        page
    }

    /// The CSRF token of the current session (from the overview's log-out form).
    fn session_csrf(&mut self) -> String {
        let page = self.get("/ui/");
        assert_eq!(page.status, 200, "{}", page.body);
        page.csrf()
    }
}

fn assert_browser_headers(page: &Page, what: &str) {
    let csp = page.header("content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{what}: CSP {csp:?}");
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "{what}: CSP {csp:?}"
    );
    assert!(!csp.contains("unsafe-inline"), "{what}: CSP {csp:?}");
    assert!(!csp.contains("unsafe-eval"), "{what}: CSP {csp:?}");
    assert!(!csp.contains("http"), "{what}: no other origin: {csp:?}");
    assert_eq!(page.header("x-frame-options"), "DENY", "{what}");
    assert_eq!(page.header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(page.header("referrer-policy"), "no-referrer", "{what}");
}

#[test]
fn every_console_response_carries_the_browser_security_headers() {
    on_each_database(|gw| {
        let mut b = Browser::new(&gw);
        let login = b.get("/ui/login");
        assert_eq!(login.status, 200);
        assert_browser_headers(&login, "login page");
        assert_eq!(login.header("cache-control"), "no-store");
        assert!(
            !login.body.contains("<script") && !login.body.contains("style="),
            "no inline script or style: {}",
            login.body
        );
        let css = b.get("/ui/static/console.css");
        assert_eq!(css.status, 200);
        assert!(css.header("content-type").starts_with("text/css"));
        assert_browser_headers(&css, "stylesheet");
        let unauthenticated = b.get("/ui/");
        assert_eq!(unauthenticated.status, 303);
        assert_eq!(unauthenticated.location(), "/ui/login");
        assert_browser_headers(&unauthenticated, "redirect to login");
        let missing = b.get("/ui/no-such-page");
        assert_eq!(missing.status, 404);
        assert_browser_headers(&missing, "404");

        b.login_admin();
        for path in [
            "/ui/",
            "/ui/targets",
            "/ui/secrets",
            "/ui/audit",
            "/ui/access",
        ] {
            let page = b.get(path);
            assert_eq!(page.status, 200, "{path}: {}", page.body);
            assert_browser_headers(&page, path);
            assert!(!page.body.contains("<script"), "{path}");
        }
    });
}

#[test]
fn the_session_cookie_is_sealed_strict_and_dies_with_its_token() {
    on_each_database(|gw| {
        let mut b = Browser::new(&gw);

        // The login form's own cookie and CSRF token are needed.
        let (status, body) = {
            let p = b.post(
                "/ui/login",
                &[
                    ("access-id", gw.admin_access_id()),
                    ("access-key", gw.admin_access_key()),
                ],
            );
            (p.status, p.body)
        };
        assert_eq!(status, 403, "a login without the form's token: {body}");
        assert!(!b.cookies.contains_key("mayfly_console"));

        // A wrong key: 401, no session.
        let wrong = b.login(gw.admin_access_id(), "not-the-key");
        assert_eq!(wrong.status, 401);
        assert!(wrong.body.contains("access id or access key is wrong"));
        assert!(!b.cookies.contains_key("mayfly_console"));

        let ok = b.login_admin();
        let line = ok.set_cookie("mayfly_console").expect("a session cookie");
        for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/ui"] {
            assert!(line.contains(flag), "{flag} missing: {line}");
        }
        assert!(!line.contains("Domain="), "{line}");
        let value = b.cookies["mayfly_console"].clone();
        assert!(
            // (A sealed value is base64url: it may contain "t-" by chance, so only its shape is
            // checked here; the raw token's absence is checked below.)
            value.starts_with("v1.") && !value.starts_with("t-"),
            "the cookie carries the token sealed, not readable: {value}"
        );
        // The raw token (as /auth gives it) is not in the cookie either.
        let token = gw.admin_token();
        assert!(!value.contains(&token[2..]));
        assert_eq!(
            ok.set_cookie("mayfly_console_login")
                .as_deref()
                .map(|l| l.contains("Max-Age=0")),
            Some(true),
            "the login form's cookie is dropped"
        );
        assert_eq!(b.get("/ui/").status, 200);

        // A tampered cookie opens nothing.
        let mut tampered = value.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        b.cookies.insert(
            "mayfly_console".into(),
            String::from_utf8(tampered).unwrap(),
        );
        let page = b.get("/ui/");
        assert_eq!(page.status, 303);
        assert_eq!(page.location(), "/ui/login");
        b.cookies.insert("mayfly_console".into(), value.clone());

        // Logging out revokes the token: the same cookie replayed is dead.
        let csrf = b.session_csrf();
        let out = b.post("/ui/logout", &[("csrf", &csrf)]);
        assert_eq!(out.status, 303);
        assert_eq!(out.location(), "/ui/login?out=1");
        assert!(
            !b.cookies.contains_key("mayfly_console"),
            "the cookie is dropped"
        );
        b.cookies.insert("mayfly_console".into(), value);
        let replay = b.get("/ui/");
        assert_eq!(replay.status, 303);
        assert_eq!(replay.location(), "/ui/login?ended=1");
    });
}

/// A valid `create-aws-target` form, with `csrf` when given.
fn target_form<'a>(name: &'a str, csrf: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("name", name),
        ("access-key-id", "AKIAIOSFODNN7EXAMPLE"),
        ("access-key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        ("region", "us-east-1"),
    ];
    if let Some(c) = csrf {
        form.push(("csrf", c));
    }
    form
}

#[test]
fn posts_without_this_sessions_csrf_token_change_nothing() {
    on_each_database(|gw| {
        let mut b = Browser::new(&gw);
        b.login_admin();
        let mut other = Browser::new(&gw);
        other.login_admin();
        let others_csrf = other.session_csrf();
        let csrf = b.session_csrf();
        assert_ne!(csrf, others_csrf, "each session has its own token");

        let exists = |name: &str| gw.post_authed("/get-target", json!({"name": name})).0 == 200;

        let none = b.post("/ui/targets/new", &target_form("/csrf/none", None));
        assert_eq!(none.status, 403, "{}", none.body);
        assert!(none.body.contains("security token"), "{}", none.body);
        assert!(!exists("/csrf/none"));

        let foreign = b.post(
            "/ui/targets/new",
            &target_form("/csrf/foreign", Some(&others_csrf)),
        );
        assert_eq!(foreign.status, 403);
        assert!(!exists("/csrf/foreign"));

        let forged = b.post(
            "/ui/targets/new",
            &target_form("/csrf/forged", Some("AAAA")),
        );
        assert_eq!(forged.status, 403);
        assert!(!exists("/csrf/forged"));

        // Every action checks it: revoke-all, get a credential, log out.
        create_target(&gw, "/csrf/aws", "s");
        let (status, body) = gw.post_authed(
            "/gateway-create-producer-aws",
            iam_user_body("/csrf/p", "/csrf/aws"),
        );
        assert_eq!(status, 200, "{body}");
        for (path, form) in [
            ("/ui/secret/credential", vec![("name", "/csrf/p")]),
            (
                "/ui/secret/revoke",
                vec![("name", "/csrf/p"), ("revoke-all", "true")],
            ),
            (
                "/ui/secrets/new",
                vec![("name", "/csrf/q"), ("target-name", "/csrf/aws")],
            ),
            ("/ui/logout", vec![]),
        ] {
            let page = b.post(path, &form);
            assert_eq!(page.status, 403, "{path}: {}", page.body);
        }
        assert_eq!(
            b.get("/ui/").status,
            200,
            "a refused log-out left the session alive"
        );

        let ok = b.post("/ui/targets/new", &target_form("/csrf/mine", Some(&csrf)));
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert_eq!(ok.location(), "/ui/target?name=/csrf/mine&created=1");
        assert!(exists("/csrf/mine"));

        // The refusals are in the audit trail, under the console's operation names.
        let (_, events) = gw.post_authed(
            "/get-audit-events",
            json!({"operation": "console:create-target"}),
        );
        let outcomes: Vec<&str> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(outcomes, ["denied", "denied", "denied", "ok"], "{events}");

        // The console's audit page filters them by outcome.
        let denied = b.get("/ui/audit?outcome=denied");
        assert_eq!(denied.status, 200, "{}", denied.body);
        assert!(denied.body.contains("/csrf/none") && !denied.body.contains("/csrf/mine"));
        let ok = b.get("/ui/audit?outcome=ok&item=/csrf/mine");
        assert!(ok.body.contains("/csrf/mine") && !ok.body.contains("/csrf/none"));
        assert_eq!(b.get("/ui/audit?outcome=maybe").status, 400);
    });
}

/// An API key whose one role has `rules`; returns its access id and key.
fn key_with_rules(
    gw: &TestGateway,
    name: &str,
    rules: &[(&str, &str, &[&str])],
) -> (String, String) {
    let (status, body) = gw.post_authed("/create-role", json!({"name": name}));
    assert_eq!(status, 200, "{body}");
    for (rule_type, path, caps) in rules {
        let (status, body) = gw.post_authed(
            "/set-role-rule",
            json!({"role-name": name, "rule-type": rule_type, "path": path, "capability": caps}),
        );
        assert_eq!(status, 200, "{body}");
    }
    let (status, key) = gw.post_authed("/create-auth-method", json!({"name": name}));
    assert_eq!(status, 200, "{key}");
    let (status, body) = gw.post_authed(
        "/assoc-role-am",
        json!({"role-name": name, "am-name": name}),
    );
    assert_eq!(status, 200, "{body}");
    (
        key["access_id"].as_str().unwrap().to_owned(),
        key["access_key"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn a_scoped_key_sees_and_does_only_what_its_rules_allow_whatever_a_form_names() {
    on_each_database(|gw| {
        const SECRET_A: &str = "secret-of-target-a-0123456789";
        const SECRET_B: &str = "secret-of-target-b-0123456789";
        create_target(&gw, "/aws/a", SECRET_A);
        create_target(&gw, "/aws/b", SECRET_B);
        for (name, target) in [("/team-a/s3", "/aws/a"), ("/team-b/s3", "/aws/b")] {
            let (status, body) =
                gw.post_authed("/gateway-create-producer-aws", iam_user_body(name, target));
            assert_eq!(status, 200, "{body}");
        }
        let (access_id, access_key) = key_with_rules(
            &gw,
            "/console/team-a",
            &[
                (
                    "item-rule",
                    "/team-a/*",
                    &["read", "list", "create", "delete"],
                ),
                ("target-rule", "/aws/a", &["read", "list", "use"]),
            ],
        );
        let mut b = Browser::new(&gw);
        let login = b.login(&access_id, &access_key);
        assert_eq!(login.status, 303, "{}", login.body);
        let csrf = b.session_csrf();

        // Lists show only what the rules let it list.
        let secrets = b.get("/ui/secrets");
        assert!(secrets.body.contains("/team-a"), "{}", secrets.body);
        assert!(!secrets.body.contains("/team-b"), "{}", secrets.body);
        let folder_b = b.get("/ui/secrets?folder=/team-b");
        assert!(!folder_b.body.contains("/team-b/s3"), "{}", folder_b.body);
        let targets = b.get("/ui/targets");
        assert!(targets.body.contains("/aws/a") && !targets.body.contains("/aws/b"));
        let overview = b.get("/ui/");
        assert!(
            overview.body.contains(r#"<span class="n">1</span>targets"#),
            "{}",
            overview.body
        );

        // Its own items: shown, never a target's secret.
        let own = b.get("/ui/secret?name=/team-a/s3");
        assert_eq!(own.status, 200, "{}", own.body);
        let target_a = b.get("/ui/target?name=/aws/a");
        assert_eq!(target_a.status, 200);
        for page in [&own, &target_a] {
            assert!(!page.body.contains(SECRET_A), "a target's secret on a page");
        }

        // Another item or target named in the query or a form field: refused by the core.
        for path in [
            "/ui/secret?name=/team-b/s3",
            "/ui/target?name=/aws/b",
            "/ui/audit",
        ] {
            let page = b.get(path);
            assert_eq!(page.status, 403, "{path}: {}", page.body);
            assert!(page.body.contains("Not allowed"), "{path}");
            assert!(!page.body.contains(SECRET_B));
        }
        let sneaky = b.get("/ui/secret?name=/team-a/../team-b/s3");
        assert_eq!(sneaky.status, 400, "{}", sneaky.body);

        let issue = b.post(
            "/ui/secret/credential",
            &[("csrf", &csrf), ("name", "/team-b/s3")],
        );
        assert_eq!(issue.status, 403, "{}", issue.body);
        assert!(
            issue.body.contains(&format!("access id {access_id}")),
            "{}",
            issue.body
        );
        let revoke = b.post(
            "/ui/secret/revoke",
            &[
                ("csrf", &csrf),
                ("name", "/team-b/s3"),
                ("revoke-all", "true"),
            ],
        );
        assert_eq!(revoke.status, 403, "{}", revoke.body);
        let (status, creds) = gw.post_authed(
            "/gateway-get-producer-tmp-creds",
            json!({"name": "/team-b/s3"}),
        );
        assert_eq!(status, 200);
        assert_eq!(creds, json!([]), "nothing was issued on /team-b/s3");

        // Its own folder, but a target it may not use: refused, nothing created.
        let create = b.post(
            "/ui/secrets/new",
            &[
                ("csrf", &csrf),
                ("name", "/team-a/on-b"),
                ("target-name", "/aws/b"),
                ("aws-user-programmatic-access", "true"),
                (
                    "aws-user-policies",
                    "arn:aws:iam::aws:policy/ReadOnlyAccess",
                ),
                ("user-ttl", "15m"),
            ],
        );
        assert_eq!(create.status, 403, "{}", create.body);
        assert_eq!(
            gw.post_authed("/gateway-get-producer", json!({"name": "/team-a/on-b"}))
                .0,
            404
        );
        // Another team's folder with its own target: refused too.
        let elsewhere = b.post(
            "/ui/secrets/new",
            &[
                ("csrf", &csrf),
                ("name", "/team-b/mine"),
                ("target-name", "/aws/a"),
                ("aws-user-programmatic-access", "true"),
            ],
        );
        assert_eq!(elsewhere.status, 403, "{}", elsewhere.body);
        // Fields the form does not have are not passed on (access-mode stays iam_user).
        let mode = b.post(
            "/ui/secrets/new",
            &[
                ("csrf", &csrf),
                ("name", "/team-a/ok"),
                ("target-name", "/aws/a"),
                ("access-mode", "assume_role"),
                ("aws-user-programmatic-access", "true"),
                ("user-ttl", "15m"),
            ],
        );
        assert_eq!(mode.status, 303, "{}", mode.body);
        let (_, details) = gw.post_authed("/gateway-get-producer", json!({"name": "/team-a/ok"}));
        assert_eq!(details["aws_access_mode"], "iam_user", "{details}");

        // The refusals are audited under the key's access id.
        let (_, events) = gw.post_authed(
            "/get-audit-events",
            json!({"access-id": access_id, "item": "/team-b/s3"}),
        );
        let ops: Vec<&str> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["outcome"] == "denied")
            .map(|e| e["operation"].as_str().unwrap())
            .collect();
        for op in [
            "console:get-dynamic-secret",
            "console:get-dynamic-secret-value",
            "console:revoke-tmp-creds",
        ] {
            assert!(ops.contains(&op), "{op} not audited: {events}");
        }
    });
}
