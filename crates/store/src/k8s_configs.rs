//! Kubernetes auth configs: the cluster side of Kubernetes auth methods, by name.
//!
//! The token reviewer JWT arrives sealed (bound to the row id, so the caller picks the id);
//! every update bumps `version` and is conditional on the version read, so two concurrent
//! updates, or an update and a master-key re-seal, never overwrite each other.

use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::{entity::k8s_auth_config, AuthMethodId, Millis, StoreError};

/// A config to store, its secret already sealed.
#[derive(Debug, Clone)]
pub struct K8sConfigRow {
    pub id: String,
    pub name: String,
    pub auth_method_id: AuthMethodId,
    pub settings: String,
    pub sealed_reviewer_jwt: String,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    row: K8sConfigRow,
    now: Millis,
) -> Result<k8s_auth_config::Model, StoreError> {
    let name = row.name.clone();
    k8s_auth_config::ActiveModel {
        id: Set(row.id),
        name: Set(row.name),
        auth_method_id: Set(row.auth_method_id),
        settings: Set(row.settings),
        sealed_reviewer_jwt: Set(row.sealed_reviewer_jwt),
        version: Set(1),
        created_at: Set(now),
        modified_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| StoreError::from_insert(e, format!("k8s auth config {name}")))
}

pub async fn find_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<k8s_auth_config::Model>, StoreError> {
    Ok(k8s_auth_config::Entity::find()
        .filter(k8s_auth_config::Column::Name.eq(name))
        .one(db)
        .await?)
}

/// The configs of one auth method, by name.
pub async fn of_auth_method(
    db: &impl ConnectionTrait,
    auth_method_id: &AuthMethodId,
) -> Result<Vec<k8s_auth_config::Model>, StoreError> {
    Ok(k8s_auth_config::Entity::find()
        .filter(k8s_auth_config::Column::AuthMethodId.eq(auth_method_id.clone()))
        .order_by_asc(k8s_auth_config::Column::Name)
        .all(db)
        .await?)
}

/// Replaces a config's fields if it is still at `version`; `false`: it changed (or went)
/// meanwhile. A new name already taken is a conflict.
pub async fn update_if_unchanged(
    db: &impl ConnectionTrait,
    version: i64,
    row: K8sConfigRow,
    now: Millis,
) -> Result<bool, StoreError> {
    let name = row.name.clone();
    let res = k8s_auth_config::Entity::update_many()
        .col_expr(k8s_auth_config::Column::Name, Expr::value(row.name))
        .col_expr(
            k8s_auth_config::Column::AuthMethodId,
            Expr::value(row.auth_method_id.to_string()),
        )
        .col_expr(k8s_auth_config::Column::Settings, Expr::value(row.settings))
        .col_expr(
            k8s_auth_config::Column::SealedReviewerJwt,
            Expr::value(row.sealed_reviewer_jwt),
        )
        .col_expr(k8s_auth_config::Column::Version, Expr::value(version + 1))
        .col_expr(k8s_auth_config::Column::ModifiedAt, Expr::value(now))
        .filter(k8s_auth_config::Column::Id.eq(row.id))
        .filter(k8s_auth_config::Column::Version.eq(version))
        .exec(db)
        .await
        .map_err(|e| StoreError::from_insert(e, format!("k8s auth config {name}")))?;
    Ok(res.rows_affected == 1)
}

/// Deletes a config; `false` when it was not there.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool, StoreError> {
    let res = k8s_auth_config::Entity::delete_by_id(id.to_owned())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Every config, for the master-key re-seal.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<k8s_auth_config::Model>, StoreError> {
    Ok(k8s_auth_config::Entity::find()
        .order_by_asc(k8s_auth_config::Column::Id)
        .all(db)
        .await?)
}

/// Replaces the sealed reviewer JWT with the same secret sealed under another key, if the
/// row still holds exactly `old_sealed` at `version` (the version is not bumped: nothing
/// changed that a concurrent update read before the re-seal could miss).
pub async fn reseal_if_unchanged(
    db: &impl ConnectionTrait,
    id: &str,
    version: i64,
    old_sealed: &str,
    new_sealed: &str,
) -> Result<bool, StoreError> {
    let res = k8s_auth_config::Entity::update_many()
        .col_expr(
            k8s_auth_config::Column::SealedReviewerJwt,
            Expr::value(new_sealed.to_owned()),
        )
        .filter(k8s_auth_config::Column::Id.eq(id))
        .filter(k8s_auth_config::Column::Version.eq(version))
        .filter(k8s_auth_config::Column::SealedReviewerJwt.eq(old_sealed))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
