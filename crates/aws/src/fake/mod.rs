//! In-memory IAM and STS ([`FakeIam`], [`FakeSts`]) for unit tests of everything built on
//! [`IamApi`](crate::IamApi) and [`StsApi`](crate::StsApi).
//!
//! Always compiled (not behind `cfg(test)`): the gateway's own unit tests use them, and they
//! are small. They are stricter than moto where AWS is strict (`DeleteUser` with attachments,
//! STS durations and names), count calls per action, inject faults (`fail_next`,
//! `fail_always`, `throttle_next`) and can add latency to every call, which with
//! `tokio::time::pause()` measures concurrency without real waiting.

mod faults;
mod iam;
mod sts;

pub use iam::{FakeIam, FakeUserView, FAKE_ACCOUNT};
pub use sts::FakeSts;
