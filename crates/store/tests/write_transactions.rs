//! Write transactions on a SQLite file shared by several connections (the gateway's own
//! pool: request handlers beside the revoker and the reconciler).

use std::time::Duration;

use mayfly_store::{begin_write, connect, DatabaseConnection, TransactionTrait};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbErr};

async fn file_db(dir: &tempfile::TempDir) -> DatabaseConnection {
    let url = format!("sqlite://{}/mayfly.db?mode=rwc", dir.path().display());
    connect(&url, 4).await.expect("connect")
}

/// Reads, lets another connection commit a write, then writes: the pattern of every
/// request that checks a row and then changes it while background workers write.
async fn read_then_write(db: &DatabaseConnection, txn: DatabaseTransaction) -> Result<(), DbErr> {
    txn.execute_unprepared("SELECT count(*) FROM gateway_meta")
        .await?;
    let other = db.clone();
    let writer = tokio::spawn(async move {
        other
            .execute_unprepared("INSERT INTO gateway_meta (key, value) VALUES ('other', 'x')")
            .await
    });
    // Give the other writer time to commit (or to queue behind our lock).
    tokio::time::sleep(Duration::from_millis(300)).await;
    txn.execute_unprepared("INSERT INTO gateway_meta (key, value) VALUES ('mine', 'y')")
        .await?;
    txn.commit().await?;
    writer.await.expect("writer task").map(|_| ())
}

#[tokio::test]
async fn a_write_transaction_waits_for_other_writers_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let db = file_db(&dir).await;
    let txn = begin_write(&db).await.unwrap();
    read_then_write(&db, txn)
        .await
        .expect("the transaction held the write lock from its start");
    let rows = db
        .query_all(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT key FROM gateway_meta WHERE key IN ('mine', 'other')",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "both writes landed");
}

/// The failure `begin_write` exists for: a deferred transaction whose snapshot went stale
/// is refused at once. If this starts passing, SQLite or sqlx changed and the helper may go.
#[tokio::test]
async fn a_deferred_transaction_fails_when_another_write_committed_since_its_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = file_db(&dir).await;
    let txn = db.begin().await.unwrap();
    let err = read_then_write(&db, txn).await.unwrap_err();
    assert!(err.to_string().contains("locked"), "{err}");
}
