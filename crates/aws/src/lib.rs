//! Mayfly's AWS layer: the IAM and STS calls the gateway makes, behind object-safe traits,
//! with the real SDK implementation, an in-memory fake, a deadline-aware retry policy, and
//! the `iam_user` issue and teardown algorithms.
//!
//! Map of the modules:
//! - [`api`]: the traits [`IamApi`] and [`StsApi`] and their plain data types.
//! - [`error`]: [`AwsError`], mapped from any SDK error by code and HTTP status.
//! - [`connection`]: [`AwsConnection`] (a target's credentials and endpoints) and endpoint
//!   resolution (connection, then `AWS_ENDPOINT_URL_IAM`/`_STS`, then `AWS_ENDPOINT_URL`).
//! - [`sdk`]: [`AwsFactory`], which builds SDK clients sharing one rustls (ring) HTTP client,
//!   with per-attempt timeouts and the SDK's own retries off; [`AwsFactory::guarded`] applies
//!   the outbound URL policy to every request ([`sdk::guard`]: URL check before sending,
//!   address check in the DNS resolver).
//! - [`credentials`]: credentials that are not a stored key: the gateway's own identity
//!   ([`credentials::GatewayIdentity`]) and role chaining ([`credentials::ChainedRole`]), cached.
//! - [`retry`]: [`with_retries`]: exponential backoff with full jitter, bounded by a deadline.
//! - [`iam_user`]: [`create_user_with_access`] and [`teardown_user`].
//! - [`signin`]: one-time console sign-in links through the federation endpoint.
//! - [`fake`]: [`fake::FakeIam`] and [`fake::FakeSts`] with fault injection.
//! - [`ops`]: the action names (`iam:CreateUser`) used in errors, logs and the fakes.

pub mod api;
pub mod connection;
pub mod credentials;
pub mod error;
pub mod fake;
pub mod governor;
pub mod iam_user;
pub mod ops;
pub mod retry;
pub mod sdk;
pub mod signin;

pub use api::{
    AccessKey, AssumeRole, CallerIdentity, CreateUser, FederationToken, IamApi, IamUser, StsApi,
    StsCredentials, TagPair,
};
pub use connection::{
    AwsConnection, BaseCredentials, ConnectionCredentials, ConnectionSpec, EndpointDefaults,
    RoleToAssume, DEFAULT_REGION,
};
pub use error::AwsError;
pub use iam_user::{
    create_user_with_access, teardown_user, CreatedUser, IssueFailure, TeardownReport, UserPlan,
};
pub use retry::{with_retries, RetryPolicy};
pub use sdk::guard::{EndpointRefused, GuardedResolver};
pub use sdk::{AwsClients, AwsFactory, AwsTimeouts, CallObserver, SdkIam, SdkSts};
