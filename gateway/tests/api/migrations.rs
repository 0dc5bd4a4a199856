//! Schema migrations with replicas: gateways that start together on one empty PostgreSQL
//! database take turns (an advisory lock) instead of racing through the same DDL.

use std::thread;

use mayfly_testkit::{credentials::AdminCredentials, postgres, TestkitError};

use crate::helpers::builder;

/// Five gateways started at the same moment on a fresh PostgreSQL database all become ready
/// and serve the same admin key. Without the lock, the losers of the race fail start-up with
/// "relation ... already exists" (or a duplicate migration row).
#[test]
fn five_gateways_started_together_on_an_empty_database_all_become_ready() {
    let server = postgres::server_url();
    let database = match postgres::TestDatabase::create(&server) {
        Ok(db) => db,
        Err(TestkitError::PostgresUnreachable { url, reason }) => {
            assert!(
                !postgres::postgres_required(),
                "POSTGRES SUITE REQUIRED but {url} is unreachable: {reason}"
            );
            eprintln!("skipped: no PostgreSQL at {url} ({reason})");
            return;
        }
        Err(e) => panic!("creating a test database: {e}"),
    };
    let admin = AdminCredentials::generate();
    let url = database.url().to_owned();
    let starts: Vec<_> = (0..5)
        .map(|_| {
            let (url, admin) = (url.clone(), admin.clone());
            thread::spawn(move || {
                builder()
                    .env("DATABASE_URL", &url)
                    .env("MAYFLY_ADMIN_ACCESS_ID", &admin.access_id)
                    .env("MAYFLY_ADMIN_ACCESS_KEY", &admin.access_key)
                    .spawn()
                    .expect("PostgreSQL was reachable a moment ago")
            })
        })
        .collect();
    let gateways: Vec<_> = starts
        .into_iter()
        .map(|t| t.join().expect("every gateway becomes ready"))
        .collect();
    for gw in &gateways {
        // The testkit starts a gateway again when it exits early (meant for a port taken
        // meanwhile), which would hide a lost race: its log keeps every attempt's lines.
        let logs = gw.logs();
        assert!(
            !logs.contains("database:"),
            "a gateway failed to start on the shared database:\n{logs}"
        );
        let (status, body) = gw.post(
            "/auth",
            serde_json::json!({
                "access-type": "access_key",
                "access-id": admin.access_id,
                "access-key": admin.access_key,
            }),
        );
        assert_eq!(status, 200, "{body}");
    }
    drop(gateways);
    drop(database);
}
