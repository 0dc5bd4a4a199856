//! Cluster-wide settings shared by every gateway on one database.

use sea_orm::{sea_query::OnConflict, ConnectionTrait, EntityTrait, Set};

use crate::{entity::gateway_meta, StoreError};

const CLUSTER_ID: &str = "cluster_id";

/// Reads one setting.
pub async fn get(db: &impl ConnectionTrait, key: &str) -> Result<Option<String>, StoreError> {
    Ok(gateway_meta::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
        .map(|m| m.value))
}

/// Returns the cluster id, creating it from `candidate` if this database has none yet.
///
/// Several gateways may start at once against a fresh database: the insert ignores a
/// conflict and everybody then reads the one value that won, so all agree on the id.
pub async fn ensure_cluster_id(
    db: &impl ConnectionTrait,
    candidate: &str,
) -> Result<String, StoreError> {
    gateway_meta::Entity::insert(gateway_meta::ActiveModel {
        key: Set(CLUSTER_ID.to_owned()),
        value: Set(candidate.to_owned()),
    })
    .on_conflict(
        OnConflict::column(gateway_meta::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec(db)
    .await?;
    get(db, CLUSTER_ID)
        .await?
        .ok_or_else(|| StoreError::Corrupt("cluster id vanished after insert".into()))
}

/// Sets one setting, replacing its value (an upsert, safe when several gateways write the
/// same key: the last write wins).
pub async fn put(db: &impl ConnectionTrait, key: &str, value: &str) -> Result<(), StoreError> {
    gateway_meta::Entity::insert(gateway_meta::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
    })
    .on_conflict(
        OnConflict::column(gateway_meta::Column::Key)
            .update_column(gateway_meta::Column::Value)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}
