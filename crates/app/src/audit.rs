//! The audit trail: every state change, issued credential, revocation (by a user or by the
//! revoker) and denied request, with time, request id, caller, operation, item, outcome and
//! client address. Never a secret: items are names, details are the same error messages
//! clients see (which carry no secrets) or lease ids.
//!
//! Events go to the `audit_events` table and, when `MAYFLY_AUDIT_LOG` is set, as JSON lines to
//! `stdout` or a file (appended; rotate it with copytruncate). A failed audit write is logged
//! loudly but does not undo the action it records.
//!
//! Two ways in:
//! - [`Auditor::record`] writes the event before it returns: configuration changes,
//!   revocations and everything else that is rare and must not be lost.
//! - [`Auditor::record_queued`] hands the event to a writer task that inserts queued events
//!   in batches (one statement per batch), so the request does not wait for it: issued
//!   credentials (whose lease row, written before the credential was returned, is their
//!   durable record) and denied requests (which an attacker could otherwise turn into one
//!   database write each). If the queue is full the request writes the event itself, so a
//!   burst slows down rather than losing events. A queued event reaches the database within
//!   milliseconds; `get-audit-events` waits for the queue first, so a caller always sees its
//!   own events, and a graceful stop drains it. Only a crash (SIGKILL, power loss) can lose
//!   the events of its last moments.
//! - [`Auditor::record_refusal`] counts refusals of callers who proved nothing (no valid
//!   token, or a failed login): one row per (client address, operation, outcome, status) per
//!   window of [`REFUSAL_WINDOW`], with the count, the first refusal's message and (for
//!   logins) the access ids tried, instead of a row per request. So anonymous traffic costs a
//!   bounded number of rows (at most [`MAX_REFUSAL_KEYS`] per window; beyond that clients are
//!   counted together as `other`), and it never stores a body-supplied item name.
//!   Authenticated refusals (a valid token without the right) keep a row each.

use std::{
    collections::{BTreeSet, HashMap},
    fs::{File, OpenOptions},
    io::Write,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use mayfly_store::audit::{self, NewAuditEvent};
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

/// Events waiting for the writer, at most.
const QUEUE_CAPACITY: usize = 10_000;
/// Events per insert statement, at most.
const MAX_BATCH: usize = 500;
/// Unauthenticated refusals are counted over this long, then written as one row per key.
pub const REFUSAL_WINDOW: Duration = Duration::from_secs(60);
/// Distinct (client, operation, outcome, status) keys per window; more clients share `other`.
pub const MAX_REFUSAL_KEYS: usize = 10_000;
/// Access ids named in one aggregated row of failed logins.
const MAX_IDS_SHOWN: usize = 5;
/// Characters kept of each access id named there.
const MAX_ID_CHARS: usize = 64;

/// What refusals are counted under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RefusalKey {
    client_address: String,
    operation: String,
    outcome: String,
    status: i32,
}

/// The refusals of one key in the current window.
#[derive(Debug)]
struct RefusalCount {
    first: NewAuditEvent,
    count: u64,
    access_ids: BTreeSet<String>,
    more_ids: bool,
}

impl RefusalCount {
    fn into_event(self) -> NewAuditEvent {
        let mut event = self.first;
        event.item = String::new();
        event.access_id = match self.access_ids.len() {
            1 if !self.more_ids => self.access_ids.into_iter().next().unwrap_or_default(),
            0 => String::new(),
            _ => {
                let mut ids: Vec<String> = self.access_ids.into_iter().collect();
                if self.more_ids {
                    ids.push("...".into());
                }
                event.detail = format!("{} (access ids tried: {})", event.detail, ids.join(", "));
                String::new()
            }
        };
        if self.count > 1 {
            event.detail = format!(
                "{} refusals from this address within {} s; the first: {}",
                self.count,
                REFUSAL_WINDOW.as_secs(),
                event.detail
            );
        }
        event
    }
}

enum Queued {
    Event(NewAuditEvent),
    /// Answered once every event queued before it is written (or given up on).
    Flush(oneshot::Sender<()>),
}

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
    queue: Arc<OnceLock<mpsc::Sender<Queued>>>,
    refusals: Arc<Mutex<HashMap<RefusalKey, RefusalCount>>>,
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
            queue: Arc::default(),
            refusals: Arc::default(),
        })
    }

    /// Starts the batch writer on the current runtime (the process's main one, so that it
    /// outlives the HTTP workers and can be drained at shutdown). Without it,
    /// [`Auditor::record_queued`] writes directly.
    pub fn start_writer(&self, db: DatabaseConnection) {
        let mut started = false;
        self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
            tokio::spawn(write_batches(db.clone(), rx));
            started = true;
            tx
        });
        if started {
            // Closes each window of counted refusals.
            let me = self.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(REFUSAL_WINDOW);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    me.write_refusals(&db).await;
                }
            });
        }
    }

    /// Counts one refusal of a caller who proved nothing (see the module docs); written when
    /// its window closes, or at [`Auditor::flush`].
    pub fn record_refusal(&self, event: NewAuditEvent) {
        let mut map = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        let mut key = RefusalKey {
            client_address: event.client_address.clone(),
            operation: event.operation.clone(),
            outcome: event.outcome.clone(),
            status: event.status,
        };
        if map.len() >= MAX_REFUSAL_KEYS && !map.contains_key(&key) {
            key.client_address = "other".into();
        }
        // An id an anonymous caller typed: kept short (a real one is `p-` and 12 characters).
        let id: String = event.access_id.chars().take(MAX_ID_CHARS).collect();
        let entry = map.entry(key.clone()).or_insert_with(|| {
            let mut first = event;
            first.client_address = key.client_address.clone();
            RefusalCount {
                first,
                count: 0,
                access_ids: BTreeSet::new(),
                more_ids: false,
            }
        });
        entry.count += 1;
        if !id.is_empty() && !entry.access_ids.contains(&id) {
            if entry.access_ids.len() < MAX_IDS_SHOWN {
                entry.access_ids.insert(id);
            } else {
                entry.more_ids = true;
            }
        }
    }

    /// Writes the counted refusals of the window so far, one event per key.
    async fn write_refusals(&self, db: &DatabaseConnection) {
        let drained: Vec<RefusalCount> = {
            let mut map = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
            map.drain().map(|(_, v)| v).collect()
        };
        let mut events: Vec<NewAuditEvent> =
            drained.into_iter().map(RefusalCount::into_event).collect();
        events.sort_by_key(|e| e.at);
        for event in events {
            self.record_queued(db, event).await;
        }
    }

    /// Writes the counted refusals so far, then waits until every event queued so far is in
    /// the database.
    pub async fn flush_all(&self, db: &DatabaseConnection) {
        self.write_refusals(db).await;
        self.flush().await;
    }

    /// Waits until every event queued so far is in the database.
    pub async fn flush(&self) {
        let Some(tx) = self.queue.get() else { return };
        let (ack, done) = oneshot::channel();
        if tx.send(Queued::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Queues one event for the batch writer (see the module docs for which events may be
    /// queued); the line sink gets it at once.
    pub async fn record_queued(&self, db: &DatabaseConnection, event: NewAuditEvent) {
        let Some(tx) = self.queue.get() else {
            return self.record(db, event).await;
        };
        self.write_line(&event);
        match tx.try_send(Queued::Event(event)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(Queued::Event(event)))
            | Err(mpsc::error::TrySendError::Closed(Queued::Event(event))) => {
                insert_logged(db, event).await
            }
            Err(_) => {}
        }
    }

    /// Writes one event to the database and the line sink before returning.
    pub async fn record(&self, db: &DatabaseConnection, event: NewAuditEvent) {
        self.write_line(&event);
        insert_logged(db, event).await;
    }

    fn write_line(&self, event: &NewAuditEvent) {
        if matches!(*self.lines, LineSink::None) {
            return;
        }
        let line = serde_json::json!({
            "time": crate::time::rfc3339(event.at),
            "request_id": event.request_id,
            "access_id": event.access_id,
            "operation": event.operation,
            "item": event.item,
            "outcome": event.outcome,
            "status": event.status,
            "client_address": event.client_address,
            "detail": event.detail,
        })
        .to_string();
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

async fn insert_logged(db: &DatabaseConnection, event: NewAuditEvent) {
    if let Err(e) = audit::insert(db, event).await {
        tracing::error!(error = %e, "could not write an audit event to the database");
    }
}

/// The writer task: takes what is queued (up to [`MAX_BATCH`]), inserts it with one
/// statement, retrying a failed batch a few times (a busy or restarting database), then
/// answers the flushes that were queued behind those events.
async fn write_batches(db: DatabaseConnection, mut rx: mpsc::Receiver<Queued>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut acks = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(item) = next.take() {
            match item {
                Queued::Event(e) => batch.push(e),
                Queued::Flush(ack) => acks.push(ack),
            }
            if batch.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            let events = std::mem::take(&mut batch);
            let count = events.len();
            let mut attempt = 0;
            loop {
                attempt += 1;
                match audit::insert_many(&db, events.clone()).await {
                    Ok(()) => break,
                    Err(e) if attempt < 4 => {
                        tracing::warn!(error = %e, events = count, attempt, "could not write queued audit events; retrying");
                        tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, events = count, "could not write queued audit events to the database; they are lost (the JSON line sink, if configured, has them)");
                        break;
                    }
                }
            }
        }
        for ack in acks.drain(..) {
            let _ = ack.send(());
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

#[cfg(test)]
mod tests {
    use mayfly_store::audit::AuditQuery;

    use super::*;

    fn event(i: usize) -> NewAuditEvent {
        NewAuditEvent {
            identity: String::new(),
            at: i as i64,
            operation: "get-dynamic-secret-value".into(),
            item: format!("/p{i}"),
            outcome: "ok".into(),
            status: 200,
            ..Default::default()
        }
    }

    async fn stored(db: &DatabaseConnection) -> Vec<String> {
        let q = AuditQuery {
            limit: 10_000,
            ..Default::default()
        };
        audit::query(db, &q)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.item)
            .collect()
    }

    #[tokio::test]
    async fn queued_events_are_all_written_in_order_by_the_time_flush_returns() {
        let db = mayfly_store::connect("sqlite::memory:", 1).await.unwrap();
        let auditor = Auditor::from_env().unwrap();
        auditor.start_writer(db.clone());
        // More than one batch.
        let n = MAX_BATCH * 2 + 7;
        for i in 0..n {
            auditor.record_queued(&db, event(i)).await;
        }
        auditor.flush().await;
        let items = stored(&db).await;
        assert_eq!(items.len(), n);
        assert_eq!(items.first().map(String::as_str), Some("/p0"));
        assert_eq!(items.last(), Some(&format!("/p{}", n - 1)));
    }

    #[tokio::test]
    async fn without_a_writer_queued_events_are_written_at_once() {
        let db = mayfly_store::connect("sqlite::memory:", 1).await.unwrap();
        let auditor = Auditor::from_env().unwrap();
        auditor.record_queued(&db, event(1)).await;
        assert_eq!(stored(&db).await, vec!["/p1".to_owned()]);
    }
}
