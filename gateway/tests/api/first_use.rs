//! Keys that work on first use (`wait-until-usable`): IAM is eventually consistent, so a new
//! access key can be refused for its first seconds. A proxy in front of moto makes that
//! certain (every new key is refused for its first uses); with the setting on, the gateway
//! answers only once the key works, and says `ready`.

use mayfly_aws::{AwsClients, AwsConnection, AwsFactory};
use mayfly_testkit::{moto::MotoServer, recording_proxy::RecordingProxy, TestGateway};
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::{
    aws::{block_on, runtime, users_under},
    helpers::{builder, error_of},
};

fn producer(name: &str, wait: Option<&str>) -> Value {
    let mut body = json!({"name": name, "target-name": "/aws", "access-mode": "iam_user",
        "aws-user-policies": "arn:aws:iam::aws:policy/ReadOnlyAccess", "user-ttl": "15m",
        "aws-user-programmatic-access": true, "region": "us-east-1"});
    if let Some(w) = wait {
        body["wait-until-usable"] = json!(w);
    }
    body
}

/// Clients signing with the issued key, through the proxy.
fn key_clients(proxy: &RecordingProxy, value: &Value) -> AwsClients {
    let factory = AwsFactory::from_env();
    let _guard = runtime().enter();
    let mut conn = AwsConnection::new(
        value["access_key_id"].as_str().unwrap(),
        SecretString::from(value["secret_access_key"].as_str().unwrap().to_owned()),
        "us-east-1",
    );
    conn.iam_endpoint = Some(proxy.url());
    conn.sts_endpoint = Some(proxy.url());
    factory.clients(&conn)
}

fn get_value(gw: &TestGateway, name: &str) -> (u16, Value) {
    gw.post_authed(
        "/get-dynamic-secret-value",
        json!({"name": name, "timeout": 30}),
    )
}

#[test]
fn a_key_is_handed_out_once_it_works() {
    let moto = MotoServer::shared();
    let proxy = RecordingProxy::start(moto.url());
    let path = crate::aws::unique_path();
    let (admin_id, admin_secret) = moto.admin();
    let gw = builder()
        .env(
            "MAYFLY_ALLOWED_ENDPOINTS",
            format!("{},{}", moto.url(), proxy.url()),
        )
        .env("MAYFLY_IAM_USER_PATH", &path)
        .spawn()
        .expect("gateway");
    let (s, b) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/aws", "access-key-id": admin_id, "access-key": admin_secret,
               "region": "us-east-1", "iam-endpoint": proxy.url(), "sts-endpoint": proxy.url()}),
    );
    assert_eq!(s, 200, "{b}");
    // Every new key fails its first 4 uses; the target's own key never does.
    proxy.fail_new_keys(4, &[&admin_id]);

    // Without the setting: handed out at once, and its first use fails.
    assert_eq!(
        gw.post_authed("/gateway-create-producer-aws", producer("/eager", None))
            .0,
        200
    );
    let (s, v) = get_value(&gw, "/eager");
    assert_eq!(s, 200, "{v}");
    assert!(v.get("ready").is_none(), "{v}");
    let first = block_on(key_clients(&proxy, &v).sts.get_caller_identity());
    assert!(first.is_err(), "a fresh key fails its first use: {first:?}");

    // With it: the gateway tried the key until it worked 3 times in a row.
    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        producer("/patient", Some("20s")),
    );
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["producer_details"]["wait-until-usable"], "20s", "{b}");
    let (s, v) = get_value(&gw, "/patient");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ready"], "true", "{v}");
    let key = v["access_key_id"].as_str().unwrap().to_owned();
    assert_eq!(proxy.uses_of(&key), 4 + 3, "4 refused, then 3 in a row");
    let first = block_on(key_clients(&proxy, &v).sts.get_caller_identity());
    assert!(first.is_ok(), "works on the caller's first use: {first:?}");

    // A key that does not work within the wait is still handed out (it exists and is
    // tracked), marked not ready.
    proxy.fail_new_keys(1000, &[&admin_id]);
    let (s, b) = gw.post_authed(
        "/gateway-create-producer-aws",
        producer("/hopeless", Some("2s")),
    );
    assert_eq!(s, 200, "{b}");
    let (s, v) = get_value(&gw, "/hopeless");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["ready"], "false", "{v}");
    assert_eq!(users_under(moto, &path).len(), 3, "every key is tracked");
    let m = gw
        .client()
        .get(gw.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        m.contains("mayfly_key_ready_wait_seconds_count{state=\"ready\"} 1")
            && m.contains("mayfly_key_ready_wait_seconds_count{state=\"not_ready\"} 1"),
        "{}",
        m.lines()
            .filter(|l| l.contains("key_ready"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // Checked when the producer is made.
    for (body, says) in [
        (producer("/too-long", Some("10m")), "at most 120s"),
        (
            json!({"name": "/sts", "target-name": "/aws", "access-mode": "assume_role",
                   "aws-role-arns": "arn:aws:iam::123456789012:role/x", "wait-until-usable": "true"}),
            "wait-until-usable",
        ),
        (
            {
                let mut b = producer("/console", Some("true"));
                b["aws-user-programmatic-access"] = json!(false);
                b["aws-user-console-access"] = json!(true);
                b
            },
            "programmatic",
        ),
    ] {
        let (s, b) = gw.post_authed("/gateway-create-producer-aws", body);
        assert_eq!(s, 400, "{b}");
        assert!(error_of(&b).contains(says), "{says}: {b}");
    }
}
