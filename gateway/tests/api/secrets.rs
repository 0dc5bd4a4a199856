//! Secrets never appear in responses other than their own creation and get-target-details,
//! in the logs, or in the database file in plain text.

use serde_json::json;

use crate::helpers::{iam_user_body, spawn_sqlite, KEY_ID};

#[test]
fn known_secrets_stay_out_of_the_database_file_logs_and_other_responses() {
    let gw = spawn_sqlite();
    let target_secret = "TargetSecret/ZZZ+known-value-0123456789";
    let inline_secret = "InlineSecret/YYY+known-value-9876543210";
    let session_token = "SessionTokenXXXknownvalue55555";
    let token = gw.admin_token();

    let (status, body) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/t", "access-key-id": KEY_ID, "access-key": target_secret, "session-token": session_token}),
    );
    assert_eq!(status, 200, "{body}");
    let mut responses = vec![body];
    let (status, body) = gw.post_authed(
        "/gateway-create-producer-aws",
        json!({"name": "/inline", "access-mode": "iam_user", "aws-access-key-id": KEY_ID,
               "aws-access-secret-key": inline_secret, "region": "us-east-1"}),
    );
    assert_eq!(status, 200, "{body}");
    responses.push(body);
    responses.push(
        gw.post_authed(
            "/gateway-create-producer-aws",
            iam_user_body("/named", "/t"),
        )
        .1,
    );
    for (path, body) in [
        ("/get-target", json!({"name": "/t"})),
        ("/list-targets", json!({})),
        ("/gateway-get-producer", json!({"name": "/inline"})),
        ("/gateway-get-producer", json!({"name": "/named"})),
        ("/gateway-list-producers", json!({})),
        ("/list-items", json!({})),
    ] {
        let (status, resp) = gw.post_authed(path, body);
        assert_eq!(status, 200);
        responses.push(resp);
    }
    // Failures must not echo secrets either.
    responses.push(
        gw.post_authed(
            "/create-aws-target",
            json!({"name": "/t", "access-key-id": KEY_ID, "access-key": target_secret}),
        )
        .1,
    );
    responses.push(
        gw.post(
            "/auth",
            json!({"access-id": gw.admin_access_id(), "access-key": target_secret}),
        )
        .1,
    );

    let (_, details) = gw.post_authed("/get-target-details", json!({"name": "/t"}));
    assert_eq!(
        details["value"]["aws_target_details"]["aws_secret_access_key"],
        target_secret
    );
    assert_eq!(
        details["value"]["aws_target_details"]["aws_session_token"],
        session_token
    );

    let all_responses = serde_json::to_string(&responses).unwrap();
    let logs = gw.logs();
    assert!(
        logs.contains("request finished"),
        "the log is captured: {logs}"
    );
    let mut db_bytes = std::fs::read(gw.sqlite_path().unwrap()).unwrap();
    for suffix in ["-wal", "-shm"] {
        let path = format!("{}{suffix}", gw.sqlite_path().unwrap().display());
        if let Ok(extra) = std::fs::read(path) {
            db_bytes.extend(extra);
        }
    }
    let db_text = String::from_utf8_lossy(&db_bytes);
    for secret in [
        target_secret,
        inline_secret,
        session_token,
        gw.admin_access_key(),
        token.as_str(),
    ] {
        assert!(!all_responses.contains(secret), "a response leaks {secret}");
        assert!(!logs.contains(secret), "the log leaks {secret}");
        assert!(
            !db_text.contains(secret),
            "the database file holds {secret} in plain text"
        );
    }
}

/// The data directory and the SQLite files (sealed secrets, token hashes, the audit trail) are
/// owner-only: created so, and narrowed at start when someone opened them up.
#[test]
fn the_data_directory_and_database_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let with_suffix = |p: &std::path::Path, s: &str| {
        let mut name = p.as_os_str().to_owned();
        name.push(s);
        std::path::PathBuf::from(name)
    };
    let mut gw = spawn_sqlite();
    // A write, so that the WAL files exist.
    let (status, body) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/t", "access-key-id": KEY_ID, "access-key": "Secret/abc+0123456789"}),
    );
    assert_eq!(status, 200, "{body}");
    let db = gw.sqlite_path().expect("a SQLite gateway");
    let files = [
        db.clone(),
        with_suffix(&db, "-wal"),
        with_suffix(&db, "-shm"),
    ];
    assert_eq!(mode(gw.data_dir()), 0o700);
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }

    gw.kill();
    let open_up = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    open_up(gw.data_dir(), 0o755);
    open_up(&db, 0o644);
    gw.restart();
    assert_eq!(mode(gw.data_dir()), 0o700);
    assert_eq!(mode(&db), 0o600);
    let within = std::time::Duration::from_secs(10);
    assert!(
        gw.wait_for_log("narrowed it to 0700", within)
            && gw.wait_for_log("narrowed it to 0600", within),
        "the log says what was narrowed"
    );
    assert_eq!(gw.post_authed("/list-targets", json!({})).0, 200);
}
