//! Target endpoints are not an SSRF channel: only AWS's own endpoints or the operator's
//! allowed origins (`MAYFLY_ALLOWED_ENDPOINTS`), checked when saved and again when used, and
//! changing them needs the right that reveals the target's secret.

use mayfly_testkit::moto::{MotoServer, ALLOWED_ENDPOINTS_ENV};
use serde_json::{json, Value};

use crate::access::{call, key_with_rules};
use crate::aws::{unique_path, users_under};
use crate::helpers::{builder, error_of, KEY_ID};

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

fn target_body(name: &str, endpoint: Option<&str>) -> Value {
    let mut body = json!({"name": name, "access-key-id": KEY_ID, "access-key": "s3cr3t",
                          "region": "us-east-1"});
    if let Some(endpoint) = endpoint {
        body["iam-endpoint"] = json!(endpoint);
        body["sts-endpoint"] = json!(endpoint);
    }
    body
}

#[test]
fn changing_an_endpoint_needs_read_on_the_target() {
    let allowed = format!("http://127.0.0.1:{}", closed_port());
    let gw = builder()
        .env(ALLOWED_ENDPOINTS_ENV, &allowed)
        .spawn()
        .unwrap();
    let (status, body) = gw.post_authed("/create-aws-target", target_body("/team/aws", None));
    assert_eq!(status, 200, "{body}");

    // May update (and create) targets under /team, but not read their secrets.
    let (token, _) = key_with_rules(
        &gw,
        "/updater",
        &[("target-rule", "/team/*", &["create", "update", "list"])],
        "none",
    );
    let update = |body: Value| call(&gw, &token, "/update-aws-target", body);

    let (status, body) = update(json!({"name": "/team/aws", "iam-endpoint": allowed}));
    assert_eq!(status, 403, "{body}");
    let message = error_of(&body);
    assert!(
        message.contains("iam-endpoint") && message.contains("read"),
        "{message}"
    );
    let (status, body) =
        update(json!({"name": "/team/aws", "sts-endpoint": "https://sts.eu-west-1.amazonaws.com"}));
    assert_eq!(status, 403, "even AWS's own endpoint: {body}");
    let (status, body) = call(
        &gw,
        &token,
        "/create-aws-target",
        target_body("/team/new", Some(&allowed)),
    );
    assert_eq!(status, 403, "creating with endpoints: {body}");

    // Nothing changed; other fields remain the updater's to change.
    let (_, target) = gw.post_authed("/get-target", json!({"name": "/team/aws"}));
    assert!(target.get("iam-endpoint").is_none(), "{target}");
    assert!(target.get("sts-endpoint").is_none(), "{target}");
    let (status, body) = update(json!({"name": "/team/aws", "description": "still mine"}));
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &gw,
        &token,
        "/create-aws-target",
        target_body("/team/plain", None),
    );
    assert_eq!(status, 200, "{body}");

    // Re-sending the endpoint the target already has changes nothing and is allowed.
    let (status, body) = gw.post_authed(
        "/update-aws-target",
        json!({"name": "/team/aws", "iam-endpoint": format!("{allowed}/")}),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        update(json!({"name": "/team/aws", "iam-endpoint": allowed, "description": "x"}));
    assert_eq!(status, 200, "unchanged endpoint: {body}");

    // With read as well, the change is allowed.
    let (reader, _) = key_with_rules(
        &gw,
        "/owner",
        &[("target-rule", "/team/*", &["read", "update"])],
        "none",
    );
    let (status, body) = call(
        &gw,
        &reader,
        "/update-aws-target",
        json!({"name": "/team/aws", "sts-endpoint": "https://STS.eu-west-1.amazonaws.com./"}),
    );
    assert_eq!(status, 200, "{body}");
    let (_, target) = gw.post_authed("/get-target", json!({"name": "/team/aws"}));
    assert_eq!(
        target["sts-endpoint"], "https://sts.eu-west-1.amazonaws.com",
        "stored in canonical form: {target}"
    );
}

#[test]
fn endpoints_outside_aws_need_the_operator_setting() {
    // No allowed origins at all (not even the test's moto servers).
    let gw = builder().env(ALLOWED_ENDPOINTS_ENV, "").spawn().unwrap();
    let closed = closed_port();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let open = listener.local_addr().expect("address").port();

    let refused = |endpoint: &str| -> String {
        let (status, body) = gw.post_authed(
            "/create-aws-target",
            json!({"name": "/t", "access-key-id": KEY_ID, "access-key": "s", "iam-endpoint": endpoint}),
        );
        assert_eq!(status, 400, "{endpoint}: {body}");
        let message = error_of(&body).to_owned();
        assert!(message.contains("iam-endpoint"), "{message}");
        message
    };
    // Loopback, open or closed: the same refusal, naming the setting that would allow it.
    let closed_msg = refused(&format!("http://127.0.0.1:{closed}"));
    let open_msg = refused(&format!("http://127.0.0.1:{open}"));
    assert!(
        closed_msg.contains("MAYFLY_ALLOWED_ENDPOINTS"),
        "{closed_msg}"
    );
    assert_eq!(
        closed_msg.replace(&closed.to_string(), "PORT"),
        open_msg.replace(&open.to_string(), "PORT")
    );
    for trick in [
        "https://localhost",
        "https://2130706433",
        "https://[::ffff:127.0.0.1]",
        "https://169.254.169.254",
        "https://10.0.0.1",
        "https://iam.amazonaws.com@127.0.0.1",
        "https://iam.amazonaws.com.evil.example",
        "http://iam.amazonaws.com",
        "https://iam.amazonaws.com:8443",
        "https://bucket.s3.amazonaws.com",
    ] {
        refused(trick);
    }
    let (status, body) = gw.post_authed("/list-targets", json!({}));
    assert_eq!(status, 200);
    assert!(
        !body.to_string().contains("\"/t\""),
        "nothing was created: {body}"
    );

    // AWS's own endpoints need no setting.
    let (status, body) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/t", "access-key-id": KEY_ID, "access-key": "s",
               "iam-endpoint": "https://iam.amazonaws.com", "sts-endpoint": "https://sts.us-gov-west-1.amazonaws.com"}),
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_stored_endpoint_no_longer_allowed_is_refused_at_use_whether_or_not_it_listens() {
    let moto = MotoServer::shared();
    let path = unique_path();
    let port = moto.url().rsplit(':').next().unwrap().to_owned();
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let named = format!("http://localhost:{port}");
    let mut gw = builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        .env(
            ALLOWED_ENDPOINTS_ENV,
            format!("{},{closed},{named}", moto.url()),
        )
        .spawn()
        .unwrap();
    let (id, secret) = moto.admin();
    for (target, endpoint) in [
        ("/open", moto.url()),
        ("/closed", closed.as_str()),
        ("/named", named.as_str()),
    ] {
        let (status, body) = gw.post_authed(
            "/create-aws-target",
            json!({"name": target, "access-key-id": id, "access-key": secret, "region": "us-east-1",
                   "iam-endpoint": endpoint, "sts-endpoint": endpoint}),
        );
        assert_eq!(status, 200, "{body}");
        let mut producer = crate::helpers::iam_user_body(&format!("/p{target}"), target);
        producer["aws-user-groups"] = json!("");
        let (status, body) = gw.post_authed("/gateway-create-producer-aws", producer);
        assert_eq!(status, 200, "{body}");
    }
    let issue = |gw: &mayfly_testkit::TestGateway, producer: &str| {
        gw.post_authed(
            "/get-dynamic-secret-value",
            json!({"name": producer, "timeout": 10}),
        )
    };
    // While allowed, the open endpoint works: the allow-list really lets traffic through.
    let (status, body) = issue(&gw, "/p/open");
    assert_eq!(status, 200, "{body}");
    let (status, body) = gw.post_authed(
        "/gateway-revoke-producer-tmp-creds",
        json!({"name": "/p/open", "revoke-all": true}),
    );
    assert_eq!(status, 200, "{body}");
    let started = std::time::Instant::now();
    while !users_under(moto, &path).is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the user was not revoked"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    // The operator removes the setting: stored endpoints are refused at use, before any
    // connection, with the same answer for a listening port, a closed one and a host name
    // that resolves to loopback.
    gw.set_env(ALLOWED_ENDPOINTS_ENV, "");
    gw.restart();
    let mut answers = Vec::new();
    for (producer, origin) in [
        ("/p/open", moto.url()),
        ("/p/closed", closed.as_str()),
        ("/p/named", named.as_str()),
    ] {
        let (status, body) = issue(&gw, producer);
        assert_eq!(status, 502, "{producer}: {body}");
        let message = error_of(&body);
        assert!(
            message.contains(origin) && message.contains("MAYFLY_ALLOWED_ENDPOINTS"),
            "{message}"
        );
        assert!(!message.contains(&secret), "{message}");
        answers.push(message.replace(origin, "ORIGIN"));
    }
    assert_eq!(answers[0], answers[1], "open and closed ports look alike");
    assert_eq!(answers[0], answers[2]);
    assert!(
        users_under(moto, &path).is_empty(),
        "nothing was created in AWS"
    );
}
