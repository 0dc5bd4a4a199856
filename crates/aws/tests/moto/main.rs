//! mayfly-aws against a real moto server (one test binary; see `helpers` for the set-up).
//!
//! Most tests share one auth-enforcing moto ([`mayfly_testkit::moto::MotoServer::shared`]) and
//! isolate themselves with unique IAM paths and names; tests that stop moto start their own.
//! moto is lenient where AWS is strict (it deletes users that still have keys), so the tests
//! check what is left with list calls and with the issued keys, not only that calls succeeded.

mod errors;
mod helpers;
mod iam_user;
mod sts;
