//! Leases: the bookkeeping that makes "no untracked IAM user, ever" hold.
//!
//! Every state change is a conditional update (`... WHERE id = ? AND state = ?`): whoever
//! changes the row first wins and the others see `false`. That is what lets several gateways
//! share one database (SQLite or PostgreSQL alike) without revoking a lease twice, and lets
//! the reconciler take over work whose gateway died.

use std::sync::OnceLock;

use sea_orm::{
    sea_query::{Expr, SimpleExpr},
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

pub use crate::entity::lease::{LeaseMode, LeaseState, Model as Lease};
use crate::{entity::lease, LeaseId, Millis, ProducerId, StoreError, TargetId};

/// A lease to insert.
#[derive(Debug, Clone)]
pub struct NewLease {
    pub id: LeaseId,
    pub producer_id: ProducerId,
    pub producer_name: String,
    pub target_id: TargetId,
    pub mode: LeaseMode,
    pub state: LeaseState,
    pub iam_user_name: Option<String>,
    pub iam_user_path: Option<String>,
    pub access_key_id: Option<String>,
    pub created_by: String,
    pub client_address: String,
    pub expires_at: Millis,
    /// The AWS account that holds what the lease issued, when known at insert time.
    pub aws_account: Option<String>,
    /// The requester's login identity and claims (JSON), or empty.
    pub created_by_identity: String,
    pub created_by_claims: String,
    /// A revocable STS credential's unique session name.
    pub session_name: Option<String>,
    /// An `assume_role` credential's role.
    pub role_arn: Option<String>,
}

/// Inserts a lease only while its producer still exists with the same target, in one
/// statement (`INSERT ... SELECT ... FROM producers WHERE id = ? AND target_id = ?`);
/// returns whether it was inserted.
///
/// Gateways serve producers from a short-lived cache, so a request may still see a producer
/// that another gateway has just deleted (or moved to another target). Its lease must not
/// be written then: deleting a producer revokes the leases it finds, and deleting a target
/// is refused while live leases use it, so a lease written after either would point at
/// objects nobody tracks any more. With this check a lease is either written before the
/// deletion (which then sees and handles it) or not at all.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewLease,
    now: Millis,
) -> Result<bool, StoreError> {
    let what = format!("lease {}", new.id);
    let statement = insert_statement(db.get_database_backend(), new, now)?;
    let result = db
        .execute(statement)
        .await
        .map_err(|e| StoreError::from_insert(e, what))?;
    Ok(result.rows_affected() == 1)
}

/// The statement [`insert`] runs. Every value in it is a parameter, so its SQL depends only
/// on the backend: it is built by sea-query once per backend and then reused with each lease's
/// values. Building it anew took more instructions than SQLite's execution of it, about a tenth
/// of the gateway's CPU per `assume_role` credential (docs/benchmarks.md, the profile of row 1).
fn insert_statement(
    backend: DbBackend,
    new: NewLease,
    now: Millis,
) -> Result<Statement, StoreError> {
    static SQLITE: OnceLock<String> = OnceLock::new();
    static POSTGRES: OnceLock<String> = OnceLock::new();
    let cache = match backend {
        DbBackend::Sqlite => &SQLITE,
        DbBackend::Postgres => &POSTGRES,
        DbBackend::MySql => return build_insert_statement(backend, new, now),
    };
    let sql = match cache.get() {
        Some(sql) => sql,
        None => {
            let built = build_insert_statement(backend, new.clone(), now)?;
            cache.get_or_init(|| built.sql)
        }
    };
    Ok(Statement::from_sql_and_values(
        backend,
        sql.as_str(),
        insert_values(new, now),
    ))
}

/// The values of [`insert_statement`], in the order of its parameters: the selected row,
/// then the producer's id and target.
fn insert_values(new: NewLease, now: Millis) -> Vec<sea_orm::Value> {
    let (producer_id, target_id) = (new.producer_id, new.target_id);
    vec![
        new.id.into(),
        new.producer_id.into(),
        new.producer_name.into(),
        new.target_id.into(),
        new.mode.into(),
        new.state.as_str().into(),
        new.iam_user_name.into(),
        new.iam_user_path.into(),
        new.access_key_id.into(),
        new.created_by.into(),
        new.client_address.into(),
        now.into(),
        new.expires_at.into(),
        now.into(),
        0i32.into(),
        0i64.into(),
        new.aws_account.into(),
        new.created_by_identity.into(),
        new.created_by_claims.into(),
        new.session_name.into(),
        new.role_arn.into(),
        producer_id.into(),
        target_id.into(),
    ]
}

/// [`insert_statement`] built by sea-query (and its SQL cached by it).
fn build_insert_statement(
    backend: DbBackend,
    new: NewLease,
    now: Millis,
) -> Result<Statement, StoreError> {
    use sea_orm::sea_query::Query;

    use crate::entity::producer;

    let select = Query::select()
        .exprs([
            Expr::val(new.id.clone()),
            Expr::val(new.producer_id),
            Expr::val(new.producer_name),
            Expr::val(new.target_id),
            Expr::val(new.mode),
            Expr::val(new.state.as_str()),
            Expr::val(new.iam_user_name),
            Expr::val(new.iam_user_path),
            Expr::val(new.access_key_id),
            Expr::val(new.created_by),
            Expr::val(new.client_address),
            Expr::val(now),
            Expr::val(new.expires_at),
            Expr::val(now),
            Expr::val(0i32),
            Expr::val(0i64),
            Expr::val(new.aws_account),
            Expr::val(new.created_by_identity),
            Expr::val(new.created_by_claims),
            Expr::val(new.session_name),
            Expr::val(new.role_arn),
        ])
        .from(producer::Entity)
        .and_where(producer::Column::Id.eq(new.producer_id))
        .and_where(producer::Column::TargetId.eq(new.target_id))
        // PostgreSQL: `FOR SHARE` waits for a concurrent re-pointing of the producer and then
        // re-checks its target, so no lease can name a target after its producer moved off it
        // (and the target may be deleted). SQLite serialises writers and ignores the clause.
        .lock_shared()
        .to_owned();
    let insert = Query::insert()
        .into_table(lease::Entity)
        .columns([
            lease::Column::Id,
            lease::Column::ProducerId,
            lease::Column::ProducerName,
            lease::Column::TargetId,
            lease::Column::Mode,
            lease::Column::State,
            lease::Column::IamUserName,
            lease::Column::IamUserPath,
            lease::Column::AccessKeyId,
            lease::Column::CreatedBy,
            lease::Column::ClientAddress,
            lease::Column::CreatedAt,
            lease::Column::ExpiresAt,
            lease::Column::UpdatedAt,
            lease::Column::Attempts,
            lease::Column::NextAttemptAt,
            lease::Column::AwsAccount,
            lease::Column::CreatedByIdentity,
            lease::Column::CreatedByClaims,
            lease::Column::SessionName,
            lease::Column::RoleArn,
        ])
        .select_from(select)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Custom(e.to_string())))?
        .to_owned();
    Ok(backend.build(&insert))
}

pub async fn find(db: &impl ConnectionTrait, id: &LeaseId) -> Result<Option<Lease>, StoreError> {
    Ok(lease::Entity::find_by_id(id.clone()).one(db).await?)
}

/// A producer's live leases (those that may still hold something in AWS), oldest first.
pub async fn live_for_producer(
    db: &impl ConnectionTrait,
    producer_id: ProducerId,
) -> Result<Vec<Lease>, StoreError> {
    Ok(lease::Entity::find()
        .filter(lease::Column::ProducerId.eq(producer_id))
        .filter(lease::Column::State.is_in(live_states()))
        .order_by_asc(lease::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Live leases for a listing, including STS ones until they expire.
pub async fn list_for_producer(
    db: &impl ConnectionTrait,
    producer_id: ProducerId,
    limit: u64,
) -> Result<Vec<Lease>, StoreError> {
    Ok(lease::Entity::find()
        .filter(lease::Column::ProducerId.eq(producer_id))
        .filter(lease::Column::State.is_in(live_states()))
        .order_by_asc(lease::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?)
}

pub(crate) fn live_states() -> Vec<LeaseState> {
    vec![
        LeaseState::Creating,
        LeaseState::Active,
        LeaseState::Revoking,
        LeaseState::RevokeFailed,
    ]
}

/// `creating` -> `active` with the access key id and the AWS account that holds the user.
/// False if someone (the reconciler) took the lease meanwhile: the caller must then not hand
/// the credential out.
pub async fn mark_active(
    db: &impl ConnectionTrait,
    id: &LeaseId,
    access_key_id: Option<String>,
    aws_account: Option<String>,
    now: Millis,
) -> Result<bool, StoreError> {
    Transition::from_states(&[LeaseState::Creating])
        .of(id)
        .to(LeaseState::Active)
        .set(lease::Column::AccessKeyId, Expr::value(access_key_id))
        .set(lease::Column::AwsAccount, Expr::value(aws_account))
        .set(lease::Column::UpdatedAt, Expr::value(now))
        .exec_one(db)
        .await
}

/// `creating` -> `aborted` once whatever issuing created has been torn down.
pub async fn mark_aborted(
    db: &impl ConnectionTrait,
    id: &LeaseId,
    reason: &str,
    now: Millis,
) -> Result<bool, StoreError> {
    Transition::from_states(&[LeaseState::Creating])
        .of(id)
        .to(LeaseState::Aborted)
        .set(lease::Column::LastError, Expr::value(truncate(reason)))
        .set(lease::Column::UpdatedAt, Expr::value(now))
        .set(lease::Column::EndedAt, Expr::value(now))
        .exec_one(db)
        .await
}

/// Claims a lease for teardown: `active`/`revoke_failed` -> `revoking`, owned by `claimer`.
/// Exactly one of several concurrent claimers gets `true`.
pub async fn claim_for_revoke(
    db: &impl ConnectionTrait,
    id: &LeaseId,
    claimer: &str,
    now: Millis,
) -> Result<bool, StoreError> {
    Transition::from_states(&[LeaseState::Active, LeaseState::RevokeFailed])
        .of(id)
        .to(LeaseState::Revoking)
        .set(lease::Column::ClaimedBy, Expr::value(claimer))
        .set(lease::Column::ClaimedAt, Expr::value(now))
        .set(lease::Column::UpdatedAt, Expr::value(now))
        .exec_one(db)
        .await
}

/// Takes over a lease stuck in `creating` or `revoking` whose owner vanished: conditional on
/// the row still looking exactly as the reconciler read it.
pub async fn take_over(
    db: &impl ConnectionTrait,
    seen: &Lease,
    claimer: &str,
    now: Millis,
) -> Result<bool, StoreError> {
    Transition::from_states(&[seen.state])
        .of(&seen.id)
        .updated_at(seen.updated_at)
        .claimed_by(seen.claimed_by.as_deref())
        .to(LeaseState::Revoking)
        .set(lease::Column::ClaimedBy, Expr::value(claimer))
        .set(lease::Column::ClaimedAt, Expr::value(now))
        .set(lease::Column::UpdatedAt, Expr::value(now))
        .exec_one(db)
        .await
}

/// `revoking` (ours) -> `final_state`: `revoked`, or `aborted` for a lease whose creation
/// never finished (taken over by the reconciler from `creating`).
pub async fn finish_revoke(
    db: &impl ConnectionTrait,
    id: &LeaseId,
    claimer: &str,
    final_state: LeaseState,
    now: Millis,
) -> Result<bool, StoreError> {
    Transition::from_states(&[LeaseState::Revoking])
        .of(id)
        .claimed_by(Some(claimer))
        .to(final_state)
        .set(
            lease::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .set(lease::Column::UpdatedAt, Expr::value(now))
        .set(lease::Column::EndedAt, Expr::value(now))
        .exec_one(db)
        .await
}

/// `revoking` (ours) -> `revoke_failed`, to be retried at `next_attempt_at`.
pub async fn mark_revoke_failed(
    db: &impl ConnectionTrait,
    id: &LeaseId,
    claimer: &str,
    error: &str,
    next_attempt_at: Millis,
    now: Millis,
) -> Result<bool, StoreError> {
    Transition::from_states(&[LeaseState::Revoking])
        .of(id)
        .claimed_by(Some(claimer))
        .to(LeaseState::RevokeFailed)
        .set(lease::Column::LastError, Expr::value(truncate(error)))
        .set(
            lease::Column::Attempts,
            Expr::col(lease::Column::Attempts).add(1),
        )
        .set(lease::Column::NextAttemptAt, Expr::value(next_attempt_at))
        .set(lease::Column::UpdatedAt, Expr::value(now))
        .exec_one(db)
        .await
}

/// `iam_user` leases due for teardown: expired `active` ones and `revoke_failed` ones whose
/// retry time has come. Reads through the `(state, expires_at)` index, `limit` at a time.
pub async fn due_for_revoke(
    db: &impl ConnectionTrait,
    now: Millis,
    limit: u64,
) -> Result<Vec<Lease>, StoreError> {
    let mut due = lease::Entity::find()
        .filter(lease::Column::State.eq(LeaseState::Active))
        .filter(lease::Column::ExpiresAt.lte(now))
        .filter(lease::Column::Mode.eq(LeaseMode::IamUser))
        .order_by_asc(lease::Column::ExpiresAt)
        .limit(limit)
        .all(db)
        .await?;
    let retry = lease::Entity::find()
        .filter(lease::Column::State.eq(LeaseState::RevokeFailed))
        .filter(lease::Column::NextAttemptAt.lte(now))
        .order_by_asc(lease::Column::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await?;
    due.extend(retry);
    Ok(due)
}

/// STS leases past expiry become `expired` (AWS ended them; nothing to tear down).
pub async fn expire_sts(db: &impl ConnectionTrait, now: Millis) -> Result<u64, StoreError> {
    Transition::from_states(&[LeaseState::Active])
        .when(lease::Column::ExpiresAt.lte(now))
        .when(lease::Column::Mode.ne(LeaseMode::IamUser))
        .to(LeaseState::Expired)
        .set(lease::Column::UpdatedAt, Expr::value(now))
        .set(lease::Column::EndedAt, Expr::value(now))
        .exec(db)
        .await
}

/// A revocable STS credential the gateway has just had AWS deny becomes `revoked` (from
/// `active` only: an expired one stays expired). Returns whether it changed.
pub async fn mark_session_revoked(
    db: &impl ConnectionTrait,
    id: &LeaseId,
    now: Millis,
) -> Result<bool, StoreError> {
    Transition::from_states(&[LeaseState::Active])
        .of(id)
        .when(lease::Column::SessionName.is_not_null())
        .to(LeaseState::Revoked)
        .set(lease::Column::UpdatedAt, Expr::value(now))
        .set(lease::Column::EndedAt, Expr::value(now))
        .exec_one(db)
        .await
}

/// The live revocable STS credentials of a producer (active, not yet expired).
pub async fn live_sessions(
    db: &impl ConnectionTrait,
    producer_id: ProducerId,
    now: Millis,
) -> Result<Vec<Lease>, StoreError> {
    Ok(lease::Entity::find()
        .filter(lease::Column::ProducerId.eq(producer_id))
        .filter(lease::Column::State.eq(LeaseState::Active))
        .filter(lease::Column::Mode.ne(LeaseMode::IamUser))
        .filter(lease::Column::ExpiresAt.gt(now))
        .all(db)
        .await?)
}

/// After a revoke-all reached AWS: the producer's STS credentials issued at or before
/// `issued_by` become `revoked`; only those with a session name when `named_only` (the deny
/// was narrowed to the producer's names). Returns how many.
pub async fn mark_sessions_revoked_before(
    db: &impl ConnectionTrait,
    producer_id: ProducerId,
    issued_by: Millis,
    named_only: bool,
    now: Millis,
) -> Result<u64, StoreError> {
    let named = if named_only {
        lease::Column::SessionName.is_not_null()
    } else {
        Expr::value(true)
    };
    Transition::from_states(&[LeaseState::Active])
        .when(lease::Column::ProducerId.eq(producer_id))
        .when(lease::Column::Mode.ne(LeaseMode::IamUser))
        .when(named)
        .when(lease::Column::CreatedAt.lte(issued_by))
        .to(LeaseState::Revoked)
        .set(lease::Column::UpdatedAt, Expr::value(now))
        .set(lease::Column::EndedAt, Expr::value(now))
        .exec(db)
        .await
}

/// Leases stuck in `state` (`creating` or `revoking`) with no change since `cutoff`.
pub async fn stuck(
    db: &impl ConnectionTrait,
    state: LeaseState,
    cutoff: Millis,
    limit: u64,
) -> Result<Vec<Lease>, StoreError> {
    Ok(lease::Entity::find()
        .filter(lease::Column::State.eq(state))
        .filter(lease::Column::UpdatedAt.lte(cutoff))
        .order_by_asc(lease::Column::UpdatedAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Sets a new expiry on an `active` lease (tmp-creds update).
pub async fn set_expiry(
    db: &impl ConnectionTrait,
    id: &LeaseId,
    expires_at: Millis,
    custom_ttl_min: i64,
    now: Millis,
) -> Result<bool, StoreError> {
    Transition::from_states(&[LeaseState::Active])
        .of(id)
        .set(lease::Column::ExpiresAt, Expr::value(expires_at))
        .set(lease::Column::CustomTtlMin, Expr::value(custom_ttl_min))
        .set(lease::Column::UpdatedAt, Expr::value(now))
        .exec_one(db)
        .await
}

/// Moves the expiry of a `revoke_failed` lease's retry to now (an explicit revoke request).
pub async fn retry_now(
    db: &impl ConnectionTrait,
    id: &LeaseId,
    now: Millis,
) -> Result<(), StoreError> {
    Transition::from_states(&[LeaseState::RevokeFailed])
        .of(id)
        .set(lease::Column::NextAttemptAt, Expr::value(now))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives back every lease `claimer` still holds in `revoking` (a stopping gateway whose
/// teardowns did not finish within its grace period): they become `revoke_failed`, due now,
/// so another gateway (or this one's next start) picks them up at once instead of after the
/// reconciler's minimum age. Safe because teardown is idempotent (deleting what is already
/// gone succeeds) and the claimer has stopped working on them. Returns how many.
pub async fn release_claims(
    db: &impl ConnectionTrait,
    claimer: &str,
    now: Millis,
) -> Result<u64, StoreError> {
    Transition::from_states(&[LeaseState::Revoking])
        .claimed_by(Some(claimer))
        .to(LeaseState::RevokeFailed)
        .set(
            lease::Column::LastError,
            Expr::value("the gateway stopped before this teardown finished; released for any gateway to finish"),
        )
        .set(lease::Column::NextAttemptAt, Expr::value(now))
        .set(lease::Column::ClaimedBy, Expr::value(Option::<String>::None))
        .set(lease::Column::UpdatedAt, Expr::value(now))
        .exec(db)
        .await
}

/// How many live `iam_user` leases were issued through a target (they need it to be revoked).
pub async fn live_iam_count_for_target(
    db: &impl ConnectionTrait,
    target_id: TargetId,
) -> Result<u64, StoreError> {
    Ok(lease::Entity::find()
        .filter(lease::Column::TargetId.eq(target_id))
        .filter(lease::Column::Mode.eq(LeaseMode::IamUser))
        .filter(lease::Column::State.is_in(live_states()))
        .count(db)
        .await?)
}

/// Points every live `iam_user` lease of target `from` at target `to` (a retired copy of
/// `from` as it was when they were issued), so they are torn down with the access that
/// created them. Returns how many moved.
pub async fn move_live_iam_to_target(
    db: &impl ConnectionTrait,
    from: TargetId,
    to: TargetId,
) -> Result<u64, StoreError> {
    let res = lease::Entity::update_many()
        .col_expr(lease::Column::TargetId, Expr::value(to))
        .filter(lease::Column::TargetId.eq(from))
        .filter(lease::Column::Mode.eq(LeaseMode::IamUser))
        .filter(lease::Column::State.is_in(live_states()))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Live leases of one producer or one creator (access id): how many, and when the first of
/// them ends (so a caller refused for too many knows when to retry).
pub async fn live_count(
    db: &impl ConnectionTrait,
    of: LiveOf<'_>,
    now: Millis,
) -> Result<(u64, Option<Millis>), StoreError> {
    let q = lease::Entity::find()
        .filter(lease::Column::State.is_in(live_states()))
        .filter(lease::Column::ExpiresAt.gt(now));
    count_and_min(db, q, of, lease::Column::ExpiresAt).await
}

/// Leases of one producer or creator issued since `since`: how many, and the oldest's time
/// (the window frees up from there).
pub async fn issued_since(
    db: &impl ConnectionTrait,
    of: LiveOf<'_>,
    since: Millis,
) -> Result<(u64, Option<Millis>), StoreError> {
    let q = lease::Entity::find().filter(lease::Column::CreatedAt.gte(since));
    count_and_min(db, q, of, lease::Column::CreatedAt).await
}

/// How many leases of `of` the query finds, and the smallest `min_of` among them.
async fn count_and_min(
    db: &impl ConnectionTrait,
    q: sea_orm::Select<lease::Entity>,
    of: LiveOf<'_>,
    min_of: lease::Column,
) -> Result<(u64, Option<Millis>), StoreError> {
    use sea_orm::{sea_query::Expr as E, QuerySelect};
    let q = match of {
        LiveOf::Producer(id) => q.filter(lease::Column::ProducerId.eq(id)),
        LiveOf::Creator(access_id) => q.filter(lease::Column::CreatedBy.eq(access_id)),
    };
    let row: Option<(i64, Option<i64>)> = q
        .select_only()
        .column_as(E::col(lease::Column::Id).count(), "n")
        .column_as(E::col(min_of).min(), "least")
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map_or((0, None), |(n, least)| {
        (u64::try_from(n).unwrap_or(0), least)
    }))
}

/// Whose leases a guardrail counts.
#[derive(Debug, Clone, Copy)]
pub enum LiveOf<'a> {
    Producer(ProducerId),
    /// An auth method, by the access id its tokens carry.
    Creator(&'a str),
}

/// Which leases a bulk revocation covers.
#[derive(Debug, Clone, Copy)]
pub enum LeaseScope {
    /// The leases a producer issued.
    Producer(ProducerId),
    /// The leases issued through a target (whatever producer now uses it).
    Target(TargetId),
}

impl LeaseScope {
    fn filter<Q: QueryFilter>(self, q: Q) -> Q {
        q.filter(self.condition())
    }

    fn condition(self) -> SimpleExpr {
        match self {
            LeaseScope::Producer(id) => lease::Column::ProducerId.eq(id),
            LeaseScope::Target(id) => lease::Column::TargetId.eq(id),
        }
    }
}

/// Makes every live `iam_user` lease in `scope` due for the revoker now, in two statements
/// whatever their number: `active` ones get `expires_at = now` (the credential now ends
/// here, which is also what tmp-creds listings show), `revoke_failed` ones are retried at once.
/// Leases being created or torn down are left to finish; a lease still `creating` keeps its
/// expiry. Returns how many leases are now the revoker's to end (the two updated sets plus
/// those already `revoking`).
/// Makes one active `iam_user` lease due now, as [`revoke_soon`] does for a scope: the revoker
/// ends it on its next pass. Whether it changed.
pub async fn revoke_one_soon(
    db: &impl ConnectionTrait,
    id: &LeaseId,
    now: Millis,
) -> Result<bool, StoreError> {
    let n = Transition::from_states(&[LeaseState::Active])
        .when(lease::Column::Id.eq(id.clone()))
        .when(lease::Column::Mode.eq(LeaseMode::IamUser))
        .when(lease::Column::ExpiresAt.gt(now))
        .set(lease::Column::ExpiresAt, Expr::value(now))
        .set(lease::Column::UpdatedAt, Expr::value(now))
        .exec(db)
        .await?;
    Ok(n == 1)
}

pub async fn revoke_soon(
    db: &impl ConnectionTrait,
    scope: LeaseScope,
    now: Millis,
) -> Result<u64, StoreError> {
    Transition::from_states(&[LeaseState::Active])
        .in_scope(scope)
        .when(lease::Column::Mode.eq(LeaseMode::IamUser))
        .when(lease::Column::ExpiresAt.gt(now))
        .set(lease::Column::ExpiresAt, Expr::value(now))
        .set(lease::Column::UpdatedAt, Expr::value(now))
        .exec(db)
        .await?;
    Transition::from_states(&[LeaseState::RevokeFailed])
        .in_scope(scope)
        .when(lease::Column::Mode.eq(LeaseMode::IamUser))
        .set(lease::Column::NextAttemptAt, Expr::value(now))
        .exec(db)
        .await?;
    Ok(scope
        .filter(lease::Entity::find())
        .filter(lease::Column::Mode.eq(LeaseMode::IamUser))
        .filter(lease::Column::State.is_in([
            LeaseState::Active,
            LeaseState::Revoking,
            LeaseState::RevokeFailed,
        ]))
        .count(db)
        .await?)
}

/// Deletes up to `batch` finished leases (`revoked`, `aborted`, `expired`) that ended before
/// `before`, through the `(state, updated_at)` index; returns how many. Live leases are never
/// touched: only a final state is matched.
pub async fn delete_finished_before(
    db: &impl ConnectionTrait,
    before: Millis,
    batch: u64,
) -> Result<u64, StoreError> {
    use sea_orm::sea_query::Query;
    let finished = [
        LeaseState::Revoked,
        LeaseState::Aborted,
        LeaseState::Expired,
    ];
    let oldest = Query::select()
        .column(lease::Column::Id)
        .from(lease::Entity)
        .and_where(Expr::col(lease::Column::State).is_in(finished.map(|s| s.as_str())))
        .and_where(Expr::col(lease::Column::UpdatedAt).lt(before))
        .limit(batch)
        .to_owned();
    Ok(lease::Entity::delete_many()
        .filter(Expr::col(lease::Column::Id).in_subquery(oldest))
        .filter(lease::Column::State.is_in(finished))
        .exec(db)
        .await?
        .rows_affected)
}

/// How many leases are in `state`. Its cost grows with that state's leases: for a finished
/// state (kept for history until retention deletes it) that is the whole history, so
/// `/metrics` uses [`count_live_by_state`] instead.
pub async fn count_in_state(
    db: &impl ConnectionTrait,
    state: LeaseState,
) -> Result<u64, StoreError> {
    Ok(lease::Entity::find()
        .filter(lease::Column::State.eq(state))
        .count(db)
        .await?)
}

/// How many leases are in each live state (`creating`, `active`, `revoking`,
/// `revoke_failed`; a state with none is listed with 0), in one statement.
///
/// `SELECT state, COUNT(*) ... WHERE state IN (<live>) GROUP BY state` reads only the live
/// range of a `(state, ...)` index (SQLite: a covering index search; PostgreSQL: an index or
/// bitmap scan on `state`), so its cost follows the number of live leases and not the
/// finished ones behind them: flat as the history grows. `COUNT(*)`, not `COUNT(id)`: in
/// SQLite the index holds the rowid, not `id`, and counting `id` would visit every row.
pub async fn count_live_by_state(
    db: &impl ConnectionTrait,
) -> Result<Vec<(LeaseState, u64)>, StoreError> {
    use sea_orm::sea_query::Asterisk;
    let rows: Vec<(LeaseState, i64)> = lease::Entity::find()
        .select_only()
        .column(lease::Column::State)
        .column_as(Expr::col(Asterisk).count(), "n")
        .filter(lease::Column::State.is_in(live_states()))
        .group_by(lease::Column::State)
        .into_tuple()
        .all(db)
        .await?;
    Ok(live_states()
        .into_iter()
        .map(|state| {
            let n = rows
                .iter()
                .find(|(s, _)| *s == state)
                .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0));
            (state, n)
        })
        .collect())
}

/// One conditional change of lease rows, `UPDATE leases SET <columns> WHERE state IN <from>
/// AND <conditions>`: every state change above goes through it, so each reads as which rows
/// it applies to and what they become. The state condition is always there (that is what makes
/// concurrent changes safe); the others narrow it to one lease, its claimer, its last change.
#[must_use]
struct Transition {
    /// `state = ?` or `state IN (...)`, then the further conditions, all ANDed.
    conditions: Vec<SimpleExpr>,
    /// The columns to set, in order.
    set: Vec<(lease::Column, SimpleExpr)>,
}

impl Transition {
    /// Rows in one of the states `from`.
    fn from_states(from: &[LeaseState]) -> Self {
        let state = match from {
            [one] => lease::Column::State.eq(*one),
            many => lease::Column::State.is_in(many.iter().copied()),
        };
        Transition {
            conditions: vec![state],
            set: Vec::new(),
        }
    }

    /// Only the lease `id`.
    fn of(self, id: &LeaseId) -> Self {
        self.when(lease::Column::Id.eq(id.clone()))
    }

    /// Only while claimed by `claimer` (`None`: while nobody claims it).
    fn claimed_by(self, claimer: Option<&str>) -> Self {
        self.when(match claimer {
            Some(c) => lease::Column::ClaimedBy.eq(c),
            None => lease::Column::ClaimedBy.is_null(),
        })
    }

    /// Only while the row was last changed at `updated_at`.
    fn updated_at(self, updated_at: Millis) -> Self {
        self.when(lease::Column::UpdatedAt.eq(updated_at))
    }

    /// Only leases in `scope`.
    fn in_scope(self, scope: LeaseScope) -> Self {
        self.when(scope.condition())
    }

    /// Any further condition.
    fn when(mut self, condition: SimpleExpr) -> Self {
        self.conditions.push(condition);
        self
    }

    /// Moves the rows to `state`.
    fn to(self, state: LeaseState) -> Self {
        self.set(lease::Column::State, Expr::value(state.as_str()))
    }

    /// Sets `column` to `value`.
    fn set(mut self, column: lease::Column, value: SimpleExpr) -> Self {
        self.set.push((column, value));
        self
    }

    /// Runs the update; returns how many rows changed.
    async fn exec(self, db: &impl ConnectionTrait) -> Result<u64, StoreError> {
        let mut update = lease::Entity::update_many();
        for (column, value) in self.set {
            update = update.col_expr(column, value);
        }
        for condition in self.conditions {
            update = update.filter(condition);
        }
        Ok(update.exec(db).await?.rows_affected)
    }

    /// Runs an update of one lease; returns whether it changed (false: someone else changed
    /// the row first, or it is not in a `from` state).
    async fn exec_one(self, db: &impl ConnectionTrait) -> Result<bool, StoreError> {
        Ok(self.exec(db).await? == 1)
    }
}

/// Error texts are kept short: they are shown in lists and must not grow rows without bound.
fn truncate(s: &str) -> String {
    const MAX: usize = 1000;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// The most producer ids one statement of [`activity`] names (`producer_id IN (...)`), well
/// under SQLite's and PostgreSQL's limits on bound values.
const ACTIVITY_CHUNK: usize = 500;

/// What the leases of some producers did in the hours from `since` (see [`activity`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// Leases issued in each hour from `since` (index 0 is `[since, since + 1 h)`).
    pub issued: Vec<u64>,
    /// Leases that ended (`revoked`, or `expired` for STS credentials) in each hour.
    pub ended: Vec<u64>,
    /// `iam_user` leases torn down at or after their expiry since `since` (the revoker's
    /// work, not early revocations by request), and how late they were: the same quantity as
    /// `mayfly_revocation_lag_seconds`, from the database, so every gateway's work counts.
    pub lag_count: u64,
    pub lag_total_ms: i64,
    pub lag_max_ms: i64,
}

/// Per hour over `hours` hours from `since`, how many leases of `producers` were issued and
/// ended, and the revocation lag of those torn down after expiry, aggregated in the database.
///
/// Bounded whatever the history: issued leases are counted through the
/// `(producer_id, created_at)` index, ended ones through `(state, updated_at)` (a finished
/// lease's `updated_at` is its `ended_at`), each reading only the window's rows and returning
/// at most one row per hour; no lease is loaded.
pub async fn activity(
    db: &impl ConnectionTrait,
    producers: &[ProducerId],
    since: Millis,
    hours: usize,
) -> Result<Activity, StoreError> {
    use sea_orm::sea_query::{Asterisk, Func};
    let mut out = Activity {
        issued: vec![0; hours],
        ended: vec![0; hours],
        ..Activity::default()
    };
    // The hour bucket, with `since` written as a literal (an i64, so nothing can be injected):
    // PostgreSQL does not see `x - $1` and `x - $2` as the same GROUP BY expression.
    let bucket = |column: &str| Expr::cust(format!("((\"{column}\" - {since}) / 3600000)"));
    let add = |counts: &mut Vec<u64>, rows: Vec<(i64, i64)>| {
        for (hour, n) in rows {
            if let Some(slot) = usize::try_from(hour).ok().and_then(|h| counts.get_mut(h)) {
                *slot += u64::try_from(n).unwrap_or(0);
            }
        }
    };
    for chunk in producers.chunks(ACTIVITY_CHUNK) {
        let ids: Vec<ProducerId> = chunk.to_vec();
        let issued: Vec<(i64, i64)> = lease::Entity::find()
            .select_only()
            .column_as(bucket("created_at"), "hour")
            .column_as(Expr::col(Asterisk).count(), "n")
            .filter(lease::Column::ProducerId.is_in(ids.clone()))
            .filter(lease::Column::CreatedAt.gte(since))
            .group_by(bucket("created_at"))
            .into_tuple()
            .all(db)
            .await?;
        add(&mut out.issued, issued);
        let ended_states = [LeaseState::Revoked, LeaseState::Expired];
        let ended: Vec<(i64, i64)> = lease::Entity::find()
            .select_only()
            .column_as(bucket("ended_at"), "hour")
            .column_as(Expr::col(Asterisk).count(), "n")
            .filter(lease::Column::State.is_in(ended_states))
            .filter(lease::Column::UpdatedAt.gte(since))
            .filter(lease::Column::EndedAt.gte(since))
            .filter(lease::Column::ProducerId.is_in(ids.clone()))
            .group_by(bucket("ended_at"))
            .into_tuple()
            .all(db)
            .await?;
        add(&mut out.ended, ended);
        let late = Expr::col(lease::Column::EndedAt).sub(Expr::col(lease::Column::ExpiresAt));
        let lag: Option<(i64, Option<i64>, Option<i64>)> = lease::Entity::find()
            .select_only()
            .column_as(Expr::col(Asterisk).count(), "n")
            // PostgreSQL sums a BIGINT as NUMERIC: cast back.
            .column_as(
                SimpleExpr::from(Func::cast_as(
                    Func::sum(late.clone()),
                    sea_orm::sea_query::Alias::new("BIGINT"),
                )),
                "total",
            )
            .column_as(SimpleExpr::from(Func::max(late)), "worst")
            .filter(lease::Column::State.eq(LeaseState::Revoked))
            .filter(lease::Column::Mode.eq(LeaseMode::IamUser))
            .filter(lease::Column::UpdatedAt.gte(since))
            .filter(lease::Column::EndedAt.gte(since))
            .filter(Expr::col(lease::Column::EndedAt).gte(Expr::col(lease::Column::ExpiresAt)))
            .filter(lease::Column::ProducerId.is_in(ids))
            .into_tuple()
            .one(db)
            .await?;
        if let Some((n, total, worst)) = lag {
            out.lag_count += u64::try_from(n).unwrap_or(0);
            out.lag_total_ms += total.unwrap_or(0);
            out.lag_max_ms = out.lag_max_ms.max(worst.unwrap_or(0));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(filled: bool) -> NewLease {
        let some = |v: &str| filled.then(|| v.to_owned());
        NewLease {
            id: LeaseId::from("l-1".to_owned()),
            producer_id: ProducerId::from(7),
            producer_name: "/p".into(),
            target_id: TargetId::from(3),
            mode: LeaseMode::AssumeRole,
            state: LeaseState::Active,
            iam_user_name: some("u"),
            iam_user_path: some("/mayfly/"),
            access_key_id: some("AKIA"),
            created_by: "p-x".into(),
            client_address: "127.0.0.1".into(),
            expires_at: 99,
            aws_account: some("123456789012"),
            created_by_identity: "id".into(),
            created_by_claims: "{}".into(),
            session_name: some("s"),
            role_arn: some("arn:aws:iam::123456789012:role/r"),
        }
    }

    #[test]
    fn the_reused_insert_is_exactly_what_sea_query_builds() {
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            // The first call caches the SQL (from a lease with every field set), later ones
            // reuse it with other values, absent fields included.
            for filled in [true, false, true] {
                let fast = insert_statement(backend, sample(filled), 5).unwrap();
                let built = build_insert_statement(backend, sample(filled), 5).unwrap();
                assert_eq!(fast, built, "{backend:?}, fields set: {filled}");
            }
        }
    }
}
