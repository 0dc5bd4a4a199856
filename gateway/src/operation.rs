//! The closed set of API operations and the paths that name them.
//!
//! Akeyless has three generations of names for the same operations (`create-aws-target`,
//! `target-create-aws`, `dynamic-secret-*` ...). They map onto one [`Operation`] each; the
//! [`Flavor`] keeps the few differences in response shape. Paths are matched
//! case-insensitively, at the root and under `/api/v2/`, as the Akeyless gateway does.

/// Which generation of the API a path belongs to, where the response shape differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `create-aws-target`, `gateway-*`.
    Old,
    /// `target-*`, `dynamic-secret-*`.
    New,
    /// `update-aws-target-details`.
    Details,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Auth,
    TargetCreate(Flavor),
    TargetUpdate(Flavor),
    TargetGet,
    TargetGetDetails,
    TargetList,
    TargetDelete,
    ProducerCreate(Flavor),
    ProducerUpdate(Flavor),
    ProducerGet,
    ProducerList,
    ProducerDelete(Flavor),
    ListItems,
    GetValue,
    TmpCredsList,
    TmpCredsRevoke,
    TmpCredsUpdate,
    AuthMethodCreate,
    AuthMethodGet,
    AuthMethodList,
    AuthMethodDelete,
    AuthMethodResetKey,
    AuthMethodUpdate,
    RoleCreate,
    RoleGet,
    RoleList,
    RoleDelete,
    RoleRuleSet,
    RoleRuleDelete,
    RoleAssoc,
    RoleAssocDelete,
    TokenRevoke,
    AuditEvents,
    TargetRotateCredentials,
    ProducerRotateCredentials,
}

/// Every path and its operation. Also the source for documentation and route tests.
pub const ROUTES: &[(&str, Operation)] = &[
    ("auth", Operation::Auth),
    ("create-aws-target", Operation::TargetCreate(Flavor::Old)),
    ("target-create-aws", Operation::TargetCreate(Flavor::New)),
    ("update-aws-target", Operation::TargetUpdate(Flavor::Old)),
    (
        "update-aws-target-details",
        Operation::TargetUpdate(Flavor::Details),
    ),
    ("target-update-aws", Operation::TargetUpdate(Flavor::New)),
    ("get-target", Operation::TargetGet),
    ("target-get", Operation::TargetGet),
    ("get-target-details", Operation::TargetGetDetails),
    ("target-get-details", Operation::TargetGetDetails),
    ("list-targets", Operation::TargetList),
    ("target-list", Operation::TargetList),
    ("delete-target", Operation::TargetDelete),
    ("target-delete", Operation::TargetDelete),
    (
        "gateway-create-producer-aws",
        Operation::ProducerCreate(Flavor::Old),
    ),
    (
        "dynamic-secret-create-aws",
        Operation::ProducerCreate(Flavor::New),
    ),
    (
        "gateway-update-producer-aws",
        Operation::ProducerUpdate(Flavor::Old),
    ),
    (
        "dynamic-secret-update-aws",
        Operation::ProducerUpdate(Flavor::New),
    ),
    ("gateway-get-producer", Operation::ProducerGet),
    ("dynamic-secret-get", Operation::ProducerGet),
    ("gateway-list-producers", Operation::ProducerList),
    ("dynamic-secret-list", Operation::ProducerList),
    (
        "gateway-delete-producer",
        Operation::ProducerDelete(Flavor::Old),
    ),
    (
        "dynamic-secret-delete",
        Operation::ProducerDelete(Flavor::New),
    ),
    ("list-items", Operation::ListItems),
    ("get-dynamic-secret-value", Operation::GetValue),
    ("dynamic-secret-get-value", Operation::GetValue),
    ("gateway-get-producer-tmp-creds", Operation::TmpCredsList),
    ("dynamic-secret-tmp-creds-get", Operation::TmpCredsList),
    (
        "gateway-revoke-producer-tmp-creds",
        Operation::TmpCredsRevoke,
    ),
    ("dynamic-secret-tmp-creds-delete", Operation::TmpCredsRevoke),
    (
        "gateway-update-producer-tmp-creds",
        Operation::TmpCredsUpdate,
    ),
    ("dynamic-secret-tmp-creds-update", Operation::TmpCredsUpdate),
    ("create-auth-method", Operation::AuthMethodCreate),
    ("get-auth-method", Operation::AuthMethodGet),
    ("list-auth-methods", Operation::AuthMethodList),
    ("delete-auth-method", Operation::AuthMethodDelete),
    ("reset-access-key", Operation::AuthMethodResetKey),
    ("update-auth-method", Operation::AuthMethodUpdate),
    ("auth-method-update-api-key", Operation::AuthMethodUpdate),
    ("create-role", Operation::RoleCreate),
    ("get-role", Operation::RoleGet),
    ("list-roles", Operation::RoleList),
    ("delete-role", Operation::RoleDelete),
    ("set-role-rule", Operation::RoleRuleSet),
    ("delete-role-rule", Operation::RoleRuleDelete),
    ("assoc-role-am", Operation::RoleAssoc),
    ("delete-assoc", Operation::RoleAssocDelete),
    ("revoke-token", Operation::TokenRevoke),
    ("get-audit-events", Operation::AuditEvents),
    (
        "target-rotate-credentials",
        Operation::TargetRotateCredentials,
    ),
    (
        "dynamic-secret-rotate-credentials",
        Operation::ProducerRotateCredentials,
    ),
];

impl Operation {
    /// Reads that change nothing and reveal no secret: not audited when they succeed.
    pub fn is_plain_read(self) -> bool {
        matches!(
            self,
            Operation::TargetGet
                | Operation::TargetList
                | Operation::ProducerGet
                | Operation::ProducerList
                | Operation::ListItems
                | Operation::TmpCredsList
                | Operation::AuthMethodGet
                | Operation::AuthMethodList
                | Operation::RoleGet
                | Operation::RoleList
                | Operation::AuditEvents
        )
    }
}

impl Operation {
    /// Whether the operation may change what the request-path caches hold (targets,
    /// producers, auth methods, roles, rules, associations, tokens, stored keys): such a
    /// request empties this gateway's caches when it ends. Exhaustive on purpose: a new
    /// operation must decide.
    pub fn changes_configuration(self) -> bool {
        match self {
            Operation::TargetCreate(_)
            | Operation::TargetUpdate(_)
            | Operation::TargetDelete
            | Operation::ProducerCreate(_)
            | Operation::ProducerUpdate(_)
            | Operation::ProducerDelete(_)
            | Operation::AuthMethodCreate
            | Operation::AuthMethodDelete
            | Operation::AuthMethodResetKey
            | Operation::AuthMethodUpdate
            | Operation::RoleCreate
            | Operation::RoleDelete
            | Operation::RoleRuleSet
            | Operation::RoleRuleDelete
            | Operation::RoleAssoc
            | Operation::RoleAssocDelete
            | Operation::TokenRevoke
            | Operation::TargetRotateCredentials
            | Operation::ProducerRotateCredentials => true,
            Operation::Auth
            | Operation::TargetGet
            | Operation::TargetGetDetails
            | Operation::TargetList
            | Operation::ProducerGet
            | Operation::ProducerList
            | Operation::ListItems
            | Operation::GetValue
            | Operation::TmpCredsList
            | Operation::TmpCredsRevoke
            | Operation::TmpCredsUpdate
            | Operation::AuthMethodGet
            | Operation::AuthMethodList
            | Operation::RoleGet
            | Operation::RoleList
            | Operation::AuditEvents => false,
        }
    }

    /// The operation a request path names, if any.
    pub fn from_path(path: &str) -> Option<Operation> {
        let path = path.trim_end_matches('/').to_ascii_lowercase();
        let name = path
            .strip_prefix("/api/v2/")
            .or_else(|| path.strip_prefix('/'))?;
        ROUTES
            .iter()
            .find(|(route, _)| *route == name)
            .map(|(_, op)| *op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_case_insensitively_at_root_and_under_api_v2() {
        assert_eq!(
            Operation::from_path("/api/v2/Target-Create-AWS"),
            Some(Operation::TargetCreate(Flavor::New))
        );
        assert_eq!(
            Operation::from_path("/gateway-get-producer/"),
            Some(Operation::ProducerGet)
        );
        assert_eq!(Operation::from_path("/api/v3/auth"), None);
        assert_eq!(Operation::from_path("/nope"), None);
        assert_eq!(Operation::from_path("auth"), None);
    }

    #[test]
    fn every_route_is_listed_once() {
        let mut names: Vec<_> = ROUTES.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ROUTES.len());
    }
}
