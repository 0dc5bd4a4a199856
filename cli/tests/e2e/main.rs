//! Black-box tests of the `mayfly` binary against a real gateway started by `mayfly-testkit`.
//! All files are modules of this one test binary (one link, shared helpers).

mod access;
mod aws;
mod errors;
mod helpers;
mod issuance;
mod keyless_targets;
mod lifecycle;
mod pod_and_aws_identity;
mod workload_identity;
