//! Roles, their rules and their associations with auth methods, each change authorized on
//! the role's name.
//!
//! Whoever may update a role may give it any rule, so `update` on roles is administrator
//! power (docs/security.md says so).

use mayfly_domain::{ItemName, SubClaims};
use mayfly_store::{
    access,
    entity::{role, role_rule},
    now_millis, StoreError,
};

use crate::{
    access::{authorize, listed, AuditAccess, Caller, Capability, ResourceKind},
    auth_methods,
    error::{AppError, AppResult},
    state::AppState,
};

/// A new role, checked by the front door.
#[derive(Debug)]
pub struct NewRole {
    pub name: ItemName,
    pub description: String,
    pub audit_access: AuditAccess,
    pub delete_protection: bool,
}

/// A role with its rules and the auth methods that hold it (association id, method name,
/// method access id).
#[derive(Debug)]
pub struct RoleView {
    pub role: role::Model,
    pub rules: Vec<role_rule::Model>,
    pub auth_methods: Vec<(String, String, String)>,
}

/// A rule to set or delete: its kind, its path glob and (to set) its capabilities, checked by
/// the front door (`deny` among them makes it a deny rule).
#[derive(Debug)]
pub struct RuleSpec {
    pub kind: ResourceKind,
    pub path: String,
    pub capabilities: Vec<String>,
}

fn can(caller: &Caller, capability: Capability, name: &ItemName) -> AppResult<()> {
    authorize(caller, capability, ResourceKind::Role, name.as_str())
}

async fn find(state: &AppState, name: &ItemName) -> AppResult<role::Model> {
    access::find_role(state.db(), name.as_str())
        .await?
        .ok_or_else(|| AppError::not_found(format!("no role named {name}; list-roles shows them")))
}

async fn view(state: &AppState, role: role::Model) -> AppResult<RoleView> {
    let rules = access::rules_of_role(state.db(), &role.id).await?;
    let mut methods = Vec::new();
    for a in access::associations_of_role(state.db(), &role.id).await? {
        if let Some(m) = access::find_auth_method_by_id(state.db(), &a.auth_method_id).await? {
            methods.push((a.id, m.name, m.access_id));
        }
    }
    Ok(RoleView {
        role,
        rules,
        auth_methods: methods,
    })
}

/// Creates a role (`create` on its name).
pub async fn create(state: &AppState, caller: &Caller, new: NewRole) -> AppResult<()> {
    can(caller, Capability::Create, &new.name)?;
    access::insert_role(
        state.db(),
        new.name.as_str(),
        &new.description,
        new.audit_access.as_str(),
        new.delete_protection,
        now_millis(),
    )
    .await?;
    Ok(())
}

/// One role (`read`).
pub async fn get(state: &AppState, caller: &Caller, name: &ItemName) -> AppResult<RoleView> {
    can(caller, Capability::Read, name)?;
    let role = find(state, name).await?;
    view(state, role).await
}

/// The roles the caller may `list`, whose names contain `filter` (lower-case).
pub async fn list(
    state: &AppState,
    caller: &Caller,
    filter: Option<&str>,
) -> AppResult<Vec<RoleView>> {
    let mut out = Vec::new();
    for r in access::list_roles(state.db()).await? {
        if listed(caller, ResourceKind::Role, filter, &r.name) {
            out.push(view(state, r).await?);
        }
    }
    Ok(out)
}

/// Deletes a role (`delete`) unless it has delete protection.
pub async fn delete(state: &AppState, caller: &Caller, name: &ItemName) -> AppResult<()> {
    can(caller, Capability::Delete, name)?;
    let r = find(state, name).await?;
    if r.delete_protection {
        return Err(AppError::conflict(format!(
            "role {name} has delete protection"
        )));
    }
    access::delete_role(state.db(), &r.id).await?;
    Ok(())
}

/// Sets a rule of a role (`update` on the role), replacing one of the same kind and path.
pub async fn set_rule(
    state: &AppState,
    caller: &Caller,
    name: &ItemName,
    rule: &RuleSpec,
) -> AppResult<()> {
    can(caller, Capability::Update, name)?;
    let r = find(state, name).await?;
    let txn = mayfly_store::begin_write(state.db())
        .await
        .map_err(StoreError::from)?;
    access::set_rule(
        &txn,
        &r.id,
        rule.kind.rule_type(),
        &rule.path,
        &rule.capabilities.join(","),
        now_millis(),
    )
    .await?;
    txn.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Deletes the rule of a kind and path from a role (`update` on the role), or 404.
pub async fn delete_rule(
    state: &AppState,
    caller: &Caller,
    name: &ItemName,
    kind: ResourceKind,
    path: &str,
) -> AppResult<()> {
    can(caller, Capability::Update, name)?;
    let r = find(state, name).await?;
    if !access::delete_rule(state.db(), &r.id, kind.rule_type(), path).await? {
        return Err(AppError::not_found(format!(
            "role {name} has no {} on {path}",
            kind.rule_type()
        )));
    }
    Ok(())
}

/// Gives an auth method a role: `update` on the role and `read` on the method. Returns the
/// association id. `sub_claims` narrows it to the JWT method's tokens whose claims match;
/// with the method's `force-sub-claims` an association without them is refused, and an API
/// key (which has no claims) takes none.
pub async fn associate(
    state: &AppState,
    caller: &Caller,
    role_name: &ItemName,
    auth_method: &ItemName,
    sub_claims: &SubClaims,
) -> AppResult<String> {
    can(caller, Capability::Update, role_name)?;
    authorize(
        caller,
        Capability::Read,
        ResourceKind::AuthMethod,
        auth_method.as_str(),
    )?;
    let r = find(state, role_name).await?;
    let m = auth_methods::find(state, auth_method).await?;
    let kind = auth_methods::kind_of(&m)?;
    if !kind.has_claims() && !sub_claims.is_empty() {
        return Err(AppError::invalid(format!(
            "sub-claims: auth method {auth_method} is an API key, whose tokens carry no claims; associate without sub-claims"
        )));
    }
    if sub_claims.is_empty() && auth_methods::forces_sub_claims(&m)? {
        return Err(AppError::invalid(format!(
            "sub-claims: required: auth method {auth_method} has force-sub-claims on, so every association must name the claims its tokens need (e.g. repository=org/repo)"
        )));
    }
    let stored = if sub_claims.is_empty() {
        String::new()
    } else {
        serde_json::to_string(&sub_claims.claims)
            .map_err(|e| AppError::internal(format!("cannot serialize sub-claims: {e}")))?
    };
    Ok(access::associate(
        state.db(),
        &r.id,
        &m.id,
        &stored,
        sub_claims.case_sensitive,
        now_millis(),
    )
    .await?
    .id)
}

/// Ends an association: `update` on its role. Only someone who may change roles in general
/// (`update` on `/`) learns that an id does not exist.
pub async fn delete_association(state: &AppState, caller: &Caller, id: &str) -> AppResult<()> {
    let found = match access::find_association(state.db(), id).await? {
        Some(a) => access::find_role_by_id(state.db(), &a.role_id).await?,
        None => None,
    };
    let Some(r) = found else {
        authorize(caller, Capability::Update, ResourceKind::Role, "/")?;
        return Err(AppError::not_found(format!("no association with id {id}")));
    };
    authorize(caller, Capability::Update, ResourceKind::Role, &r.name)?;
    access::delete_association(state.db(), id).await?;
    Ok(())
}
