use mayfly_testkit::{TestGateway, TestGatewayBuilder};
use serde_json::{json, Value};

/// Runs `test` against a gateway on SQLite, then one on PostgreSQL when a server is there
/// (the testkit says loudly when it is not, and fails when `MAYFLY_TEST_REQUIRE_POSTGRES=1`).
pub fn on_each_database(test: impl Fn(&TestGateway)) {
    let sqlite = spawn_sqlite();
    test(&sqlite);
    drop(sqlite);
    if let Some(pg) = builder().postgres(true).spawn() {
        test(&pg);
    }
}

/// Like [`on_each_database`], for tests against moto: each gateway gets its own IAM path
/// (passed to `test`), so tests sharing one moto never see each other's users.
pub fn on_each_database_with(
    configure: impl Fn(TestGatewayBuilder) -> TestGatewayBuilder,
    test: impl Fn(&TestGateway, &str),
) {
    let path = crate::aws::unique_path();
    let sqlite = configure(builder().env("MAYFLY_IAM_USER_PATH", &path))
        .spawn()
        .unwrap();
    test(&sqlite, &path);
    drop(sqlite);
    let path = crate::aws::unique_path();
    if let Some(pg) = configure(builder().postgres(true).env("MAYFLY_IAM_USER_PATH", &path)).spawn()
    {
        test(&pg, &path);
    }
}

/// A builder for the gateway binary Cargo built for this test run.
pub fn builder() -> TestGatewayBuilder {
    TestGateway::builder().binary(env!("CARGO_BIN_EXE_mayfly-gateway"))
}

pub fn spawn_sqlite() -> TestGateway {
    builder().spawn().expect("a SQLite gateway always starts")
}

/// A valid AWS key pair for targets (never sent to AWS in these tests).
pub const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";

pub fn create_target(gw: &TestGateway, name: &str, secret: &str) -> Value {
    let (status, body) = gw.post_authed(
        "/create-aws-target",
        json!({"name": name, "access-key-id": KEY_ID, "access-key": secret, "region": "us-east-1"}),
    );
    assert_eq!(status, 200, "create target {name}: {body}");
    body
}

pub const POLICY: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";
pub const ROLE: &str = "arn:aws:iam::123456789012:role/deployer";

/// The SDK-shaped body of an iam_user producer on `target`.
pub fn iam_user_body(name: &str, target: &str) -> Value {
    json!({
        "name": name,
        "target-name": target,
        "access-mode": "iam_user",
        "aws-user-policies": POLICY,
        "aws-user-groups": "developers",
        "aws-user-programmatic-access": true,
        "aws-user-console-access": false,
        "user-ttl": "60m",
        "region": "us-east-2",
        "delete_protection": "false",
        "tags": ["team-a"],
        "json": false,
        "admin-rotation-interval-days": 0,
        "enable-admin-rotation": false,
        "secure-access-web": true,
    })
}

/// Everything a client can read back: used to prove a rejected request changed nothing.
pub fn snapshot(gw: &TestGateway) -> Value {
    let (_, targets) = gw.post_authed("/list-targets", json!({}));
    let (_, producers) = gw.post_authed("/gateway-list-producers", json!({}));
    let mut details = Vec::new();
    for p in producers["producers"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let (_, d) = gw.post_authed("/gateway-get-producer", json!({"name": p["name"]}));
        details.push(d);
    }
    let (_, items) = gw.post_authed("/list-items", json!({}));
    json!({"targets": targets, "producers": producers, "details": details, "items": items})
}

pub fn error_of(body: &Value) -> &str {
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error field in {body}"))
}
