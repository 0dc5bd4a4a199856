//! Tests of the core's rotations against in-memory AWS fakes and SQLite in memory that also
//! go through the gateway's rotation endpoints (`routes::rotation`); the lease machinery's
//! tests live with the core (`crates/app/tests/leases.rs`).

mod rotation;
