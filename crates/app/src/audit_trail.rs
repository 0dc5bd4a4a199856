//! Reading the audit trail: who may read which events, and the query.
//!
//! A caller's roles give it `audit-access` none, own or all. Only [`reader`] makes a
//! [`Reader`], so a front door cannot query the trail without that check, and a reader
//! limited to its own events cannot widen the query to anyone else's.

use mayfly_store::{
    audit::{self, AuditQuery},
    entity::audit_event,
};

use crate::{
    access::{AuditAccess, Caller},
    error::{AppError, AppResult},
    state::AppState,
};

/// A caller allowed to read audit events: all of them, or only its own.
#[derive(Debug)]
pub struct Reader {
    access_id: String,
    own_only: bool,
}

/// The caller as a reader of the audit trail, or `Denied` for `audit-access: none`.
pub fn reader(caller: &Caller) -> AppResult<Reader> {
    let own_only = match caller.audit_access {
        AuditAccess::None => {
            return Err(AppError::Denied(format!(
            "access id {} may not read audit events; ask for a role with audit-access own or all",
            caller.access_id
        )))
        }
        AuditAccess::Own => true,
        AuditAccess::All => false,
    };
    Ok(Reader {
        access_id: caller.access_id.clone(),
        own_only,
    })
}

impl Reader {
    /// The access id to filter on: `wanted`, which a reader of its own events may only set to
    /// itself (and gets anyway).
    pub fn scope_access_id(&self, wanted: Option<String>) -> AppResult<Option<String>> {
        if !self.own_only {
            return Ok(wanted);
        }
        if wanted.as_ref().is_some_and(|a| a != &self.access_id) {
            return Err(AppError::Denied(
                "your role's audit-access is own: you may read only your own events".into(),
            ));
        }
        Ok(Some(self.access_id.clone()))
    }
}

/// Events matching `query`, oldest first. Events this gateway queued (issued credentials,
/// refusals) are written first, so a caller sees what it just did. The counted anonymous
/// refusals are closed early only for readers of every event: a reader limited to its own
/// events cannot see them, and calling this in a loop would otherwise split the counts into
/// a row per refusal.
pub async fn read(
    state: &AppState,
    reader: &Reader,
    mut query: AuditQuery,
) -> AppResult<Vec<audit_event::Model>> {
    query.access_id = reader.scope_access_id(query.access_id.take())?;
    if reader.own_only {
        state.auditor().flush().await;
    } else {
        state.auditor().flush_all(state.db()).await;
    }
    Ok(audit::query(state.db(), &query).await?)
}
