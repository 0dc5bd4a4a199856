//! Retention: audit events and finished leases older than their settings are deleted by
//! housekeeping; recent ones, and live leases of any age, stay.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement};

use crate::{aws::block_on, helpers::builder};

const DAY_MS: i64 = 86_400_000;

#[test]
fn old_audit_events_and_finished_leases_are_deleted_and_the_rest_kept() {
    let gw = builder()
        .env("MAYFLY_HOUSEKEEPING_INTERVAL", "1s")
        .env("MAYFLY_AUDIT_RETENTION_DAYS", "90")
        .env("MAYFLY_LEASE_RETENTION_DAYS", "30")
        .spawn()
        .unwrap();
    let now = mayfly_store::now_millis();
    let url = gw.database_url();
    let count = |sql: &'static str| {
        let url = url.clone();
        block_on(async move {
            let db = mayfly_store::connect(&url, 1).await.unwrap();
            let row = db
                .query_one(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        })
    };
    block_on(async {
        let db = mayfly_store::connect(&url, 1).await.unwrap();
        for (i, age_days) in [(1, 100), (2, 91), (3, 89), (4, 1)] {
            db.execute_unprepared(&format!(
                "INSERT INTO audit_events (at, request_id, access_id, operation, item, outcome, status, client_address, detail) \
                 VALUES ({}, '', 'p-old{i}', 'retention-test', '', 'ok', 200, '', '')",
                now - age_days * DAY_MS
            ))
            .await
            .unwrap();
        }
        for (id, state, age_days) in [
            ("l-old-revoked", "revoked", 40),
            ("l-old-aborted", "aborted", 31),
            ("l-old-expired", "expired", 35),
            ("l-new-revoked", "revoked", 2),
            ("l-live-creating", "creating", 400),
        ] {
            let at = now - age_days * DAY_MS;
            db.execute_unprepared(&format!(
                "INSERT INTO leases (id, producer_id, producer_name, target_id, mode, state, created_by, client_address, created_at, expires_at, updated_at) \
                 VALUES ('{id}', 999, '/gone', 999, 'session_token', '{state}', 'p-x', '', {at}, {at}, {at})"
            ))
            .await
            .unwrap();
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while count("SELECT COUNT(*) FROM audit_events WHERE operation = 'retention-test'") > 2
        || count("SELECT COUNT(*) FROM leases WHERE id LIKE 'l-old-%'") > 0
    {
        assert!(
            Instant::now() < deadline,
            "housekeeping did not prune: {} {}",
            count("SELECT COUNT(*) FROM audit_events WHERE operation = 'retention-test'"),
            count("SELECT COUNT(*) FROM leases WHERE id LIKE 'l-old-%'")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_events WHERE access_id IN ('p-old3', 'p-old4')"),
        2,
        "events within 90 days stay"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM leases WHERE id IN ('l-new-revoked', 'l-live-creating')"),
        2,
        "a recent finished lease and a live lease of any age stay"
    );
}
