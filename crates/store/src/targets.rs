//! AWS targets. Credentials arrive sealed; this module only moves the sealed text around.

use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use crate::{
    entity::{producer, target},
    Millis, StoreError, TargetId,
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
    /// JSON of `mayfly_domain::TargetAccess`; empty: a plain keyed target.
    pub access: String,
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
        access: Set(new.access),
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
    id: TargetId,
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
    id: TargetId,
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
        .col_expr(target::Column::Access, Expr::value(changed.access.clone()))
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

/// Retires a target that its producers no longer use (or that was deleted) while leases
/// issued through it may still be live: the row stays, with its credentials unchanged, so
/// those leases are torn down with the credentials that created them. It becomes private
/// (hidden from lists and from `find_public`), a public one gives its name back at once
/// (renamed `retired:<uid>`, a name no request can spell: item names start with `/` or a
/// letter and have no `:`), delete protection is dropped, and its version is bumped so an
/// update that read it before cannot write it back. [`delete_unreferenced_private`] deletes
/// it once no producer and no live lease references it. Returns `false` if it is gone.
pub async fn retire(
    db: &impl ConnectionTrait,
    t: &target::Model,
    now: Millis,
) -> Result<bool, StoreError> {
    let name = if t.is_private {
        t.name.clone()
    } else {
        format!("retired:{}", t.uid)
    };
    let result = target::Entity::update_many()
        .col_expr(target::Column::Name, Expr::value(name))
        .col_expr(target::Column::IsPrivate, Expr::value(true))
        .col_expr(target::Column::DeleteProtection, Expr::value(false))
        .col_expr(
            target::Column::Version,
            Expr::col(target::Column::Version).add(1),
        )
        .col_expr(target::Column::ModifiedAt, Expr::value(now))
        .filter(target::Column::Id.eq(t.id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Deletes the private target `target_id` if nothing needs it any more: no producer uses it
/// and no live `iam_user` lease was issued through it (teardown opens the lease's own
/// target). One statement, so a check and the deletion cannot be split by another writer;
/// a lease cannot be inserted for a target its producer no longer uses
/// ([`crate::leases::insert`]). Public targets are never deleted here (retire them first).
/// Returns whether the row was deleted.
pub async fn delete_unreferenced_private(
    db: &impl ConnectionTrait,
    target_id: TargetId,
) -> Result<bool, StoreError> {
    let result = unreferenced_private()
        .filter(target::Column::Id.eq(target_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Deletes every private target that nothing needs any more (see
/// [`delete_unreferenced_private`]): leftovers of a teardown that finished on a gateway which
/// stopped before cleaning up, or of a producer deleted while its leases were live. Returns
/// how many.
pub async fn delete_all_unreferenced_private(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(unreferenced_private().exec(db).await?.rows_affected)
}

fn unreferenced_private() -> sea_orm::DeleteMany<target::Entity> {
    use sea_orm::sea_query::Query;

    use crate::{entity::lease, leases::LeaseMode};

    target::Entity::delete_many()
        .filter(target::Column::IsPrivate.eq(true))
        .filter(
            target::Column::Id.not_in_subquery(
                Query::select()
                    .column(producer::Column::TargetId)
                    .from(producer::Entity)
                    .to_owned(),
            ),
        )
        .filter(
            target::Column::Id.not_in_subquery(
                Query::select()
                    .column(lease::Column::TargetId)
                    .from(lease::Entity)
                    .and_where(lease::Column::Mode.eq(LeaseMode::IamUser))
                    .and_where(lease::Column::State.is_in(crate::leases::live_states()))
                    .to_owned(),
            ),
        )
}

/// Deletes a target row. Callers check producers first; the foreign key backs them up.
pub async fn delete(db: &impl ConnectionTrait, id: TargetId) -> Result<(), StoreError> {
    target::Entity::delete_by_id(id)
        .exec(db)
        .await
        .map_err(|e| StoreError::from_insert(e, "target"))?;
    Ok(())
}

/// Takes a public target out of service while credentials issued through it still need its
/// key to be revoked: it is hidden like a private target (no list or lookup by name shows it)
/// and its name is freed (`retired:<uid>`), so a new target of the same name can be created at
/// once. [`delete_unneeded_hidden`] deletes it once nothing needs it.
pub async fn retire_by_id(
    db: &impl ConnectionTrait,
    id: TargetId,
    uid: &str,
    now: Millis,
) -> Result<(), StoreError> {
    target::Entity::update_many()
        .col_expr(target::Column::Name, Expr::value(format!("retired:{uid}")))
        .col_expr(target::Column::IsPrivate, Expr::value(true))
        .col_expr(target::Column::DeleteProtection, Expr::value(false))
        .col_expr(target::Column::ModifiedAt, Expr::value(now))
        .filter(target::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes hidden targets (a producer's inline credentials, or a retired public target) that
/// no producer uses and no live lease needs any more; `only` limits it to one target. The
/// test and the delete are one statement, so a lease written meanwhile keeps its target.
/// Returns how many it deleted.
pub async fn delete_unneeded_hidden(
    db: &impl ConnectionTrait,
    only: Option<TargetId>,
) -> Result<u64, StoreError> {
    use sea_orm::sea_query::{Alias, Query};
    let live = ["creating", "active", "revoking", "revoke_failed"];
    let producers_using = Query::select()
        .expr(Expr::val(1))
        .from(producer::Entity)
        .and_where(
            Expr::col((producer::Entity, producer::Column::TargetId))
                .equals((target::Entity, target::Column::Id)),
        )
        .to_owned();
    let leases = Alias::new("leases");
    let leases_needing = Query::select()
        .expr(Expr::val(1))
        .from(leases.clone())
        .and_where(
            Expr::col((leases.clone(), Alias::new("target_id")))
                .equals((target::Entity, target::Column::Id)),
        )
        .and_where(Expr::col((leases, Alias::new("state"))).is_in(live))
        .to_owned();
    let mut q = target::Entity::delete_many()
        .filter(target::Column::IsPrivate.eq(true))
        .filter(Expr::exists(producers_using).not())
        .filter(Expr::exists(leases_needing).not());
    if let Some(id) = only {
        q = q.filter(target::Column::Id.eq(id));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// The producers that use a target, by name.
pub async fn producers_using(
    db: &impl ConnectionTrait,
    target_id: TargetId,
) -> Result<Vec<producer::Model>, StoreError> {
    Ok(producer::Entity::find()
        .filter(producer::Column::TargetId.eq(target_id))
        .order_by_asc(producer::Column::Name)
        .all(db)
        .await?)
}
