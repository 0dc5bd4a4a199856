//! Mayfly's domain: the types a request is parsed into before anything touches storage or AWS.
//!
//! The rule here is "parse, don't validate": every type below has private fields and a
//! constructor that returns `Result`, so holding a value is proof that it is valid. Nothing in
//! this crate does I/O or generates randomness; callers pass random strings and clocks in.
//!
//! Map of the modules:
//! - [`name`]: item and target paths ([`ItemName`]) and folders for `list-items` ([`FolderPath`]).
//! - [`ttl`]: Go-style durations such as `60m` or `1h30m` ([`Ttl`]).
//! - [`mode`]: the four ways to hand out AWS credentials ([`AccessMode`]) and their TTL bounds.
//! - [`arn`]: IAM policy and role ARNs.
//! - [`iam`]: other IAM vocabulary: group names, user paths, tags, external ids, policy
//!   documents and comma-separated lists.
//! - [`username`]: the template for temporary IAM user names and STS session names.
//! - [`password`]: the console password policy of `iam_user` producers.
//! - [`producer`]: a producer's raw request values ([`ProducerDraft`]) and the checked
//!   definition ([`ProducerSpec`]), with every problem reported at once.
//! - [`validation`]: [`FieldError`] and [`ValidationErrors`], which name wire fields.
//! - [`outbound`]: the policy for every outbound URL the API can set ([`OutboundPolicy`]):
//!   AWS endpoint host patterns, address classes, the operator's allowed origins.
//! - [`auth_method`]: the kinds of auth method and a JWT method's settings ([`JwtSettings`]).
//! - [`claims`]: a token's claims ([`TokenClaims`]) and the claim rules of role associations
//!   ([`SubClaims`], globs).
//! - [`flag`]: the contract's `"true"`/`"false"` strings ([`parse_bool_str`]).

#[macro_use]
mod serde_str;

pub mod arn;
pub mod auth_method;
pub mod caller_attrs;
pub mod claims;
pub mod flag;
pub mod iam;
pub mod mode;
pub mod name;
pub mod outbound;
pub mod password;
pub mod producer;
pub mod sts_revocation;
pub mod target_access;
pub mod ttl;
pub mod username;
pub mod validation;

pub use arn::{PolicyArn, RoleArn};
pub use auth_method::{
    AuthMethodKind, AwsIamSettings, JwksSource, JwtSettings, K8sClusterSettings, K8sSettings,
};
pub use claims::{SubClaims, TokenClaims};
pub use flag::parse_bool_str;
pub use iam::{
    parse_comma_list, ExternalId, GroupName, PolicyDocument, Tag, TagList, TransitiveTagKeys,
    UserPath,
};
pub use mode::{AccessMode, AssumeRoleSpelling, ModeKind};
pub use name::{FolderPath, ItemName};
pub use outbound::{AllowedOrigin, AwsService, OutboundPolicy};
pub use password::{PasswordPolicy, PasswordPolicyInput};
pub use producer::{ProducerDraft, ProducerSpec};
pub use target_access::{CredentialSource, RoleChain, TargetAccess};
pub use ttl::Ttl;
pub use username::{RenderContext, UsernameTemplate};
pub use validation::{FieldError, ValidationErrors};
