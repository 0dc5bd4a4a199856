//! Rotation, black-box: the master key (`mayfly-gateway rotate-master-key`, killed midway
//! while a gateway serves) and the admin access keys of targets (against moto with IAM
//! authentication enforced).

use std::{
    collections::BTreeMap,
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use mayfly_testkit::{moto::MotoServer, TestGateway};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use serde_json::{json, Value};

use crate::{
    aws::{admin_clients, block_on, caller_arn, clients, unique_path},
    helpers::{builder, spawn_sqlite},
};

const BINARY: &str = env!("CARGO_BIN_EXE_mayfly-gateway");

/// The rotate command as an operator runs it: same data directory and database as `gw`.
pub(crate) fn rotate_command(gw: &TestGateway, delay_ms: u64) -> Command {
    let mut command = Command::new(BINARY);
    // Only what the test sets: no MAYFLY_* or DATABASE_URL from the environment running it.
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("MAYFLY_") || key_text == "DATABASE_URL" {
            command.env_remove(&key);
        }
    }
    command
        .arg("--data-dir")
        .arg(gw.data_dir())
        .arg("rotate-master-key")
        .env("DATABASE_URL", gw.database_url())
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    if delay_ms > 0 {
        command.env("MAYFLY_TEST_RESEAL_DELAY_MS", delay_ms.to_string());
    }
    command
}

fn run_rotate(gw: &TestGateway) -> Output {
    rotate_command(gw, 0)
        .output()
        .expect("running rotate-master-key")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(crate) fn db(gw: &TestGateway) -> DatabaseConnection {
    block_on(mayfly_store::connect(&gw.database_url(), 2)).expect("open the gateway's database")
}

/// How many stored values each master key id seals.
fn key_ids(db: &DatabaseConnection) -> BTreeMap<String, usize> {
    let rows = block_on(mayfly_store::entity::target::Entity::find().all(db)).expect("targets");
    let mut ids = BTreeMap::new();
    for row in rows {
        let id = row
            .sealed_credentials
            .split('.')
            .nth(1)
            .expect("v1.<keyid>.<data>")
            .to_owned();
        *ids.entry(id).or_default() += 1;
    }
    ids
}

fn key_file_ids(gw: &TestGateway) -> Vec<String> {
    std::fs::read_to_string(gw.data_dir().join("master.key"))
        .expect("master.key")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(':').next().unwrap().to_owned())
        .collect()
}

/// Every target's secret and every inline producer's key id, as the gateway reads them.
fn read_everything(gw: &TestGateway, targets: &[(String, String)], producers: &[(String, String)]) {
    for (name, secret) in targets {
        let (status, body) = gw.post_authed("/get-target-details", json!({"name": name}));
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(
            body["value"]["aws_target_details"]["aws_secret_access_key"], *secret,
            "{name}"
        );
    }
    for (name, key_id) in producers {
        let (status, body) = gw.post_authed("/gateway-get-producer", json!({"name": name}));
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["aws_access_key_id"], *key_id, "{name}");
    }
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(40));
    }
}

fn kill(child: &mut Child) {
    // Child::kill sends SIGKILL: no clean-up code of the command runs.
    child.kill().expect("SIGKILL the rotate command");
    child.wait().expect("reap the rotate command");
}

fn master_key_rotation_survives_a_kill(gw: &mut TestGateway) {
    let mut targets = Vec::new();
    for i in 0..6 {
        let name = format!("/rot/target-{i}");
        let secret = format!("target-secret-{i}-{}", uuid::Uuid::new_v4().simple());
        let (status, body) = gw.post_authed(
            "/create-aws-target",
            json!({"name": name, "access-key-id": format!("AKIAROTATE00000000{i:02}"),
                   "access-key": secret, "region": "us-east-1"}),
        );
        assert_eq!(status, 200, "{body}");
        targets.push((name, secret));
    }
    let mut producers = Vec::new();
    for i in 0..3 {
        let name = format!("/rot/inline-{i}");
        let key_id = format!("AKIAINLINE00000000{i:02}");
        let (status, body) = gw.post_authed(
            "/gateway-create-producer-aws",
            json!({"name": name, "access-mode": "session_token", "aws-access-key-id": key_id,
                   "aws-access-secret-key": format!("inline-secret-{i}"), "region": "us-east-1"}),
        );
        assert_eq!(status, 200, "{body}");
        producers.push((name, key_id));
    }
    let db = db(gw);
    assert_eq!(key_ids(&db), BTreeMap::from([("k1".to_owned(), 9)]));

    // Slow re-sealing, killed once a few values are under the new key.
    let mut child = rotate_command(gw, 300)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rotate-master-key");
    wait_for(
        "the first re-sealed values",
        Duration::from_secs(60),
        || key_ids(&db).get("k2").copied().unwrap_or(0) >= 2,
    );
    kill(&mut child);
    let midway = key_ids(&db);
    assert!(
        midway.get("k1").copied().unwrap_or(0) >= 1 && midway.get("k2").copied().unwrap_or(0) >= 2,
        "killed midway: {midway:?}"
    );
    assert_eq!(key_file_ids(gw), ["k2", "k1"], "the new key is first");

    // The gateway that was running all along reads values under both keys (it reloads the
    // key file when it meets k2), and so does a restarted one.
    read_everything(gw, &targets, &producers);
    gw.restart();
    read_everything(gw, &targets, &producers);

    // A value written meanwhile is sealed with the new key.
    let (status, body) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/rot/after", "access-key-id": "AKIAROTATEAFTER00001", "access-key": "after-secret"}),
    );
    assert_eq!(status, 200, "{body}");
    targets.push(("/rot/after".to_owned(), "after-secret".to_owned()));

    // Rerunning finishes the job with the same key.
    let out = run_rotate(gw);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("finishing"), "{stdout}");
    assert_eq!(key_ids(&db), BTreeMap::from([("k2".to_owned(), 10)]));
    assert_eq!(key_file_ids(gw), ["k2", "k1"]);
    read_everything(gw, &targets, &producers);

    // With everything under k2, the next run rotates again, to k3.
    let out = run_rotate(gw);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("generated master key k3"), "{stdout}");
    assert!(stdout.contains("re-sealed 10 of 10"), "{stdout}");
    assert_eq!(key_ids(&db), BTreeMap::from([("k3".to_owned(), 10)]));
    read_everything(gw, &targets, &producers);

    // No secret reached the key file, the command's output or the logs.
    let logs = gw.logs();
    for (_, secret) in &targets {
        assert!(!stdout.contains(secret.as_str()) && !logs.contains(secret.as_str()));
    }
}

#[test]
fn master_key_rotation_killed_midway_loses_no_secret() {
    let mut gw = spawn_sqlite();
    master_key_rotation_survives_a_kill(&mut gw);
    drop(gw);
    if let Some(mut pg) = builder().postgres(true).spawn() {
        master_key_rotation_survives_a_kill(&mut pg);
    }
}

#[test]
fn configured_master_keys_rotate_once_the_new_key_is_put_first() {
    use secrecy::ExposeSecret;
    let key = |id: &str, byte: u8| {
        mayfly_crypto::MasterKey::from_bytes(id, [byte; 32])
            .unwrap()
            .encode()
            .expose_secret()
            .to_owned()
    };
    let (old, new) = (key("old", 1), key("new", 2));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mayfly.toml");
    let configure = |keys: &str| {
        std::fs::write(&config, format!("master_key = \"{keys}\"\n")).unwrap();
    };
    configure(&old);
    let mut gw = builder().env("MAYFLY_CONFIG", &config).spawn().unwrap();
    let mut targets = Vec::new();
    for i in 0..3 {
        let (name, secret) = (format!("/env/t{i}"), format!("env-secret-{i}"));
        let (status, body) = gw.post_authed(
            "/create-aws-target",
            json!({"name": name, "access-key-id": format!("AKIAENVKEY000000000{i}"), "access-key": secret}),
        );
        assert_eq!(status, 200, "{body}");
        targets.push((name, secret));
    }
    let db = db(&gw);
    assert_eq!(key_ids(&db), BTreeMap::from([("old".to_owned(), 3)]));

    // The operator puts the new key first (keeping the old one) and restarts the gateways;
    // the rotate command runs with the same configuration.
    configure(&format!("{new},{old}"));
    gw.restart();
    read_everything(&gw, &targets, &[]);
    let mut command = rotate_command(&gw, 0);
    command.env("MAYFLY_CONFIG", &config);
    let out = command.output().unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("current master key new (from configuration)"),
        "{stdout}"
    );
    assert!(stdout.contains("re-sealed 3 of 3"), "{stdout}");
    assert!(
        stdout.contains("previous keys (old) can be removed"),
        "{stdout}"
    );
    assert_eq!(key_ids(&db), BTreeMap::from([("new".to_owned(), 3)]));
    assert!(
        !gw.data_dir().join("master.key").exists(),
        "configured keys never write a key file"
    );

    // Then the old key can go: a gateway with the new key alone reads everything.
    configure(&new);
    gw.restart();
    read_everything(&gw, &targets, &[]);

    // A configuration that lacks a key still in use is refused before anything changes.
    let mut command = rotate_command(&gw, 0);
    command.env("MAYFLY_MASTER_KEY", key("other", 3));
    let out = command.output().unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("new (3 values)"), "{stderr}");
    assert!(!stderr.contains(&new[4..]), "no key material in messages");
    assert_eq!(key_ids(&db), BTreeMap::from([("new".to_owned(), 3)]));
}

// ----- admin credential rotation against moto -----

/// A fresh IAM user with AdministratorAccess and one access key, made with the shared
/// moto admin's clients: the target's credentials for one test. Returns (user, id, secret).
pub(crate) fn target_admin_user(moto: &MotoServer, path: &str) -> (String, String, String) {
    use secrecy::ExposeSecret;
    let admin = admin_clients(moto);
    let name = format!(
        "target-admin-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    block_on(admin.iam.create_user(&mayfly_aws::CreateUser {
        name: name.clone(),
        path: path.to_owned(),
        permissions_boundary: None,
        tags: vec![],
    }))
    .expect("create the target's IAM user");
    block_on(
        admin
            .iam
            .attach_user_policy(&name, "arn:aws:iam::aws:policy/AdministratorAccess"),
    )
    .expect("attach AdministratorAccess");
    let key = block_on(admin.iam.create_access_key(&name)).expect("create its access key");
    (
        name,
        key.access_key_id,
        key.secret_access_key.expose_secret().to_owned(),
    )
}

fn user_keys(moto: &MotoServer, user: &str) -> Vec<String> {
    let mut keys = block_on(admin_clients(moto).iam.list_access_keys(user)).expect("list keys");
    keys.sort();
    keys
}

fn authenticates(moto: &MotoServer, id: &str, secret: &str) -> bool {
    block_on(clients(moto, id, secret, None).sts.get_caller_identity()).is_ok()
}

fn target_details(gw: &TestGateway, name: &str) -> (String, String) {
    let (status, body) = gw.post_authed("/get-target-details", json!({"name": name}));
    assert_eq!(status, 200, "{body}");
    let d = &body["value"]["aws_target_details"];
    (
        d["aws_access_key_id"].as_str().unwrap().to_owned(),
        d["aws_secret_access_key"].as_str().unwrap().to_owned(),
    )
}

const LIST_USERS_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","sts:GetCallerIdentity"],"Resource":"*"}]}"#;

fn issue_and_revoke(gw: &TestGateway, moto: &MotoServer, producer: &str) {
    let (status, v) = gw.post_authed(
        "/get-dynamic-secret-value",
        json!({"name": producer, "timeout": 15}),
    );
    assert_eq!(status, 200, "{producer}: {v}");
    assert!(caller_arn(moto, &v).is_some(), "the issued key works");
    let (status, body) = gw.post_authed(
        "/gateway-revoke-producer-tmp-creds",
        json!({"name": producer, "tmp-creds-id": v["id"]}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        caller_arn(moto, &v).is_none(),
        "revoked with the target's key"
    );
}

fn iam_user_producer(gw: &TestGateway, body: Value) {
    let mut body = body;
    for (k, v) in [
        ("access-mode", json!("iam_user")),
        (
            "aws-user-policies",
            json!("arn:aws:iam::aws:policy/IAMReadOnlyAccess"),
        ),
        ("aws-policy-document", json!(LIST_USERS_ONLY)),
        ("user-ttl", json!("60m")),
        ("aws-user-programmatic-access", json!(true)),
        ("region", json!("us-east-1")),
    ] {
        body[k] = v;
    }
    let (status, out) = gw.post_authed("/gateway-create-producer-aws", body);
    assert_eq!(status, 200, "{out}");
}

/// Sets a schedule the way the schedule API does, due right away.
fn schedule_now(gw: &TestGateway, which: &str) {
    let db = db(gw);
    block_on(db.execute_unprepared(&format!(
        "UPDATE targets SET rotation_interval_days = 30, rotation_due_at = 1 WHERE {which}"
    )))
    .expect("schedule the rotation");
}

#[test]
fn scheduled_admin_rotation_replaces_target_and_inline_keys_and_producers_keep_issuing() {
    let moto = MotoServer::shared();
    let path = unique_path();
    let gw = builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        .env("MAYFLY_ADMIN_ROTATION_CHECK_INTERVAL", "1s")
        // Inline credentials have no endpoints of their own.
        .env("AWS_ENDPOINT_URL", moto.url())
        .spawn()
        .expect("gateway");

    let (user, old_id, old_secret) = target_admin_user(moto, &path);
    let (status, body) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/aws", "access-key-id": old_id, "access-key": old_secret,
               "region": "us-east-1", "iam-endpoint": moto.url(), "sts-endpoint": moto.url()}),
    );
    assert_eq!(status, 200, "{body}");
    iam_user_producer(&gw, json!({"name": "/team/reader", "target-name": "/aws"}));

    let (inline_user, inline_id, inline_secret) = target_admin_user(moto, &path);
    iam_user_producer(
        &gw,
        json!({"name": "/team/inline", "aws-access-key-id": inline_id,
               "aws-access-secret-key": inline_secret}),
    );
    issue_and_revoke(&gw, moto, "/team/reader");
    issue_and_revoke(&gw, moto, "/team/inline");

    schedule_now(&gw, "name = '/aws' OR is_private");
    wait_for("the scheduled rotation", Duration::from_secs(60), || {
        target_details(&gw, "/aws").0 != old_id
            && gw
                .post_authed("/gateway-get-producer", json!({"name": "/team/inline"}))
                .1["aws_access_key_id"]
                != inline_id
    });

    // The previous keys are deleted once every gateway's cache has let go of them
    // (MAYFLY_CACHE_TTL + 1 s after the new key is stored).
    wait_for(
        "the previous keys to be deleted",
        Duration::from_secs(30),
        || user_keys(moto, &user).len() == 1 && user_keys(moto, &inline_user).len() == 1,
    );
    let (new_id, new_secret) = target_details(&gw, "/aws");
    assert!(
        authenticates(moto, &new_id, &new_secret),
        "the new key works"
    );
    assert!(
        !authenticates(moto, &old_id, &old_secret),
        "the old key is rejected"
    );
    assert_eq!(user_keys(moto, &user), vec![new_id.clone()]);
    assert!(!authenticates(moto, &inline_id, &inline_secret));
    let (_, inline_now) = gw.post_authed("/gateway-get-producer", json!({"name": "/team/inline"}));
    assert_eq!(
        user_keys(moto, &inline_user),
        vec![inline_now["aws_access_key_id"].as_str().unwrap().to_owned()]
    );

    // Producers keep issuing (and revoking) with the new keys.
    issue_and_revoke(&gw, moto, "/team/reader");
    issue_and_revoke(&gw, moto, "/team/inline");

    // The next rotation is a schedule interval away, not now.
    let db = db(&gw);
    let rows = block_on(db.query_all(sea_orm::Statement::from_string(
        db.get_database_backend(),
        "SELECT last_rotated_at, rotation_due_at FROM targets WHERE name = '/aws'",
    )))
    .unwrap();
    let last: i64 = rows[0].try_get("", "last_rotated_at").unwrap();
    let due: i64 = rows[0].try_get("", "rotation_due_at").unwrap();
    assert_eq!(due - last, 30 * 86_400_000);
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(target_details(&gw, "/aws").0, new_id, "rotated once");
    // Secrets never reach the log.
    let logs = gw.logs();
    assert!(!logs.contains(&new_secret) && !logs.contains(&old_secret));
}

/// Needs `target-rotate-credentials` in the route table (gateway/src/operation.rs).
#[test]
fn on_demand_rotation_replaces_the_key_and_producers_keep_issuing() {
    let moto = MotoServer::shared();
    let path = unique_path();
    let gw = builder()
        .env("MAYFLY_IAM_USER_PATH", &path)
        .spawn()
        .expect("gateway");
    let (user, old_id, old_secret) = target_admin_user(moto, &path);
    let (status, body) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/aws", "access-key-id": old_id, "access-key": old_secret,
               "region": "us-east-1", "iam-endpoint": moto.url(), "sts-endpoint": moto.url()}),
    );
    assert_eq!(status, 200, "{body}");
    iam_user_producer(&gw, json!({"name": "/team/reader", "target-name": "/aws"}));

    let (status, out) = gw.post_authed("/target-rotate-credentials", json!({"name": "/aws"}));
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["iam_user"], user);
    assert_eq!(out["previous_access_key_id"], old_id);
    assert_eq!(out["previous_key_deleted"], true);
    let (new_id, new_secret) = target_details(&gw, "/aws");
    assert_eq!(out["access_key_id"], new_id);
    assert!(!out.to_string().contains(&new_secret));
    assert!(authenticates(moto, &new_id, &new_secret));
    assert!(!authenticates(moto, &old_id, &old_secret));
    assert_eq!(user_keys(moto, &user), vec![new_id]);
    issue_and_revoke(&gw, moto, "/team/reader");

    let (status, _) = gw.post_authed("/target-rotate-credentials", json!({"name": "/nope"}));
    assert_eq!(status, 404);
    let (status, _) = gw.post("/target-rotate-credentials", json!({"name": "/aws"}));
    assert_eq!(status, 401);
}

#[test]
fn a_data_dir_without_a_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BINARY)
        .arg("--data-dir")
        .arg(dir.path())
        .arg("rotate-master-key")
        .env_remove("MAYFLY_MASTER_KEY")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no master key file"),
        "{}",
        text(&out.stderr)
    );
    assert!(!Path::new(&dir.path().join("master.key")).exists());
}
