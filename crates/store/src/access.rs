//! Roles, their rules, and which auth methods hold them.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::{
    entity::{auth_method, role, role_assoc, role_rule},
    AuthMethodId, Millis, RoleId, StoreError,
};

fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

pub async fn insert_role(
    db: &impl ConnectionTrait,
    name: &str,
    description: &str,
    audit_access: &str,
    delete_protection: bool,
    now: Millis,
) -> Result<role::Model, StoreError> {
    role::ActiveModel {
        id: Set(RoleId::new(new_id("rl"))),
        name: Set(name.to_owned()),
        description: Set(description.to_owned()),
        audit_access: Set(audit_access.to_owned()),
        delete_protection: Set(delete_protection),
        created_at: Set(now),
        modified_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| StoreError::from_insert(e, format!("a role named {name}")))
}

pub async fn find_role(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<role::Model>, StoreError> {
    Ok(role::Entity::find()
        .filter(role::Column::Name.eq(name))
        .one(db)
        .await?)
}

pub async fn list_roles(db: &impl ConnectionTrait) -> Result<Vec<role::Model>, StoreError> {
    Ok(role::Entity::find()
        .order_by_asc(role::Column::Name)
        .all(db)
        .await?)
}

/// Deletes a role; its rules and associations go with it (foreign keys cascade).
pub async fn delete_role(db: &impl ConnectionTrait, id: &RoleId) -> Result<(), StoreError> {
    role::Entity::delete_by_id(id.clone()).exec(db).await?;
    Ok(())
}

/// Sets the capabilities of a role on a path for one rule type, replacing any earlier rule
/// for the same path and type. Run it in a transaction.
pub async fn set_rule(
    db: &impl ConnectionTrait,
    role_id: &RoleId,
    rule_type: &str,
    path: &str,
    capabilities: &str,
    now: Millis,
) -> Result<(), StoreError> {
    delete_rule(db, role_id, rule_type, path).await?;
    role_rule::ActiveModel {
        id: Set(new_id("rr")),
        role_id: Set(role_id.clone()),
        rule_type: Set(rule_type.to_owned()),
        path: Set(path.to_owned()),
        capabilities: Set(capabilities.to_owned()),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| StoreError::from_insert(e, format!("a {rule_type} on {path}")))?;
    Ok(())
}

/// Deletes a rule; returns whether there was one.
pub async fn delete_rule(
    db: &impl ConnectionTrait,
    role_id: &RoleId,
    rule_type: &str,
    path: &str,
) -> Result<bool, StoreError> {
    Ok(role_rule::Entity::delete_many()
        .filter(role_rule::Column::RoleId.eq(role_id.clone()))
        .filter(role_rule::Column::RuleType.eq(rule_type))
        .filter(role_rule::Column::Path.eq(path))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

pub async fn rules_of_role(
    db: &impl ConnectionTrait,
    role_id: &RoleId,
) -> Result<Vec<role_rule::Model>, StoreError> {
    Ok(role_rule::Entity::find()
        .filter(role_rule::Column::RoleId.eq(role_id.clone()))
        .order_by_asc(role_rule::Column::RuleType)
        .order_by_asc(role_rule::Column::Path)
        .all(db)
        .await?)
}

/// Gives an auth method a role, for the tokens whose claims match `sub_claims` (JSON of
/// claim -> allowed globs; empty: every token of the method).
pub async fn associate(
    db: &impl ConnectionTrait,
    role_id: &RoleId,
    auth_method_id: &AuthMethodId,
    sub_claims: &str,
    case_sensitive: bool,
    now: Millis,
) -> Result<role_assoc::Model, StoreError> {
    role_assoc::ActiveModel {
        id: Set(new_id("assoc")),
        role_id: Set(role_id.clone()),
        auth_method_id: Set(auth_method_id.clone()),
        created_at: Set(now),
        sub_claims: Set(sub_claims.to_owned()),
        case_sensitive: Set(case_sensitive),
    }
    .insert(db)
    .await
    .map_err(|e| StoreError::from_insert(e, "that association"))
}

/// Deletes an association; returns whether there was one.
pub async fn delete_association(db: &impl ConnectionTrait, id: &str) -> Result<bool, StoreError> {
    Ok(role_assoc::Entity::delete_by_id(id.to_owned())
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

pub async fn find_association(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<role_assoc::Model>, StoreError> {
    Ok(role_assoc::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?)
}

pub async fn associations_of_role(
    db: &impl ConnectionTrait,
    role_id: &RoleId,
) -> Result<Vec<role_assoc::Model>, StoreError> {
    Ok(role_assoc::Entity::find()
        .filter(role_assoc::Column::RoleId.eq(role_id.clone()))
        .all(db)
        .await?)
}

/// A role an auth method holds through one association, with the role's rules.
#[derive(Debug, Clone)]
pub struct HeldRole {
    pub association: role_assoc::Model,
    pub role: role::Model,
    pub rules: Vec<role_rule::Model>,
}

/// The roles an auth method holds, each with the association that gives it (whose claim
/// rules decide which tokens get it) and its rules: what a token of it may do.
pub async fn roles_with_rules_of(
    db: &impl ConnectionTrait,
    auth_method_id: &AuthMethodId,
) -> Result<Vec<HeldRole>, StoreError> {
    let associations = role_assoc::Entity::find()
        .filter(role_assoc::Column::AuthMethodId.eq(auth_method_id.clone()))
        .all(db)
        .await?;
    if associations.is_empty() {
        return Ok(Vec::new());
    }
    let role_ids: Vec<RoleId> = associations.iter().map(|a| a.role_id.clone()).collect();
    let roles = role::Entity::find()
        .filter(role::Column::Id.is_in(role_ids.clone()))
        .all(db)
        .await?;
    let rules = role_rule::Entity::find()
        .filter(role_rule::Column::RoleId.is_in(role_ids))
        .all(db)
        .await?;
    Ok(associations
        .into_iter()
        .filter_map(|association| {
            let role = roles.iter().find(|r| r.id == association.role_id)?.clone();
            let rules = rules
                .iter()
                .filter(|x| x.role_id == role.id)
                .cloned()
                .collect();
            Some(HeldRole {
                association,
                role,
                rules,
            })
        })
        .collect())
}

pub async fn list_auth_methods(
    db: &impl ConnectionTrait,
) -> Result<Vec<auth_method::Model>, StoreError> {
    Ok(auth_method::Entity::find()
        .order_by_asc(auth_method::Column::Name)
        .all(db)
        .await?)
}

pub async fn find_auth_method(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<auth_method::Model>, StoreError> {
    Ok(auth_method::Entity::find()
        .filter(auth_method::Column::Name.eq(name))
        .one(db)
        .await?)
}

pub async fn find_auth_method_by_id(
    db: &impl ConnectionTrait,
    id: &AuthMethodId,
) -> Result<Option<auth_method::Model>, StoreError> {
    Ok(auth_method::Entity::find_by_id(id.clone()).one(db).await?)
}

/// Deletes an auth method; its tokens and role associations go with it (foreign keys
/// cascade), so its tokens stop working at once.
pub async fn delete_auth_method(
    db: &impl ConnectionTrait,
    id: &AuthMethodId,
) -> Result<(), StoreError> {
    auth_method::Entity::delete_by_id(id.clone())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find_role_by_id(
    db: &impl ConnectionTrait,
    id: &RoleId,
) -> Result<Option<role::Model>, StoreError> {
    Ok(role::Entity::find_by_id(id.clone()).one(db).await?)
}

pub async fn associations_of_auth_method(
    db: &impl ConnectionTrait,
    auth_method_id: &AuthMethodId,
) -> Result<Vec<role_assoc::Model>, StoreError> {
    Ok(role_assoc::Entity::find()
        .filter(role_assoc::Column::AuthMethodId.eq(auth_method_id.clone()))
        .all(db)
        .await?)
}
