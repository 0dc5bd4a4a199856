//! The per-gateway PostgreSQL database really is created and really is dropped.

use mayfly_testkit::postgres::{self, database_exists, TestDatabase};
use mayfly_testkit::TestkitError;

#[test]
fn test_database_is_created_then_dropped() {
    let server = postgres::server_url();
    let database = match TestDatabase::create(&server) {
        Ok(database) => database,
        Err(TestkitError::PostgresUnreachable { url, reason }) => {
            assert!(
                !postgres::postgres_required(),
                "POSTGRES SUITE REQUIRED but no server at {url}: {reason}"
            );
            eprintln!("POSTGRES SUITE SKIPPED: no server at {url}: {reason}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    let name = database.name().to_owned();
    assert!(name.starts_with(postgres::DATABASE_PREFIX));
    assert!(
        database.url().ends_with(&format!("/{name}")),
        "{}",
        database.url()
    );
    assert!(database_exists(&server, &name).expect("query pg_database"));

    drop(database);
    assert!(
        !database_exists(&server, &name).expect("query pg_database"),
        "{name} still exists after drop"
    );
}
