//! The audit trail in the database.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

pub use crate::entity::audit_event::Model as AuditEvent;
use crate::{entity::audit_event, Millis, StoreError};

/// An event to record.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEvent {
    pub at: Millis,
    pub request_id: String,
    pub access_id: String,
    pub operation: String,
    pub item: String,
    pub outcome: String,
    pub status: i32,
    pub client_address: String,
    pub detail: String,
    /// The caller's login identity beyond `access_id`, or empty.
    pub identity: String,
}

/// Inserts one event.
pub async fn insert(db: &impl ConnectionTrait, e: NewAuditEvent) -> Result<(), StoreError> {
    insert_many(db, vec![e]).await
}

/// Inserts several events with one statement (the audit writer's batches). SQLite allows
/// 32,766 bound values per statement and PostgreSQL 65,535; 9 columns per event keeps a
/// batch of up to 1,000 events well within both.
pub async fn insert_many(
    db: &impl ConnectionTrait,
    events: Vec<NewAuditEvent>,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let models = events.into_iter().map(|e| audit_event::ActiveModel {
        at: Set(e.at),
        request_id: Set(e.request_id),
        access_id: Set(e.access_id),
        operation: Set(e.operation),
        item: Set(e.item),
        outcome: Set(e.outcome),
        status: Set(e.status),
        client_address: Set(e.client_address),
        detail: Set(e.detail),
        identity: Set(e.identity),
        ..Default::default()
    });
    audit_event::Entity::insert_many(models)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// What to look for. Every field narrows the result.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    pub item: Option<String>,
    pub access_id: Option<String>,
    pub operation: Option<String>,
    /// Only events with this outcome (`ok`, `denied`, `rejected`, `rate_limited`, `failed`).
    pub outcome: Option<String>,
    /// Only events after this id (the previous page's last id).
    pub after_id: Option<i64>,
    pub limit: u64,
    /// Newest first (by time, then id) instead of oldest first: for "the last few events",
    /// which oldest-first paging would reach only after reading every older one.
    pub newest_first: bool,
}

/// Events matching `q`, oldest first (or newest first, when `q.newest_first`).
pub async fn query(
    db: &impl ConnectionTrait,
    q: &AuditQuery,
) -> Result<Vec<AuditEvent>, StoreError> {
    let mut find = audit_event::Entity::find();
    if let Some(since) = q.since {
        find = find.filter(audit_event::Column::At.gte(since));
    }
    if let Some(until) = q.until {
        find = find.filter(audit_event::Column::At.lte(until));
    }
    if let Some(item) = &q.item {
        find = find.filter(audit_event::Column::Item.eq(item.clone()));
    }
    if let Some(access_id) = &q.access_id {
        find = find.filter(audit_event::Column::AccessId.eq(access_id.clone()));
    }
    if let Some(operation) = &q.operation {
        find = find.filter(audit_event::Column::Operation.eq(operation.clone()));
    }
    if let Some(outcome) = &q.outcome {
        find = find.filter(audit_event::Column::Outcome.eq(outcome.clone()));
    }
    if let Some(after) = q.after_id {
        find = find.filter(audit_event::Column::Id.gt(after));
    }
    let find = if q.newest_first {
        find.order_by_desc(audit_event::Column::At)
            .order_by_desc(audit_event::Column::Id)
    } else {
        find.order_by_asc(audit_event::Column::Id)
    };
    Ok(find.limit(q.limit).all(db).await?)
}

/// Deletes up to `batch` audit events older than `before` (oldest first, through the index on
/// `at`); returns how many. Housekeeping calls it until a batch comes back short, so no one
/// statement holds locks for long however large the backlog.
pub async fn delete_older_than(
    db: &impl ConnectionTrait,
    before: Millis,
    batch: u64,
) -> Result<u64, StoreError> {
    use sea_orm::sea_query::{Expr, Query};
    let oldest = Query::select()
        .column(audit_event::Column::Id)
        .from(audit_event::Entity)
        .and_where(Expr::col(audit_event::Column::At).lt(before))
        .order_by(audit_event::Column::At, sea_orm::Order::Asc)
        .limit(batch)
        .to_owned();
    Ok(audit_event::Entity::delete_many()
        .filter(Expr::col(audit_event::Column::Id).in_subquery(oldest))
        .exec(db)
        .await?
        .rows_affected)
}
