//! Logging in with the identity a workload already has: a CI job holding no Mayfly secret gets
//! AWS credentials with a GitHub-shaped OIDC token, exactly as the Akeyless GitHub action
//! sends it (`{"access-type": "jwt", "access-id": ..., "jwt": ...}`), against a JWKS served
//! on loopback. Sub-claims give each repository only its own role.

use mayfly_testkit::{
    jwt::{github_claims, gitlab_claims, jwks, JwksServer, TestKey},
    moto::MotoServer,
    TestGateway,
};
use serde_json::{json, Value};

use crate::{
    aws::{create_moto_target, users_under},
    helpers::{error_of, on_each_database_with},
};

const GITHUB: &str = "https://token.actions.githubusercontent.com";
const AUDIENCE: &str = "https://github.com/octo-org";

/// The moto this test uses and the JWKS server.
fn allowed(jwks: &JwksServer) -> String {
    let mut origins = mayfly_testkit::moto::known_urls();
    origins.push(MotoServer::shared().url().to_owned());
    origins.push(jwks.origin());
    origins.join(",")
}

/// What the GitHub action posts to /auth.
fn login(gw: &TestGateway, access_id: &str, jwt: &str) -> (u16, Value) {
    gw.post(
        "/auth",
        json!({"access-type": "jwt", "access-id": access_id, "jwt": jwt}),
    )
}

/// [`login`], waiting out the failed-login throttle (which counts JWT refusals too).
fn login_patiently(gw: &TestGateway, access_id: &str, jwt: &str) -> (u16, Value) {
    auth_patiently(
        gw,
        json!({"access-type": "jwt", "access-id": access_id, "jwt": jwt}),
    )
}

fn auth_patiently(gw: &TestGateway, body: Value) -> (u16, Value) {
    for _ in 0..30 {
        let (s, b) = gw.post("/auth", body.clone());
        if s != 429 {
            return (s, b);
        }
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    panic!("still throttled after 30 tries");
}

fn token_of(body: &Value) -> String {
    body["token"].as_str().expect("a token").to_owned()
}

fn get_value(gw: &TestGateway, token: &str, name: &str) -> (u16, Value) {
    gw.post(
        "/get-dynamic-secret-value",
        json!({"name": name, "token": token, "timeout": 15}),
    )
}

fn producer(name: &str) -> Value {
    json!({
        "name": name, "target-name": "/aws", "access-mode": "iam_user",
        "aws-user-policies": "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "user-ttl": "15m", "aws-user-programmatic-access": true, "region": "us-east-1",
    })
}

/// JWT method /ci/github, roles for app-a and app-b bound by repository.
fn set_up(gw: &TestGateway, jwks_server: &JwksServer) -> String {
    create_moto_target(gw, MotoServer::shared());
    for app in ["app-a", "app-b"] {
        let (s, b) = gw.post_authed(
            "/gateway-create-producer-aws",
            producer(&format!("/{app}/s3")),
        );
        assert_eq!(s, 200, "{b}");
    }
    let (status, body) = gw.post_authed(
        "/auth-method-create-oauth2",
        json!({"name": "/ci/github", "jwks-uri": jwks_server.uri(), "issuer": GITHUB,
               "audience": AUDIENCE, "unique-identifier": "repository",
               "force-sub-claims": true, "jwt-ttl": 15}),
    );
    assert_eq!(status, 200, "{body}");
    let access_id = body["access_id"].as_str().unwrap().to_owned();
    assert!(access_id.starts_with("p-"), "{body}");
    for app in ["app-a", "app-b"] {
        let role = format!("/ci/{app}");
        assert_eq!(gw.post_authed("/create-role", json!({"name": role})).0, 200);
        let (s, b) = gw.post_authed(
            "/set-role-rule",
            json!({"role-name": role, "path": format!("/{app}/*"), "capability": ["read"],
                   "rule-type": "item-rule"}),
        );
        assert_eq!(s, 200, "{b}");
        let (s, b) = gw.post_authed(
            "/assoc-role-am",
            json!({"role-name": role, "am-name": "/ci/github",
                   "sub-claims": {"repository": format!("octo-org/{app}")},
                   "case-sensitive": "true"}),
        );
        assert_eq!(s, 200, "{b}");
    }
    access_id
}

#[test]
fn a_ci_job_with_no_mayfly_secret_gets_aws_credentials_for_its_own_repository_only() {
    let jwks_server = JwksServer::start(&jwks(&[TestKey::A]));
    on_each_database_with(
        |b| b.env("MAYFLY_ALLOWED_ENDPOINTS", allowed(&jwks_server)),
        |gw, path| {
            let access_id = set_up(gw, &jwks_server);

            // force-sub-claims: an association for the whole issuer is refused.
            assert_eq!(
                gw.post_authed("/create-role", json!({"name": "/ci/all"})).0,
                200
            );
            let (s, b) = gw.post_authed(
                "/assoc-role-am",
                json!({"role-name": "/ci/all", "am-name": "/ci/github"}),
            );
            assert_eq!(s, 400, "{b}");
            assert!(error_of(&b).contains("force-sub-claims"), "{b}");

            // Repository A: logs in, gets credentials for app-a, not for app-b.
            let jwt = TestKey::A.sign(&github_claims(GITHUB, AUDIENCE, "octo-org/app-a"));
            let (s, b) = login(gw, &access_id, &jwt);
            assert_eq!(s, 200, "{b}");
            let token = token_of(&b);
            let (s, v) = get_value(gw, &token, "/app-a/s3");
            assert_eq!(s, 200, "{v}");
            assert!(
                v["access_key_id"].as_str().is_some_and(|k| !k.is_empty()),
                "{v}"
            );
            assert_eq!(users_under(MotoServer::shared(), path).len(), 1);
            let (s, v) = get_value(gw, &token, "/app-b/s3");
            assert_eq!(s, 403, "{v}");
            // Tmp creds and the audit trail say which repository got the credential.
            let (s, creds) = gw.post_authed(
                "/gateway-get-producer-tmp-creds",
                json!({"name": "/app-a/s3"}),
            );
            assert_eq!(s, 200, "{creds}");
            assert_eq!(creds[0]["access_id"], access_id.as_str(), "{creds}");
            assert_eq!(
                creds[0]["sub_claims"]["repository"][0], "octo-org/app-a",
                "{creds}"
            );
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            loop {
                let (s, events) = gw.post_authed(
                    "/get-audit-events",
                    json!({"access-id": access_id, "operation": "get-dynamic-secret-value"}),
                );
                assert_eq!(s, 200, "{events}");
                let found = events["events"].as_array().unwrap().iter().any(|e| {
                    e["identity"] == "octo-org/app-a"
                        && e["item"] == "/app-a/s3"
                        && e["status"] == 200
                });
                if found {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "no audited issue with the identity: {events}"
                );
                std::thread::sleep(std::time::Duration::from_millis(200));
            }

            // Another repository of the same issuer and audience: logs in, holds no role.
            let jwt = TestKey::A.sign(&github_claims(GITHUB, AUDIENCE, "evil-org/app-a"));
            let (s, b) = login(gw, &access_id, &jwt);
            assert_eq!(s, 200, "{b}");
            let (s, v) = get_value(gw, &token_of(&b), "/app-a/s3");
            assert_eq!(s, 403, "{v}");

            // The session says who logged in; the JWT itself is nowhere in the log.
            assert!(!gw.logs().contains(&jwt), "the JWT leaked into the log");

            // get-auth-method shows the settings and each association's claims, no secret.
            let (s, m) = gw.post_authed("/get-auth-method", json!({"name": "/ci/github"}));
            assert_eq!(s, 200, "{m}");
            let rules = &m["access_info"]["oauth2_access_rules"];
            assert_eq!(rules["issuer"], GITHUB, "{m}");
            assert_eq!(rules["unique_identifier"], "repository");
            assert_eq!(m["access_info"]["rules_type"], "oauth2");
            let assoc = m["auth_method_roles_assoc"].as_array().unwrap();
            assert_eq!(assoc.len(), 2, "{m}");
            assert!(assoc
                .iter()
                .any(|a| a["auth_method_sub_claims"]["repository"][0] == "octo-org/app-a"));

            // reset-access-key cannot give the JWT method a secret.
            let (s, b) = gw.post_authed("/reset-access-key", json!({"name": "/ci/github"}));
            assert_eq!(s, 400, "{b}");
        },
    );
}

#[test]
fn wrong_tokens_get_401_and_rotated_keys_are_picked_up() {
    let jwks_server = JwksServer::start(&jwks(&[TestKey::A]));
    let gw = crate::helpers::builder()
        .env("MAYFLY_ALLOWED_ENDPOINTS", allowed(&jwks_server))
        .spawn()
        .unwrap();
    let access_id = set_up(&gw, &jwks_server);
    // Three methods alike, so that no (access id, client) pair fails more than the throttle's
    // free three times: the refusals are tested, not the throttle's delays.
    let mut ids = vec![access_id.clone()];
    for n in 2..=3 {
        let (s, b) = gw.post_authed(
            "/auth-method-create-oauth2",
            json!({"name": format!("/ci/github-{n}"), "jwks-uri": jwks_server.uri(), "issuer": GITHUB,
                   "audience": AUDIENCE, "unique-identifier": "repository"}),
        );
        assert_eq!(s, 200, "{b}");
        ids.push(b["access_id"].as_str().unwrap().to_owned());
    }
    let mut next_id = ids.iter().cycle();
    let good = github_claims(GITHUB, AUDIENCE, "octo-org/app-a");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = good.clone();
        f(&mut c);
        TestKey::A.sign(&c)
    };
    let now = mayfly_testkit::jwt::now();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "wrong aud",
            with(&|c| c["aud"] = "https://github.com/other".into()),
            "audience",
        ),
        (
            "wrong iss",
            with(&|c| c["iss"] = "https://gitlab.com".into()),
            "issuer",
        ),
        (
            "expired",
            with(&|c| c["exp"] = (now - 3600).into()),
            "expired",
        ),
        (
            "not yet valid",
            with(&|c| c["nbf"] = (now + 3600).into()),
            "not valid yet",
        ),
        ("unknown kid", TestKey::B.sign(&good), "key id"),
        ("garbage", "not.a.jwt".to_owned(), "not a JWT"),
        (
            "alg none",
            format!(
                "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
                good_payload(&good)
            ),
            "not a JWT",
        ),
    ];
    for (what, jwt, says) in cases {
        let (s, b) = login_patiently(&gw, next_id.next().unwrap(), &jwt);
        assert_eq!(s, 401, "{what}: {b}");
        assert!(error_of(&b).contains(says), "{what}: {b}");
        assert!(!error_of(&b).contains(&jwt), "{what}: the token is echoed");
    }
    let (s, b) = login_patiently(&gw, next_id.next().unwrap(), &"x".repeat(20_000));
    assert_eq!(s, 401, "{b}");
    assert!(error_of(&b).contains("larger"), "{b}");
    // The GitLab-shaped token of another issuer: refused (issuer).
    let jwt = TestKey::A.sign(&gitlab_claims(
        "https://gitlab.com",
        AUDIENCE,
        "octo-org/app-a",
    ));
    assert_eq!(login_patiently(&gw, next_id.next().unwrap(), &jwt).0, 401);
    // A JWT to an API key's access id: 401, the same as an unknown id.
    let (s, b) = login_patiently(&gw, gw.admin_access_id(), &TestKey::A.sign(&good));
    assert_eq!(s, 401, "{b}");
    // Missing jwt: 400 naming the field.
    let (s, b) = auth_patiently(&gw, json!({"access-type": "jwt", "access-id": access_id}));
    assert_eq!(s, 400, "{b}");
    assert!(error_of(&b).starts_with("jwt:"), "{b}");

    // The issuer rotates its key: after the refetch floor, tokens signed with the new key
    // log in.
    jwks_server.set_document(&jwks(&[TestKey::B]));
    std::thread::sleep(std::time::Duration::from_secs(6));
    let (s, b) = login_patiently(&gw, &access_id, &TestKey::B.sign(&good));
    assert_eq!(s, 200, "{b}");
}

fn good_payload(claims: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string())
}

#[test]
fn a_scoped_key_cannot_point_a_jwt_method_at_internal_addresses() {
    let gw = crate::helpers::spawn_sqlite();
    for uri in [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://127.0.0.1:1/jwks",
        "https://localhost/jwks",
    ] {
        let (s, b) = gw.post_authed(
            "/create-auth-method-oauth2",
            json!({"name": "/ci/ssrf", "jwks-uri": uri, "unique-identifier": "sub"}),
        );
        assert_eq!(s, 400, "{uri}: {b}");
        assert!(
            error_of(&b).contains("MAYFLY_ALLOWED_ENDPOINTS"),
            "{uri}: {b}"
        );
    }
    // Inline keys: base64 of the JWKS; a document without a usable key is refused.
    let inline = |doc: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(doc.to_string())
    };
    let (s, b) = gw.post_authed(
        "/create-auth-method-oauth2",
        json!({"name": "/ci/hmac", "jwks-json-data": inline(&json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})),
               "unique-identifier": "sub"}),
    );
    assert_eq!(s, 400, "{b}");
    let (s, b) = gw.post_authed(
        "/create-auth-method-oauth2",
        json!({"name": "/ci/inline", "jwks-json-data": inline(&jwks(&[TestKey::A])),
               "unique-identifier": "sub", "audience": "mayfly"}),
    );
    assert_eq!(s, 200, "{b}");
    let access_id = b["access_id"].as_str().unwrap().to_owned();
    let mut claims = github_claims(GITHUB, "mayfly", "octo-org/app-a");
    claims["sub"] = "repo:octo-org/app-a".into();
    let (s, b) = login_patiently(&gw, &access_id, &TestKey::A.sign(&claims));
    assert_eq!(s, 200, "{b}");
}

const CLUSTER: &str = "https://kubernetes.default.svc.cluster.local";

#[test]
fn a_pod_logs_in_with_its_service_account_token_and_gets_its_namespaces_credentials() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let moto = MotoServer::shared();
    on_each_database_with(
        |b| b.env("MAYFLY_ALLOWED_ENDPOINTS", moto.url()),
        |gw, path| {
            create_moto_target(gw, moto);
            for app in ["team-a", "team-b"] {
                let (s, b) = gw.post_authed(
                    "/gateway-create-producer-aws",
                    producer(&format!("/{app}/s3")),
                );
                assert_eq!(s, 200, "{b}");
            }
            let (s, b) = gw.post_authed(
                "/auth-method-create-k8s",
                json!({"name": "/k8s/prod", "jwks-json-data": b64(&jwks(&[TestKey::A]).to_string()),
                       "k8s-issuer": CLUSTER, "audience": "mayfly",
                       "bound-namespaces": ["team-*"], "gen-key": "true", "force-sub-claims": true}),
            );
            assert_eq!(s, 200, "{b}");
            let access_id = b["access_id"].as_str().unwrap().to_owned();
            for team in ["team-a", "team-b"] {
                let role = format!("/k8s/{team}");
                assert_eq!(gw.post_authed("/create-role", json!({"name": role})).0, 200);
                let (s, b) = gw.post_authed(
                    "/set-role-rule",
                    json!({"role-name": role, "path": format!("/{team}/*"), "capability": ["read"]}),
                );
                assert_eq!(s, 200, "{b}");
                let (s, b) = gw.post_authed(
                    "/assoc-role-am",
                    json!({"role-name": role, "am-name": "/k8s/prod",
                           "sub-claims": {"namespace": team, "service_account_name": "deployer"}}),
                );
                assert_eq!(s, 200, "{b}");
            }
            let k8s_login = |token: &str, config: &str| {
                gw.post(
                    "/auth",
                    json!({"access-type": "k8s", "access-id": access_id,
                           "k8s-service-account-token": token, "k8s-auth-config-name": config}),
                )
            };
            let sa_token = TestKey::A.sign(&mayfly_testkit::jwt::k8s_claims(
                CLUSTER,
                "mayfly",
                "team-a",
                "deployer",
                "deployer-7d9f",
            ));
            // Base64 (as the Akeyless GitHub action and tools send it); a config name that
            // does not exist falls back to the method's own keys.
            let (s, b) = k8s_login(&b64(&sa_token), "no-such-config");
            assert_eq!(s, 200, "{b}");
            let token = token_of(&b);
            let (s, v) = get_value(gw, &token, "/team-a/s3");
            assert_eq!(s, 200, "{v}");
            assert_eq!(users_under(moto, path).len(), 1);
            assert_eq!(get_value(gw, &token, "/team-b/s3").0, 403);
            // Raw, as read from the pod's token file, works too.
            assert_eq!(k8s_login(&sa_token, "").0, 200);

            // Another service account in the namespace: logs in, no role.
            let other = TestKey::A.sign(&mayfly_testkit::jwt::k8s_claims(
                CLUSTER, "mayfly", "team-a", "default", "web-1",
            ));
            let (s, b) = k8s_login(&other, "");
            assert_eq!(s, 200, "{b}");
            assert_eq!(get_value(gw, &token_of(&b), "/team-a/s3").0, 403);
            // Outside the bound namespaces, another cluster's issuer, another audience: 401.
            for (claims, says) in [
                (
                    mayfly_testkit::jwt::k8s_claims(
                        CLUSTER,
                        "mayfly",
                        "kube-system",
                        "deployer",
                        "x",
                    ),
                    "bound-namespaces",
                ),
                (
                    mayfly_testkit::jwt::k8s_claims(
                        "https://other.cluster",
                        "mayfly",
                        "team-a",
                        "deployer",
                        "x",
                    ),
                    "issuer",
                ),
                (
                    mayfly_testkit::jwt::k8s_claims(CLUSTER, "vault", "team-a", "deployer", "x"),
                    "audience",
                ),
            ] {
                let (s, b) = k8s_login(&TestKey::A.sign(&claims), "");
                assert_eq!(s, 401, "{b}");
                assert!(error_of(&b).contains(says), "{b}");
            }
            // A GitHub token is not a service-account token.
            let (s, b) = k8s_login(
                &TestKey::A.sign(&github_claims(CLUSTER, "mayfly", "octo-org/app-a")),
                "",
            );
            assert_eq!(s, 401, "{b}");
            // The method's settings read back, no secret among them.
            let (s, m) = gw.post_authed("/get-auth-method", json!({"name": "/k8s/prod"}));
            assert_eq!(s, 200, "{m}");
            assert_eq!(m["access_info"]["rules_type"], "k8s", "{m}");
            assert_eq!(
                m["access_info"]["k8s_access_rules"]["bound_namespaces"][0],
                "team-*"
            );
        },
    );
}

#[test]
fn workload_methods_change_in_place_checked_as_at_creation() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let gw = crate::helpers::spawn_sqlite();
    let inline = b64(&jwks(&[TestKey::A]).to_string());
    let (s, b) = gw.post_authed(
        "/auth-method-create-k8s",
        json!({"name": "/team-a/k8s", "jwks-json-data": inline, "k8s-issuer": CLUSTER,
               "audience": "mayfly", "bound-namespaces": ["team-a"]}),
    );
    assert_eq!(s, 200, "{b}");
    let k8s_id = b["access_id"].as_str().unwrap().to_owned();
    let (s, b) = gw.post_authed(
        "/create-auth-method-oauth2",
        json!({"name": "/team-a/ci", "jwks-json-data": inline, "unique-identifier": "repository",
               "audience": AUDIENCE, "issuer": GITHUB}),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = gw.post_authed(
        "/create-auth-method-aws-iam",
        json!({"name": "/prod/aws", "bound-aws-account-id": "123456789012"}),
    );
    assert_eq!(s, 200, "{b}");
    let pod = |ns: &str| {
        TestKey::A.sign(&mayfly_testkit::jwt::k8s_claims(
            CLUSTER, "mayfly", ns, "deployer", "p",
        ))
    };
    let k8s_login = |token: &str| {
        auth_patiently(
            &gw,
            json!({"access-type": "k8s", "access-id": k8s_id, "k8s-service-account-token": token}),
        )
    };
    assert_eq!(k8s_login(&pod("team-b")).0, 401);

    // A field sent replaces the stored one; the others stay; the next login sees it.
    let (s, b) = gw.post_authed(
        "/auth-method-update-k8s",
        json!({"name": "/team-a/k8s", "bound-namespaces": ["team-a", "team-b"], "description": "two teams"}),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["name"], "/team-a/k8s");
    assert_eq!(k8s_login(&pod("team-b")).0, 200);
    let (_, m) = gw.post_authed("/get-auth-method", json!({"name": "/team-a/k8s"}));
    let rules = &m["access_info"]["k8s_access_rules"];
    assert_eq!(
        rules["bound_namespaces"],
        json!(["team-a", "team-b"]),
        "{m}"
    );
    assert_eq!(rules["issuer"], CLUSTER, "kept: {m}");
    assert_eq!(m["description"], "two teams");

    // Checked as at creation: unusable keys, internal JWKS URL, an sts-url not allowed.
    let (s, b) = gw.post_authed(
        "/update-auth-method-k8s",
        json!({"name": "/team-a/k8s", "jwks-json-data": b64("{\"keys\": []}")}),
    );
    assert_eq!(s, 400, "{b}");
    let (s, b) = gw.post_authed(
        "/update-auth-method-oauth2",
        json!({"name": "/team-a/ci", "jwks-uri": "https://169.254.169.254/jwks"}),
    );
    assert_eq!(s, 400, "{b}");
    assert!(error_of(&b).contains("MAYFLY_ALLOWED_ENDPOINTS"), "{b}");
    let (s, b) = gw.post_authed(
        "/update-auth-method-aws-iam",
        json!({"name": "/prod/aws", "sts-url": "http://127.0.0.1:9"}),
    );
    assert_eq!(s, 400, "{b}");
    // The wrong kind's operation, renaming: refused.
    let (s, b) = gw.post_authed(
        "/update-auth-method-oauth2",
        json!({"name": "/team-a/k8s", "issuer": "x"}),
    );
    assert_eq!(s, 400, "{b}");
    assert!(error_of(&b).contains("k8s"), "{b}");
    let (s, b) = gw.post_authed(
        "/update-auth-method-oauth2",
        json!({"name": "/team-a/ci", "new-name": "/prod/ci"}),
    );
    assert_eq!(s, 400, "{b}");

    // force-sub-claims cannot be switched on under an association that holds for every token.
    assert_eq!(
        gw.post_authed("/create-role", json!({"name": "/team-a/r"}))
            .0,
        200
    );
    let (s, b) = gw.post_authed(
        "/assoc-role-am",
        json!({"role-name": "/team-a/r", "am-name": "/team-a/ci"}),
    );
    assert_eq!(s, 200, "{b}");
    let (s, b) = gw.post_authed(
        "/update-auth-method-oauth2",
        json!({"name": "/team-a/ci", "force-sub-claims": true}),
    );
    assert_eq!(s, 409, "{b}");
    assert!(error_of(&b).contains("delete-assoc"), "{b}");

    // A key for /team-a/* updates its methods, not /prod's.
    let (scoped, _) = crate::access::key_with_rules(
        &gw,
        "/team-a/admin",
        &[("auth-method-rule", "/team-a/*", &["read", "update"])],
        "none",
    );
    let (s, b) = crate::access::call(
        &gw,
        &scoped,
        "/update-auth-method-aws-iam",
        json!({"name": "/prod/aws", "bound-aws-account-id": "210987654321"}),
    );
    assert_eq!(s, 403, "{b}");
    let (s, b) = crate::access::call(
        &gw,
        &scoped,
        "/update-auth-method-oauth2",
        json!({"name": "/team-a/ci", "audience": "other"}),
    );
    assert_eq!(s, 200, "{b}");
    let (_, m) = gw.post_authed("/get-auth-method", json!({"name": "/prod/aws"}));
    assert_eq!(
        m["access_info"]["aws_iam_access_rules"]["account_id"],
        json!(["123456789012"])
    );
}
