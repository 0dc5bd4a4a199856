//! The wire format Mayfly speaks: the Akeyless Gateway REST API v2 (see
//! `shared/api-contract.md`), plus Mayfly's documented extensions.
//!
//! - [`request`]: what clients send. Every field is optional at this layer; the gateway turns
//!   these into domain types and reports every problem at once. Unknown fields are ignored
//!   because the official SDKs send many defaults that mean nothing here.
//! - [`response`]: what the gateway answers, with the JSON names the SDKs read.
//! - [`lenient`]: deserializers for the spots where real clients disagree on a JSON type
//!   (`"true"` versus `true`, `"20"` versus `20`).

pub mod access;
pub mod k8s_auth_config;
pub mod lenient;
pub mod request;
pub mod response;

/// The body of every error response: `{"error": "..."}`, as the Akeyless SDKs expect.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
}
