//! How a producer hands out AWS credentials.
//!
//! `iam_user` creates a real IAM user per credential (and deletes it at expiry); the other
//! three are STS calls whose credentials expire on their own. Akeyless spells the assume-role
//! mode two ways (`assume_role` in the SDK and Terraform, `assumed_role` in the docs and CLI),
//! so the spelling is kept and echoed back (contract §5).

use std::fmt;

/// Which of the two accepted spellings an assume-role producer was created with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum AssumeRoleSpelling {
    /// `assume_role` (SDK docstrings, Terraform).
    #[default]
    AssumeRole,
    /// `assumed_role` (Akeyless docs prose and CLI usage).
    AssumedRole,
}

/// An access mode, remembering how `assume_role` was spelled.
///
/// Match on [`kind`](AccessMode::kind) when the spelling does not matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessMode {
    IamUser,
    AssumeRole { spelling: AssumeRoleSpelling },
    FederationToken,
    SessionToken,
}

/// The access mode without the spelling, for plain `match`es.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModeKind {
    IamUser,
    AssumeRole,
    FederationToken,
    SessionToken,
}

const SECS_15M: u64 = 15 * 60;
const SECS_12H: u64 = 12 * 3600;
const SECS_36H: u64 = 36 * 3600;
const SECS_8760H: u64 = 8760 * 3600;

impl AccessMode {
    /// `assume_role` in its usual spelling.
    pub const fn assume_role() -> Self {
        Self::AssumeRole {
            spelling: AssumeRoleSpelling::AssumeRole,
        }
    }

    /// Accepts `iam_user`, `assume_role`, `assumed_role`, `federation_token` and
    /// `session_token`, trimmed and in any letter case.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim().to_ascii_lowercase();
        match text.as_str() {
            "iam_user" => Ok(Self::IamUser),
            "assume_role" => Ok(Self::assume_role()),
            "assumed_role" => Ok(Self::AssumeRole {
                spelling: AssumeRoleSpelling::AssumedRole,
            }),
            "federation_token" => Ok(Self::FederationToken),
            "session_token" => Ok(Self::SessionToken),
            "" => Err(format!("access mode must not be empty; use {CHOICES}")),
            _ => Err(format!(
                "{:?} is not an access mode; use {CHOICES}",
                raw.trim()
            )),
        }
    }

    /// The wire spelling; for assume-role, the one the producer was created with.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::IamUser => "iam_user",
            Self::AssumeRole {
                spelling: AssumeRoleSpelling::AssumeRole,
            } => "assume_role",
            Self::AssumeRole {
                spelling: AssumeRoleSpelling::AssumedRole,
            } => "assumed_role",
            Self::FederationToken => "federation_token",
            Self::SessionToken => "session_token",
        }
    }

    pub fn kind(&self) -> ModeKind {
        match self {
            Self::IamUser => ModeKind::IamUser,
            Self::AssumeRole { .. } => ModeKind::AssumeRole,
            Self::FederationToken => ModeKind::FederationToken,
            Self::SessionToken => ModeKind::SessionToken,
        }
    }

    /// STS credentials expire on their own and cannot be revoked one by one; only `iam_user`
    /// leaves something in AWS that the gateway must tear down.
    pub fn is_sts(&self) -> bool {
        !matches!(self, Self::IamUser)
    }

    pub fn is_assume_role(&self) -> bool {
        matches!(self, Self::AssumeRole { .. })
    }

    /// The shortest and longest credential lifetime, in seconds, that AWS (or, for `iam_user`,
    /// Mayfly) allows in this mode.
    ///
    /// - `iam_user`: 60 s to 8760 h (a year); the gateway deletes the user, so AWS sets no
    ///   limit, but a forgotten year-long key is already generous.
    /// - `assume_role`: 15 min to 12 h (AssumeRole's `DurationSeconds`; the role's own
    ///   maximum session duration may be lower).
    /// - `federation_token`, `session_token`: 15 min to 36 h (GetFederationToken and
    ///   GetSessionToken with IAM user credentials).
    pub fn ttl_bounds(&self) -> (u64, u64) {
        match self.kind() {
            ModeKind::IamUser => (60, SECS_8760H),
            ModeKind::AssumeRole => (SECS_15M, SECS_12H),
            ModeKind::FederationToken | ModeKind::SessionToken => (SECS_15M, SECS_36H),
        }
    }
}

const CHOICES: &str = "iam_user, assume_role (or assumed_role), federation_token or session_token";

display_str!(AccessMode);
string_serde!(AccessMode);

impl fmt::Display for ModeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::IamUser => "iam_user",
            Self::AssumeRole => "assume_role",
            Self::FederationToken => "federation_token",
            Self::SessionToken => "session_token",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_mode_case_insensitively() {
        assert_eq!(AccessMode::parse("iam_user"), Ok(AccessMode::IamUser));
        assert_eq!(AccessMode::parse(" IAM_USER "), Ok(AccessMode::IamUser));
        assert_eq!(
            AccessMode::parse("Federation_Token"),
            Ok(AccessMode::FederationToken)
        );
        assert_eq!(
            AccessMode::parse("session_token"),
            Ok(AccessMode::SessionToken)
        );
        assert_eq!(
            AccessMode::parse("assume_role"),
            Ok(AccessMode::assume_role())
        );
    }

    #[test]
    fn assumed_role_spelling_is_echoed() {
        let mode = AccessMode::parse("assumed_role").unwrap();
        assert_eq!(mode.as_str(), "assumed_role");
        assert_eq!(mode.kind(), ModeKind::AssumeRole);
        assert!(mode.is_assume_role());
        assert_eq!(
            AccessMode::parse("ASSUMED_ROLE").unwrap().as_str(),
            "assumed_role"
        );
        assert_eq!(
            AccessMode::parse("assume_role").unwrap().as_str(),
            "assume_role"
        );
        let json = serde_json::to_string(&mode).unwrap();
        assert_eq!(json, "\"assumed_role\"");
        assert_eq!(serde_json::from_str::<AccessMode>(&json).unwrap(), mode);
    }

    #[test]
    fn rejects_unknown_modes_listing_the_choices() {
        let err = AccessMode::parse("root").unwrap_err();
        assert!(err.contains("\"root\""), "{err}");
        assert!(err.contains("federation_token"), "{err}");
        assert!(AccessMode::parse("")
            .unwrap_err()
            .contains("must not be empty"));
        assert!(AccessMode::parse("iam-user").is_err());
    }

    #[test]
    fn sts_and_bounds() {
        assert!(!AccessMode::IamUser.is_sts());
        assert!(AccessMode::assume_role().is_sts());
        assert!(AccessMode::FederationToken.is_sts());
        assert!(AccessMode::SessionToken.is_sts());
        assert_eq!(AccessMode::IamUser.ttl_bounds(), (60, 8760 * 3600));
        assert_eq!(AccessMode::assume_role().ttl_bounds(), (900, 43_200));
        assert_eq!(AccessMode::FederationToken.ttl_bounds(), (900, 129_600));
        assert_eq!(AccessMode::SessionToken.ttl_bounds(), (900, 129_600));
        assert_eq!(ModeKind::AssumeRole.to_string(), "assume_role");
        assert_eq!(AccessMode::SessionToken.to_string(), "session_token");
    }
}
