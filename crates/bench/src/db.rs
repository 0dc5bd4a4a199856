//! Direct database access for set-up and measurement, through the `psql` and `sqlite3`
//! command-line clients: creating and dropping PostgreSQL databases, bulk-inserting leases,
//! and reading lease states and times that the revocation row needs.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use tokio::process::Command;

/// The PostgreSQL server used for the PostgreSQL rows (`MAYFLY_BENCH_POSTGRES_URL`).
pub fn postgres_server() -> String {
    std::env::var("MAYFLY_BENCH_POSTGRES_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database the benchmark can query: a SQLite file or a PostgreSQL URL.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Db {
    /// Runs SQL and returns its output (rows `|`-separated, no headers).
    pub async fn sql(&self, sql: &str) -> Result<String> {
        let output = match self {
            Db::Sqlite(path) => {
                Command::new("sqlite3")
                    .arg("-cmd")
                    .arg(".timeout 30000")
                    .arg(path)
                    .arg(sql)
                    .output()
                    .await
            }
            Db::Postgres(url) => {
                Command::new("psql")
                    .args([
                        "-X",
                        "-q",
                        "-A",
                        "-t",
                        "-v",
                        "ON_ERROR_STOP=1",
                        "-d",
                        url,
                        "-c",
                        sql,
                    ])
                    .output()
                    .await
            }
        }
        .context("running sqlite3/psql (both must be installed for the benchmarks)")?;
        if !output.status.success() {
            bail!(
                "SQL failed ({}): {}\n{sql}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// One integer.
    pub async fn count(&self, sql: &str) -> Result<i64> {
        let out = self.sql(sql).await?;
        out.lines()
            .last()
            .unwrap_or_default()
            .trim()
            .parse()
            .with_context(|| format!("not a number: {out:?} from {sql}"))
    }

    /// Inserts `n` leases: 1 % `active` iam_user leases expiring in ten years (the revoker
    /// never touches them), the rest `revoked`, as a long-running gateway accumulates them.
    pub async fn insert_leases(&self, n: u64) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let now = chrono_millis();
        let future = now + 10 * 365 * 24 * 3600 * 1000;
        let columns = "id, producer_id, producer_name, target_id, mode, state, iam_user_name, \
            iam_user_path, access_key_id, created_by, client_address, created_at, expires_at, \
            updated_at, attempts, next_attempt_at, ended_at";
        let select = |x: &str| {
            format!(
                "SELECT 'bench-' || {x}, 1, '/bench/p', 1, 'iam_user', \
                 CASE WHEN {x} % 100 = 0 THEN 'active' ELSE 'revoked' END, \
                 'bench-user-' || {x}, '/mayfly/', 'AKIABENCH' || {x}, 'p-bench', '127.0.0.1', \
                 {now}, CASE WHEN {x} % 100 = 0 THEN {future} ELSE {now} END, {now}, 0, 0, \
                 CASE WHEN {x} % 100 = 0 THEN NULL ELSE {now} END"
            )
        };
        let sql = match self {
            Db::Sqlite(_) => format!(
                "BEGIN; WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL \
                 SELECT x + 1 FROM c WHERE x < {n}) INSERT INTO leases ({columns}) {} FROM c; \
                 COMMIT;",
                select("x")
            ),
            Db::Postgres(_) => format!(
                "INSERT INTO leases ({columns}) {} FROM generate_series(1, {n}) AS x; ANALYZE leases;",
                select("x")
            ),
        };
        self.sql(&sql).await.map(drop)
    }
}

impl Db {
    /// Inserts `n` finished (`revoked`) leases, ended a day ago: history only.
    pub async fn insert_finished_leases(&self, n: u64) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let then = chrono_millis() - 24 * 3600 * 1000;
        let columns = "id, producer_id, producer_name, target_id, mode, state, iam_user_name, \
            iam_user_path, access_key_id, created_by, client_address, created_at, expires_at, \
            updated_at, attempts, next_attempt_at, ended_at";
        let values = |x: &str| {
            format!(
                "SELECT 'old-' || {x}, 1, '/bench/old', 1, 'iam_user', 'revoked', \
                 'old-user-' || {x}, '/mayfly/', 'AKIAOLD' || {x}, 'p-bench', '127.0.0.1', \
                 {then}, {then}, {then}, 0, 0, {then}"
            )
        };
        let sql = match self {
            Db::Sqlite(_) => format!(
                "PRAGMA foreign_keys = OFF; BEGIN; WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL \
                 SELECT x + 1 FROM c WHERE x < {n}) INSERT INTO leases ({columns}) {} FROM c; \
                 COMMIT;",
                values("x")
            ),
            Db::Postgres(_) => format!(
                "INSERT INTO leases ({columns}) {} FROM generate_series(1, {n}) AS x; ANALYZE leases;",
                values("x")
            ),
        };
        self.sql(&sql).await.map(drop)
    }
}

/// Milliseconds since the Unix epoch, as the gateway stores times.
pub fn chrono_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// A fresh PostgreSQL database, dropped (with `WITH (FORCE)`) by [`PgDatabase::drop_now`].
pub struct PgDatabase {
    server: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create(tag: &str) -> Result<PgDatabase> {
        let server = postgres_server();
        let name = format!(
            "mayfly_bench_{tag}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Db::Postgres(server.clone())
            .sql(&format!("CREATE DATABASE \"{name}\""))
            .await
            .context("creating a PostgreSQL database (is PostgreSQL running?)")?;
        let url = match server.rsplit_once('/') {
            Some((base, _)) if base.contains("://") && base.len() > "postgres://".len() => {
                format!("{base}/{name}")
            }
            _ => bail!("MAYFLY_BENCH_POSTGRES_URL must look like postgres://user@host:port/db"),
        };
        Ok(PgDatabase { server, name, url })
    }

    pub async fn drop_now(&self) -> Result<()> {
        Db::Postgres(self.server.clone())
            .sql(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await
            .map(drop)
    }
}

/// The SQLite database of a gateway data directory.
pub fn sqlite_in(data_dir: &Path) -> Db {
    Db::Sqlite(data_dir.join("mayfly.db"))
}
