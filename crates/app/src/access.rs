//! Access control: who is calling ([`Caller`]) and the one place that decides whether a
//! caller may do something to a path.
//!
//! Every operation calls [`authorize`] before touching state, whichever front door the
//! request came through. A caller carries the rules of the roles its auth method holds (a
//! path glob, a rule type and capabilities); `deny` on a matching rule wins over any allow,
//! and no matching allow means no.

use mayfly_store::AuthMethodId;

use crate::error::AppError;

/// Who is calling, resolved from a valid token, with the rules of every role it holds.
#[derive(Debug, Clone)]
pub struct Caller {
    pub access_id: String,
    pub auth_method_id: AuthMethodId,
    /// Who logged in through a JWT, Kubernetes or AWS IAM method (its identifying claim, the
    /// service account, the ARN); empty for API keys.
    pub identity: String,
    /// The claims that login kept (recorded with the credentials it gets); empty for API
    /// keys. Shared: a caller is cloned from the cache on every request.
    pub claims: std::sync::Arc<mayfly_domain::TokenClaims>,
    pub rules: Vec<Rule>,
    pub audit_access: AuditAccess,
}

/// A resolved token as the caller cache keeps it: never used past the token's expiry.
#[derive(Debug)]
pub struct CachedCaller {
    pub caller: Caller,
    pub token_expires_at: i64,
}

/// Which audit events a caller may read: the widest `audit-access` of its roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AuditAccess {
    None,
    Own,
    All,
}

impl AuditAccess {
    pub fn parse(raw: &str) -> Option<AuditAccess> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "none" | "" => Some(AuditAccess::None),
            "own" => Some(AuditAccess::Own),
            "all" => Some(AuditAccess::All),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAccess::None => "none",
            AuditAccess::Own => "own",
            AuditAccess::All => "all",
        }
    }
}

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Create,
    Read,
    Update,
    Delete,
    List,
    /// Target rules only: build producers on the target and change what they grant, without
    /// seeing its secret. `read` on a target implies it (see [`is_allowed`]).
    Use,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Create => "create",
            Capability::Read => "read",
            Capability::Update => "update",
            Capability::Delete => "delete",
            Capability::List => "list",
            Capability::Use => "use",
        }
    }
}

/// What kind of thing a path names: rules are per kind, as Akeyless rule types are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Item,
    Target,
    AuthMethod,
    Role,
}

impl ResourceKind {
    fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Item => "item",
            ResourceKind::Target => "target",
            ResourceKind::AuthMethod => "auth method",
            ResourceKind::Role => "role",
        }
    }
}

/// One access rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub kind: ResourceKind,
    pub path_glob: String,
    pub capabilities: Vec<Capability>,
    pub deny: bool,
}

/// The capabilities of every rule type: what the bootstrap administrator's role holds on `/*`
/// (its target `read` implies [`Capability::Use`]).
pub const ALL_CAPABILITIES: [Capability; 5] = [
    Capability::Create,
    Capability::Read,
    Capability::Update,
    Capability::Delete,
    Capability::List,
];

impl Capability {
    /// Parses one capability name as `set-role-rule` takes it.
    pub fn parse(raw: &str) -> Option<Capability> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "create" => Some(Capability::Create),
            "read" => Some(Capability::Read),
            "update" => Some(Capability::Update),
            "delete" => Some(Capability::Delete),
            "list" => Some(Capability::List),
            "use" => Some(Capability::Use),
            _ => None,
        }
    }
}

impl ResourceKind {
    /// The Akeyless rule type naming this kind (`item-rule`, ...).
    pub fn rule_type(self) -> &'static str {
        match self {
            ResourceKind::Item => "item-rule",
            ResourceKind::Target => "target-rule",
            ResourceKind::AuthMethod => "auth-method-rule",
            ResourceKind::Role => "role-rule",
        }
    }

    pub fn from_rule_type(raw: &str) -> Option<ResourceKind> {
        [
            ResourceKind::Item,
            ResourceKind::Target,
            ResourceKind::AuthMethod,
            ResourceKind::Role,
        ]
        .into_iter()
        .find(|k| k.rule_type() == raw)
    }
}

/// A stored rule as the authorizer uses it. Stored capabilities are written only through
/// `set-role-rule`, which validates them; anything unknown is ignored here (fails closed).
pub fn rule_from_stored(rule_type: &str, path: &str, capabilities: &str) -> Option<Rule> {
    let kind = ResourceKind::from_rule_type(rule_type)?;
    let names: Vec<&str> = capabilities
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    Some(Rule {
        kind,
        path_glob: path.to_owned(),
        deny: names.iter().any(|c| c.eq_ignore_ascii_case("deny")),
        capabilities: names.iter().filter_map(|c| Capability::parse(c)).collect(),
    })
}

/// Allows or refuses `capability` on `path` of `kind` for `caller`.
pub fn authorize(
    caller: &Caller,
    capability: Capability,
    kind: ResourceKind,
    path: &str,
) -> Result<(), AppError> {
    if is_allowed(&caller.rules, capability, kind, path) {
        Ok(())
    } else {
        Err(AppError::Denied(format!(
            "access id {} may not {} the {} {path}; ask an administrator for a role with that capability",
            caller.access_id,
            capability.as_str(),
            kind.as_str(),
        )))
    }
}

/// Whether a listing shows `name`: it contains the (lower-cased) `filter`, if any, and the
/// caller may `list` it. Every listing filters through here, so none shows more than allowed.
pub fn listed(caller: &Caller, kind: ResourceKind, filter: Option<&str>, name: &str) -> bool {
    filter.is_none_or(|f| name.to_lowercase().contains(f))
        && authorize(caller, Capability::List, kind, name).is_ok()
}

/// True if some rule allows and no rule denies.
///
/// On targets, `read` implies `use`: whoever can read a target's secret can do anything
/// with it, so refusing them `use` would protect nothing.
pub fn is_allowed(rules: &[Rule], capability: Capability, kind: ResourceKind, path: &str) -> bool {
    let matching = rules
        .iter()
        .filter(|r| r.kind == kind && glob_matches(&r.path_glob, path));
    let mut allowed = false;
    for rule in matching {
        if rule.deny {
            return false;
        }
        allowed |= rule.capabilities.contains(&capability)
            || (kind == ResourceKind::Target
                && capability == Capability::Use
                && rule.capabilities.contains(&Capability::Read));
    }
    allowed
}

/// `*` matches any run of characters (slashes included); everything else is literal. So
/// `/a/*` matches `/a/x` and `/a/x/y` but not `/ab`, and `/*` matches everything.
pub fn glob_matches(glob: &str, path: &str) -> bool {
    let (g, p) = (glob.as_bytes(), path.as_bytes());
    let (mut gi, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while pi < p.len() {
        if gi < g.len() && g[gi] == b'*' {
            star = Some((gi, pi));
            gi += 1;
        } else if gi < g.len() && g[gi] == p[pi] {
            gi += 1;
            pi += 1;
        } else if let Some((sg, sp)) = star {
            gi = sg + 1;
            pi = sp + 1;
            star = Some((sg, sp + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_folders_only() {
        assert!(glob_matches("/*", "/anything/at/all"));
        assert!(glob_matches("/a/*", "/a/x"));
        assert!(glob_matches("/a/*", "/a/x/y"));
        assert!(!glob_matches("/a/*", "/ab"));
        assert!(!glob_matches("/a/*", "/a"));
        assert!(glob_matches("/a/b", "/a/b"));
        assert!(!glob_matches("/a/b", "/a/bc"));
        assert!(glob_matches("/team-*/aws/*", "/team-x/aws/s3"));
    }

    #[test]
    fn stored_rules_parse_and_unknown_ones_fail_closed() {
        let r = rule_from_stored("item-rule", "/a/*", "read,list").unwrap();
        assert_eq!(r.capabilities, vec![Capability::Read, Capability::List]);
        assert!(!r.deny);
        assert!(rule_from_stored("item-rule", "/a/*", "deny").unwrap().deny);
        assert!(rule_from_stored("sra-rule", "/a/*", "read").is_none());
    }

    #[test]
    fn target_use_is_its_own_capability_and_read_implies_it() {
        let rule = |caps: &str| rule_from_stored("target-rule", "/prod/*", caps).unwrap();
        let t = ResourceKind::Target;
        let using = vec![rule("use")];
        assert!(is_allowed(&using, Capability::Use, t, "/prod/aws"));
        assert!(
            !is_allowed(&using, Capability::Read, t, "/prod/aws"),
            "use does not reveal"
        );
        let reading = vec![rule("read")];
        assert!(is_allowed(&reading, Capability::Use, t, "/prod/aws"));
        let denied = vec![
            rule("read"),
            rule_from_stored("target-rule", "/*", "deny").unwrap(),
        ];
        assert!(!is_allowed(&denied, Capability::Use, t, "/prod/aws"));
        let item_read = vec![rule_from_stored("item-rule", "/*", "read").unwrap()];
        assert!(
            !is_allowed(&item_read, Capability::Use, ResourceKind::Item, "/x"),
            "the implication is for targets only"
        );
        assert!(!is_allowed(&item_read, Capability::Use, t, "/prod/aws"));
    }

    #[test]
    fn deny_wins_over_allow() {
        let rules = vec![
            Rule {
                kind: ResourceKind::Item,
                path_glob: "/*".into(),
                capabilities: vec![Capability::Read],
                deny: false,
            },
            Rule {
                kind: ResourceKind::Item,
                path_glob: "/secret/*".into(),
                capabilities: vec![],
                deny: true,
            },
        ];
        assert!(is_allowed(
            &rules,
            Capability::Read,
            ResourceKind::Item,
            "/a"
        ));
        assert!(!is_allowed(
            &rules,
            Capability::Read,
            ResourceKind::Item,
            "/secret/x"
        ));
        assert!(!is_allowed(
            &rules,
            Capability::Delete,
            ResourceKind::Item,
            "/a"
        ));
        assert!(!is_allowed(
            &rules,
            Capability::Read,
            ResourceKind::Target,
            "/a"
        ));
    }
}
