//! Verifying the identity a workload already has, so it needs no Mayfly secret to log in.
//!
//! - [`jwt`]: a JWT (OIDC/OAuth2: GitHub Actions, GitLab CI, Kubernetes service accounts)
//!   checked against a method's keys, issuer and audiences.
//! - [`jwks`]: the keys: a JWKS document parsed into keys with the algorithms each may verify
//!   ([`KeySet`]), and the cache of fetched documents ([`JwksCache`]).
//! - [`aws_iam`]: a signed `sts:GetCallerIdentity` (cloud-id) checked and sent to STS, whose
//!   answer names the caller's ARN.
//! - [`k8s`]: the service account a verified Kubernetes token names.
//! - `fetch`: fetching a JWKS under the outbound URL policy (checked URL, checked resolved
//!   addresses, no redirects, bounded size).
//!
//! No storage and no HTTP server: `mayfly-app` decides which method a login names and what
//! the verified claims are worth.

pub mod aws_iam;
mod fetch;
pub mod jwks;
pub mod jwt;
pub mod k8s;

pub use k8s::{Cluster, ReviewError, Reviewed, Reviewer, TokenReviewer};

pub use jwks::{JwksCache, JwksError, KeySet};
pub use jwt::{Bindings, Refused};
