//! A throw-away PostgreSQL database per test gateway.
//!
//! Every gateway gets its own database (`mayfly_test_<uuid>`), created through sea-orm on the
//! server named by `MAYFLY_TEST_POSTGRES_URL` and dropped `WITH (FORCE)` when the gateway goes
//! away, so tests never see each other's rows and parallel tests never lock each other out.
//!
//! A missing server is not an error on a developer machine: the PostgreSQL suite is skipped with
//! a banner on stderr that libtest does not capture. With `MAYFLY_TEST_REQUIRE_POSTGRES=1` (set
//! by `.ci/run`) it is a failure instead, so CI can never pass by skipping.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::Url;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use uuid::Uuid;

use crate::TestkitError;

/// The server used when `MAYFLY_TEST_POSTGRES_URL` is not set: the local test PostgreSQL.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Environment variable naming the PostgreSQL server (any existing database on it).
pub const POSTGRES_URL_ENV: &str = "MAYFLY_TEST_POSTGRES_URL";

/// Environment variable that turns a skipped PostgreSQL suite into a failure.
pub const REQUIRE_POSTGRES_ENV: &str = "MAYFLY_TEST_REQUIRE_POSTGRES";

/// Prefix of every database the testkit creates, so stray ones are easy to find.
pub const DATABASE_PREFIX: &str = "mayfly_test_";

/// The server URL used to create test databases.
pub fn server_url() -> String {
    std::env::var(POSTGRES_URL_ENV)
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_owned())
}

/// Whether an unreachable server must fail the test (`MAYFLY_TEST_REQUIRE_POSTGRES=1`).
pub fn postgres_required() -> bool {
    is_required(std::env::var(REQUIRE_POSTGRES_ENV).ok().as_deref())
}

fn is_required(value: Option<&str>) -> bool {
    matches!(value.map(str::trim), Some("1") | Some("true") | Some("yes"))
}

/// A fresh, uniquely named database name.
pub fn fresh_database_name() -> String {
    format!("{DATABASE_PREFIX}{}", Uuid::new_v4().simple())
}

/// `url` with its database (the path) replaced by `database`; user, host, port and query
/// parameters are kept.
pub fn with_database(url: &str, database: &str) -> Result<String, TestkitError> {
    let mut parsed = Url::parse(url).map_err(|e| TestkitError::Url {
        url: redact(url),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        return Err(TestkitError::Url {
            url: redact(url),
            reason: "expected a postgres:// URL".into(),
        });
    }
    parsed.set_path(&format!("/{database}"));
    Ok(parsed.to_string())
}

/// `url` without its password, for messages.
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Setting the password only fails for URLs without a host, which have none anyway.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Writes a banner straight to the process's stderr. libtest captures `eprintln!` of passing
/// tests; a skipped database suite must be visible in every run, so this bypasses the capture.
pub(crate) fn loud_banner(lines: &[&str]) {
    let rule = "=".repeat(78);
    let mut text = format!("\n{rule}\n");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&rule);
    text.push('\n');
    let mut stderr = std::io::stderr().lock();
    // Nothing sensible to do if stderr is gone.
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// Announces a skipped PostgreSQL suite once per process (or panics when it is required).
pub(crate) fn skip_or_fail(reason: &str) {
    if postgres_required() {
        panic!(
            "POSTGRES SUITE REQUIRED ({REQUIRE_POSTGRES_ENV}=1) but unavailable: {reason}\n\
             Start PostgreSQL or point {POSTGRES_URL_ENV} at a server."
        );
    }
    static ANNOUNCED: OnceLock<()> = OnceLock::new();
    ANNOUNCED.get_or_init(|| {
        loud_banner(&[
            &format!("POSTGRES SUITE SKIPPED: {reason}"),
            &format!(
                "Set {POSTGRES_URL_ENV} to a reachable server (default {DEFAULT_POSTGRES_URL}),"
            ),
            &format!("or {REQUIRE_POSTGRES_ENV}=1 to make this a failure (as CI does)."),
        ]);
    });
}

/// Remembers that the server was unreachable, so later tests in the same process skip at once
/// instead of waiting for another connect timeout.
fn unreachable_memo() -> &'static OnceLock<String> {
    static UNREACHABLE: OnceLock<String> = OnceLock::new();
    &UNREACHABLE
}

/// A database created for one test gateway; dropped (with its connections) on `Drop`.
#[derive(Debug)]
pub struct TestDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates a fresh database on the server at `server_url`.
    ///
    /// Returns [`TestkitError::PostgresUnreachable`] when no server answers (the caller decides
    /// whether that skips or fails) and [`TestkitError::Postgres`] when the server answered but
    /// the database could not be created.
    pub fn create(server_url: &str) -> Result<Self, TestkitError> {
        if let Some(reason) = unreachable_memo().get() {
            return Err(TestkitError::PostgresUnreachable {
                url: redact(server_url),
                reason: reason.clone(),
            });
        }
        let name = fresh_database_name();
        let url = with_database(server_url, &name)?;
        let statement = format!("CREATE DATABASE \"{name}\"");
        let outcome = run_on_server(server_url, &statement);
        if let Err(TestkitError::PostgresUnreachable { reason, .. }) = &outcome {
            let _ = unreachable_memo().set(reason.clone());
        }
        outcome?;
        Ok(Self {
            server_url: server_url.to_owned(),
            name,
            url,
        })
    }

    /// The database's name (`mayfly_test_...`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL the gateway connects to (`DATABASE_URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database, ending any connections still open to it.
    pub fn drop_now(&self) -> Result<(), TestkitError> {
        run_on_server(
            &self.server_url,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        )
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Err(e) = self.drop_now() {
            loud_banner(&[&format!(
                "mayfly-testkit: could not drop test database {}: {e}",
                self.name
            )]);
        }
    }
}

/// Whether a database of this name exists on the server (for tests of the cleanup itself).
pub fn database_exists(server_url: &str, name: &str) -> Result<bool, TestkitError> {
    let escaped = name.replace('\'', "''");
    with_connection(server_url, |db| {
        Box::pin(async move {
            let row = db
                .query_one(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    format!("SELECT 1 AS present FROM pg_database WHERE datname = '{escaped}'"),
                ))
                .await?;
            Ok(row.is_some())
        })
    })
}

/// Runs one statement on the server's maintenance connection.
fn run_on_server(server_url: &str, statement: &str) -> Result<(), TestkitError> {
    let statement = statement.to_owned();
    with_connection(server_url, move |db| {
        Box::pin(async move {
            db.execute_unprepared(&statement).await?;
            Ok(())
        })
    })
}

type DbFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, sea_orm::DbErr>> + 'a>>;

/// Connects to `server_url` on a small current-thread runtime, runs `work`, and closes the
/// connection. sea-orm is async; the testkit is blocking, so the runtime lives only this long.
fn with_connection<T>(
    server_url: &str,
    work: impl for<'a> FnOnce(&'a DatabaseConnection) -> DbFuture<'a, T>,
) -> Result<T, TestkitError> {
    let shown = redact(server_url);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| TestkitError::io("starting a tokio runtime for PostgreSQL set-up", e))?;
    runtime.block_on(async {
        let mut options = ConnectOptions::new(server_url.to_owned());
        options
            .max_connections(1)
            .min_connections(0)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .sqlx_logging(false);
        let db =
            Database::connect(options)
                .await
                .map_err(|e| TestkitError::PostgresUnreachable {
                    url: shown.clone(),
                    reason: e.to_string(),
                })?;
        let outcome = work(&db).await.map_err(|e| TestkitError::Postgres {
            url: shown.clone(),
            reason: e.to_string(),
        });
        // Closing only fails if the pool is already closed.
        let _ = db.close().await;
        outcome
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "mayfly_test_x")
                .expect("valid"),
            "postgres://postgres@127.0.0.1:5432/mayfly_test_x"
        );
        assert_eq!(
            with_database(
                "postgresql://u:p@db.local/test?sslmode=disable",
                "mayfly_test_y"
            )
            .expect("valid"),
            "postgresql://u:p@db.local/mayfly_test_y?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432", "d").expect("valid"),
            "postgres://postgres@127.0.0.1:5432/d"
        );
    }

    #[test]
    fn non_postgres_urls_are_rejected() {
        assert!(with_database("sqlite://x.db", "d").is_err());
        assert!(with_database("not a url", "d").is_err());
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }

    #[test]
    fn fresh_names_are_unique_and_safe_identifiers() {
        let a = fresh_database_name();
        let b = fresh_database_name();
        assert_ne!(a, b);
        assert!(a.starts_with(DATABASE_PREFIX));
        assert!(
            a.len() <= 63,
            "PostgreSQL truncates identifiers at 63 bytes"
        );
        assert!(a
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
    }

    #[test]
    fn required_flag_parsing() {
        assert!(is_required(Some("1")));
        assert!(is_required(Some("true")));
        assert!(!is_required(Some("0")));
        assert!(!is_required(Some("")));
        assert!(!is_required(None));
    }

    #[test]
    fn unreachable_server_is_reported_as_unreachable() {
        // Port 1 on loopback: nothing listens there.
        let err = run_on_server("postgres://postgres@127.0.0.1:1/test", "SELECT 1")
            .expect_err("nothing listens on port 1");
        assert!(
            matches!(err, TestkitError::PostgresUnreachable { .. }),
            "{err:?}"
        );
    }
}
