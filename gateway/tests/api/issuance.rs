//! Issuing and revoking real credentials against moto with IAM auth enforcement on.

use std::{collections::BTreeSet, time::Duration};

use mayfly_testkit::moto::MotoServer;
use serde_json::{json, Value};

use crate::{
    aws::{
        admin_clients, block_on, caller_arn, clients, create_moto_target, create_role, unique_path,
        users_under, wait_until_no_users,
    },
    helpers::{builder, error_of, on_each_database_with},
};

const LIST_USERS_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","sts:GetCallerIdentity"],"Resource":"*"}]}"#;

fn iam_producer(name: &str) -> Value {
    json!({
        "name": name, "target-name": "/aws", "access-mode": "iam_user",
        "aws-user-policies": "arn:aws:iam::aws:policy/IAMReadOnlyAccess",
        "aws-policy-document": LIST_USERS_ONLY,
        "user-ttl": "60m", "aws-user-programmatic-access": true, "aws-user-console-access": false,
        "region": "us-east-2", "json": false,
    })
}

fn get_value(gw: &mayfly_testkit::TestGateway, name: &str, args: &[&str]) -> (u16, Value) {
    gw.post_authed(
        "/get-dynamic-secret-value",
        json!({"name": name, "timeout": 15, "args": args}),
    )
}

fn tmp_creds(gw: &mayfly_testkit::TestGateway, name: &str) -> Vec<Value> {
    let (status, body) = gw.post_authed("/gateway-get-producer-tmp-creds", json!({"name": name}));
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .cloned()
        .expect("tmp creds are a JSON array")
}

#[test]
fn iam_user_credentials_work_until_revoked_and_leave_nothing_behind() {
    let moto = MotoServer::shared();
    on_each_database_with(
        |b| b,
        |gw, path| {
            create_moto_target(gw, moto);
            assert_eq!(
                gw.post_authed("/gateway-create-producer-aws", iam_producer("/team/reader"))
                    .0,
                200
            );

            let (status, v) = get_value(gw, "/team/reader", &[]);
            assert_eq!(status, 200, "{v}");
            for key in [
                "access_key_id",
                "secret_access_key",
                "id",
                "user",
                "ttl_in_minutes",
                "expiration",
            ] {
                assert!(
                    v[key].as_str().is_some_and(|s| !s.is_empty()),
                    "{key} missing in {v}"
                );
            }
            assert_eq!(v["type"], "aws_dynamic_user");
            assert_eq!(v["ttl_in_minutes"], "60");
            assert!(v.get("password").is_none());
            assert!(v["user"].as_str().unwrap().len() <= 64);
            chrono::DateTime::parse_from_rfc3339(v["expiration"].as_str().unwrap()).unwrap();
            assert_eq!(
                users_under(moto, path),
                vec![v["user"].as_str().unwrap().to_owned()]
            );

            // The key works, for what the policy allows and nothing else.
            let arn = caller_arn(moto, &v).expect("issued key authenticates");
            assert!(arn.ends_with(v["user"].as_str().unwrap()), "{arn}");
            let as_user = clients(
                moto,
                v["access_key_id"].as_str().unwrap(),
                v["secret_access_key"].as_str().unwrap(),
                None,
            );
            assert!(
                block_on(as_user.iam.list_users(path)).is_ok(),
                "allowed by the inline policy"
            );
            let denied = block_on(as_user.iam.create_user(&mayfly_aws::CreateUser {
                name: "intruder".into(),
                path: path.to_owned(),
                permissions_boundary: None,
                tags: vec![],
            }));
            assert!(denied.is_err(), "CreateUser is not allowed");

            // Listed as active; then something added out of band; then revoked.
            let listed = tmp_creds(gw, "/team/reader");
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0]["id"], v["id"]);
            assert_eq!(listed[0]["state"], "active");
            assert_eq!(listed[0]["access_id"], gw.admin_access_id());
            let admin = admin_clients(moto);
            let user = v["user"].as_str().unwrap();
            block_on(admin.iam.create_access_key(user)).unwrap();
            block_on(admin.iam.create_login_profile(
                user,
                &secrecy::SecretString::from("Out-of-band-Passw0rd!".to_owned()),
                false,
            ))
            .unwrap();

            let (status, body) = gw.post_authed(
                "/gateway-revoke-producer-tmp-creds",
                json!({"name": "/team/reader", "tmp-creds-id": v["id"], "host": ""}),
            );
            assert_eq!(
                (status, body),
                (200, json!({"revoking": 0})),
                "revoked by the request itself"
            );
            assert!(caller_arn(moto, &v).is_none(), "revoked keys are rejected");
            assert!(
                users_under(moto, path).is_empty(),
                "no user left under {path}"
            );
            assert!(block_on(admin.iam.get_user(user)).unwrap().is_none());
            assert!(tmp_creds(gw, "/team/reader").is_empty());
            let (status, _) = gw.post_authed(
                "/gateway-revoke-producer-tmp-creds",
                json!({"name": "/team/reader", "tmp-creds-id": v["id"]}),
            );
            assert_eq!(status, 200, "revoking twice is harmless");
        },
    );
}

#[test]
fn console_access_returns_a_password_and_a_login_profile() {
    let moto = MotoServer::shared();
    let path = unique_path();
    let gw = builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        .spawn()
        .unwrap();
    create_moto_target(&gw, moto);
    let mut p = iam_producer("/console");
    p["aws-user-console-access"] = json!(true);
    p["aws-user-programmatic-access"] = json!(false);
    p["password-length"] = json!("24");
    assert_eq!(gw.post_authed("/dynamic-secret-create-aws", p).0, 200);
    let (status, v) = gw.post_authed("/dynamic-secret-get-value", json!({"name": "/console"}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["password"].as_str().unwrap().len(), 24);
    assert!(
        v.get("access_key_id").is_none(),
        "no programmatic access: {v}"
    );
    let (status, _) = gw.post_authed(
        "/dynamic-secret-tmp-creds-delete",
        json!({"name": "/console", "revoke-all": true}),
    );
    assert_eq!(status, 200);
    wait_until_no_users(moto, &path, Duration::from_secs(30));
}

#[test]
fn sts_modes_return_session_credentials_that_are_revoked_by_session_not_re_timed() {
    let moto = MotoServer::shared();
    on_each_database_with(
        |b| b,
        |gw, _path| {
            create_moto_target(gw, moto);
            let suffix = uuid::Uuid::new_v4().simple().to_string();
            let deployer = create_role(moto, &format!("deployer-{suffix}"), LIST_USERS_ONLY);
            let auditor = create_role(moto, &format!("auditor-{suffix}"), LIST_USERS_ONLY);
            let roles = format!("{deployer},{auditor}");
            for (name, mode, extra) in [
                (
                    "/sts/role",
                    "assume_role",
                    json!({"aws-role-arns": roles, "aws-external-id": "ext-1", "user-ttl": "30m"}),
                ),
                (
                    "/sts/fed",
                    "federation_token",
                    json!({"aws-policy-document": LIST_USERS_ONLY, "user-ttl": "1h"}),
                ),
                ("/sts/session", "session_token", json!({"user-ttl": "1h"})),
            ] {
                let mut body = json!({"name": name, "target-name": "/aws", "access-mode": mode});
                for (k, v) in extra.as_object().unwrap() {
                    body[k] = v.clone();
                }
                assert_eq!(
                    gw.post_authed("/gateway-create-producer-aws", body).0,
                    200,
                    "{name}"
                );
                let (status, v) = get_value(gw, name, &[]);
                assert_eq!(status, 200, "{name}: {v}");
                for key in [
                    "access_key_id",
                    "secret_access_key",
                    "security_token",
                    "expiration",
                    "ttl_in_minutes",
                    "id",
                ] {
                    assert!(
                        v[key].as_str().is_some_and(|s| !s.is_empty()),
                        "{name}: {key} missing in {v}"
                    );
                }
                if mode == "assume_role" {
                    // moto only authenticates assumed-role sessions (its federation and session
                    // tokens are a fixed key it does not know), so only these are used for real.
                    let arn = caller_arn(moto, &v).expect("assumed-role credentials authenticate");
                    assert!(
                        arn.contains(&format!("deployer-{suffix}")),
                        "the first role is the default: {arn}"
                    );
                }
                let listed = tmp_creds(gw, name);
                assert_eq!(listed.len(), 1, "{name}");
                assert_eq!(listed[0]["mode"], mode);
                assert_eq!(listed[0]["state"], "active");
                let (status, body) = gw.post_authed(
                    "/gateway-update-producer-tmp-creds",
                    json!({"name": name, "tmp-creds-id": v["id"], "new-ttl-min": 20}),
                );
                assert_eq!(status, 400, "{name}: {body}");
                // Revocation (tests/api/session_revocation.rs has the details). Federation
                // tokens are not revoked here: their deny goes on the target's IAM user, which
                // is moto's shared admin, and moto denies on any conditioned Deny statement.
                let revoke = json!({"name": name, "tmp-creds-id": v["id"]});
                match mode {
                    "assume_role" => {
                        let (status, body) =
                            gw.post_authed("/gateway-revoke-producer-tmp-creds", revoke);
                        assert_eq!(status, 200, "{name}: {body}");
                        assert!(tmp_creds(gw, name).is_empty(), "{name}: revoked");
                    }
                    "session_token" => {
                        let (status, body) =
                            gw.post_authed("/gateway-revoke-producer-tmp-creds", revoke);
                        assert_eq!(status, 400, "{name}: {body}");
                        assert!(error_of(&body).contains("revoke-all"), "{body}");
                    }
                    _ => {}
                }
            }
            // A role chosen by args must be one of the producer's; a shorter TTL is allowed, a longer one not.
            let (status, v) = get_value(
                gw,
                "/sts/role",
                &[&format!("role_arn={auditor}"), "ttl=20m"],
            );
            assert_eq!(status, 200, "{v}");
            assert_eq!(v["ttl_in_minutes"], "20");
            assert!(caller_arn(moto, &v)
                .unwrap()
                .contains(&format!("auditor-{suffix}")));
            let as_role = clients(
                moto,
                v["access_key_id"].as_str().unwrap(),
                v["secret_access_key"].as_str().unwrap(),
                v["security_token"].as_str(),
            );
            assert!(
                block_on(as_role.iam.list_users("/")).is_ok(),
                "the role's policy allows ListUsers"
            );
            assert!(
                block_on(as_role.iam.create_user(&mayfly_aws::CreateUser {
                    name: format!("intruder-{suffix}"),
                    path: "/".into(),
                    permissions_boundary: None,
                    tags: vec![],
                }))
                .is_err(),
                "and nothing else"
            );
            let (status, body) = get_value(
                gw,
                "/sts/role",
                &["role_arn=arn:aws:iam::123456789012:role/admin"],
            );
            assert_eq!(status, 400, "{body}");
            assert!(error_of(&body).contains("role_arn"));
            let (status, body) = get_value(gw, "/sts/role", &["ttl=2h"]);
            assert_eq!(status, 400, "{body}");
            assert!(error_of(&body).contains("ttl"));
        },
    );
}

#[test]
fn many_concurrent_issues_get_distinct_users_and_revoke_all_removes_them() {
    let moto = MotoServer::shared();
    let path = unique_path();
    let gw = builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        .spawn()
        .unwrap();
    create_moto_target(&gw, moto);
    assert_eq!(
        gw.post_authed("/gateway-create-producer-aws", iam_producer("/many"))
            .0,
        200
    );
    let values: Vec<Value> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| s.spawn(|| get_value(&gw, "/many", &[])))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .map(|(status, v)| {
                assert_eq!(status, 200, "{v}");
                v
            })
            .collect()
    });
    let users: BTreeSet<String> = values
        .iter()
        .map(|v| v["user"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users.len(), 16, "every credential has its own user");
    assert_eq!(
        users_under(moto, &path)
            .into_iter()
            .collect::<BTreeSet<_>>(),
        users
    );
    assert_eq!(tmp_creds(&gw, "/many").len(), 16);

    // Deleting the producer hands all of them to the revoker, which ends them right after.
    let (status, body) = gw.post_authed("/gateway-delete-producer", json!({"name": "/many"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revoking"], 16, "{body}");
    wait_until_no_users(moto, &path, Duration::from_secs(60));
    for v in values.iter().take(3) {
        assert!(caller_arn(moto, v).is_none());
    }
}

#[test]
fn tmp_creds_ttl_updates_are_bounded_and_expiry_revokes_on_time() {
    let moto = MotoServer::shared();
    let path = unique_path();
    let gw = builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        .env("MAYFLY_REVOKE_INTERVAL", "1s")
        .spawn()
        .unwrap();
    create_moto_target(&gw, moto);
    let mut p = iam_producer("/short");
    p["user-ttl"] = json!("1m");
    p["max-ttl"] = json!("10m");
    assert_eq!(gw.post_authed("/gateway-create-producer-aws", p).0, 200);
    let (status, v) = get_value(&gw, "/short", &[]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["ttl_in_minutes"], "1");
    let id = v["id"].clone();

    let (status, body) = gw.post_authed(
        "/gateway-update-producer-tmp-creds",
        json!({"name": "/short", "tmp-creds-id": id, "new-ttl-min": 11, "host": ""}),
    );
    assert_eq!(status, 400, "{body}");
    assert!(error_of(&body).contains("new-ttl-min"));
    let (status, body) = gw.post_authed(
        "/gateway-update-producer-tmp-creds",
        json!({"name": "/short", "tmp-creds-id": id, "new-ttl-min": 5, "host": ""}),
    );
    assert_eq!((status, body), (200, json!({})));
    assert_eq!(tmp_creds(&gw, "/short")[0]["custom_ttl"], 5);
    let (status, _) = gw.post_authed(
        "/gateway-update-producer-tmp-creds",
        json!({"name": "/short", "tmp-creds-id": id, "new-ttl-min": 1, "host": ""}),
    );
    assert_eq!(status, 200);

    // One minute after issue the revoker removes the user.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while !users_under(moto, &path).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "expired credential not revoked in time"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(caller_arn(moto, &v).is_none());
    assert!(tmp_creds(&gw, "/short").is_empty());
    // The revoker's work is on record.
    let (_, audit) = gw.post_authed("/get-audit-events", json!({"operation": "lease-revoked"}));
    let events = audit["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{audit}");
    assert!(events[0]["detail"]
        .as_str()
        .unwrap()
        .contains(v["id"].as_str().unwrap()));
    assert!(events[0]["access_id"]
        .as_str()
        .unwrap()
        .starts_with("gateway:"));
}

#[test]
fn aws_failures_are_clear_errors_and_leave_nothing_untracked() {
    // A private moto without auth, stopped midway: AWS unreachable.
    let mut private = MotoServer::spawn(mayfly_testkit::moto::MotoOptions::default());
    // Started before the gateway, so that it allows both endpoints.
    let moto = MotoServer::shared();
    let path = unique_path();
    let gw = builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        .spawn()
        .unwrap();
    let (status, body) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/aws", "access-key-id": "AKIAIOSFODNN7EXAMPLE", "access-key": "anything",
               "region": "us-east-1", "iam-endpoint": private.url(), "sts-endpoint": private.url()}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        gw.post_authed("/gateway-create-producer-aws", iam_producer("/p"))
            .0,
        200
    );
    let (status, v) = gw.post_authed(
        "/get-dynamic-secret-value",
        json!({"name": "/p", "timeout": 5}),
    );
    assert_eq!(status, 200, "moto is up: {v}");
    private.stop();
    let (status, body) = gw.post_authed(
        "/get-dynamic-secret-value",
        json!({"name": "/p", "timeout": 3}),
    );
    assert!(status == 503 || status == 504, "{status} {body}");
    assert!(error_of(&body).contains("AWS"), "{body}");
    assert!(body.get("access_key_id").is_none());
    // The failed attempt is tracked (creating, for the reconciler), never shown as active.
    let states: Vec<String> = tmp_creds(&gw, "/p")
        .iter()
        .map(|l| l["state"].as_str().unwrap().to_owned())
        .collect();
    assert!(states.contains(&"active".to_owned()));
    assert_eq!(
        states.iter().filter(|s| *s == "active").count(),
        1,
        "{states:?}"
    );

    // Credentials that AWS refuses: a target whose key is unknown to an auth-enforcing moto.
    let (status, _) = gw.post_authed(
        "/update-aws-target",
        json!({"name": "/aws", "access-key-id": "AKIAIOSFODNN7EXAMPLE", "access-key": "wrong",
               "iam-endpoint": moto.url(), "sts-endpoint": moto.url()}),
    );
    assert_eq!(status, 200);
    let (status, body) = gw.post_authed("/get-dynamic-secret-value", json!({"name": "/p"}));
    assert_eq!(status, 502, "{body}");
    assert!(error_of(&body).contains("AWS"), "{body}");
    assert!(
        !body.to_string().contains("wrong"),
        "the target's secret is not echoed"
    );
    assert!(users_under(moto, &path).is_empty());
}

#[test]
fn a_gateway_killed_mid_issuance_leaves_exactly_the_users_of_active_leases() {
    let moto = MotoServer::shared();
    let path = unique_path();
    let mut gw = builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        .env("MAYFLY_RECONCILE_INTERVAL", "1s")
        .env("MAYFLY_RECONCILE_MIN_AGE", "2s")
        .spawn()
        .unwrap();
    create_moto_target(&gw, moto);
    assert_eq!(
        gw.post_authed("/gateway-create-producer-aws", iam_producer("/crash"))
            .0,
        200
    );
    let token = gw.admin_token();
    let url = gw.url("/get-dynamic-secret-value");
    let client = gw.client();
    let issuers: Vec<_> = (0..12)
        .map(|i| {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(i * 15));
                let _ = client
                    .post(&url)
                    .json(&json!({"name": "/crash", "token": token}))
                    .send();
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(120));
    gw.kill();
    for t in issuers {
        t.join().unwrap();
    }
    gw.restart();
    // The reconciler finishes whatever the crash interrupted.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let leases = tmp_creds(&gw, "/crash");
        let settled = leases.iter().all(|l| l["state"] == "active");
        let active: BTreeSet<String> = leases
            .iter()
            .map(|l| l["user"].as_str().unwrap().to_owned())
            .collect();
        let in_aws: BTreeSet<String> = users_under(moto, &path).into_iter().collect();
        if settled && active == in_aws {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not settled: leases {leases:?}, users {in_aws:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let (status, _) = gw.post_authed(
        "/gateway-revoke-producer-tmp-creds",
        json!({"name": "/crash", "revoke-all": true}),
    );
    assert_eq!(status, 200);
    wait_until_no_users(moto, &path, Duration::from_secs(60));
}

#[test]
fn values_carry_server_timing_and_metrics_count_aws_calls_and_leases() {
    // Started first: gateways allow the moto servers started before them.
    let moto = MotoServer::shared();
    // On both databases: the lease gauges come from one GROUP BY over the live states.
    on_each_database_with(|b| b, |gw, _path| timing_and_metrics(gw, moto));
}

fn timing_and_metrics(gw: &mayfly_testkit::TestGateway, moto: &MotoServer) {
    create_moto_target(gw, moto);
    assert_eq!(
        gw.post_authed("/gateway-create-producer-aws", iam_producer("/timed"))
            .0,
        200
    );
    let res = gw
        .client()
        .post(gw.url("/get-dynamic-secret-value"))
        .json(&json!({"name": "/timed", "token": gw.admin_token()}))
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let timing = res
        .headers()
        .get("server-timing")
        .expect("Server-Timing")
        .to_str()
        .unwrap()
        .to_owned();
    let dur = |name: &str| -> f64 {
        let part = timing
            .split(',')
            .map(str::trim)
            .find(|p| p.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {timing}"));
        part.split("dur=").nth(1).unwrap().parse().unwrap()
    };
    assert!(dur("aws") > 0.0, "AWS time is measured: {timing}");
    assert!(dur("gateway") >= 0.0, "{timing}");

    let metrics = gw
        .client()
        .get(gw.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for line in [
        r#"mayfly_aws_calls_total{action="iam:CreateUser",outcome="ok"} 1"#,
        r#"mayfly_aws_calls_total{action="iam:CreateAccessKey",outcome="ok"} 1"#,
        r#"mayfly_http_requests_total{operation="get-dynamic-secret-value",status="200"} 1"#,
        r#"mayfly_leases{state="active"} 1"#,
        r#"mayfly_leases{state="creating"} 0"#,
        r#"mayfly_leases{state="revoke_failed"} 0"#,
        "mayfly_log_lines_dropped_total 0",
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    assert!(
        !metrics.contains(r#"mayfly_leases{state="revoked"}"#),
        "finished leases are history, not a gauge:\n{metrics}"
    );
    assert!(metrics.contains("mayfly_aws_call_duration_seconds_bucket"));
    assert!(metrics.contains("mayfly_db_pool_connections"));
    let (status, _) = gw.post_authed(
        "/gateway-revoke-producer-tmp-creds",
        json!({"name": "/timed", "revoke-all": true}),
    );
    assert_eq!(status, 200);
}
