//! Wire names of the producer request fields (contract §3.3 and §7), used in every error so
//! the message points at exactly what the client sent.

pub const NAME: &str = "name";
pub const ACCESS_MODE: &str = "access-mode";
pub const USER_TTL: &str = "user-ttl";
pub const MAX_TTL: &str = "max-ttl";
pub const AWS_USER_POLICIES: &str = "aws-user-policies";
pub const AWS_USER_GROUPS: &str = "aws-user-groups";
pub const AWS_ROLE_ARNS: &str = "aws-role-arns";
pub const AWS_EXTERNAL_ID: &str = "aws-external-id";
pub const SESSION_TAGS: &str = "session-tags";
pub const TRANSITIVE_TAG_KEYS: &str = "transitive-tag-keys";
pub const AWS_USER_CONSOLE_ACCESS: &str = "aws-user-console-access";
pub const AWS_USER_PROGRAMMATIC_ACCESS: &str = "aws-user-programmatic-access";
pub const PASSWORD_LENGTH: &str = "password-length";
pub const USE_CAPITAL_LETTERS: &str = "use-capital-letters";
pub const USE_LOWER_LETTERS: &str = "use-lower-letters";
pub const USE_NUMBERS: &str = "use-numbers";
pub const USE_SPECIAL_CHARACTERS: &str = "use-special-characters";
pub const CUSTOM_USERNAME_TEMPLATE: &str = "custom-username-template";
pub const AWS_POLICY_DOCUMENT: &str = "aws-policy-document";
pub const AWS_PERMISSIONS_BOUNDARY: &str = "aws-permissions-boundary";
pub const AWS_USER_PATH: &str = "aws-user-path";
pub const AWS_USER_TAGS: &str = "aws-user-tags";
pub const TAGS: &str = "tags";
/// The one field the contract spells with an underscore.
pub const DELETE_PROTECTION: &str = "delete_protection";
pub const DESCRIPTION: &str = "description";
/// Mayfly: wait until a new key works before answering.
pub const WAIT_UNTIL_USABLE: &str = "wait-until-usable";
/// Mayfly: session tags made from the caller.
pub const CALLER_SESSION_TAGS: &str = "caller-session-tags";
/// Mayfly: the session's SourceIdentity, made from the caller.
pub const SOURCE_IDENTITY: &str = "source-identity";
/// Mayfly guardrails against credential explosions.
pub const MAX_LIVE_CREDENTIALS: &str = "max-live-credentials";
pub const MAX_ISSUE_RATE: &str = "max-issue-rate";
pub const REUSE_WINDOW: &str = "reuse-window";
/// Mayfly: STS credentials that can be revoked.
pub const SESSION_REVOCATION: &str = "session-revocation";
