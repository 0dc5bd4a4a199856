//! Rotation bookkeeping on the `targets` table: re-sealing under a new master key, and the
//! schedule and claim of admin credential rotation.
//!
//! Every write here is conditional, so several gateways (and the `rotate-master-key`
//! command) can work on one database at once: a re-seal only replaces the exact sealed value
//! it read, a rotation runs only under a live claim, and a rotated key is stored only if the
//! target did not change since the rotation read it.
//!
//! The rotation columns (migration `m20261121_000004_rotation`) are reached through
//! [`schedule`], a second entity over the same table holding just those columns, so the
//! target entity and every query over it stay as they are.

use sea_orm::{
    sea_query::Expr, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::{entity::target, Millis, StoreError, TargetId};

/// The rotation columns of `targets`, with the few target columns a rotation writes.
pub mod schedule {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "targets")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: crate::TargetId,
        pub version: i64,
        /// The same column as [`crate::entity::target::Model::sealed_credentials`].
        pub sealed_credentials: String,
        pub modified_at: i64,
        /// 0: no scheduled rotation.
        pub rotation_interval_days: i64,
        pub last_rotated_at: Option<i64>,
        /// When the worker should rotate next; `None`: not scheduled.
        pub rotation_due_at: Option<i64>,
        pub rotation_claimed_by: Option<String>,
        pub rotation_claimed_until: Option<i64>,
        /// A key created by a running rotation and not stored yet.
        pub rotation_pending_key_id: Option<String>,
        pub rotation_last_error: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Milliseconds in a day.
pub const DAY_MS: Millis = 86_400_000;

/// Every target's id, uid, version and sealed credentials (public and private ones).
pub async fn all_sealed(db: &impl ConnectionTrait) -> Result<Vec<target::Model>, StoreError> {
    Ok(target::Entity::find()
        .order_by_asc(target::Column::Id)
        .all(db)
        .await?)
}

/// Replaces a target's sealed credentials with the same secret sealed under another key, if
/// the row still holds exactly `old_sealed` at `version`. The version is not bumped: the
/// credentials did not change, so a concurrent update read before the re-seal still applies
/// (and simply replaces the re-sealed value with its own).
pub async fn reseal_if_unchanged(
    db: &impl ConnectionTrait,
    id: TargetId,
    version: i64,
    old_sealed: &str,
    new_sealed: &str,
) -> Result<bool, StoreError> {
    let res = target::Entity::update_many()
        .col_expr(
            target::Column::SealedCredentials,
            Expr::value(new_sealed.to_owned()),
        )
        .filter(target::Column::Id.eq(id))
        .filter(target::Column::Version.eq(version))
        .filter(target::Column::SealedCredentials.eq(old_sealed))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// A target's rotation columns.
pub async fn find(
    db: &impl ConnectionTrait,
    target_id: TargetId,
) -> Result<Option<schedule::Model>, StoreError> {
    Ok(schedule::Entity::find_by_id(target_id).one(db).await?)
}

/// Sets a target's rotation interval (`0` switches scheduled rotation off). The next
/// rotation is due `interval_days` after the last one, or after `now` if it never rotated;
/// setting the interval it already has changes nothing. Returns `false` if the target does
/// not exist.
pub async fn set_interval(
    db: &impl ConnectionTrait,
    target_id: TargetId,
    interval_days: u32,
    now: Millis,
) -> Result<bool, StoreError> {
    let Some(row) = find(db, target_id).await? else {
        return Ok(false);
    };
    if row.rotation_interval_days == i64::from(interval_days)
        && (interval_days == 0 || row.rotation_due_at.is_some())
    {
        // Unchanged (an update resends every field): the due time must not move, or a
        // target updated more often than its interval would never rotate.
        return Ok(true);
    }
    let due = (interval_days > 0).then(|| {
        row.last_rotated_at
            .unwrap_or(now)
            .saturating_add(i64::from(interval_days).saturating_mul(DAY_MS))
    });
    let res = schedule::Entity::update_many()
        .col_expr(
            schedule::Column::RotationIntervalDays,
            Expr::value(i64::from(interval_days)),
        )
        .col_expr(schedule::Column::RotationDueAt, Expr::value(due))
        .filter(schedule::Column::Id.eq(target_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Ids of targets whose scheduled rotation is due and that nobody holds a live claim on,
/// soonest first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: Millis,
    limit: u64,
) -> Result<Vec<TargetId>, StoreError> {
    Ok(schedule::Entity::find()
        .select_only()
        .column(schedule::Column::Id)
        .filter(schedule::Column::RotationDueAt.lte(now))
        .filter(schedule::Column::RotationIntervalDays.gt(0))
        .filter(unclaimed(now))
        .order_by_asc(schedule::Column::RotationDueAt)
        .limit(limit)
        .into_tuple::<TargetId>()
        .all(db)
        .await?)
}

fn unclaimed(now: Millis) -> Condition {
    Condition::any()
        .add(schedule::Column::RotationClaimedUntil.is_null())
        .add(schedule::Column::RotationClaimedUntil.lt(now))
}

/// Claims a target for one rotation until `until`, unless another live claim holds it.
/// `false`: someone else is rotating it (or the target is gone).
pub async fn claim(
    db: &impl ConnectionTrait,
    target_id: TargetId,
    claimer: &str,
    now: Millis,
    until: Millis,
) -> Result<bool, StoreError> {
    let res = schedule::Entity::update_many()
        .col_expr(schedule::Column::RotationClaimedBy, Expr::value(claimer))
        .col_expr(schedule::Column::RotationClaimedUntil, Expr::value(until))
        .col_expr(
            schedule::Column::RotationPendingKeyId,
            Expr::value(Option::<String>::None),
        )
        .filter(schedule::Column::Id.eq(target_id))
        .filter(unclaimed(now))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Records the key a claimed rotation just created, before it is verified and stored, so
/// that no other rotation deletes it as stale. `false`: the claim was lost.
pub async fn record_pending_key(
    db: &impl ConnectionTrait,
    target_id: TargetId,
    claimer: &str,
    access_key_id: &str,
) -> Result<bool, StoreError> {
    let res = schedule::Entity::update_many()
        .col_expr(
            schedule::Column::RotationPendingKeyId,
            Expr::value(access_key_id),
        )
        .filter(schedule::Column::Id.eq(target_id))
        .filter(schedule::Column::RotationClaimedBy.eq(claimer))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Access keys created by rotations that still hold a live claim and have not stored them
/// yet: in use, even though no target holds them.
pub async fn pending_keys(
    db: &impl ConnectionTrait,
    now: Millis,
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<Option<String>> = schedule::Entity::find()
        .select_only()
        .column(schedule::Column::RotationPendingKeyId)
        .filter(schedule::Column::RotationPendingKeyId.is_not_null())
        .filter(schedule::Column::RotationClaimedUntil.gte(now))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().flatten().collect())
}

/// Stores a rotated access key: writes `sealed` if the target is still at `version` and the
/// claim is still `claimer`'s, bumps the version (so cached AWS clients of the old key are
/// dropped), records the rotation time and the next due time (`None`: not scheduled).
pub async fn store_rotated(
    db: &impl ConnectionTrait,
    target_id: TargetId,
    version: i64,
    claimer: &str,
    sealed: &str,
    now: Millis,
    next_due: Option<Millis>,
) -> Result<bool, StoreError> {
    let res = schedule::Entity::update_many()
        .col_expr(
            schedule::Column::SealedCredentials,
            Expr::value(sealed.to_owned()),
        )
        .col_expr(schedule::Column::Version, Expr::value(version + 1))
        .col_expr(schedule::Column::ModifiedAt, Expr::value(now))
        .col_expr(schedule::Column::LastRotatedAt, Expr::value(now))
        .col_expr(schedule::Column::RotationDueAt, Expr::value(next_due))
        .col_expr(
            schedule::Column::RotationPendingKeyId,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            schedule::Column::RotationLastError,
            Expr::value(Option::<String>::None),
        )
        .filter(schedule::Column::Id.eq(target_id))
        .filter(schedule::Column::Version.eq(version))
        .filter(schedule::Column::RotationClaimedBy.eq(claimer))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Ends `claimer`'s claim. With `error`, records it and sets the next attempt of a scheduled
/// target to `retry_at` (`None` leaves the due time as it is).
pub async fn release(
    db: &impl ConnectionTrait,
    target_id: TargetId,
    claimer: &str,
    error: Option<&str>,
    retry_at: Option<Millis>,
) -> Result<(), StoreError> {
    let mut update = schedule::Entity::update_many()
        .col_expr(
            schedule::Column::RotationClaimedBy,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            schedule::Column::RotationClaimedUntil,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            schedule::Column::RotationPendingKeyId,
            Expr::value(Option::<String>::None),
        );
    if let Some(error) = error {
        update = update.col_expr(schedule::Column::RotationLastError, Expr::value(error));
    }
    if let Some(retry_at) = retry_at {
        update = update.col_expr(schedule::Column::RotationDueAt, Expr::value(retry_at));
    }
    update
        .filter(schedule::Column::Id.eq(target_id))
        .filter(schedule::Column::RotationClaimedBy.eq(claimer))
        .exec(db)
        .await?;
    Ok(())
}
