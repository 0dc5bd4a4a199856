//! AWS targets. Credentials arrive sealed; this module only moves the sealed text around.

use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::{
    entity::{producer, target},
    Millis, StoreError,
};

/// A target to insert. Its credentials are sealed for its row id once it has one (the
/// gateway's `insert_sealed`); `sealed_credentials` is normally empty here.
#[derive(Debug, Clone)]
pub struct NewTarget {
    pub uid: String,
    pub name: String,
    pub description: String,
    pub region: String,
    pub iam_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
    pub sealed_credentials: String,
    pub is_private: bool,
    pub delete_protection: bool,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewTarget,
    now: Millis,
) -> Result<target::Model, StoreError> {
    let name = new.name.clone();
    target::ActiveModel {
        uid: Set(new.uid),
        name: Set(new.name),
        target_type: Set("aws".to_owned()),
        description: Set(new.description),
        region: Set(new.region),
        iam_endpoint: Set(new.iam_endpoint),
        sts_endpoint: Set(new.sts_endpoint),
        sealed_credentials: Set(new.sealed_credentials),
        is_private: Set(new.is_private),
        delete_protection: Set(new.delete_protection),
        version: Set(1),
        created_at: Set(now),
        modified_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| StoreError::from_insert(e, format!("a target named {name}")))
}

/// Stores a freshly inserted target's sealed credentials (see the gateway's `insert_sealed`:
/// they are bound to the row id, known only after the insert).
pub async fn set_sealed(
    db: &impl ConnectionTrait,
    id: i64,
    sealed: &str,
) -> Result<(), StoreError> {
    target::Entity::update_many()
        .col_expr(
            target::Column::SealedCredentials,
            Expr::value(sealed.to_owned()),
        )
        .filter(target::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<target::Model>, StoreError> {
    Ok(target::Entity::find()
        .filter(target::Column::Name.eq(name))
        .one(db)
        .await?)
}

pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<target::Model>, StoreError> {
    Ok(target::Entity::find_by_id(id).one(db).await?)
}

/// Public targets (not a producer's private inline one), by name.
pub async fn list_public(db: &impl ConnectionTrait) -> Result<Vec<target::Model>, StoreError> {
    Ok(target::Entity::find()
        .filter(target::Column::IsPrivate.eq(false))
        .order_by_asc(target::Column::Name)
        .all(db)
        .await?)
}

/// Writes `changed` (a full row read earlier and modified) if nobody changed the row since it
/// was read: the update is conditional on the version it was read at, and bumps it.
///
/// Returns `Ok(false)` when the row changed or vanished in between, so the caller can answer
/// 409 instead of silently overwriting someone else's update.
pub async fn update_if_unchanged(
    db: &impl ConnectionTrait,
    changed: &target::Model,
    now: Millis,
) -> Result<bool, StoreError> {
    let result = target::Entity::update_many()
        .col_expr(target::Column::Name, Expr::value(changed.name.clone()))
        .col_expr(
            target::Column::Description,
            Expr::value(changed.description.clone()),
        )
        .col_expr(target::Column::Region, Expr::value(changed.region.clone()))
        .col_expr(
            target::Column::IamEndpoint,
            Expr::value(changed.iam_endpoint.clone()),
        )
        .col_expr(
            target::Column::StsEndpoint,
            Expr::value(changed.sts_endpoint.clone()),
        )
        .col_expr(
            target::Column::SealedCredentials,
            Expr::value(changed.sealed_credentials.clone()),
        )
        .col_expr(
            target::Column::DeleteProtection,
            Expr::value(changed.delete_protection),
        )
        .col_expr(target::Column::Version, Expr::value(changed.version + 1))
        .col_expr(target::Column::ModifiedAt, Expr::value(now))
        .filter(target::Column::Id.eq(changed.id))
        .filter(target::Column::Version.eq(changed.version))
        .exec(db)
        .await
        .map_err(|e| StoreError::from_insert(e, format!("a target named {}", changed.name)))?;
    Ok(result.rows_affected == 1)
}

/// Deletes a target row. Callers check producers first; the foreign key backs them up.
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), StoreError> {
    target::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map_err(|e| StoreError::from_insert(e, "target"))?;
    Ok(())
}

/// The producers that use a target, by name.
pub async fn producers_using(
    db: &impl ConnectionTrait,
    target_id: i64,
) -> Result<Vec<producer::Model>, StoreError> {
    Ok(producer::Entity::find()
        .filter(producer::Column::TargetId.eq(target_id))
        .order_by_asc(producer::Column::Name)
        .all(db)
        .await?)
}
