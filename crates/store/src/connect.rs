//! Opening the database and bringing its schema up to date.

use std::time::Duration;

use mayfly_migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, TransactionTrait,
};

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl DatabaseKind {
    /// Recognises the URL scheme; anything else is refused before a connection is tried.
    pub fn from_url(url: &str) -> Result<Self, String> {
        if url.starts_with("sqlite:") {
            Ok(DatabaseKind::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseKind::Postgres)
        } else {
            Err("the database URL must start with sqlite:// or postgres://".to_string())
        }
    }
}

/// Connects, applies pending migrations and returns the pool.
///
/// SQLite gets WAL mode and a busy timeout so that the request handlers and background
/// workers of one gateway can write concurrently without `database is locked` errors; its
/// foreign keys are switched on (SQLite leaves them off by default).
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let kind = DatabaseKind::from_url(url).map_err(DbErr::Custom)?;
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    // PostgreSQL connections are checked before use and recycled, so a restart or failover
    // costs a few failed queries, not a pool of dead connections. A SQLite connection is a
    // local file handle that cannot drop: checking it would only add a round trip to its
    // worker thread to every query (a quarter of the control plane's CPU, docs/benchmarks.md).
    options
        .test_before_acquire(kind == DatabaseKind::Postgres)
        .idle_timeout(Duration::from_secs(300))
        .max_lifetime(Duration::from_secs(1800));
    if kind == DatabaseKind::Postgres {
        // No statement may hold a connection (and the locks it took) forever.
        options.map_sqlx_postgres_opts(|o| o.options([("statement_timeout", "30s")]));
    }
    if kind == DatabaseKind::Sqlite {
        options.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    }
    let db = Database::connect(options).await?;
    match kind {
        DatabaseKind::Postgres => migrate_under_lock(url, &db).await?,
        // One SQLite file has one writer at a time, and its migrations each run in a
        // transaction that takes the write lock: gateways cannot interleave them.
        DatabaseKind::Sqlite => Migrator::up(&db, None).await?,
    }
    Ok(db)
}

/// The key of the PostgreSQL advisory lock that serialises migrations: any fixed 64-bit
/// number no other application on the database is likely to use ("mayfly" in ASCII).
pub const MIGRATION_LOCK_KEY: i64 = 0x6d61_7966_6c79;

/// Runs the migrations while holding a session-level advisory lock, so that several gateways
/// starting at once on an empty database do not race through the same `CREATE TABLE`s (the
/// loser would fail start-up with "relation already exists"). The others wait for the lock,
/// then find every migration applied. The lock lives on a dedicated one-connection pool:
/// a session lock belongs to one connection, and the main pool could run the unlock on another.
/// If the process dies while holding it, PostgreSQL releases it with the session.
async fn migrate_under_lock(url: &str, db: &DatabaseConnection) -> Result<(), DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        // Waiting for the lock is bounded by how long another gateway's migrations take;
        // statement_timeout (not set on this pool) would cut a long one short.
        .acquire_timeout(Duration::from_secs(300))
        .sqlx_logging(false);
    let lock = Database::connect(options).await?;
    lock.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .await?;
    let outcome = Migrator::up(db, None).await;
    let unlocked = lock
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        .await;
    // Closing the pool ends the session, which releases the lock even if the unlock failed.
    let closed = lock.close().await;
    outcome?;
    unlocked?;
    closed
}

/// Cheap round trip used by the readiness probe.
pub async fn ping(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Begins a transaction that is going to write.
///
/// On SQLite a plain `BEGIN` is deferred: the transaction reads from a snapshot and asks
/// for the write lock only at its first write. If another connection committed in between
/// (the revoker ending leases, say), SQLite cannot upgrade the stale snapshot and fails at
/// once with `database is locked`, without waiting out the busy timeout. Taking the write
/// lock first, with a write that changes nothing, makes the transaction wait its turn
/// instead (sea-orm has no `BEGIN IMMEDIATE`). PostgreSQL needs nothing of the kind.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = db.begin().await?;
    if txn.get_database_backend() == DbBackend::Sqlite {
        txn.execute_unprepared("UPDATE gateway_meta SET value = value WHERE 0")
            .await?;
    }
    Ok(txn)
}
