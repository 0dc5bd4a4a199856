//! The testkit against the real `mayfly-gateway` binary: start, requests, kill, restart,
//! clean-up. These fail when the gateway cannot start, which is what they are for.

use std::net::{Ipv4Addr, TcpListener};

use mayfly_testkit::postgres::{self, database_exists};
use mayfly_testkit::TestGateway;
use serde_json::{json, Value};

fn assert_serves(gateway: &TestGateway) {
    let (status, body) = gateway.post("/health", json!({}));
    assert_eq!(status, 200, "{body}");
    let ready = gateway
        .client()
        .get(gateway.url("/health/ready"))
        .send()
        .expect("GET /health/ready");
    assert_eq!(ready.status().as_u16(), 200);
}

#[test]
fn sqlite_gateway_serves_https_with_its_own_ca() {
    let gateway = TestGateway::spawn_sqlite();
    assert!(gateway.base_url().starts_with("https://127.0.0.1:"));
    assert!(gateway.ca_cert_path().is_file());
    assert!(gateway.data_dir().is_dir());
    assert!(gateway.database_url().starts_with("sqlite://"));
    assert!(!gateway.is_postgres());
    assert_serves(&gateway);

    let token = gateway.admin_token();
    assert!(token.starts_with("t-"), "{token}");
    assert_eq!(gateway.admin_token(), token, "the token is cached");

    let logs = gateway.logs();
    assert!(logs.contains("=== mayfly-testkit: starting"), "{logs}");
    assert!(
        logs.lines().count() > 1,
        "the gateway printed nothing: {logs}"
    );
}

#[test]
fn wrong_admin_key_is_refused_and_non_json_bodies_are_kept() {
    let gateway = TestGateway::spawn_sqlite();
    let (status, body) = gateway.post(
        "auth",
        json!({"access-id": gateway.admin_access_id(), "access-key": "wrong", "access-type": "access_key"}),
    );
    assert_eq!(status, 401, "{body}");
    assert!(
        body.get("error").and_then(Value::as_str).is_some(),
        "{body}"
    );
}

#[test]
fn authed_requests_carry_the_token() {
    let gateway = TestGateway::spawn_sqlite();
    let (status, body) = gateway.post("/list-targets", json!({}));
    assert_eq!(status, 401, "no token must be refused: {body}");
    let (status, body) = gateway.post_authed("/list-targets", json!({}));
    assert_eq!(status, 200, "{body}");
    assert!(body.get("targets").is_some_and(Value::is_array), "{body}");
}

#[test]
fn data_survives_kill_and_restart() {
    let mut gateway = TestGateway::spawn_sqlite();
    let ca_before = std::fs::read(gateway.ca_cert_path()).expect("CA");
    let (status, body) = gateway.post_authed(
        "/target-create-aws",
        json!({"name": "/testkit/persisted", "access-key-id": "AKIAIOSFODNN7EXAMPLE", "access-key": "secret"}),
    );
    assert_eq!(status, 200, "{body}");

    gateway.kill();
    assert!(!gateway.is_running());
    assert!(gateway.pid().is_none());
    assert!(
        gateway.client().get(gateway.url("/health")).send().is_err(),
        "a killed gateway must not answer"
    );

    gateway.restart();
    assert!(gateway.is_running());
    assert_eq!(
        std::fs::read(gateway.ca_cert_path()).expect("CA"),
        ca_before
    );
    let (status, body) = gateway.post_authed("/target-get", json!({"name": "/testkit/persisted"}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["target_name"], "/testkit/persisted");
    assert_eq!(
        gateway
            .logs()
            .matches("=== mayfly-testkit: starting")
            .count(),
        2
    );
}

#[test]
fn restart_moves_to_a_new_port_when_the_old_one_is_taken() {
    let mut gateway = TestGateway::spawn_sqlite();
    let old_port = gateway.port();
    gateway.kill();
    let _squatter = TcpListener::bind((Ipv4Addr::LOCALHOST, old_port)).expect("take the old port");
    gateway.restart();
    assert_ne!(gateway.port(), old_port);
    assert_serves(&gateway);
}

#[test]
fn postgres_gateway_uses_a_fresh_database_that_is_dropped_afterwards() {
    let Some(gateway) = TestGateway::spawn_postgres() else {
        return;
    };
    assert!(gateway.is_postgres());
    assert!(gateway.sqlite_path().is_none());
    assert_serves(&gateway);
    assert!(gateway.admin_token().starts_with("t-"));

    let url = gateway.database_url();
    let name = url
        .rsplit('/')
        .next()
        .and_then(|last| last.split('?').next())
        .expect("database name")
        .to_owned();
    assert!(name.starts_with(postgres::DATABASE_PREFIX), "{url}");
    let server = postgres::server_url();
    assert!(database_exists(&server, &name).expect("query"));
    drop(gateway);
    assert!(
        !database_exists(&server, &name).expect("query"),
        "{name} was not dropped"
    );
}

#[test]
fn extra_environment_reaches_the_gateway() {
    // An invalid token lifetime must stop the gateway at start-up, naming the setting: proof
    // that builder variables are passed on (and that the testkit reports early exits).
    let outcome = std::panic::catch_unwind(|| {
        TestGateway::builder()
            .env("MAYFLY_TOKEN_TTL", "not-a-duration")
            .spawn()
    });
    let payload = outcome.expect_err("a gateway with an invalid token TTL must not start");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("exited before becoming ready"),
        "{message}"
    );
    assert!(message.to_uppercase().contains("TOKEN"), "{message}");
}
