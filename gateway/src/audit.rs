//! The audit trail: every state change, issued credential, revocation (by a user or by the
//! revoker) and denied request, with time, request id, caller, operation, item, outcome and
//! client address. Never a secret: items are names, details are the same error messages
//! clients see (which carry no secrets) or lease ids.
//!
//! Events go to the `audit_events` table and, when `MAYFLY_AUDIT_LOG` is set, as JSON lines to
//! `stdout` or a file (appended; rotate it with copytruncate). A failed audit write is logged
//! loudly but does not undo the action it records.

use std::{
    fs::{File, OpenOptions},
    io::Write,
    sync::{Arc, Mutex},
};

use mayfly_store::audit::{self, NewAuditEvent};
use sea_orm::DatabaseConnection;

/// Where JSON lines go, besides the database.
enum LineSink {
    None,
    Stdout,
    File(Mutex<File>),
}

/// Records audit events. Cheap to clone.
#[derive(Clone)]
pub struct Auditor {
    lines: Arc<LineSink>,
}

impl Auditor {
    /// From `MAYFLY_AUDIT_LOG`: unset for the database only, `stdout`, or a file path.
    pub fn from_env() -> std::io::Result<Auditor> {
        let sink = match std::env::var("MAYFLY_AUDIT_LOG")
            .ok()
            .filter(|s| !s.trim().is_empty())
        {
            None => LineSink::None,
            Some(s) if s == "stdout" => LineSink::Stdout,
            Some(path) => {
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| {
                        std::io::Error::new(
                            e.kind(),
                            format!("MAYFLY_AUDIT_LOG: cannot open {path}: {e}"),
                        )
                    })?;
                LineSink::File(Mutex::new(file))
            }
        };
        Ok(Auditor {
            lines: Arc::new(sink),
        })
    }

    /// Writes one event to the database and the line sink.
    pub async fn record(&self, db: &DatabaseConnection, event: NewAuditEvent) {
        let line = matches!(*self.lines, LineSink::None)
            .then(String::new)
            .unwrap_or_else(|| {
                serde_json::json!({
                    "time": crate::routes::rfc3339(event.at),
                    "request_id": event.request_id,
                    "access_id": event.access_id,
                    "operation": event.operation,
                    "item": event.item,
                    "outcome": event.outcome,
                    "status": event.status,
                    "client_address": event.client_address,
                    "detail": event.detail,
                })
                .to_string()
            });
        if let Err(e) = audit::insert(db, event).await {
            tracing::error!(error = %e, "could not write an audit event to the database");
        }
        match &*self.lines {
            LineSink::None => {}
            LineSink::Stdout => println!("{line}"),
            LineSink::File(f) => {
                let mut f = f.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(e) = writeln!(f, "{line}") {
                    tracing::error!(error = %e, "could not write an audit line");
                }
            }
        }
    }
}

/// The outcome word for a status code.
pub fn outcome(status: u16) -> &'static str {
    match status {
        200..=299 => "ok",
        401 | 403 => "denied",
        429 => "rate_limited",
        400..=499 => "rejected",
        _ => "failed",
    }
}
