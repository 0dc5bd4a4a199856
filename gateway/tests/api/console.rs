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
        let mut b = Browser::new(gw);
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
            "/ui/role?name=/admin",
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
        let mut b = Browser::new(gw);

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
        let mut b = Browser::new(gw);
        b.login_admin();
        let mut other = Browser::new(gw);
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
        create_target(gw, "/csrf/aws", "s");
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

/// Two teams' trees: targets `/aws/a` and `/aws/b` (with the secrets given) and a dynamic
/// secret on each, `/team-a/s3` and `/team-b/s3`.
fn two_teams(gw: &TestGateway, secret_a: &str, secret_b: &str) {
    create_target(gw, "/aws/a", secret_a);
    create_target(gw, "/aws/b", secret_b);
    for (name, target) in [("/team-a/s3", "/aws/a"), ("/team-b/s3", "/aws/b")] {
        let (status, body) =
            gw.post_authed("/gateway-create-producer-aws", iam_user_body(name, target));
        assert_eq!(status, 200, "{body}");
    }
}

#[test]
fn a_scoped_key_sees_and_does_only_what_its_rules_allow_whatever_a_form_names() {
    on_each_database(|gw| {
        const SECRET_A: &str = "secret-of-target-a-0123456789";
        const SECRET_B: &str = "secret-of-target-b-0123456789";
        two_teams(gw, SECRET_A, SECRET_B);
        let (access_id, access_key) = key_with_rules(
            gw,
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
        let mut b = Browser::new(gw);
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

/// The text of the element with `id`, up to its first tag (values the console shows once).
fn text_of(page: &Page, id: &str) -> String {
    let marker = format!(r#"id="{id}">"#);
    let at = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in:\n{}", page.body));
    let rest = &page.body[at + marker.len()..];
    rest[..rest.find('<').unwrap()].to_owned()
}

/// How many console operations the audit trail records as denied for `access_id`, with the
/// events read.
fn console_denials(gw: &TestGateway, access_id: &str) -> (usize, serde_json::Value) {
    let (_, events) = gw.post_authed(
        "/get-audit-events",
        json!({"access-id": access_id, "limit": 1000}),
    );
    let denied = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["outcome"] == "denied" && e["operation"].as_str().unwrap().starts_with("console:")
        })
        .count();
    (denied, events)
}

/// The role as `get-role` answers it.
fn role_of(gw: &TestGateway, name: &str) -> (u16, serde_json::Value) {
    gw.post_authed("/get-role", json!({"name": name}))
}

#[test]
fn access_is_managed_through_the_console_with_the_apis_own_checks() {
    on_each_database(|gw| {
        let mut b = Browser::new(gw);
        b.login_admin();
        let csrf = b.session_csrf();
        let access = b.get("/ui/access");
        assert_eq!(access.status, 200, "{}", access.body);
        for form in ["create-auth-method", "create-role"] {
            assert!(access.body.contains(&format!(r#"id="{form}""#)), "{form}");
        }

        // A bad name is sent back next to its field, with the API's message; nothing made.
        let bad = b.post(
            "/ui/access/roles/new",
            &[
                ("csrf", &csrf),
                ("name", "no slash"),
                ("audit-access", "own"),
            ],
        );
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert!(bad.body.contains(r#"id="f-name-error""#), "{}", bad.body);
        assert!(
            bad.body.contains(r#"value="no slash""#),
            "the input is kept"
        );
        let bad_audit = b.post(
            "/ui/access/roles/new",
            &[
                ("csrf", &csrf),
                ("name", "/console/ops"),
                ("audit-access", "some"),
            ],
        );
        assert_eq!(bad_audit.status, 400, "{}", bad_audit.body);
        assert!(bad_audit.body.contains(r#"id="f-audit-access-error""#));
        assert_eq!(role_of(gw, "/console/ops").0, 404);

        let made = b.post(
            "/ui/access/roles/new",
            &[
                ("csrf", &csrf),
                ("name", "/console/ops"),
                ("description", "operators"),
                ("audit-access", "own"),
            ],
        );
        assert_eq!(made.status, 303, "{}", made.body);
        assert_eq!(made.location(), "/ui/role?name=/console/ops&created=1");
        let (_, role) = role_of(gw, "/console/ops");
        assert_eq!(role["audit_access"], "own", "{role}");
        let again = b.post(
            "/ui/access/roles/new",
            &[("csrf", &csrf), ("name", "/console/ops")],
        );
        assert_eq!(again.status, 409, "a taken name: {}", again.body);

        // Rules: the API's parser, its messages inline.
        let rule = |path: &'static str, rule_type: &'static str, caps: &[&'static str]| {
            let mut form = vec![
                ("role-name", "/console/ops"),
                ("rule-type", rule_type),
                ("path", path),
            ];
            form.extend(caps.iter().map(|c| ("capability", *c)));
            form
        };
        for (form, field, says) in [
            (
                rule("team-a", "item-rule", &["read"]),
                "path",
                "must start with /",
            ),
            (
                rule("/team-a/*", "item-rule", &[]),
                "capability",
                "required",
            ),
            (
                rule("/team-a/*", "item-rule", &["use"]),
                "capability",
                "targets only",
            ),
            (
                rule("/team-a/*", "secret-rule", &["read"]),
                "rule-type",
                "not supported",
            ),
        ] {
            let mut form: Vec<(&str, &str)> = form;
            form.push(("csrf", &csrf));
            let page = b.post("/ui/role/rules/set", &form);
            assert_eq!(page.status, 400, "{form:?}: {}", page.body);
            assert!(
                page.body.contains(&format!(r#"id="f-{field}-error""#)) && page.body.contains(says),
                "{form:?}: {}",
                page.body
            );
        }
        assert_eq!(
            role_of(gw, "/console/ops").1["rules"]["path_rules"],
            json!([])
        );
        let mut form: Vec<(&str, &str)> = rule("/team-a/*", "item-rule", &["read", "list"]);
        form.push(("csrf", &csrf));
        let set = b.post("/ui/role/rules/set", &form);
        assert_eq!(set.status, 303, "{}", set.body);
        let (_, role) = role_of(gw, "/console/ops");
        assert_eq!(
            role["rules"]["path_rules"],
            json!([{"path": "/team-a/*", "capabilities": ["read", "list"], "type": "item-rule"}]),
            "{role}"
        );

        // A new API key: its access key shown once, on the answer to the POST only.
        let created = b.post(
            "/ui/access/auth-methods/new",
            &[("csrf", &csrf), ("name", "/console/ci")],
        );
        assert_eq!(created.status, 200, "{}", created.body);
        assert_eq!(created.header("cache-control"), "no-store");
        let access_id = text_of(&created, "new-access-id");
        let access_key = text_of(&created, "new-access-key");
        assert!(
            access_id.starts_with("p-") && access_key.len() >= 32,
            "{access_id}"
        );
        let (status, _) = gw.post(
            "/auth",
            json!({"access-id": access_id, "access-key": access_key, "access-type": "access_key"}),
        );
        assert_eq!(status, 200, "the key shown works");
        assert!(
            b.get("/ui/access").body.contains(&access_id),
            "listed by access id"
        );
        for path in [
            "/ui/access",
            "/ui/role?name=/console/ops",
            "/ui/audit",
            "/ui/",
        ] {
            let page = b.get(path);
            assert_eq!(page.status, 200, "{path}");
            assert!(
                !page.body.contains(&access_key),
                "{path} shows the key again"
            );
        }
        let (_, events) = gw.post_authed("/get-audit-events", json!({"limit": 1000}));
        let trail = events.to_string();
        assert!(
            !trail.contains(&access_key),
            "the key is never in the audit trail"
        );
        assert!(
            events["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["operation"] == "console:create-auth-method"
                    && e["detail"] == format!("access id {access_id}")),
            "{events}"
        );

        // Give the role to the key, then take it back.
        let assoc = b.post(
            "/ui/role/assoc/new",
            &[
                ("csrf", &csrf),
                ("role-name", "/console/ops"),
                ("am-name", "/console/ci"),
            ],
        );
        assert_eq!(assoc.status, 303, "{}", assoc.body);
        let (_, role) = role_of(gw, "/console/ops");
        let held = role["role_auth_methods_assoc"].as_array().unwrap().clone();
        assert_eq!(held.len(), 1, "{role}");
        assert_eq!(held[0]["auth_method_access_id"], access_id.as_str());
        let assoc_id = held[0]["assoc_id"].as_str().unwrap().to_owned();
        let page = b.get("/ui/role?name=/console/ops");
        assert!(page.body.contains(&assoc_id), "{}", page.body);
        let back = b.post(
            "/ui/role/assoc/delete",
            &[
                ("csrf", &csrf),
                ("role-name", "/console/ops"),
                ("assoc-id", &assoc_id),
            ],
        );
        assert_eq!(back.status, 303, "{}", back.body);
        assert_eq!(
            role_of(gw, "/console/ops").1["role_auth_methods_assoc"],
            json!([])
        );

        let mut form: Vec<(&str, &str)> = rule("/team-a/*", "item-rule", &[]);
        form.push(("csrf", &csrf));
        let gone = b.post("/ui/role/rules/delete", &form);
        assert_eq!(gone.status, 303, "{}", gone.body);
        assert_eq!(
            role_of(gw, "/console/ops").1["rules"]["path_rules"],
            json!([])
        );

        let del = b.post(
            "/ui/access/roles/delete",
            &[("csrf", &csrf), ("name", "/console/ops")],
        );
        assert_eq!(del.status, 303, "{}", del.body);
        assert_eq!(role_of(gw, "/console/ops").0, 404);
        let del = b.post(
            "/ui/access/auth-methods/delete",
            &[("csrf", &csrf), ("name", "/console/ci")],
        );
        assert_eq!(del.status, 303, "{}", del.body);
        let (status, _) = gw.post(
            "/auth",
            json!({"access-id": access_id, "access-key": access_key, "access-type": "access_key"}),
        );
        assert_eq!(status, 401, "a deleted key no longer logs in");
    });
}

#[test]
fn every_access_form_needs_this_sessions_csrf_token() {
    on_each_database(|gw| {
        let (status, body) = gw.post_authed("/create-role", json!({"name": "/csrf/role"}));
        assert_eq!(status, 200, "{body}");
        let (status, body) = gw.post_authed("/create-auth-method", json!({"name": "/csrf/key"}));
        assert_eq!(status, 200, "{body}");
        let (status, key) = gw.post_authed(
            "/assoc-role-am",
            json!({"role-name": "/csrf/role", "am-name": "/csrf/key"}),
        );
        assert_eq!(status, 200, "{key}");
        let assoc_id = key["assoc_id"].as_str().unwrap().to_owned();
        let (status, body) = gw.post_authed(
            "/create-auth-method-aws-iam",
            json!({"name": "/csrf/iam", "bound-aws-account-id": "123456789012"}),
        );
        assert_eq!(status, 200, "{body}");
        let mut b = Browser::new(gw);
        b.login_admin();
        let mut other = Browser::new(gw);
        other.login_admin();
        let foreign = other.session_csrf();
        for csrf in [None, Some(foreign.as_str()), Some("AAAA")] {
            for (path, fields) in [
                (
                    "/ui/access/auth-methods/new",
                    vec![("name", "/csrf/new-key")],
                ),
                (
                    "/ui/access/auth-methods/delete",
                    vec![("name", "/csrf/key")],
                ),
                ("/ui/access/roles/new", vec![("name", "/csrf/new-role")]),
                ("/ui/access/roles/delete", vec![("name", "/csrf/role")]),
                (
                    "/ui/role/rules/set",
                    vec![
                        ("role-name", "/csrf/role"),
                        ("path", "/*"),
                        ("capability", "read"),
                    ],
                ),
                (
                    "/ui/role/rules/delete",
                    vec![("role-name", "/csrf/role"), ("path", "/*")],
                ),
                (
                    "/ui/role/assoc/new",
                    vec![("role-name", "/csrf/role"), ("am-name", "/csrf/key")],
                ),
                (
                    "/ui/role/assoc/new",
                    vec![
                        ("role-name", "/csrf/role"),
                        ("am-name", "/csrf/iam"),
                        ("sub-claims", "arn=*"),
                    ],
                ),
                (
                    "/ui/access/auth-methods/new",
                    vec![
                        ("kind", "aws_iam"),
                        ("name", "/csrf/new-iam"),
                        ("bound-aws-account-id", "123456789012"),
                    ],
                ),
                (
                    "/ui/access/auth-methods/new",
                    vec![("kind", "k8s"), ("name", "/csrf/new-k8s")],
                ),
                (
                    "/ui/access/auth-methods/new",
                    vec![("kind", "jwt"), ("name", "/csrf/new-jwt")],
                ),
                ("/ui/access/auth-methods/reset", vec![("name", "/csrf/key")]),
                (
                    "/ui/role/assoc/delete",
                    vec![("role-name", "/csrf/role"), ("assoc-id", assoc_id.as_str())],
                ),
            ] {
                let mut form = fields.clone();
                if let Some(c) = csrf {
                    form.push(("csrf", c));
                }
                let page = b.post(path, &form);
                assert_eq!(page.status, 403, "{path} with {csrf:?}: {}", page.body);
                assert!(page.body.contains("security token"), "{path}");
            }
        }
        // Nothing changed.
        let (_, role) = role_of(gw, "/csrf/role");
        assert_eq!(role["rules"]["path_rules"], json!([]), "{role}");
        assert_eq!(role["role_auth_methods_assoc"].as_array().unwrap().len(), 1);
        assert_eq!(role_of(gw, "/csrf/new-role").0, 404);
        let (_, methods) = gw.post_authed("/list-auth-methods", json!({}));
        let names: Vec<&str> = methods["auth_methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["auth_method_name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"/csrf/key") && !names.contains(&"/csrf/new-key"),
            "{names:?}"
        );
        assert!(
            !names.iter().any(|n| n.starts_with("/csrf/new-")),
            "{names:?}"
        );
    });
}

#[test]
fn a_scoped_key_cannot_manage_access_beyond_its_rules_through_any_form_field() {
    on_each_database(|gw| {
        // A powerful role held by someone else, and a key that may manage roles and auth
        // methods under /team-a only.
        let (status, body) = gw.post_authed("/create-role", json!({"name": "/powerful"}));
        assert_eq!(status, 200, "{body}");
        let (status, body) = gw.post_authed(
            "/set-role-rule",
            json!({"role-name": "/powerful", "path": "/*", "capability": ["read", "list", "create", "update", "delete"]}),
        );
        assert_eq!(status, 200, "{body}");
        let (status, body) = gw.post_authed("/create-auth-method", json!({"name": "/ops/holder"}));
        assert_eq!(status, 200, "{body}");
        let (status, body) = gw.post_authed(
            "/assoc-role-am",
            json!({"role-name": "/powerful", "am-name": "/ops/holder"}),
        );
        assert_eq!(status, 200, "{body}");
        let powerful_assoc = body["assoc_id"].as_str().unwrap().to_owned();
        let (access_id, access_key) = key_with_rules(
            gw,
            "/console/scoped",
            &[
                (
                    "role-rule",
                    "/team-a/*",
                    &["read", "list", "create", "update", "delete"],
                ),
                (
                    "auth-method-rule",
                    "/team-a/*",
                    &["read", "list", "create", "delete"],
                ),
            ],
        );
        let before_roles = gw.post_authed("/list-roles", json!({})).1;
        let before_methods = gw.post_authed("/list-auth-methods", json!({})).1;

        let mut b = Browser::new(gw);
        assert_eq!(b.login(&access_id, &access_key).status, 303);
        let csrf = b.session_csrf();
        let access = b.get("/ui/access");
        assert_eq!(access.status, 200, "{}", access.body);
        assert!(
            !access.body.contains("/powerful"),
            "lists only what it may list"
        );

        for (path, fields) in [
            // Outside its tree.
            ("/ui/access/roles/new", vec![("name", "/other/role")]),
            ("/ui/access/auth-methods/new", vec![("name", "/other/key")]),
            ("/ui/access/roles/delete", vec![("name", "/powerful")]),
            (
                "/ui/access/auth-methods/delete",
                vec![("name", "/ops/holder")],
            ),
            (
                "/ui/access/auth-methods/delete",
                vec![("name", "/console/scoped")],
            ),
            // Widening the powerful role, or its own.
            (
                "/ui/role/rules/set",
                vec![
                    ("role-name", "/powerful"),
                    ("path", "/team-a/*"),
                    ("capability", "read"),
                ],
            ),
            (
                "/ui/role/rules/set",
                vec![
                    ("role-name", "/console/scoped"),
                    ("path", "/*"),
                    ("capability", "read"),
                ],
            ),
            (
                "/ui/role/rules/delete",
                vec![("role-name", "/powerful"), ("path", "/*")],
            ),
            // Attaching itself to the powerful role, by either name.
            (
                "/ui/role/assoc/new",
                vec![("role-name", "/powerful"), ("am-name", "/console/scoped")],
            ),
            // Taking the powerful role from its holder, naming its own role for the redirect.
            (
                "/ui/role/assoc/delete",
                vec![
                    ("role-name", "/team-a/x"),
                    ("assoc-id", powerful_assoc.as_str()),
                ],
            ),
            // Its own tree first, then another name in a repeated field: the first is used for
            // everything, the check included.
            (
                "/ui/role/assoc/new",
                vec![
                    ("role-name", "/powerful"),
                    ("role-name", "/team-a/x"),
                    ("am-name", "/console/scoped"),
                ],
            ),
        ] {
            let mut form = fields.clone();
            form.push(("csrf", &csrf));
            let page = b.post(path, &form);
            assert_eq!(page.status, 403, "{path} {fields:?}: {}", page.body);
            assert!(page.body.contains("Not allowed"), "{path}");
        }
        // Its own role in its tree, given to an auth method it may not read (its own, outside
        // /team-a): refused too.
        let own = b.post(
            "/ui/access/roles/new",
            &[("csrf", &csrf), ("name", "/team-a/x")],
        );
        assert_eq!(own.status, 303, "{}", own.body);
        let attach = b.post(
            "/ui/role/assoc/new",
            &[
                ("csrf", &csrf),
                ("role-name", "/team-a/x"),
                ("am-name", "/console/scoped"),
            ],
        );
        assert_eq!(attach.status, 403, "{}", attach.body);
        let del = b.post(
            "/ui/access/roles/delete",
            &[("csrf", &csrf), ("name", "/team-a/x")],
        );
        assert_eq!(del.status, 303, "{}", del.body);

        assert_eq!(gw.post_authed("/list-roles", json!({})).1, before_roles);
        assert_eq!(
            gw.post_authed("/list-auth-methods", json!({})).1,
            before_methods
        );
        let (denied, events) = console_denials(gw, &access_id);
        assert_eq!(denied, 12, "every refusal audited under the key: {events}");
    });
}

#[test]
fn the_overview_charts_the_last_day_and_the_audit_page_filters_by_time() {
    on_each_database(|gw| {
        let mut b = Browser::new(gw);
        b.login_admin();
        let overview = b.get("/ui/");
        assert_eq!(overview.status, 200, "{}", overview.body);
        for part in [
            r#"<svg class="chart" id="activity-chart""#,
            r#"id="revocation-lag""#,
            r#"id="recent-failures""#,
            "No failed requests in the last 24 hours.",
        ] {
            assert!(overview.body.contains(part), "{part}: {}", overview.body);
        }
        assert_eq!(overview.body.matches("<rect class=\"issued\"").count(), 24);
        // The reconciler runs at start-up; the overview shows its record once written.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let page = b.get("/ui/");
            if page.body.contains(r#"id="reconciler-last-run""#) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{}", page.body);
            std::thread::sleep(std::time::Duration::from_millis(200));
        }

        assert!(!b.get("/ui/").body.contains("no gateway may be reconciling"));
        // A record much older than the interval: the overview says no one is reconciling.
        let stale = json!({"started_at": 1_000, "finished_at": 2_000, "gateway": "gw-old",
            "report": {"aborted": 0, "revoked": 0, "orphans_deleted": 0, "failures": 0,
                       "retired_targets_deleted": 0}});
        crate::aws::block_on(async {
            let db = mayfly_store::connect(&gw.database_url(), 1).await.unwrap();
            mayfly_store::meta::put(&db, "reconciler_last_run", &stale.to_string())
                .await
                .unwrap();
        });
        let page = b.get("/ui/");
        assert!(
            page.body.contains("no gateway may be reconciling") && page.body.contains("gw-old"),
            "{}",
            page.body
        );

        // A key without audit-access sees neither the failures nor the reconciler.
        let (id, key) = key_with_rules(gw, "/console/nobody", &[]);
        let mut nobody = Browser::new(gw);
        assert_eq!(nobody.login(&id, &key).status, 303);
        let page = nobody.get("/ui/");
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("audit-access is none"), "{}", page.body);
        assert!(!page.body.contains(r#"id="reconciler-last-run""#));

        // The audit page's time filter: bad times are sent back next to their field.
        let bad = b.get("/ui/audit?from=yesterday");
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert!(bad.body.contains(r#"id="f-from-error""#) && bad.body.contains("2026-01-31 12:00"));
        let reversed = b.get("/ui/audit?from=2026-02-01&to=2026-01-01");
        assert_eq!(reversed.status, 400);
        assert!(
            reversed.body.contains(r#"id="f-to-error""#),
            "{}",
            reversed.body
        );
        let future = b.get("/ui/audit?from=2999-01-01");
        assert_eq!(future.status, 200, "{}", future.body);
        assert!(
            future.body.contains("No audit events match"),
            "{}",
            future.body
        );
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let found = b.get(&format!(
            "/ui/audit?from=2000-01-01%2000:00&to={today}&operation=x"
        ));
        assert_eq!(found.status, 200, "{}", found.body);
        assert!(found.body.contains("create-role"), "{}", found.body);
        assert!(
            found.body.contains(&format!(r#"value="{today}""#)),
            "the filter is kept"
        );
        // More than a page: the next page's link keeps the time filter.
        for i in 0..50 {
            let (status, body) =
                gw.post_authed("/create-role", json!({"name": format!("/paging/r{i}")}));
            assert_eq!(status, 200, "{body}");
        }
        let first = b.get(&format!("/ui/audit?from={today}&to={today}"));
        assert_eq!(first.status, 200, "{}", first.body);
        let link = first
            .body
            .split(r#"href="/ui/audit?after="#)
            .nth(1)
            .unwrap_or_else(|| panic!("no next page: {}", first.body));
        let link = &link[..link.find('"').unwrap()];
        assert!(
            link.contains(&format!("&amp;from={today}&amp;to={today}")),
            "{link}"
        );
    });
}

#[test]
fn the_overview_lists_recent_failures_from_the_audit_trail() {
    // A target whose IAM endpoint is a closed local port: issuing fails, and is audited so.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let origin = format!("http://127.0.0.1:{closed}");
    crate::helpers::on_each_database_with(
        |b| b.env("MAYFLY_ALLOWED_ENDPOINTS", &origin),
        |gw, _path| {
            let (status, body) = gw.post_authed(
                "/create-aws-target",
                json!({"name": "/down/aws", "access-key-id": "AKIAIOSFODNN7EXAMPLE", "access-key": "s",
                       "region": "us-east-1", "iam-endpoint": origin, "sts-endpoint": origin}),
            );
            assert_eq!(status, 200, "{body}");
            let (status, body) = gw.post_authed(
                "/gateway-create-producer-aws",
                iam_user_body("/down/p", "/down/aws"),
            );
            assert_eq!(status, 200, "{body}");
            let (status, body) = gw.post_authed(
                "/get-dynamic-secret-value",
                json!({"name": "/down/p", "timeout": 5}),
            );
            assert!(status >= 500, "{status}: {body}");

            let mut b = Browser::new(gw);
            b.login_admin();
            let page = b.get("/ui/");
            assert_eq!(page.status, 200, "{}", page.body);
            let failures = &page.body[page
                .body
                .find(r#"id="failures""#)
                .unwrap_or_else(|| panic!("no failures table: {}", page.body))..];
            assert!(
                failures.contains("get-dynamic-secret-value") && failures.contains("/down/p"),
                "{failures}"
            );
        },
    );
}

// ----- editing, deleting, rotating and revealing (targets and dynamic secrets) -----

/// HTML-escaped text (as maud writes it) back to plain text.
fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in the tag text `tag` (`<input ...>`).
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let rest = &tag[at..];
    Some(unescape(&rest[..rest.find('"')?]))
}

/// The fields the form posting to `action` would send as it stands (what a browser submits
/// without a change): inputs (ticked checkboxes only), textareas and selected options.
fn form_values(body: &str, action: &str) -> Vec<(String, String)> {
    let start = body
        .find(&format!("action=\"{action}\""))
        .unwrap_or_else(|| panic!("no form posting to {action} in:\n{body}"));
    let form = &body[start..start + body[start..].find("</form>").unwrap()];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let end = rest.find('>').unwrap();
        let tag = &rest[..=end];
        if tag.starts_with("<input") {
            let kind = attr(tag, "type").unwrap_or_default();
            if let Some(name) = attr(tag, "name") {
                if kind != "checkbox" || tag.contains(" checked") {
                    out.push((name, attr(tag, "value").unwrap_or_default()));
                }
            }
        } else if tag.starts_with("<textarea") {
            let name = attr(tag, "name").unwrap();
            let text = &rest[end + 1..];
            out.push((name, unescape(&text[..text.find("</textarea>").unwrap()])));
        } else if tag.starts_with("<select") {
            let name = attr(tag, "name").unwrap();
            let inner = &rest[end + 1..rest.find("</select>").unwrap()];
            let value = inner
                .split("<option")
                .find(|o| o.contains(" selected"))
                .and_then(|o| attr(o, "value"))
                .unwrap_or_default();
            out.push((name, value));
        }
        rest = &rest[1..];
    }
    out
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// `form` with `changes` applied: a field set (replacing any earlier value) or, with `None`,
/// removed.
fn with(form: &[(String, String)], changes: &[(&str, Option<&str>)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = form
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .cloned()
        .collect();
    for (k, v) in changes {
        if let Some(v) = v {
            out.push(((*k).to_owned(), (*v).to_owned()));
        }
    }
    out
}

/// A producer as the API shows it, without the fields that change on every update.
fn producer_as_api_shows(gw: &TestGateway, name: &str) -> serde_json::Value {
    let (status, mut body) = gw.post_authed("/gateway-get-producer", json!({"name": name}));
    assert_eq!(status, 200, "{name}: {body}");
    body.as_object_mut().unwrap().remove("modification_date");
    body
}

#[test]
fn targets_are_edited_revealed_and_deleted_through_the_console() {
    on_each_database(|gw| {
        const SECRET: &str = "console-secret-of-the-target-0123456789";
        create_target(gw, "/aws/main", SECRET);
        let (status, body) = gw.post_authed(
            "/gateway-create-producer-aws",
            iam_user_body("/team/user-of-main", "/aws/main"),
        );
        assert_eq!(status, 200, "{body}");
        let mut b = Browser::new(gw);
        b.login_admin();

        // The details page offers each action; the edit form is filled, never with the secret.
        let details = b.get("/ui/target?name=/aws/main");
        for href in [
            "/ui/target/edit?name=/aws/main",
            "/ui/target/delete?name=/aws/main",
        ] {
            assert!(details.body.contains(href), "{href}: {}", details.body);
        }
        for action in ["/ui/target/reveal", "/ui/target/rotate"] {
            assert!(
                details.body.contains(&format!("action=\"{action}\"")),
                "{action}"
            );
        }
        let edit = b.get("/ui/target/edit?name=/aws/main");
        assert_eq!(edit.status, 200, "{}", edit.body);
        let values = form_values(&edit.body, "/ui/target/edit");
        assert!(
            values.contains(&("region".into(), "us-east-1".into())),
            "{values:?}"
        );
        assert!(!edit.body.contains(SECRET));

        // Mistakes come back inline, from the API's parser; nothing changes.
        let bad = b.post(
            "/ui/target/edit",
            &pairs(&with(
                &values,
                &[
                    ("region", Some("mars-1")),
                    ("access-key-id", Some("AKIAIOSFODNN7EXAMPLE")),
                ],
            )),
        );
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert!(bad.body.contains("is not an AWS region"), "{}", bad.body);
        assert!(
            bad.body.contains(r#"class="field invalid""#) && bad.body.contains("f-region-error"),
            "{}",
            bad.body
        );
        assert!(
            bad.body
                .contains("access-key (the secret access key) must be given"),
            "{}",
            bad.body
        );
        let (_, t) = gw.post_authed("/get-target", json!({"name": "/aws/main"}));
        assert_eq!(t["region"], "us-east-1");

        // A good edit: region, description and delete protection; the key stays.
        let ok = b.post(
            "/ui/target/edit",
            &pairs(&with(
                &values,
                &[
                    ("region", Some("eu-west-1")),
                    ("description", Some("edited in the console")),
                    ("delete_protection", Some("true")),
                ],
            )),
        );
        assert_eq!(ok.status, 303, "{}", ok.body);
        assert_eq!(ok.location(), "/ui/target?name=/aws/main&updated=1");
        let (_, t) = gw.post_authed("/get-target", json!({"name": "/aws/main"}));
        assert_eq!(t["region"], "eu-west-1", "{t}");
        assert_eq!(t["comment"], "edited in the console", "{t}");
        assert_eq!(t["delete_protection"], true, "{t}");
        let (_, d) = gw.post_authed("/get-target-details", json!({"name": "/aws/main"}));
        assert_eq!(
            d["value"]["aws_target_details"]["aws_secret_access_key"],
            SECRET
        );

        // Delete: a confirm step, then refused while protected and while a dynamic secret uses it.
        let confirm = b.get("/ui/target/delete?name=/aws/main");
        assert_eq!(confirm.status, 200);
        assert!(confirm.body.contains(r#"action="/ui/target/delete""#));
        let csrf = b.session_csrf();
        let protected = b.post(
            "/ui/target/delete",
            &[("csrf", &csrf), ("name", "/aws/main")],
        );
        assert_eq!(protected.status, 409, "{}", protected.body);
        assert!(
            protected.body.contains("delete protection"),
            "{}",
            protected.body
        );
        let values = form_values(
            &b.get("/ui/target/edit?name=/aws/main").body,
            "/ui/target/edit",
        );
        let off = b.post(
            "/ui/target/edit",
            &pairs(&with(&values, &[("delete_protection", None)])),
        );
        assert_eq!(off.status, 303, "{}", off.body);
        let used = b.post(
            "/ui/target/delete",
            &[("csrf", &csrf), ("name", "/aws/main")],
        );
        assert_eq!(used.status, 409, "{}", used.body);
        assert!(
            used.body.contains("is used by") && used.body.contains("/team/user-of-main"),
            "{}",
            used.body
        );
        assert!(used.body.contains("Nothing was deleted"), "{}", used.body);

        // Reveal: an explicit POST, the secret on that page only, audited without the value.
        let revealed = b.post(
            "/ui/target/reveal",
            &[("csrf", &csrf), ("name", "/aws/main")],
        );
        assert_eq!(revealed.status, 200, "{}", revealed.body);
        assert!(revealed.body.contains(SECRET), "{}", revealed.body);
        assert_eq!(revealed.header("cache-control"), "no-store");
        assert!(revealed
            .body
            .contains(r#"<script src="/ui/static/console.js" defer>"#));
        let (_, events) = gw.post_authed(
            "/get-audit-events",
            json!({"operation": "console:get-target-details"}),
        );
        let events = events["events"].as_array().unwrap().clone();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["outcome"], "ok");
        assert_eq!(events[0]["item"], "/aws/main");
        assert_eq!(events[0]["access_id"], gw.admin_access_id());
        for path in [
            "/ui/target?name=/aws/main",
            "/ui/target/edit?name=/aws/main",
            "/ui/targets",
            "/ui/audit",
            "/ui/audit?item=/aws/main",
            "/ui/secret?name=/team/user-of-main",
            "/ui/secret/edit?name=/team/user-of-main",
            "/ui/",
        ] {
            let page = b.get(path);
            assert_eq!(page.status, 200, "{path}: {}", page.body);
            assert!(!page.body.contains(SECRET), "the target's secret on {path}");
        }
        let (_, all_events) = gw.post_authed("/get-audit-events", json!({}));
        assert!(!all_events.to_string().contains(SECRET));
        assert!(
            !gw.logs().contains(SECRET),
            "the target's secret in the gateway's log"
        );

        // Once its dynamic secret is gone (deleted through the console too), the target goes.
        let gone = b.post(
            "/ui/secret/delete",
            &[("csrf", &csrf), ("name", "/team/user-of-main")],
        );
        assert_eq!(gone.status, 303, "{}", gone.body);
        let deleted = b.post(
            "/ui/target/delete",
            &[("csrf", &csrf), ("name", "/aws/main")],
        );
        assert_eq!(deleted.status, 303, "{}", deleted.body);
        assert_eq!(deleted.location(), "/ui/targets?deleted=/aws/main");
        assert!(b
            .get(deleted.location())
            .body
            .contains("Target /aws/main deleted"));
        assert_eq!(
            gw.post_authed("/get-target", json!({"name": "/aws/main"}))
                .0,
            404
        );

        // Rename through the form.
        create_target(gw, "/aws/old", SECRET);
        let values = form_values(
            &b.get("/ui/target/edit?name=/aws/old").body,
            "/ui/target/edit",
        );
        let renamed = b.post(
            "/ui/target/edit",
            &pairs(&with(&values, &[("new-name", Some("/aws/new"))])),
        );
        assert_eq!(renamed.status, 303, "{}", renamed.body);
        assert_eq!(renamed.location(), "/ui/target?name=/aws/new&updated=1");
        assert_eq!(
            gw.post_authed("/get-target", json!({"name": "/aws/new"})).0,
            200
        );
    });
}

#[test]
fn dynamic_secrets_of_every_mode_are_created_edited_and_deleted_through_their_forms() {
    on_each_database(|gw| {
        create_target(gw, "/aws", "s3cr3t-of-the-target");
        let mut b = Browser::new(gw);
        b.login_admin();
        let csrf = b.session_csrf();

        // The mode first; each form shows only its mode's fields.
        let choose = b.get("/ui/secrets/new");
        assert_eq!(choose.status, 200, "{}", choose.body);
        for mode in [
            "iam_user",
            "assume_role",
            "federation_token",
            "session_token",
        ] {
            assert!(
                choose
                    .body
                    .contains(&format!("/ui/secrets/new?mode={mode}")),
                "{mode}"
            );
        }
        let has = |body: &str, field: &str| body.contains(&format!(r#"name="{field}""#));
        let session = b.get("/ui/secrets/new?mode=session_token").body;
        for absent in [
            "aws-user-policies",
            "aws-role-arns",
            "aws-user-groups",
            "aws-user-console-access",
        ] {
            assert!(!has(&session, absent), "session_token shows {absent}");
        }
        assert!(has(&session, "session-revocation") && has(&session, "user-ttl"));
        let role = b.get("/ui/secrets/new?mode=assume_role").body;
        assert!(has(&role, "aws-role-arns") && has(&role, "aws-external-id"));
        assert!(!has(&role, "aws-user-groups") && !has(&role, "aws-user-programmatic-access"));
        let user = b.get("/ui/secrets/new?mode=iam_user").body;
        assert!(has(&user, "aws-user-groups") && !has(&user, "aws-role-arns"));
        assert_eq!(b.get("/ui/secrets/new?mode=root").status, 400);

        // assume_role: a missing role is refused inline; then created.
        let base = |name: &'static str, mode: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("mode", mode.to_owned()),
                ("name", name.to_owned()),
                ("target-name", "/aws".to_owned()),
                ("user-ttl", "15m".to_owned()),
            ]
        };
        let post = |b: &mut Browser<'_>, path: &str, form: &[(&str, String)]| {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            b.post(path, &form)
        };
        let no_role = post(
            &mut b,
            "/ui/secrets/new",
            &base("/modes/role", "assume_role"),
        );
        assert_eq!(no_role.status, 400, "{}", no_role.body);
        assert!(
            no_role.body.contains("f-aws-role-arns-error"),
            "{}",
            no_role.body
        );
        assert!(no_role
            .body
            .contains("assume_role needs at least one role ARN"));
        let mut form = base("/modes/role", "assume_role");
        form.push(("aws-role-arns", crate::helpers::ROLE.to_owned()));
        form.push(("aws-external-id", "ext-id-1234".to_owned()));
        form.push(("session-revocation", "true".to_owned()));
        let created = post(&mut b, "/ui/secrets/new", &form);
        assert_eq!(created.status, 303, "{}", created.body);
        assert_eq!(created.location(), "/ui/secret?name=/modes/role&created=1");
        let role = producer_as_api_shows(gw, "/modes/role");
        assert_eq!(role["aws_access_mode"], "assume_role", "{role}");
        assert_eq!(role["aws_role_arns"], crate::helpers::ROLE);
        assert_eq!(role["aws_external_id"], "ext-id-1234");
        assert_eq!(role["session-revocation"], true);

        // federation_token: fields of other modes are not passed on (not an error, not stored).
        let mut form = base("/modes/federation", "federation_token");
        form.push(("aws-user-policies", crate::helpers::POLICY.to_owned()));
        form.push(("aws-user-groups", "developers".to_owned()));
        form.push(("access-mode", "iam_user".to_owned()));
        let created = post(&mut b, "/ui/secrets/new", &form);
        assert_eq!(created.status, 303, "{}", created.body);
        let fed = producer_as_api_shows(gw, "/modes/federation");
        assert_eq!(fed["aws_access_mode"], "federation_token", "{fed}");
        assert_eq!(fed["aws_user_groups"], "");
        assert_eq!(fed["session-revocation"], false, "an unticked box is false");
        let created = post(
            &mut b,
            "/ui/secrets/new",
            &base("/modes/session", "session_token"),
        );
        assert_eq!(created.status, 303, "{}", created.body);
        assert_eq!(
            producer_as_api_shows(gw, "/modes/session")["aws_access_mode"],
            "session_token"
        );

        // Edit: the form as filled saves to exactly the same definition (nothing is lost, for
        // settings the form has no input for either); a change changes only that.
        let (status, body) = gw.post_authed(
            "/gateway-create-producer-aws",
            json!({"name": "/modes/user", "target-name": "/aws", "access-mode": "iam_user",
                   "aws-user-policies": crate::helpers::POLICY, "aws-user-groups": "developers",
                   "user-ttl": "30m", "max-ttl": "2h", "tags": ["a", "b"], "use-numbers": "false",
                   "aws-user-tags": "team=a", "description": "by the API"}),
        );
        assert_eq!(status, 200, "{body}");
        for name in [
            "/modes/user",
            "/modes/role",
            "/modes/federation",
            "/modes/session",
        ] {
            let before = producer_as_api_shows(gw, name);
            let edit = b.get(&format!("/ui/secret/edit?name={name}"));
            assert_eq!(edit.status, 200, "{}", edit.body);
            let values = form_values(&edit.body, "/ui/secret/edit");
            let same = b.post("/ui/secret/edit", &pairs(&values));
            assert_eq!(same.status, 303, "{name}: {}", same.body);
            assert_eq!(
                producer_as_api_shows(gw, name),
                before,
                "{name}: an unchanged form changed it"
            );
        }
        let values = form_values(
            &b.get("/ui/secret/edit?name=/modes/user").body,
            "/ui/secret/edit",
        );
        let bad = b.post(
            "/ui/secret/edit",
            &pairs(&with(&values, &[("user-ttl", Some("60"))])),
        );
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert!(
            bad.body.contains("no unit") && bad.body.contains("f-user-ttl-error"),
            "{}",
            bad.body
        );
        let changed = b.post(
            "/ui/secret/edit",
            &pairs(&with(
                &values,
                &[
                    ("user-ttl", Some("45m")),
                    ("description", Some("by the console")),
                ],
            )),
        );
        assert_eq!(changed.status, 303, "{}", changed.body);
        assert_eq!(changed.location(), "/ui/secret?name=/modes/user&updated=1");
        let user = producer_as_api_shows(gw, "/modes/user");
        assert_eq!(user["user_ttl"], "45m", "{user}");
        assert_eq!(user["description"], "by the console");
        assert_eq!(user["aws_user_groups"], "developers");
        assert_eq!(user["password_policy_info"]["use_numbers"], false, "{user}");
        let renamed = b.post(
            "/ui/secret/edit",
            &pairs(&with(&values, &[("new-name", Some("/modes/user-2"))])),
        );
        assert_eq!(renamed.status, 303, "{}", renamed.body);
        assert_eq!(
            renamed.location(),
            "/ui/secret?name=/modes/user-2&updated=1"
        );

        // Delete: a confirm step; refused under delete protection; then gone.
        let values = form_values(
            &b.get("/ui/secret/edit?name=/modes/session").body,
            "/ui/secret/edit",
        );
        let protect = b.post(
            "/ui/secret/edit",
            &pairs(&with(&values, &[("delete_protection", Some("true"))])),
        );
        assert_eq!(protect.status, 303, "{}", protect.body);
        let confirm = b.get("/ui/secret/delete?name=/modes/session");
        assert_eq!(confirm.status, 200);
        assert!(confirm.body.contains(r#"action="/ui/secret/delete""#));
        let refused = b.post(
            "/ui/secret/delete",
            &[("csrf", &csrf), ("name", "/modes/session")],
        );
        assert_eq!(refused.status, 409, "{}", refused.body);
        assert!(refused.body.contains("delete protection"));
        let deleted = b.post(
            "/ui/secret/delete",
            &[("csrf", &csrf), ("name", "/modes/role")],
        );
        assert_eq!(deleted.status, 303, "{}", deleted.body);
        assert_eq!(
            deleted.location(),
            "/ui/secrets?folder=/modes&deleted=/modes/role&revoking=0"
        );
        assert!(b
            .get(deleted.location())
            .body
            .contains("Dynamic secret /modes/role deleted"));
        assert_eq!(
            gw.post_authed("/gateway-get-producer", json!({"name": "/modes/role"}))
                .0,
            404
        );
    });
}

#[test]
fn every_new_console_form_needs_this_sessions_csrf_token() {
    on_each_database(|gw| {
        const SECRET: &str = "csrf-test-target-secret-0123456789";
        create_target(gw, "/csrf/aws", SECRET);
        let (status, body) = gw.post_authed(
            "/gateway-create-producer-aws",
            iam_user_body("/csrf/p", "/csrf/aws"),
        );
        assert_eq!(status, 200, "{body}");
        let mut b = Browser::new(gw);
        b.login_admin();
        let mut other = Browser::new(gw);
        other.login_admin();
        let foreign = other.session_csrf();
        let target_before = gw
            .post_authed("/get-target", json!({"name": "/csrf/aws"}))
            .1;
        let producer_before = producer_as_api_shows(gw, "/csrf/p");
        for (path, form) in [
            (
                "/ui/target/edit",
                vec![("name", "/csrf/aws"), ("region", "eu-west-1")],
            ),
            ("/ui/target/delete", vec![("name", "/csrf/aws")]),
            ("/ui/target/rotate", vec![("name", "/csrf/aws")]),
            ("/ui/target/reveal", vec![("name", "/csrf/aws")]),
            (
                "/ui/secret/edit",
                vec![("name", "/csrf/p"), ("user-ttl", "15m")],
            ),
            ("/ui/secret/delete", vec![("name", "/csrf/p")]),
            (
                "/ui/secrets/new",
                vec![
                    ("mode", "session_token"),
                    ("name", "/csrf/s"),
                    ("target-name", "/csrf/aws"),
                ],
            ),
        ] {
            for csrf in [None, Some(foreign.as_str()), Some("AAAA")] {
                let mut form = form.clone();
                if let Some(c) = csrf {
                    form.push(("csrf", c));
                }
                let page = b.post(path, &form);
                assert_eq!(page.status, 403, "{path} {csrf:?}: {}", page.body);
                assert!(page.body.contains("security token"), "{path}");
                assert!(!page.body.contains(SECRET), "{path}");
            }
        }
        assert_eq!(
            gw.post_authed("/get-target", json!({"name": "/csrf/aws"}))
                .1,
            target_before
        );
        assert_eq!(producer_as_api_shows(gw, "/csrf/p"), producer_before);
        assert_eq!(
            gw.post_authed("/gateway-get-producer", json!({"name": "/csrf/s"}))
                .0,
            404
        );
        let (_, events) = gw.post_authed(
            "/get-audit-events",
            json!({"operation": "console:get-target-details"}),
        );
        let outcomes: Vec<&str> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["outcome"].as_str().unwrap())
            .collect();
        assert_eq!(
            outcomes, ["denied"; 3],
            "refused reveals are audited too: {events}"
        );
    });
}

#[test]
fn a_scoped_key_cannot_edit_delete_rotate_or_reveal_outside_its_rules() {
    on_each_database(|gw| {
        const SECRET_A: &str = "scoped-secret-of-target-a-0123456789";
        const SECRET_B: &str = "scoped-secret-of-target-b-0123456789";
        two_teams(gw, SECRET_A, SECRET_B);
        // Its own items in full; target a to list and use only (no read: no secret, no update).
        let (access_id, access_key) = key_with_rules(
            gw,
            "/console/scoped-writer",
            &[
                (
                    "item-rule",
                    "/team-a/*",
                    &["read", "list", "create", "update", "delete"],
                ),
                ("target-rule", "/aws/a", &["list", "use"]),
            ],
        );
        let (status, auth) = gw.post(
            "/auth",
            json!({"access-id": access_id, "access-key": access_key}),
        );
        assert_eq!(status, 200, "{auth}");
        let token = auth["token"].as_str().unwrap().to_owned();
        let api = |path: &str, mut body: serde_json::Value| {
            body["token"] = json!(token);
            gw.post(path, body).0
        };
        let mut b = Browser::new(gw);
        assert_eq!(b.login(&access_id, &access_key).status, 303);
        let csrf = b.session_csrf();
        let snapshot = |gw: &TestGateway| {
            let t: Vec<_> = ["/aws/a", "/aws/b"]
                .iter()
                .map(|n| {
                    let (_, mut d) = gw.post_authed("/get-target-details", json!({"name": n}));
                    d["target"]
                        .as_object_mut()
                        .unwrap()
                        .remove("modification_date");
                    d
                })
                .collect();
            let p: Vec<_> = ["/team-a/s3", "/team-b/s3"]
                .iter()
                .map(|n| producer_as_api_shows(gw, n))
                .collect();
            (t, p)
        };
        let before = snapshot(gw);

        // Each console action answers as its API operation does for the same key, and is refused.
        /// A console POST (path, form) and the API request that does the same (path, body).
        type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, serde_json::Value);
        /// A console POST whose API request has the form's fields as its body.
        fn same<'a>(path: &'a str, form: Vec<(&'a str, &'a str)>, api_path: &'a str) -> Case<'a> {
            let body = form
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect();
            (path, form, api_path, serde_json::Value::Object(body))
        }
        let mut cases: Vec<Case<'_>> = Vec::new();
        for (path, api_path) in [
            ("/ui/target/reveal", "/get-target-details"),
            ("/ui/target/rotate", "/target-rotate-credentials"),
            ("/ui/target/delete", "/delete-target"),
        ] {
            for name in ["/aws/a", "/aws/b"] {
                cases.push(same(path, vec![("name", name)], api_path));
            }
        }
        let edit = "/update-aws-target";
        cases.extend([
            same("/ui/target/edit", vec![("name", "/aws/a"), ("region", "eu-west-1")], edit),
            same("/ui/target/edit", vec![("name", "/aws/b"), ("description", "mine now")], edit),
            same("/ui/secret/delete", vec![("name", "/team-b/s3")], "/gateway-delete-producer"),
            (
                "/ui/secret/edit",
                vec![
                    ("name", "/team-b/s3"),
                    ("mode", "iam_user"),
                    ("user-ttl", "15m"),
                    ("aws-user-programmatic-access", "true"),
                ],
                "/gateway-update-producer-aws",
                json!({"name": "/team-b/s3", "access-mode": "iam_user", "user-ttl": "15m"}),
            ),
            // Its own dynamic secret moved onto a target it may not use, or renamed out of its
            // folder: refused.
            (
                "/ui/secret/edit",
                vec![
                    ("name", "/team-a/s3"),
                    ("mode", "iam_user"),
                    ("target-name", "/aws/b"),
                    ("aws-user-programmatic-access", "true"),
                ],
                "/gateway-update-producer-aws",
                json!({"name": "/team-a/s3", "access-mode": "iam_user", "target-name": "/aws/b"}),
            ),
            (
                "/ui/secret/edit",
                vec![
                    ("name", "/team-a/s3"),
                    ("mode", "iam_user"),
                    ("new-name", "/team-b/taken"),
                    ("aws-user-programmatic-access", "true"),
                ],
                "/gateway-update-producer-aws",
                json!({"name": "/team-a/s3", "access-mode": "iam_user", "new-name": "/team-b/taken"}),
            ),
            (
                "/ui/secrets/new",
                vec![
                    ("mode", "assume_role"),
                    ("name", "/team-b/role"),
                    ("target-name", "/aws/a"),
                    ("aws-role-arns", crate::helpers::ROLE),
                ],
                "/gateway-create-producer-aws",
                json!({"name": "/team-b/role", "access-mode": "assume_role", "target-name": "/aws/a", "aws-role-arns": crate::helpers::ROLE}),
            ),
        ]);
        for (path, mut form, api_path, api_body) in cases {
            let what = format!("{path} {form:?}");
            form.push(("csrf", &csrf));
            let page = b.post(path, &form);
            assert_eq!(page.status, 403, "{what}: {}", page.body);
            assert!(page.body.contains("Not allowed"), "{what}");
            assert!(
                !page.body.contains(SECRET_A) && !page.body.contains(SECRET_B),
                "{what}"
            );
            assert_eq!(
                api(api_path, api_body),
                403,
                "the API answers {what} the same"
            );
        }
        // The forms of what it may not read are refused too.
        for path in [
            "/ui/target/edit?name=/aws/a",
            "/ui/target/edit?name=/aws/b",
            "/ui/secret/edit?name=/team-b/s3",
        ] {
            let page = b.get(path);
            assert_eq!(page.status, 403, "{path}: {}", page.body);
        }
        assert_eq!(snapshot(gw), before, "a refused action changed something");

        // What its rules allow works: its own dynamic secret edited (same target) and deleted.
        let values = form_values(
            &b.get("/ui/secret/edit?name=/team-a/s3").body,
            "/ui/secret/edit",
        );
        let ok = b.post(
            "/ui/secret/edit",
            &pairs(&with(&values, &[("description", Some("mine"))])),
        );
        assert_eq!(ok.status, 303, "{}", ok.body);
        let deleted = b.post(
            "/ui/secret/delete",
            &[("csrf", &csrf), ("name", "/team-a/s3")],
        );
        assert_eq!(deleted.status, 303, "{}", deleted.body);

        // The refused reveals are in the audit trail under the key's access id.
        let (_, events) = gw.post_authed(
            "/get-audit-events",
            json!({"access-id": access_id, "operation": "console:get-target-details"}),
        );
        let items: Vec<&str> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["outcome"] == "denied")
            .map(|e| e["item"].as_str().unwrap())
            .collect();
        assert!(
            items.contains(&"/aws/a") && items.contains(&"/aws/b"),
            "{events}"
        );
    });
}

#[test]
fn the_console_script_is_served_from_the_binary_and_no_page_has_inline_script() {
    on_each_database(|gw| {
        let mut b = Browser::new(gw);
        let js = b.get("/ui/static/console.js");
        assert_eq!(js.status, 200);
        assert!(
            js.header("content-type").starts_with("text/javascript"),
            "{}",
            js.header("content-type")
        );
        assert_browser_headers(&js, "script");
        assert!(js.body.contains("data-copy") && js.body.contains("data-expires-at"));
        assert!(
            !js.body.contains("eval(") && !js.body.contains("http"),
            "nothing fetched, nothing evaluated"
        );
        create_target(gw, "/aws", "s3cr3t-of-the-target");
        b.login_admin();
        let csrf = b.session_csrf();
        let revealed = b.post("/ui/target/reveal", &[("csrf", &csrf), ("name", "/aws")]);
        for page in [
            &revealed,
            &b.get("/ui/target?name=/aws"),
            &b.get("/ui/secrets/new?mode=assume_role"),
        ] {
            let scripts: Vec<&str> = page
                .body
                .match_indices("<script")
                .map(|(i, _)| &page.body[i..])
                .collect();
            for s in scripts {
                assert!(
                    s.starts_with(r#"<script src="/ui/static/console.js" defer></script>"#),
                    "only the compiled-in script, never inline: {s:.80}"
                );
            }
        }
        assert!(revealed.body.contains("data-copy"), "{}", revealed.body);
    });
}

/// Rotating a target's admin key from the console: the core's rotation (a new key in IAM,
/// the old one deleted), a page naming the new key id and never a secret, audited.
#[test]
fn a_target_admin_key_is_rotated_from_the_console() {
    use mayfly_testkit::moto::MotoServer;
    let moto = MotoServer::shared();
    crate::helpers::on_each_database_with(
        |b| b,
        |gw, path| {
            let (user, old_id, old_secret) = crate::rotation::target_admin_user(moto, path);
            let (status, body) = gw.post_authed(
                "/create-aws-target",
                json!({"name": "/aws", "access-key-id": old_id, "access-key": old_secret,
                       "region": "us-east-1", "iam-endpoint": moto.url(), "sts-endpoint": moto.url()}),
            );
            assert_eq!(status, 200, "{body}");
            let mut b = Browser::new(gw);
            b.login_admin();
            let csrf = b.session_csrf();
            let page = b.post("/ui/target/rotate", &[("csrf", &csrf), ("name", "/aws")]);
            assert_eq!(page.status, 200, "{}", page.body);
            let (_, d) = gw.post_authed("/get-target-details", json!({"name": "/aws"}));
            let d = &d["value"]["aws_target_details"];
            let new_id = d["aws_access_key_id"].as_str().unwrap();
            let new_secret = d["aws_secret_access_key"].as_str().unwrap();
            assert_ne!(new_id, old_id);
            assert!(
                page.body.contains(new_id) && page.body.contains(&old_id),
                "{}",
                page.body
            );
            assert!(page.body.contains(&user));
            assert!(!page.body.contains(new_secret) && !page.body.contains(&old_secret));
            let (_, events) = gw.post_authed(
                "/get-audit-events",
                json!({"operation": "console:rotate-target-credentials"}),
            );
            let event = &events["events"][0];
            assert_eq!(event["outcome"], "ok", "{events}");
            assert!(
                event["detail"].as_str().unwrap().contains(new_id),
                "{events}"
            );
            assert!(!events.to_string().contains(new_secret));
        },
    );
}

/// The `<details>` block of the access page with `id`, to check a form holds only its kind's
/// fields.
fn details_of<'p>(page: &'p Page, id: &str) -> &'p str {
    let at = page
        .body
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no #{id} in:\n{}", page.body));
    let rest = &page.body[at..];
    &rest[..rest.find("</details>").unwrap()]
}

fn auth_method_of(gw: &TestGateway, name: &str) -> serde_json::Value {
    let (status, body) = gw.post_authed("/get-auth-method", json!({"name": name}));
    assert_eq!(status, 200, "{name}: {body}");
    body
}

#[test]
fn workload_identity_methods_and_narrowed_associations_are_made_through_their_forms() {
    use mayfly_testkit::jwt::{jwks, TestKey};
    on_each_database(|gw| {
        // 'static, for the table of bad forms below.
        let keys: &'static str = Box::leak(jwks(&[TestKey::A]).to_string().into_boxed_str());
        let mut b = Browser::new(gw);
        b.login_admin();
        let csrf = b.session_csrf();
        let access = b.get("/ui/access");
        assert_eq!(access.status, 200, "{}", access.body);
        // Each kind's form holds its own fields and no other kind's.
        let jwt = details_of(&access, "create-jwt");
        assert!(jwt.contains(r#"name="jwks-uri""#) && jwt.contains(r#"name="bound-claims""#));
        assert!(!jwt.contains("bound-namespaces") && !jwt.contains("bound-aws-account-id"));
        let k8s = details_of(&access, "create-k8s");
        assert!(k8s.contains(r#"name="bound-namespaces""#) && k8s.contains(r#"name="k8s-issuer""#));
        assert!(!k8s.contains("jwks-uri") && !k8s.contains("bound-arn"));
        let iam = details_of(&access, "create-aws-iam");
        assert!(
            iam.contains(r#"name="bound-aws-account-id""#) && iam.contains(r#"name="sts-url""#)
        );
        assert!(!iam.contains("jwks") && !iam.contains("bound-namespaces"));

        // The API's parsers, their messages next to the field they name; nothing made.
        let jwt_form = |extra: &[(&'static str, &'static str)]| {
            let mut form = vec![
                ("kind", "jwt"),
                ("name", "/ci/github"),
                ("unique-identifier", "sub"),
            ];
            form.extend_from_slice(extra);
            form
        };
        for (extra, field, says) in [
            (vec![], "jwks-uri", "required"),
            (
                vec![(
                    "jwks-json-data",
                    r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}"#,
                )],
                "jwks-json-data",
                "",
            ),
            (
                vec![
                    ("jwks-uri", "https://x.example/jwks"),
                    ("jwks-json-data", "{}"),
                ],
                "jwks-uri",
                "not both",
            ),
            (vec![("jwt-ttl", "soon")], "jwt-ttl", "integer"),
            (
                vec![("jwks-json-data", keys), ("access-expires", "-5")],
                "access-expires",
                "Unix time",
            ),
            (
                vec![("jwks-json-data", keys), ("bound-claims", "repository")],
                "bound-claims",
                "claim=value1,value2",
            ),
            (
                vec![
                    ("jwks-json-data", keys),
                    ("bound-claims", "repository=a\nrepository=b"),
                ],
                "bound-claims",
                "given twice",
            ),
        ] {
            let mut form = jwt_form(&extra);
            form.push(("csrf", &csrf));
            let page = b.post("/ui/access/auth-methods/new", &form);
            assert_eq!(page.status, 400, "{extra:?}: {}", page.body);
            assert!(
                page.body.contains(&format!(r#"id="jwt-{field}-error""#))
                    && page.body.contains(says),
                "{extra:?}: {}",
                page.body
            );
            assert!(
                page.body.contains(r#"id="create-jwt" open"#),
                "the failed form is open"
            );
            assert!(
                page.body.contains(r#"value="/ci/github""#),
                "the input is kept"
            );
        }
        let unknown = b.post(
            "/ui/access/auth-methods/new",
            &[("csrf", &csrf), ("kind", "ldap"), ("name", "/ci/ldap")],
        );
        assert_eq!(unknown.status, 400, "{}", unknown.body);
        assert_eq!(
            gw.post_authed("/get-auth-method", json!({"name": "/ci/github"}))
                .0,
            404
        );

        let made = b.post(
            "/ui/access/auth-methods/new",
            &[
                ("csrf", &csrf),
                ("kind", "jwt"),
                ("name", "/ci/github"),
                ("jwks-json-data", keys),
                ("issuer", "https://token.actions.githubusercontent.com"),
                ("audience", "https://github.com/octo-org"),
                ("unique-identifier", "repository"),
                ("bound-claims", "repository_owner=octo-org\n\n"),
                ("force-sub-claims", "true"),
                ("jwt-ttl", "30"),
            ],
        );
        assert_eq!(made.status, 303, "{}", made.body);
        assert!(
            made.location()
                .starts_with("/ui/access?created-auth-method=/ci/github&access-id="),
            "{}",
            made.location()
        );
        let m = auth_method_of(gw, "/ci/github");
        let rules = &m["access_info"]["oauth2_access_rules"];
        assert_eq!(rules["unique_identifier"], "repository", "{m}");
        assert_eq!(
            rules["bound_claims"],
            json!({"repository_owner": ["octo-org"]}),
            "{m}"
        );
        assert_eq!(rules["force_sub_claims"], true, "{m}");
        assert_eq!(rules["jwt_ttl"], 30, "{m}");
        let landed = b.get(made.location());
        assert!(
            landed.body.contains("Auth method /ci/github created"),
            "{}",
            landed.body
        );

        let k8s = b.post(
            "/ui/access/auth-methods/new",
            &[
                ("csrf", &csrf),
                ("kind", "k8s"),
                ("name", "/k8s/prod"),
                ("jwks-json-data", keys),
                ("unique-identifier", "sub"),
                ("k8s-issuer", "https://kubernetes.default.svc"),
                ("bound-namespaces", "prod, staging"),
                // A field of another kind is not read.
                ("bound-arn", "arn:aws:iam::123456789012:role/x"),
            ],
        );
        assert_eq!(k8s.status, 303, "{}", k8s.body);
        let m = auth_method_of(gw, "/k8s/prod");
        assert_eq!(
            m["access_info"]["k8s_access_rules"]["bound_namespaces"],
            json!(["prod", "staging"]),
            "{m}"
        );
        assert!(m["access_info"]["aws_iam_access_rules"].is_null(), "{m}");

        let iam = b.post(
            "/ui/access/auth-methods/new",
            &[
                ("csrf", &csrf),
                ("kind", "aws_iam"),
                ("name", "/aws/ec2"),
                ("bound-aws-account-id", "123456789012"),
                ("bound-role-name", "web, worker"),
            ],
        );
        assert_eq!(iam.status, 303, "{}", iam.body);
        let m = auth_method_of(gw, "/aws/ec2");
        let rules = &m["access_info"]["aws_iam_access_rules"];
        assert_eq!(rules["account_id"], json!(["123456789012"]), "{m}");
        assert_eq!(rules["role_name"], json!(["web", "worker"]), "{m}");
        let taken = b.post(
            "/ui/access/auth-methods/new",
            &[
                ("csrf", &csrf),
                ("kind", "aws_iam"),
                ("name", "/aws/ec2"),
                ("bound-aws-account-id", "123456789012"),
            ],
        );
        assert_eq!(taken.status, 409, "{}", taken.body);
        assert!(
            taken.body.contains(r#"id="iam-name-error""#),
            "{}",
            taken.body
        );
        let unbound = b.post(
            "/ui/access/auth-methods/new",
            &[("csrf", &csrf), ("kind", "aws_iam"), ("name", "/aws/any")],
        );
        assert_eq!(unbound.status, 400, "{}", unbound.body);
        assert!(
            unbound
                .body
                .contains(r#"id="iam-bound-aws-account-id-error""#),
            "the core's check, inline: {}",
            unbound.body
        );

        // Associations narrowed by sub-claims, checked by the API's parser and the core.
        let (status, body) = gw.post_authed("/create-role", json!({"name": "/ci/deploy"}));
        assert_eq!(status, 200, "{body}");
        let (status, body) = gw.post_authed("/create-auth-method", json!({"name": "/ci/key"}));
        assert_eq!(status, 200, "{body}");
        let role_page = b.get("/ui/role?name=/ci/deploy");
        assert!(
            role_page.body.contains(r#"name="sub-claims""#),
            "{}",
            role_page.body
        );
        for (am, claims, says) in [
            ("/ci/github", "", "force-sub-claims"),
            (
                "/ci/github",
                "repository=org/a\nrepository=org/b",
                "given twice",
            ),
            ("/ci/github", "repository", "claim=value1,value2"),
            ("/ci/github", "repository=", "has no value"),
            ("/ci/key", "sub=x", "API key"),
        ] {
            let page = b.post(
                "/ui/role/assoc/new",
                &[
                    ("csrf", &csrf),
                    ("role-name", "/ci/deploy"),
                    ("am-name", am),
                    ("sub-claims", claims),
                    ("case-sensitive", "true"),
                ],
            );
            assert_eq!(page.status, 400, "{am} {claims:?}: {}", page.body);
            assert!(
                page.body.contains(r#"id="f-sub-claims-error""#) && page.body.contains(says),
                "{am} {claims:?}: {}",
                page.body
            );
        }
        assert_eq!(
            role_of(gw, "/ci/deploy").1["role_auth_methods_assoc"],
            json!([]),
            "nothing associated"
        );
        let given = b.post(
            "/ui/role/assoc/new",
            &[
                ("csrf", &csrf),
                ("role-name", "/ci/deploy"),
                ("am-name", "/ci/github"),
                (
                    "sub-claims",
                    "repository = octo-org/a, octo-org/b\nref=refs/heads/main",
                ),
                // A second sub-claims field is not read: the first is the request.
                ("sub-claims", ""),
                // case-sensitive unticked: absent.
            ],
        );
        assert_eq!(given.status, 303, "{}", given.body);
        let m = auth_method_of(gw, "/ci/github");
        let assoc = &m["auth_method_roles_assoc"][0];
        assert_eq!(
            assoc["auth_method_sub_claims"],
            json!({"repository": ["octo-org/a", "octo-org/b"], "ref": ["refs/heads/main"]}),
            "{m}"
        );
        assert_eq!(assoc["is_sub_claims_case_sensitive"], false, "{m}");
        let shown = b.get("/ui/role?name=/ci/deploy");
        assert!(
            shown.body.contains("repository=octo-org/a,octo-org/b")
                && shown.body.contains("case-insensitive"),
            "{}",
            shown.body
        );
        let plain = b.post(
            "/ui/role/assoc/new",
            &[
                ("csrf", &csrf),
                ("role-name", "/ci/deploy"),
                ("am-name", "/ci/key"),
                ("sub-claims", "\n"),
                ("case-sensitive", "true"),
            ],
        );
        assert_eq!(
            plain.status, 303,
            "an API key with no sub-claims: {}",
            plain.body
        );
    });
}

#[test]
fn an_api_keys_access_key_is_reset_from_the_console_shown_once_and_never_recorded() {
    on_each_database(|gw| {
        let (status, key) = gw.post_authed("/create-auth-method", json!({"name": "/reset/key"}));
        assert_eq!(status, 200, "{key}");
        let access_id = key["access_id"].as_str().unwrap().to_owned();
        let old_key = key["access_key"].as_str().unwrap().to_owned();
        let (status, body) = gw.post_authed(
            "/create-auth-method-aws-iam",
            json!({"name": "/reset/iam", "bound-aws-account-id": "123456789012"}),
        );
        assert_eq!(status, 200, "{body}");
        // A session of the key, which the reset ends.
        let mut holder = Browser::new(gw);
        assert_eq!(holder.login(&access_id, &old_key).status, 303);
        assert_eq!(holder.get("/ui/").status, 200);

        let mut b = Browser::new(gw);
        b.login_admin();
        let csrf = b.session_csrf();
        let access = b.get("/ui/access");
        assert!(
            access
                .body
                .contains(r#"aria-label="Reset the access key of /reset/key""#),
            "{}",
            access.body
        );
        assert!(
            !access.body.contains("Reset the access key of /reset/iam"),
            "only API keys have a key to reset"
        );
        // Without this session's CSRF token: refused, the key unchanged.
        for csrf in [None, Some("AAAA")] {
            let mut form = vec![("name", "/reset/key")];
            if let Some(c) = csrf {
                form.push(("csrf", c));
            }
            let page = b.post("/ui/access/auth-methods/reset", &form);
            assert_eq!(page.status, 403, "{}", page.body);
        }
        assert_eq!(holder.get("/ui/").status, 200, "the old key still works");
        let not_key = b.post(
            "/ui/access/auth-methods/reset",
            &[("csrf", &csrf), ("name", "/reset/iam")],
        );
        assert_eq!(not_key.status, 400, "{}", not_key.body);

        let reset = b.post(
            "/ui/access/auth-methods/reset",
            &[("csrf", &csrf), ("name", "/reset/key")],
        );
        assert_eq!(reset.status, 200, "{}", reset.body);
        assert!(reset.header("cache-control").contains("no-store"));
        let new_key = text_of(&reset, "new-access-key");
        assert!(new_key.len() > 20 && new_key != old_key, "{new_key}");
        assert_ne!(
            holder.get("/ui/").status,
            200,
            "the old key's session ended"
        );
        assert_ne!(Browser::new(gw).login(&access_id, &old_key).status, 303);
        assert_eq!(Browser::new(gw).login(&access_id, &new_key).status, 303);

        // The key is on that one answer only: not in the audit trail (API or page), the
        // access pages, or the gateway's log.
        let (_, events) = gw.post_authed("/get-audit-events", json!({"limit": 1000}));
        let events = events.to_string();
        assert!(events.contains("console:reset-access-key"), "{events}");
        assert!(
            events.contains("new access key; 1 token(s) revoked"),
            "{events}"
        );
        for page in [
            "/ui/audit",
            "/ui/access",
            "/ui/audit?operation=console:reset-access-key",
        ] {
            let shown = b.get(page);
            assert!(!shown.body.contains(&new_key), "{page}");
        }
        assert!(!events.contains(&new_key), "audit");
        assert!(!gw.logs().contains(&new_key), "log");
    });
}

#[test]
fn a_scoped_key_cannot_create_auth_methods_or_reach_roles_outside_its_rules_through_new_fields() {
    use mayfly_testkit::jwt::{jwks, TestKey};
    on_each_database(|gw| {
        let keys = jwks(&[TestKey::A]).to_string();
        let (status, body) = gw.post_authed("/create-role", json!({"name": "/powerful"}));
        assert_eq!(status, 200, "{body}");
        let (status, body) = gw.post_authed(
            "/set-role-rule",
            json!({"role-name": "/powerful", "path": "/*", "capability": ["read", "list", "create", "update", "delete"]}),
        );
        assert_eq!(status, 200, "{body}");
        let (status, body) = gw.post_authed("/create-auth-method", json!({"name": "/ops/holder"}));
        assert_eq!(status, 200, "{body}");
        let (access_id, access_key) = key_with_rules(
            gw,
            "/console/scoped",
            &[
                (
                    "role-rule",
                    "/team-a/*",
                    &["read", "list", "create", "update", "delete"],
                ),
                (
                    "auth-method-rule",
                    "/team-a/*",
                    &["read", "list", "create", "delete"],
                ),
            ],
        );
        let mut b = Browser::new(gw);
        assert_eq!(b.login(&access_id, &access_key).status, 303);
        let csrf = b.session_csrf();
        // In its tree: allowed, as the API would.
        let own_role = b.post(
            "/ui/access/roles/new",
            &[("csrf", &csrf), ("name", "/team-a/x")],
        );
        assert_eq!(own_role.status, 303, "{}", own_role.body);
        let own_jwt = b.post(
            "/ui/access/auth-methods/new",
            &[
                ("csrf", &csrf),
                ("kind", "jwt"),
                ("name", "/team-a/ci"),
                ("jwks-json-data", &keys),
                ("unique-identifier", "sub"),
            ],
        );
        assert_eq!(own_jwt.status, 303, "{}", own_jwt.body);
        let before_roles = gw.post_authed("/list-roles", json!({})).1;
        let before_methods = gw.post_authed("/list-auth-methods", json!({})).1;

        for (path, fields) in [
            // Auth methods of every kind outside its tree, also by a repeated name or kind.
            (
                "/ui/access/auth-methods/new",
                vec![
                    ("kind", "jwt"),
                    ("name", "/other/ci"),
                    ("jwks-json-data", keys.as_str()),
                    ("unique-identifier", "sub"),
                ],
            ),
            (
                "/ui/access/auth-methods/new",
                vec![
                    ("kind", "k8s"),
                    ("name", "/other/k8s"),
                    ("jwks-json-data", keys.as_str()),
                    ("unique-identifier", "sub"),
                ],
            ),
            (
                "/ui/access/auth-methods/new",
                vec![
                    ("kind", "aws_iam"),
                    ("name", "/other/iam"),
                    ("bound-aws-account-id", "123456789012"),
                ],
            ),
            (
                "/ui/access/auth-methods/new",
                vec![
                    ("kind", "aws_iam"),
                    ("name", "/other/iam"),
                    ("name", "/team-a/iam"),
                ],
            ),
            (
                "/ui/access/auth-methods/new",
                vec![
                    ("kind", "aws_iam"),
                    ("kind", "api_key"),
                    ("name", "/other/iam2"),
                ],
            ),
            // Reset keys: another's, and its own (no update on either).
            (
                "/ui/access/auth-methods/reset",
                vec![("name", "/ops/holder")],
            ),
            (
                "/ui/access/auth-methods/reset",
                vec![("name", "/console/scoped")],
            ),
            // The powerful role, narrowed or not, to its own JWT method.
            (
                "/ui/role/assoc/new",
                vec![
                    ("role-name", "/powerful"),
                    ("am-name", "/team-a/ci"),
                    ("sub-claims", "sub=me"),
                ],
            ),
            (
                "/ui/role/assoc/new",
                vec![
                    ("role-name", "/powerful"),
                    ("role-name", "/team-a/x"),
                    ("am-name", "/team-a/ci"),
                    ("sub-claims", "sub=me"),
                    ("sub-claims", ""),
                ],
            ),
            // Its own role to an auth method it may not read (its own key), with sub-claims,
            // or with that name second.
            (
                "/ui/role/assoc/new",
                vec![
                    ("role-name", "/team-a/x"),
                    ("am-name", "/console/scoped"),
                    ("sub-claims", "sub=me"),
                ],
            ),
            (
                "/ui/role/assoc/new",
                vec![
                    ("role-name", "/team-a/x"),
                    ("am-name", "/ops/holder"),
                    ("am-name", "/team-a/ci"),
                    ("sub-claims", "sub=me"),
                ],
            ),
        ] {
            let mut form = fields.clone();
            form.push(("csrf", &csrf));
            let page = b.post(path, &form);
            assert_eq!(page.status, 403, "{path} {fields:?}: {}", page.body);
            assert!(page.body.contains("Not allowed"), "{path}");
        }
        assert_eq!(gw.post_authed("/list-roles", json!({})).1, before_roles);
        assert_eq!(
            gw.post_authed("/list-auth-methods", json!({})).1,
            before_methods
        );
        let (denied, events) = console_denials(gw, &access_id);
        assert_eq!(denied, 11, "every refusal audited under the key: {events}");
        // And without the CSRF token, even in its own tree.
        let no_csrf = b.post(
            "/ui/access/auth-methods/new",
            &[
                ("kind", "jwt"),
                ("name", "/team-a/ci2"),
                ("jwks-json-data", &keys),
                ("unique-identifier", "sub"),
            ],
        );
        assert_eq!(no_csrf.status, 403, "{}", no_csrf.body);
        assert_eq!(
            gw.post_authed("/get-auth-method", json!({"name": "/team-a/ci2"}))
                .0,
            404
        );

        // What it may do: its own role to its own method, narrowed.
        let narrowed = b.post(
            "/ui/role/assoc/new",
            &[
                ("csrf", &csrf),
                ("role-name", "/team-a/x"),
                ("am-name", "/team-a/ci"),
                ("sub-claims", "sub=me"),
            ],
        );
        assert_eq!(narrowed.status, 303, "{}", narrowed.body);
    });
}

#[test]
fn a_targets_role_chain_and_rotation_schedule_are_set_through_its_forms() {
    use crate::helpers::ROLE;
    // Started before the gateways, which then allow it as an endpoint; the role is assumed
    // there (for get-target-details' identity), never at AWS.
    let moto: &'static str = Box::leak(
        mayfly_testkit::moto::MotoServer::shared()
            .url()
            .to_owned()
            .into_boxed_str(),
    );
    on_each_database(|gw| {
        let details_of = |name: &str| {
            let (status, body) = gw.post_authed("/get-target-details", json!({"name": name}));
            assert_eq!(status, 200, "{body}");
            body["value"]["aws_target_details"].clone()
        };
        let on_moto = |form: &mut Vec<(&str, &str)>| {
            form.extend([("iam-endpoint", moto), ("sts-endpoint", moto)]);
        };
        let mut b = Browser::new(gw);
        b.login_admin();
        let csrf = b.session_csrf();
        let new = b.get("/ui/targets/new");
        for field in [
            "role-arn",
            "external-id",
            "generate-external-id",
            "role-session-duration",
            "rotation-interval-days",
        ] {
            assert!(new.body.contains(&format!(r#"name="{field}""#)), "{field}");
        }

        // The API's parsers, inline; nothing made.
        for (extra, field, says) in [
            (vec![("role-arn", "deployer")], "role-arn", "arn:aws:iam"),
            (
                vec![("external-id", "ext-1")],
                "role-arn",
                "required with external-id",
            ),
            (
                vec![
                    ("role-arn", ROLE),
                    ("external-id", "ext-1"),
                    ("generate-external-id", "true"),
                ],
                "role-arn",
                "give one of them",
            ),
            (
                vec![("role-arn", ROLE), ("role-session-duration", "60")],
                "role-arn",
                "900",
            ),
            (
                vec![("rotation-interval-days", "100000")],
                "rotation-interval-days",
                "0 (off)",
            ),
        ] {
            let mut form = target_form("/aws/chained", Some(&csrf));
            on_moto(&mut form);
            form.extend(extra.iter().copied());
            let page = b.post("/ui/targets/new", &form);
            assert_eq!(page.status, 400, "{extra:?}: {}", page.body);
            assert!(
                page.body.contains(&format!(r#"id="f-{field}-error""#)) && page.body.contains(says),
                "{extra:?}: {}",
                page.body
            );
        }
        assert_eq!(
            gw.post_authed("/get-target", json!({"name": "/aws/chained"}))
                .0,
            404
        );

        let mut form = target_form("/aws/chained", Some(&csrf));
        on_moto(&mut form);
        form.extend([
            ("role-arn", ROLE),
            ("generate-external-id", "true"),
            ("role-session-duration", "1800"),
            ("rotation-interval-days", "30"),
        ]);
        let made = b.post("/ui/targets/new", &form);
        assert_eq!(made.status, 303, "{}", made.body);
        let d = details_of("/aws/chained");
        assert_eq!(d["role_arn"], ROLE, "{d}");
        assert_eq!(d["role_session_duration"], 1800, "{d}");
        let external = d["gw_cloud_identity_external_id_opt"]["generated_external_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(external.starts_with("mayfly-"), "{d}");
        let page = b.get("/ui/target?name=/aws/chained");
        assert!(
            page.body.contains(ROLE) && page.body.contains("every 30 days"),
            "{}",
            page.body
        );
        assert!(
            !page.body.contains(&external),
            "the external id only with the revealed secret"
        );

        // The edit form never shows the chain's external id; left empty, the chain is kept.
        let edit = b.get("/ui/target/edit?name=/aws/chained");
        assert!(!edit.body.contains(&external));
        assert!(edit.body.contains("Now: every 30 days"), "{}", edit.body);
        let values = form_values(&edit.body, "/ui/target/edit");
        let saved = b.post(
            "/ui/target/edit",
            &pairs(&with(&values, &[("description", Some("chained"))])),
        );
        assert_eq!(saved.status, 303, "{}", saved.body);
        let d = details_of("/aws/chained");
        assert_eq!(d["role_arn"], ROLE, "kept: {d}");
        assert_eq!(
            d["gw_cloud_identity_external_id_opt"]["generated_external_id"],
            external.as_str()
        );
        assert!(b
            .get("/ui/target?name=/aws/chained")
            .body
            .contains("every 30 days"));

        // Without this session's CSRF token nothing changes.
        let forged = b.post(
            "/ui/target/edit",
            &pairs(&with(
                &values,
                &[
                    ("csrf", None),
                    ("remove-role", Some("true")),
                    ("rotation-interval-days", Some("0")),
                ],
            )),
        );
        assert_eq!(forged.status, 403, "{}", forged.body);
        assert_eq!(details_of("/aws/chained")["role_arn"], ROLE);

        let off = b.post(
            "/ui/target/edit",
            &pairs(&with(
                &values,
                &[
                    ("rotation-interval-days", Some("0")),
                    ("remove-role", Some("true")),
                ],
            )),
        );
        assert_eq!(off.status, 303, "{}", off.body);
        assert_eq!(details_of("/aws/chained")["role_arn"], "");
        let page = b.get("/ui/target?name=/aws/chained");
        assert!(
            page.body.contains("not on a schedule")
                && page.body.contains("none: the key is used directly"),
            "{}",
            page.body
        );

        // A key that may update only /team-a targets cannot chain or schedule this one.
        let (access_id, access_key) = key_with_rules(
            gw,
            "/console/team-a-targets",
            &[(
                "target-rule",
                "/team-a/*",
                &["read", "list", "create", "update"],
            )],
        );
        let mut scoped = Browser::new(gw);
        assert_eq!(scoped.login(&access_id, &access_key).status, 303);
        let scoped_csrf = scoped.session_csrf();
        let refused = scoped.post(
            "/ui/target/edit",
            &[
                ("csrf", &scoped_csrf),
                ("name", "/aws/chained"),
                ("role-arn", ROLE),
                ("rotation-interval-days", "1"),
            ],
        );
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert_eq!(details_of("/aws/chained")["role_arn"], "");
        assert!(b
            .get("/ui/target?name=/aws/chained")
            .body
            .contains("not on a schedule"));
    });
}

#[test]
fn a_workload_identity_method_is_edited_through_its_form_as_the_api_updates_it() {
    use mayfly_testkit::jwt::{jwks, TestKey};
    on_each_database(|gw| {
        let keys = jwks(&[TestKey::A]).to_string();
        let mut b = Browser::new(gw);
        b.login_admin();
        let csrf = b.session_csrf();
        let made = b.post(
            "/ui/access/auth-methods/new",
            &[
                ("csrf", &csrf),
                ("kind", "jwt"),
                ("name", "/team-a/ci"),
                ("jwks-json-data", &keys),
                ("issuer", "https://token.actions.githubusercontent.com"),
                ("audience", "aud-1, aud-2"),
                ("unique-identifier", "repository"),
                ("bound-claims", "repository_owner=octo-org"),
                ("jwt-ttl", "30"),
            ],
        );
        assert_eq!(made.status, 303, "{}", made.body);
        let before = auth_method_of(gw, "/team-a/ci");
        let access = b.get("/ui/access");
        assert!(access.body.contains("/ui/auth-method/edit?name=/team-a/ci"));

        // Filled from the stored method, never with its keys; saved unchanged, nothing changes.
        let edit = b.get("/ui/auth-method/edit?name=/team-a/ci");
        assert_eq!(edit.status, 200, "{}", edit.body);
        let values = form_values(&edit.body, "/ui/auth-method/edit");
        for (k, v) in [
            ("issuer", "https://token.actions.githubusercontent.com"),
            ("audience", "aud-1,aud-2"),
            ("bound-claims", "repository_owner=octo-org"),
            ("jwt-ttl", "30"),
            ("jwks-json-data", ""),
        ] {
            assert!(values.contains(&(k.into(), v.into())), "{k}: {values:?}");
        }
        assert!(
            edit.body.contains("Now: keys given inline"),
            "{}",
            edit.body
        );
        let same = b.post("/ui/auth-method/edit", &pairs(&values));
        assert_eq!(same.status, 303, "{}", same.body);
        let mut after = auth_method_of(gw, "/team-a/ci");
        after.as_object_mut().unwrap().remove("modification_date");
        let mut expected = before.clone();
        expected
            .as_object_mut()
            .unwrap()
            .remove("modification_date");
        assert_eq!(after, expected, "an unchanged form changes nothing");

        // The API's checks, inline; then a cleared list is cleared.
        let bad = b.post(
            "/ui/auth-method/edit",
            &pairs(&with(&values, &[("jwt-ttl", Some("99999"))])),
        );
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert!(
            bad.body.contains(r#"id="jwt-jwt-ttl-error""#),
            "{}",
            bad.body
        );
        let cleared = b.post(
            "/ui/auth-method/edit",
            &pairs(&with(
                &values,
                &[
                    ("audience", Some("")),
                    ("bound-claims", Some("")),
                    ("force-sub-claims", Some("true")),
                ],
            )),
        );
        assert_eq!(cleared.status, 303, "{}", cleared.body);
        let m = auth_method_of(gw, "/team-a/ci");
        let rules = &m["access_info"]["oauth2_access_rules"];
        assert_eq!(rules["audience"], "", "{m}");
        assert_eq!(rules["bound_claims"], json!({}), "{m}");
        assert_eq!(rules["force_sub_claims"], true, "{m}");
        assert_eq!(rules["jwt_ttl"], 30, "kept: {m}");
        assert_eq!(
            rules["jwks_json_data"], before["access_info"]["oauth2_access_rules"]["jwks_json_data"],
            "keys kept"
        );

        // An API key has no such form; without the CSRF token nothing changes.
        // An API key's form: its description and delete protection only (update-auth-method).
        let (status, body) = gw.post_authed("/create-auth-method", json!({"name": "/team-a/key"}));
        assert_eq!(status, 200, "{body}");
        let key_edit = b.get("/ui/auth-method/edit?name=/team-a/key");
        assert_eq!(key_edit.status, 200, "{}", key_edit.body);
        let key_values = form_values(&key_edit.body, "/ui/auth-method/edit");
        let names: Vec<&str> = key_values.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["csrf", "kind", "name", "description"],
            "{key_values:?}"
        );
        let protected = b.post(
            "/ui/auth-method/edit",
            &pairs(&with(
                &key_values,
                &[
                    ("description", Some("ops key")),
                    ("delete_protection", Some("true")),
                ],
            )),
        );
        assert_eq!(protected.status, 303, "{}", protected.body);
        let m = auth_method_of(gw, "/team-a/key");
        assert_eq!(m["description"], "ops key", "{m}");
        assert_eq!(m["delete_protection"], true, "{m}");
        // The form's kind must be the stored one: the API's update refuses another.
        let wrong_kind = b.post(
            "/ui/auth-method/edit",
            &pairs(&with(&values, &[("kind", Some("k8s"))])),
        );
        assert_eq!(wrong_kind.status, 400, "{}", wrong_kind.body);
        assert!(
            wrong_kind.body.contains("operation of its kind"),
            "{}",
            wrong_kind.body
        );
        let forged = b.post(
            "/ui/auth-method/edit",
            &pairs(&with(
                &values,
                &[("csrf", None), ("issuer", Some("https://evil.example"))],
            )),
        );
        assert_eq!(forged.status, 403, "{}", forged.body);

        // A key that may read but not update auth methods under /team-a is refused, as by
        // update-auth-method-oauth2; so is one naming a method outside its tree.
        let (access_id, access_key) = key_with_rules(
            gw,
            "/console/am-reader",
            &[("auth-method-rule", "/team-a/*", &["read", "list", "create"])],
        );
        let mut scoped = Browser::new(gw);
        assert_eq!(scoped.login(&access_id, &access_key).status, 303);
        let scoped_csrf = scoped.session_csrf();
        let readable = scoped.get("/ui/auth-method/edit?name=/team-a/ci");
        assert_eq!(readable.status, 200, "{}", readable.body);
        for name in ["/team-a/ci", "/console/am-reader"] {
            let page = scoped.post(
                "/ui/auth-method/edit",
                &[
                    ("csrf", &scoped_csrf),
                    ("kind", "jwt"),
                    ("name", name),
                    ("issuer", "https://evil.example"),
                ],
            );
            assert_eq!(page.status, 403, "{name}: {}", page.body);
        }
        let m = auth_method_of(gw, "/team-a/ci");
        assert_eq!(
            m["access_info"]["oauth2_access_rules"]["issuer"],
            "https://token.actions.githubusercontent.com"
        );
        // Kubernetes and AWS IAM methods: an unchanged form saves the same method.
        use base64::Engine as _;
        let inline = base64::engine::general_purpose::STANDARD.encode(&keys);
        for (path, body) in [
            (
                "/create-auth-method-k8s",
                json!({"name": "/team-a/k8s", "jwks-json-data": inline, "k8s-issuer": "https://kubernetes.default.svc",
                       "bound-namespaces": ["prod", "staging"], "force-sub-claims": true, "access-expires": 4102444800i64}),
            ),
            (
                "/create-auth-method-aws-iam",
                json!({"name": "/team-a/iam", "bound-aws-account-id": ["123456789012"], "bound-role-name": ["web", "worker"]}),
            ),
        ] {
            let (status, out) = gw.post_authed(path, body.clone());
            assert_eq!(status, 200, "{out}");
            let name = body["name"].as_str().unwrap();
            let mut before = auth_method_of(gw, name);
            let edit = b.get(&format!("/ui/auth-method/edit?name={name}"));
            assert_eq!(edit.status, 200, "{}", edit.body);
            let values = form_values(&edit.body, "/ui/auth-method/edit");
            let saved = b.post("/ui/auth-method/edit", &pairs(&values));
            assert_eq!(saved.status, 303, "{name}: {}", saved.body);
            let mut after = auth_method_of(gw, name);
            for m in [&mut before, &mut after] {
                m.as_object_mut().unwrap().remove("modification_date");
            }
            assert_eq!(after, before, "{name}: {values:?}");
        }
    });
}

#[test]
fn a_target_on_the_gateways_own_identity_is_made_through_its_form() {
    let moto = mayfly_testkit::moto::MotoServer::shared();
    let (id, secret) = moto.admin();
    crate::helpers::on_each_database_with(
        |b| {
            b.env("AWS_ACCESS_KEY_ID", id.clone())
                .env("AWS_SECRET_ACCESS_KEY", secret.clone())
                .env("AWS_REGION", "us-east-1")
                .env("MAYFLY_CLOUD_IDENTITY_TARGETS", "/cloud/*")
        },
        |gw, _path| {
            let mut b = Browser::new(gw);
            b.login_admin();
            let csrf = b.session_csrf();
            let form = |name: &'static str, extra: &[(&'static str, &'static str)]| {
                let mut f = vec![
                    ("name", name),
                    ("region", "us-east-1"),
                    ("iam-endpoint", moto.url()),
                    ("sts-endpoint", moto.url()),
                    ("use-gw-cloud-identity", "true"),
                ];
                f.extend_from_slice(extra);
                f
            };
            // A key with it is refused inline; so is a name the operator did not list.
            let mut with_key = form(
                "/cloud/aws",
                &[
                    ("access-key-id", "AKIAIOSFODNN7EXAMPLE"),
                    ("access-key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                ],
            );
            with_key.push(("csrf", &csrf));
            let page = b.post("/ui/targets/new", &with_key);
            assert_eq!(page.status, 400, "{}", page.body);
            assert!(
                page.body.contains(r#"id="f-use-gw-cloud-identity-error""#),
                "{}",
                page.body
            );
            let mut unlisted = form("/other/aws", &[]);
            unlisted.push(("csrf", &csrf));
            let page = b.post("/ui/targets/new", &unlisted);
            assert_ne!(page.status, 303, "{}", page.body);
            assert!(
                page.body.contains("MAYFLY_CLOUD_IDENTITY_TARGETS"),
                "{}",
                page.body
            );
            assert_eq!(
                gw.post_authed("/get-target", json!({"name": "/other/aws"}))
                    .0,
                404
            );

            let mut good = form("/cloud/aws", &[]);
            good.push(("csrf", &csrf));
            let made = b.post("/ui/targets/new", &good);
            assert_eq!(made.status, 303, "{}", made.body);
            let details = |gw: &TestGateway| {
                let (s, d) = gw.post_authed("/get-target-details", json!({"name": "/cloud/aws"}));
                assert_eq!(s, 200, "{d}");
                d["value"]["aws_target_details"]["credential_source"].clone()
            };
            assert_eq!(details(gw), "gateway_identity");
            assert!(b
                .get("/ui/target?name=/cloud/aws")
                .body
                .contains("gateway_identity"));

            // The edit form keeps it ticked: an unchanged save keeps the gateway's identity.
            let edit = b.get("/ui/target/edit?name=/cloud/aws");
            let values = form_values(&edit.body, "/ui/target/edit");
            assert!(
                values.contains(&("use-gw-cloud-identity".into(), "true".into())),
                "{values:?}"
            );
            let saved = b.post(
                "/ui/target/edit",
                &pairs(&with(&values, &[("description", Some("own identity"))])),
            );
            assert_eq!(saved.status, 303, "{}", saved.body);
            assert_eq!(details(gw), "gateway_identity");

            // A key that manages /team targets cannot borrow the gateway's identity: not in
            // its own tree, not in the offered one, not by ticking the box on its own target.
            create_target(gw, "/team/keyed", "a-secret-of-the-team-target-0123456789");
            let (access_id, access_key) = key_with_rules(
                gw,
                "/console/team-targets",
                &[(
                    "target-rule",
                    "/team/*",
                    &["create", "read", "update", "list"],
                )],
            );
            let mut scoped = Browser::new(gw);
            assert_eq!(scoped.login(&access_id, &access_key).status, 303);
            let scoped_csrf = scoped.session_csrf();
            for name in ["/team/mine", "/cloud/theirs"] {
                let mut f = form(name, &[]);
                f.push(("csrf", &scoped_csrf));
                let page = scoped.post("/ui/targets/new", &f);
                assert_eq!(page.status, 403, "{name}: {}", page.body);
            }
            let edit = scoped.get("/ui/target/edit?name=/team/keyed");
            let values = form_values(&edit.body, "/ui/target/edit");
            let page = scoped.post(
                "/ui/target/edit",
                &pairs(&with(&values, &[("use-gw-cloud-identity", Some("true"))])),
            );
            assert_ne!(page.status, 303, "{}", page.body);
            let (_, d) = gw.post_authed("/get-target-details", json!({"name": "/team/keyed"}));
            assert_eq!(
                d["value"]["aws_target_details"]["credential_source"], "keys",
                "{d}"
            );
        },
    );
}
