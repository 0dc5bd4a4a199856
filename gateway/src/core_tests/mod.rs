//! Tests of the core's lease machinery and rotations against in-memory AWS fakes and SQLite
//! in memory. They set up targets and dynamic secrets through the gateway's handlers, so they
//! live here until those operations move into `mayfly-app` too.

mod leases;
mod rotation;
