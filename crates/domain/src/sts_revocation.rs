//! Revoking STS sessions before they expire (issue #14 item 1): the statements of the
//! Mayfly-owned inline policy (`mayfly-revoked-sessions`) put on a role (or on the IAM user that
//! issued federation or session tokens).
//!
//! - One session: `Deny *` when `aws:userid` is `*:<session name>` (a role session's user id is
//!   `AROA…:<session name>`; Mayfly's session names are unique per credential).
//! - Every session issued before now (revoke-all): `Deny *` when `aws:TokenIssueTime` is before
//!   now, as AWS's "Revoke active sessions" does.
//!
//! Each statement carries, in its `Sid`, when the last credential it covers expires, so it is
//! dropped once useless. Statements Mayfly did not write (other `Sid`s) are kept as they are.
//! When the document would grow past the size limit, the per-session statements are merged
//! into one issue-time deny (which also cuts sessions not asked for: the caller is told).
//!
//! Pure: no AWS calls; the gateway reads the document, changes it here, and writes it back.

use serde_json::{json, Value};

/// The inline policy's name on the role or user.
pub const POLICY_NAME: &str = "mayfly-revoked-sessions";
/// How long the document may be: IAM allows 10,240 characters for all of a role's inline
/// policies together; this leaves room for others.
pub const MAX_DOCUMENT_CHARS: usize = 8_192;

const SESSION_SID: &str = "MayflySession";
const ALL_SID: &str = "MayflyAllBefore";

/// A denied session, and until when (Unix seconds) the denial matters.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SessionDeny {
    session_name: String,
    until: i64,
}

/// Sessions issued before `issued_before` (RFC 3339) are denied, until `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IssuedBefore {
    issued_before: String,
    until: i64,
}

/// The revocation statements of one role or user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RevocationPolicy {
    foreign: Vec<Value>,
    sessions: Vec<SessionDeny>,
    all: Option<IssuedBefore>,
}

/// What writing the policy back means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    /// No statement left: delete the inline policy.
    Empty,
    /// The document to put; `merged` when per-session denials became one issue-time deny.
    Document { json: String, merged: bool },
}

impl RevocationPolicy {
    /// Reads a stored document (`None`: there is none yet).
    pub fn parse(document: Option<&str>) -> Result<RevocationPolicy, String> {
        let mut policy = RevocationPolicy::default();
        let Some(text) = document.filter(|t| !t.trim().is_empty()) else {
            return Ok(policy);
        };
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| format!("{POLICY_NAME} is not a JSON policy: {e}"))?;
        let statements = match &doc["Statement"] {
            Value::Array(a) => a.clone(),
            Value::Object(_) => vec![doc["Statement"].clone()],
            _ => Vec::new(),
        };
        for st in statements {
            let sid = st["Sid"].as_str().unwrap_or_default();
            if let Some(rest) = sid.strip_prefix(SESSION_SID) {
                let until = rest.split('N').next().and_then(|u| u.parse().ok());
                let session = st["Condition"]["StringLike"]["aws:userid"]
                    .as_str()
                    .and_then(|u| u.strip_prefix("*:"))
                    .map(str::to_owned);
                if let (Some(until), Some(session_name)) = (until, session) {
                    policy.sessions.push(SessionDeny {
                        session_name,
                        until,
                    });
                    continue;
                }
            } else if let Some(rest) = sid.strip_prefix(ALL_SID) {
                let until = rest.parse().ok();
                let before = st["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
                    .as_str()
                    .map(str::to_owned);
                if let (Some(until), Some(issued_before)) = (until, before) {
                    policy.all = Some(IssuedBefore {
                        issued_before,
                        until,
                    });
                    continue;
                }
            }
            // Not ours (or not in our shape): kept exactly as it was.
            policy.foreign.push(st);
        }
        Ok(policy)
    }

    /// Denies the session `session_name` until `until` (its expiry, Unix seconds).
    pub fn revoke_session(&mut self, session_name: &str, until: i64) {
        match self
            .sessions
            .iter_mut()
            .find(|s| s.session_name == session_name)
        {
            Some(s) => s.until = s.until.max(until),
            None => self.sessions.push(SessionDeny {
                session_name: session_name.to_owned(),
                until,
            }),
        }
    }

    /// Denies every session issued before `now` (RFC 3339), until `until` (when the last of
    /// them expires). Per-session denials it covers become useless and go.
    pub fn revoke_all(&mut self, now: &str, until: i64) {
        let until = self.all.as_ref().map_or(until, |a| a.until.max(until));
        self.all = Some(IssuedBefore {
            issued_before: now.to_owned(),
            until,
        });
        self.sessions.retain(|s| s.until > until);
    }

    /// Drops what no longer matters at `now` (Unix seconds); whether anything went.
    pub fn prune(&mut self, now: i64) -> bool {
        let before = (self.sessions.len(), self.all.is_some());
        self.sessions.retain(|s| s.until > now);
        if self.all.as_ref().is_some_and(|a| a.until <= now) {
            self.all = None;
        }
        before != (self.sessions.len(), self.all.is_some())
    }

    /// How many sessions are denied one by one.
    pub fn denied_sessions(&self) -> usize {
        self.sessions.len()
    }

    fn statements(&self) -> Vec<Value> {
        let mut out = self.foreign.clone();
        if let Some(a) = &self.all {
            out.push(json!({
                "Sid": format!("{ALL_SID}{}", a.until),
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": a.issued_before}},
            }));
        }
        for (n, s) in self.sessions.iter().enumerate() {
            out.push(json!({
                "Sid": format!("{SESSION_SID}{}N{n}", s.until),
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringLike": {"aws:userid": format!("*:{}", s.session_name)}},
            }));
        }
        out
    }

    /// The document to write back. When it would pass [`MAX_DOCUMENT_CHARS`], the
    /// per-session denials become one issue-time deny at `now` (which also denies the other
    /// sessions issued before now: `merged` says so, for the audit trail).
    pub fn render(&mut self, now: &str) -> Rendered {
        let render = |p: &RevocationPolicy| {
            serde_json::to_string(&json!({"Version": "2012-10-17", "Statement": p.statements()}))
                .unwrap_or_default()
        };
        if self.foreign.is_empty() && self.sessions.is_empty() && self.all.is_none() {
            return Rendered::Empty;
        }
        let json = render(self);
        if json.len() <= MAX_DOCUMENT_CHARS {
            return Rendered::Document {
                json,
                merged: false,
            };
        }
        let until = self.sessions.iter().map(|s| s.until).max().unwrap_or(0);
        self.sessions.clear();
        self.revoke_all(now, until);
        Rendered::Document {
            json: render(self),
            merged: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(r: &Rendered) -> Value {
        match r {
            Rendered::Document { json, .. } => serde_json::from_str(json).unwrap(),
            Rendered::Empty => panic!("a document expected"),
        }
    }

    #[test]
    fn sessions_are_denied_by_user_id_and_dropped_once_expired() {
        let mut p = RevocationPolicy::parse(None).unwrap();
        p.revoke_session("mayfly-tc-aaa", 1_000);
        p.revoke_session("mayfly-tc-bbb", 2_000);
        let out = p.render("2026-11-29T05:00:00Z");
        let d = doc(&out);
        assert_eq!(d["Statement"].as_array().unwrap().len(), 2);
        assert_eq!(
            d["Statement"][0]["Condition"]["StringLike"]["aws:userid"],
            "*:mayfly-tc-aaa"
        );
        assert_eq!(d["Statement"][0]["Effect"], "Deny");
        // Read back, one expires.
        let Rendered::Document { json, .. } = out else {
            unreachable!()
        };
        let mut again = RevocationPolicy::parse(Some(&json)).unwrap();
        assert_eq!(again, p);
        assert!(again.prune(1_500));
        assert_eq!(again.denied_sessions(), 1);
        assert!(!again.prune(1_500));
        assert!(again.prune(2_000));
        assert_eq!(again.render("x"), Rendered::Empty);
    }

    #[test]
    fn revoke_all_denies_by_issue_time_and_keeps_foreign_statements() {
        let foreign = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Theirs","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
        let mut p = RevocationPolicy::parse(Some(foreign)).unwrap();
        p.revoke_session("mayfly-tc-aaa", 1_000);
        p.revoke_all("2026-11-29T05:00:00Z", 3_600);
        assert_eq!(p.denied_sessions(), 0, "covered by the issue-time deny");
        let d = doc(&p.render("2026-11-29T05:00:00Z"));
        let sts = d["Statement"].as_array().unwrap();
        assert_eq!(sts[0]["Sid"], "Theirs");
        assert_eq!(
            sts[1]["Condition"]["DateLessThan"]["aws:TokenIssueTime"],
            "2026-11-29T05:00:00Z"
        );
        // Everything of ours expired: the foreign statement stays.
        p.prune(10_000);
        let d = doc(&p.render("x"));
        assert_eq!(d["Statement"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn too_many_sessions_merge_into_one_issue_time_deny() {
        let mut p = RevocationPolicy::default();
        for i in 0..200 {
            p.revoke_session(&format!("mayfly-tc-{i:020}"), 5_000 + i);
        }
        let out = p.render("2026-11-29T05:00:00Z");
        let Rendered::Document { json, merged } = &out else {
            panic!()
        };
        assert!(merged);
        assert!(json.len() <= MAX_DOCUMENT_CHARS);
        let d = doc(&out);
        assert_eq!(d["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(d["Statement"][0]["Sid"], "MayflyAllBefore5199");
    }

    #[test]
    fn a_broken_document_is_an_error_not_a_guess() {
        assert!(RevocationPolicy::parse(Some("{nope")).is_err());
    }
}
