//! Producers (dynamic secrets).

use sea_orm::{
    sea_query::{Expr, LikeExpr},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::{entity::producer, Millis, ProducerId, StoreError, TargetId};

/// A producer to insert: `spec` is the serialized, already validated spec.
#[derive(Debug, Clone)]
pub struct NewProducer {
    pub name: String,
    pub target_id: TargetId,
    pub access_mode: String,
    pub spec: String,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewProducer,
    now: Millis,
) -> Result<producer::Model, StoreError> {
    let name = new.name.clone();
    producer::ActiveModel {
        name: Set(new.name),
        producer_type: Set("aws".to_owned()),
        target_id: Set(new.target_id),
        access_mode: Set(new.access_mode),
        spec: Set(new.spec),
        created_at: Set(now),
        modified_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| StoreError::from_insert(e, format!("a dynamic secret named {name}")))
}

pub async fn find_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<producer::Model>, StoreError> {
    Ok(producer::Entity::find()
        .filter(producer::Column::Name.eq(name))
        .one(db)
        .await?)
}

/// Every producer, by name.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<producer::Model>, StoreError> {
    Ok(producer::Entity::find()
        .order_by_asc(producer::Column::Name)
        .all(db)
        .await?)
}

/// Producers whose name lies anywhere below `folder` (`/` means all), by name.
pub async fn list_below(
    db: &impl ConnectionTrait,
    folder: &str,
) -> Result<Vec<producer::Model>, StoreError> {
    if folder == "/" {
        return list(db).await;
    }
    let escaped = folder
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    // LIKE narrows the scan, but SQLite's LIKE ignores ASCII case (`/team-a/%` matches
    // `/TEAM-A/x`), and names are case-sensitive: the exact prefix test decides.
    let prefix = format!("{folder}/");
    Ok(producer::Entity::find()
        .filter(
            Expr::col(producer::Column::Name)
                .like(LikeExpr::new(format!("{escaped}/%")).escape('\\')),
        )
        .order_by_asc(producer::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .filter(|p| p.name.starts_with(&prefix))
        .collect())
}

/// Replaces a producer's definition (and possibly its name and target).
pub async fn update(
    db: &impl ConnectionTrait,
    id: ProducerId,
    changed: NewProducer,
    now: Millis,
) -> Result<bool, StoreError> {
    let name = changed.name.clone();
    let result = producer::Entity::update_many()
        .col_expr(producer::Column::Name, Expr::value(changed.name))
        .col_expr(producer::Column::TargetId, Expr::value(changed.target_id))
        .col_expr(
            producer::Column::AccessMode,
            Expr::value(changed.access_mode),
        )
        .col_expr(producer::Column::Spec, Expr::value(changed.spec))
        .col_expr(producer::Column::ModifiedAt, Expr::value(now))
        .filter(producer::Column::Id.eq(id))
        .exec(db)
        .await
        .map_err(|e| StoreError::from_insert(e, format!("a dynamic secret named {name}")))?;
    Ok(result.rows_affected == 1)
}

pub async fn delete(db: &impl ConnectionTrait, id: ProducerId) -> Result<(), StoreError> {
    producer::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
