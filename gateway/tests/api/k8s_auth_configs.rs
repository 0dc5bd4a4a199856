//! Kubernetes auth configs: a pod logs in with its service-account token, verified online by
//! the cluster's TokenReview API (a fake API server over HTTPS with its own CA), through the
//! `gateway-*-k8s-auth-config` operations. And what a key scoped to one team's auth method
//! cannot do with them.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use mayfly_testkit::{
    jwt::{k8s_claims, TestKey},
    kube_api::KubeApi,
    TestGateway,
};
use sea_orm::EntityTrait;
use serde_json::{json, Value};

use crate::{
    access::{call, key_with_rules},
    aws::block_on,
    helpers::{builder, error_of, on_each_database_with},
};

const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

fn sa_token(key: TestKey, namespace: &str, account: &str) -> String {
    key.sign(&k8s_claims(ISSUER, "mayfly", namespace, account, "pod-1"))
}

fn k8s_login(gw: &TestGateway, access_id: &str, token: &str, config: &str) -> (u16, Value) {
    for _ in 0..30 {
        let (s, b) = gw.post(
            "/auth",
            json!({"access-type": "k8s", "access-id": access_id,
                   "k8s-service-account-token": BASE64.encode(token),
                   "k8s-auth-config-name": config}),
        );
        if s != 429 {
            return (s, b);
        }
        std::thread::sleep(std::time::Duration::from_millis(1100));
    }
    panic!("still throttled");
}

/// A Kubernetes auth method with no keys of its own, bound to `team-*` namespaces, and a role
/// reading `/team-a/*` for namespace team-a. Returns the access id.
fn k8s_method(gw: &TestGateway, name: &str) -> String {
    let (s, b) = gw.post_authed(
        "/create-auth-method-k8s",
        json!({"name": name, "audience": "mayfly", "bound-namespaces": "team-*", "gen-key": "true"}),
    );
    assert_eq!(s, 200, "{b}");
    b["access_id"].as_str().unwrap().to_owned()
}

fn config_body(name: &str, access_id: &str, kube: &KubeApi, reviewer: Option<&str>) -> Value {
    let mut body = json!({
        "name": name, "access-id": access_id, "k8s-host": kube.origin(),
        "k8s-ca-cert": BASE64.encode(kube.ca_pem()), "k8s-issuer": ISSUER,
        "signing-key": "c2lnbmluZy1rZXk=", "token-exp": 300,
    });
    if let Some(r) = reviewer {
        body["token-reviewer-jwt"] = json!(r);
    }
    body
}

#[test]
fn a_pod_logs_in_through_the_clusters_token_review() {
    let reviewer = sa_token(TestKey::A, "kube-system", "mayfly-reviewer");
    let kube = KubeApi::start(ISSUER, &[TestKey::A], Some(&reviewer));
    let selfish = KubeApi::start(ISSUER, &[TestKey::A], None);
    let allowed = format!("{},{}", kube.origin(), selfish.origin());
    on_each_database_with(
        |b| b.env("MAYFLY_ALLOWED_ENDPOINTS", &allowed),
        |gw, _| {
            let access_id = k8s_method(gw, "/k8s/online");
            assert_eq!(
                gw.post_authed("/create-role", json!({"name": "/k8s/team-a"}))
                    .0,
                200
            );
            let (s, b) = gw.post_authed(
                "/set-role-rule",
                json!({"role-name": "/k8s/team-a", "path": "/team-a/*", "capability": ["read", "list"]}),
            );
            assert_eq!(s, 200, "{b}");
            let (s, b) = gw.post_authed(
                "/assoc-role-am",
                json!({"role-name": "/k8s/team-a", "am-name": "/k8s/online",
                       "sub-claims": {"namespace": "team-a"}}),
            );
            assert_eq!(s, 200, "{b}");

            // Without a config the method has nothing to verify with.
            let pod = sa_token(TestKey::A, "team-a", "deployer");
            let (s, b) = k8s_login(gw, &access_id, &pod, "");
            assert_eq!(s, 401, "{b}");
            assert!(error_of(&b).contains("k8s-auth-config-name"), "{b}");
            let (s, b) = k8s_login(gw, &access_id, &pod, "prod");
            assert_eq!(s, 401, "{b}");

            let (s, b) = gw.post_authed(
                "/gateway-create-k8s-auth-config",
                config_body("prod", &access_id, &kube, Some(&reviewer)),
            );
            assert_eq!(s, 200, "{b}");
            assert_eq!(b["name"], "prod");
            // Names are unique.
            let (s, b) = gw.post_authed(
                "/gateway-create-k8s-auth-config",
                config_body("prod", &access_id, &kube, None),
            );
            assert_eq!(s, 409, "{b}");

            let (s, b) = k8s_login(gw, &access_id, &pod, "prod");
            assert_eq!(s, 200, "{b}");
            let token = b["token"].as_str().unwrap().to_owned();
            let reviews = kube.reviews();
            let last = reviews.last().expect("a TokenReview");
            assert_eq!(last.bearer, reviewer, "reviewed with the reviewer JWT");
            assert_eq!(last.audiences, vec!["mayfly".to_owned()]);
            assert!(last.authenticated);
            // The session holds team-a's role.
            let (s, b) = call(gw, &token, "/list-items", json!({"path": "/team-a"}));
            assert_eq!(s, 200, "{b}");

            // A token the cluster does not vouch for (another key), an expired one (refused
            // before the cluster is asked), another namespace: 401.
            let before = kube.reviews().len();
            let mut expired = k8s_claims(ISSUER, "mayfly", "team-a", "deployer", "pod-1");
            expired["exp"] = json!(mayfly_testkit::jwt::now() - 3600);
            let (s, b) = k8s_login(gw, &access_id, &TestKey::A.sign(&expired), "prod");
            assert_eq!(s, 401, "{b}");
            assert!(error_of(&b).contains("expired"), "{b}");
            assert_eq!(
                kube.reviews().len(),
                before,
                "no review for an expired token"
            );
            let (s, b) = k8s_login(
                gw,
                &access_id,
                &sa_token(TestKey::B, "team-a", "deployer"),
                "prod",
            );
            assert_eq!(s, 401, "{b}");
            assert!(error_of(&b).contains("TokenReview"), "{b}");
            let (s, b) = k8s_login(
                gw,
                &access_id,
                &sa_token(TestKey::A, "kube-system", "deployer"),
                "prod",
            );
            assert_eq!(s, 401, "{b}");
            assert!(error_of(&b).contains("bound-namespaces"), "{b}");

            // A config of another method cannot be used.
            let other_id = k8s_method(gw, "/k8s/other");
            let (s, b) = k8s_login(gw, &other_id, &pod, "prod");
            assert_eq!(s, 401, "{b}");
            assert!(error_of(&b).contains("another auth method"), "{b}");

            // Read back: no reviewer JWT, no signing key, anywhere.
            let (s, c) = gw.post_authed("/gateway-get-k8s-auth-config", json!({"name": "prod"}));
            assert_eq!(s, 200, "{c}");
            assert_eq!(c["k8s_host"], kube.origin());
            assert_eq!(c["auth_method_access_id"], access_id.as_str());
            assert_eq!(c["token_reviewer_jwt_set"], true);
            assert!(c["k8s_ca_cert"]
                .as_str()
                .unwrap()
                .contains("BEGIN CERTIFICATE"));
            let (s, m) = gw.post_authed("/get-auth-method", json!({"name": "/k8s/online"}));
            assert_eq!(s, 200, "{m}");
            assert_eq!(
                m["access_info"]["k8s_access_rules"]["k8s_auth_configs"],
                json!(["prod"])
            );
            for shown in [c.to_string(), m.to_string()] {
                assert!(!shown.contains(&reviewer), "{shown}");
                assert!(!shown.contains("c2lnbmluZy1rZXk"), "{shown}");
            }

            // Without a reviewer JWT, each token reviews itself.
            let (s, b) = gw.post_authed(
                "/gateway-create-k8s-auth-config",
                config_body("self-review", &access_id, &selfish, None),
            );
            assert_eq!(s, 200, "{b}");
            let (s, b) = k8s_login(gw, &access_id, &pod, "self-review");
            assert_eq!(s, 200, "{b}");
            assert_eq!(selfish.reviews().last().unwrap().bearer, pod);

            // A CA the API server's certificate does not chain to: 503, says what to check.
            let (s, b) = gw.post_authed(
                "/gateway-update-k8s-auth-config",
                json!({"name": "self-review", "k8s-ca-cert": kube.ca_pem()}),
            );
            assert_eq!(s, 200, "{b}");
            let (s, b) = k8s_login(gw, &access_id, &pod, "self-review");
            assert_eq!(s, 503, "{b}");
            assert!(error_of(&b).contains("k8s-ca-cert"), "{b}");

            // Deleting the config, then the method: logins through it stop.
            let (s, b) = gw.post_authed(
                "/gateway-delete-k8s-auth-config",
                json!({"name": "self-review"}),
            );
            assert_eq!(s, 200, "{b}");
            assert_eq!(k8s_login(gw, &access_id, &pod, "self-review").0, 401);
            let (s, b) = gw.post_authed("/delete-auth-method", json!({"name": "/k8s/online"}));
            assert_eq!(s, 200, "{b}");
            let (s, b) = gw.post_authed("/gateway-get-k8s-auth-config", json!({"name": "prod"}));
            assert_eq!(s, 404, "{b}");
        },
    );
}

#[test]
fn a_key_scoped_to_one_method_cannot_reach_another_through_its_configs() {
    let reviewer = sa_token(TestKey::A, "kube-system", "mayfly-reviewer");
    let kube = KubeApi::start(ISSUER, &[TestKey::A], Some(&reviewer));
    let elsewhere = KubeApi::start(ISSUER, &[TestKey::A], None);
    let gw = builder()
        .env(
            "MAYFLY_ALLOWED_ENDPOINTS",
            format!("{},{}", kube.origin(), elsewhere.origin()),
        )
        .spawn()
        .expect("gateway");
    let team_id = k8s_method(&gw, "/team-a/k8s");
    let prod_id = k8s_method(&gw, "/prod/k8s");
    let (s, b) = gw.post_authed(
        "/gateway-create-k8s-auth-config",
        config_body("prod-cluster", &prod_id, &kube, Some(&reviewer)),
    );
    assert_eq!(s, 200, "{b}");
    let (scoped, _) = key_with_rules(
        &gw,
        "/team-a/admin",
        &[(
            "auth-method-rule",
            "/team-a/*",
            &["read", "create", "update", "delete", "list"],
        )],
        "none",
    );

    // Its own method: yes.
    let (s, b) = call(
        &gw,
        &scoped,
        "/gateway-create-k8s-auth-config",
        config_body("team-a-cluster", &team_id, &kube, Some(&reviewer)),
    );
    assert_eq!(s, 200, "{b}");
    // A config for the prod method: 403.
    let (s, b) = call(
        &gw,
        &scoped,
        "/gateway-create-k8s-auth-config",
        config_body("sneaky", &prod_id, &kube, None),
    );
    assert_eq!(s, 403, "{b}");
    // Prod's config: as if it did not exist, to read, change or delete.
    for (path, body) in [
        (
            "/gateway-get-k8s-auth-config",
            json!({"name": "prod-cluster"}),
        ),
        (
            "/gateway-update-k8s-auth-config",
            json!({"name": "prod-cluster", "k8s-host": elsewhere.origin(),
                   "token-reviewer-jwt": reviewer}),
        ),
        (
            "/gateway-delete-k8s-auth-config",
            json!({"name": "prod-cluster"}),
        ),
    ] {
        let (s, b) = call(&gw, &scoped, path, body);
        assert_eq!(s, 404, "{path}: {b}");
        assert!(!b.to_string().contains(&kube.origin()), "{b}");
    }
    // Moving its own config onto the prod method: 403, nothing changed.
    let (s, b) = call(
        &gw,
        &scoped,
        "/gateway-update-k8s-auth-config",
        json!({"name": "team-a-cluster", "access-id": prod_id}),
    );
    assert_eq!(s, 403, "{b}");
    // Pointing its own config's stored reviewer JWT at another server: refused unless the
    // JWT is given again.
    let (s, b) = call(
        &gw,
        &scoped,
        "/gateway-update-k8s-auth-config",
        json!({"name": "team-a-cluster", "k8s-host": elsewhere.origin()}),
    );
    assert_eq!(s, 400, "{b}");
    assert!(error_of(&b).contains("token-reviewer-jwt"), "{b}");
    let (s, b) = call(
        &gw,
        &scoped,
        "/gateway-update-k8s-auth-config",
        json!({"name": "team-a-cluster", "k8s-ca-cert": elsewhere.ca_pem()}),
    );
    assert_eq!(s, 400, "{b}");
    // Internal addresses not allowed by the operator: 400, naming the setting.
    for host in [
        "https://169.254.169.254".to_owned(),
        "https://127.0.0.1:1".to_owned(),
        kube.origin().replace("https://", "http://"),
    ] {
        let (s, b) = call(
            &gw,
            &scoped,
            "/gateway-create-k8s-auth-config",
            json!({"name": "ssrf", "access-id": team_id, "k8s-host": host}),
        );
        assert_eq!(s, 400, "{host}: {b}");
    }
    assert!(elsewhere.reviews().is_empty(), "never called");
    // The prod config is as it was; a prod pod still logs in through it.
    let (s, c) = gw.post_authed(
        "/gateway-get-k8s-auth-config",
        json!({"name": "prod-cluster"}),
    );
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["k8s_host"], kube.origin());
    let (s, b) = k8s_login(
        &gw,
        &prod_id,
        &sa_token(TestKey::A, "team-b", "api"),
        "prod-cluster",
    );
    assert_eq!(s, 200, "{b}");
    // A team-a pod cannot log in to prod through team-a's config, nor to team-a through prod's.
    let pod = sa_token(TestKey::A, "team-a", "deployer");
    assert_eq!(k8s_login(&gw, &prod_id, &pod, "team-a-cluster").0, 401);
    assert_eq!(k8s_login(&gw, &team_id, &pod, "prod-cluster").0, 401);
}

#[test]
fn the_reviewer_jwt_is_sealed_and_re_sealed_with_the_master_key() {
    let reviewer = sa_token(TestKey::A, "kube-system", "mayfly-reviewer");
    let kube = KubeApi::start(ISSUER, &[TestKey::A], Some(&reviewer));
    let gw = builder()
        .env("MAYFLY_ALLOWED_ENDPOINTS", kube.origin())
        .spawn()
        .expect("gateway");
    let access_id = k8s_method(&gw, "/k8s/sealed");
    let (s, b) = gw.post_authed(
        "/gateway-create-k8s-auth-config",
        config_body("sealed", &access_id, &kube, Some(&reviewer)),
    );
    assert_eq!(s, 200, "{b}");
    let sealed_key = || {
        let rows = block_on(
            mayfly_store::entity::k8s_auth_config::Entity::find().all(&crate::rotation::db(&gw)),
        )
        .expect("configs");
        assert_eq!(rows.len(), 1);
        assert!(!rows[0].sealed_reviewer_jwt.contains(&reviewer));
        assert!(!rows[0].settings.contains(&reviewer));
        rows[0]
            .sealed_reviewer_jwt
            .split('.')
            .nth(1)
            .unwrap()
            .to_owned()
    };
    let before = sealed_key();
    let out = crate::rotation::rotate_command(&gw, 0)
        .output()
        .expect("rotate-master-key");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = sealed_key();
    assert_ne!(before, after, "re-sealed under the new key");
    // The running gateway opens it with the new key.
    let pod = sa_token(TestKey::A, "team-a", "deployer");
    let (s, b) = k8s_login(&gw, &access_id, &pod, "sealed");
    assert_eq!(s, 200, "{b}");
    assert_eq!(kube.reviews().last().unwrap().bearer, reviewer);
}
