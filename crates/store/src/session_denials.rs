//! The gateway's record of the session denials it keeps on roles and IAM users (revocable
//! STS credentials, issue #14), and the lock that lets one gateway at a time change one
//! principal's policy.
//!
//! IAM has no conditional write for an inline policy, so two gateways revoking sessions of
//! one role at once would each read the document, add their statement and write it back,
//! and one statement would be lost. The lock is a row per principal with an owner and a
//! deadline, taken by a conditional update that works alike on SQLite and PostgreSQL; a
//! gateway that dies holding it loses it at the deadline.

use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

pub use crate::entity::session_denial::Model as SessionDenials;
use crate::{entity::session_denial, Millis, StoreError, TargetId};

/// The row id of a principal of a target.
pub fn key(target_id: TargetId, principal_arn: &str) -> String {
    format!("{target_id}:{principal_arn}")
}

/// Takes the lock on `principal_arn` of `target_id` for `owner` until `until` (creating the
/// row if it is the first denial there). `None`: another gateway holds it; try again shortly.
pub async fn lock(
    db: &impl ConnectionTrait,
    target_id: TargetId,
    principal_arn: &str,
    owner: &str,
    now: Millis,
    until: Millis,
) -> Result<Option<SessionDenials>, StoreError> {
    let id = key(target_id, principal_arn);
    session_denial::Entity::insert(session_denial::ActiveModel {
        id: Set(id.clone()),
        target_id: Set(target_id),
        principal_arn: Set(principal_arn.to_owned()),
        statements: Set(String::new()),
        next_prune_at: Set(None),
        lock_owner: Set(String::new()),
        lock_until: Set(0),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(session_denial::Column::Id)
            .do_nothing()
            .to_owned(),
    )
    .do_nothing()
    .exec(db)
    .await?;
    let taken = session_denial::Entity::update_many()
        .col_expr(session_denial::Column::LockOwner, Expr::value(owner))
        .col_expr(session_denial::Column::LockUntil, Expr::value(until))
        .filter(session_denial::Column::Id.eq(id.clone()))
        .filter(
            session_denial::Column::LockUntil
                .lt(now)
                .or(session_denial::Column::LockOwner.eq(owner))
                .or(session_denial::Column::LockOwner.eq("")),
        )
        .exec(db)
        .await?
        .rows_affected
        == 1;
    if !taken {
        return Ok(None);
    }
    Ok(session_denial::Entity::find_by_id(id).one(db).await?)
}

/// Stores Mayfly's statements (`statements` empty: none left, the row goes) and releases the
/// lock, if `owner` still holds it. Returns whether it did (false: the lock had lapsed and
/// another gateway took it; the caller's write to AWS may have raced and must be redone).
pub async fn save_and_unlock(
    db: &impl ConnectionTrait,
    id: &str,
    owner: &str,
    statements: &str,
    next_prune_at: Option<Millis>,
    now: Millis,
) -> Result<bool, StoreError> {
    let held = session_denial::Column::Id
        .eq(id)
        .and(session_denial::Column::LockOwner.eq(owner));
    let changed = if statements.is_empty() {
        session_denial::Entity::delete_many()
            .filter(held)
            .exec(db)
            .await?
            .rows_affected
    } else {
        session_denial::Entity::update_many()
            .col_expr(session_denial::Column::Statements, Expr::value(statements))
            .col_expr(
                session_denial::Column::NextPruneAt,
                Expr::value(next_prune_at),
            )
            .col_expr(session_denial::Column::LockOwner, Expr::value(""))
            .col_expr(session_denial::Column::LockUntil, Expr::value(0i64))
            .col_expr(session_denial::Column::UpdatedAt, Expr::value(now))
            .filter(held)
            .exec(db)
            .await?
            .rows_affected
    };
    Ok(changed == 1)
}

/// Releases the lock without changing the record (the AWS write failed).
pub async fn unlock(db: &impl ConnectionTrait, id: &str, owner: &str) -> Result<(), StoreError> {
    session_denial::Entity::update_many()
        .col_expr(session_denial::Column::LockOwner, Expr::value(""))
        .col_expr(session_denial::Column::LockUntil, Expr::value(0i64))
        .filter(session_denial::Column::Id.eq(id))
        .filter(session_denial::Column::LockOwner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

/// Principals with a statement that stopped mattering by `now`, oldest first.
pub async fn due_for_prune(
    db: &impl ConnectionTrait,
    now: Millis,
    limit: u64,
) -> Result<Vec<SessionDenials>, StoreError> {
    Ok(session_denial::Entity::find()
        .filter(session_denial::Column::NextPruneAt.lte(now))
        .order_by_asc(session_denial::Column::NextPruneAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// The record of one principal, if any.
pub async fn find(
    db: &impl ConnectionTrait,
    target_id: TargetId,
    principal_arn: &str,
) -> Result<Option<SessionDenials>, StoreError> {
    Ok(
        session_denial::Entity::find_by_id(key(target_id, principal_arn))
            .one(db)
            .await?,
    )
}
