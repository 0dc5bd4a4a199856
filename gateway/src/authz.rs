//! Authorization: the one place that decides whether a caller may do something to a path.
//!
//! Every handler calls [`authorize`] before touching state. A caller carries rules (a path
//! glob, a resource kind and capabilities); `deny` on a matching rule wins over any allow.
//! Today every auth method is the bootstrap administrator with every right on `/*`; roles
//! that narrow this plug in at [`rules_for`] without touching any handler.

use crate::{authn::Caller, error::ApiError};

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Create,
    Read,
    Update,
    Delete,
    List,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Create => "create",
            Capability::Read => "read",
            Capability::Update => "update",
            Capability::Delete => "delete",
            Capability::List => "list",
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

/// The rules of an auth method. Until roles exist, every auth method is an administrator.
pub fn rules_for(_auth_method_id: &str) -> Vec<Rule> {
    [
        ResourceKind::Item,
        ResourceKind::Target,
        ResourceKind::AuthMethod,
        ResourceKind::Role,
    ]
    .into_iter()
    .map(|kind| Rule {
        kind,
        path_glob: "/*".into(),
        capabilities: vec![
            Capability::Create,
            Capability::Read,
            Capability::Update,
            Capability::Delete,
            Capability::List,
        ],
        deny: false,
    })
    .collect()
}

/// Allows or refuses `capability` on `path` of `kind` for `caller`.
pub fn authorize(
    caller: &Caller,
    capability: Capability,
    kind: ResourceKind,
    path: &str,
) -> Result<(), ApiError> {
    if is_allowed(&caller.rules, capability, kind, path) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "access id {} may not {} the {} {path}; ask an administrator for a role with that capability",
            caller.access_id,
            capability.as_str(),
            kind.as_str(),
        )))
    }
}

/// True if some rule allows and no rule denies.
pub fn is_allowed(rules: &[Rule], capability: Capability, kind: ResourceKind, path: &str) -> bool {
    let matching = rules
        .iter()
        .filter(|r| r.kind == kind && glob_matches(&r.path_glob, path));
    let mut allowed = false;
    for rule in matching {
        if rule.deny {
            return false;
        }
        allowed |= rule.capabilities.contains(&capability);
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
