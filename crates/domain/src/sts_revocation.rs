//! Revoking STS sessions before they expire (issue #14 item 1): the statements of the
//! Mayfly-owned inline policy (`mayfly-revoked-sessions`) put on a role (or on the IAM user that
//! issued federation or session tokens).
//!
//! - One session: `Deny *` when `aws:userid` is `*:<session name>` (a role session's user id is
//!   `AROA…:<session name>`; Mayfly's session names are unique per credential).
//! - Every session issued before now (revoke-all): `Deny *` when `aws:TokenIssueTime` is before
//!   now, as AWS's "Revoke active sessions" does; narrowed to one producer's sessions by their
//!   names (`aws:userid` like `*:*@p<producer>-*`, see [`producer_marker`]).
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

/// Sessions issued before `issued_before` (RFC 3339) are denied, until `until`; only the
/// sessions of one producer when `scope` holds its [`producer_marker`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct IssuedBefore {
    scope: Option<String>,
    issued_before: String,
    until: i64,
}

/// The revocation statements of one role or user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RevocationPolicy {
    foreign: Vec<Value>,
    sessions: Vec<SessionDeny>,
    all: Vec<IssuedBefore>,
}

/// What writing the policy back means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    /// No statement left: delete the inline policy.
    Empty,
    /// The document to put; `merged` when per-session denials became issue-time denies.
    Document { json: String, merged: bool },
}

/// The part of a session name that says which producer issued it: `@p<id in base 36>-`.
/// A producer's revoke-all denies only the sessions whose name holds its marker, so a caller
/// allowed to revoke one producer's credentials cannot cut those of another producer that
/// shares the role or user.
pub fn producer_marker(producer_id: i64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut n = producer_id.unsigned_abs();
    let mut digits = Vec::new();
    loop {
        digits.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    format!("@p{}-", String::from_utf8_lossy(&digits))
}

/// The session name of a revocable credential: `<prefix><marker><lease id>`, the prefix (the
/// producer's rendered template) cut so the whole fits `max_len` (64 for `AssumeRole`, 32
/// for `GetFederationToken`). Unique because the lease id is.
pub fn session_name(
    prefix: &str,
    producer_id: i64,
    lease_id: &str,
    max_len: usize,
) -> Result<String, String> {
    let suffix = format!("{}{lease_id}", producer_marker(producer_id));
    if suffix.len() > max_len {
        return Err(format!(
            "a revocable session name needs {} characters and AWS allows {max_len}",
            suffix.len()
        ));
    }
    let room = max_len - suffix.len();
    let prefix: String = prefix
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(*c))
        .take(room)
        .collect();
    Ok(format!("{prefix}{suffix}"))
}

/// The producer marker in a session name Mayfly made, if it holds one.
fn marker_of(session_name: &str) -> Option<String> {
    let at = session_name.rfind("@p")?;
    let rest = &session_name[at + 2..];
    let end = rest.find('-')?;
    let id = &rest[..end];
    (!id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()))
    .then(|| format!("@p{id}-"))
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
            let userid = st["Condition"]["StringLike"]["aws:userid"].as_str();
            if let Some(rest) = sid.strip_prefix(SESSION_SID) {
                let until = rest.split('N').next().and_then(|u| u.parse().ok());
                let session = userid.and_then(|u| u.strip_prefix("*:")).map(str::to_owned);
                if let (Some(until), Some(session_name)) = (until, session) {
                    policy.sessions.push(SessionDeny {
                        session_name,
                        until,
                    });
                    continue;
                }
            } else if let Some(rest) = sid.strip_prefix(ALL_SID) {
                let until = rest.split('N').next().and_then(|u| u.parse().ok());
                let before = st["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
                    .as_str()
                    .map(str::to_owned);
                let scope = match userid {
                    None => Some(None),
                    Some(u) => u
                        .strip_prefix("*:*")
                        .and_then(|m| m.strip_suffix('*'))
                        .map(|m| Some(m.to_owned())),
                };
                if let (Some(until), Some(issued_before), Some(scope)) = (until, before, scope) {
                    policy.all.push(IssuedBefore {
                        scope,
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

    /// Adds the statements of `other` (another reading of the same policy: the gateway's
    /// own record beside what AWS answered) that this one lacks. Foreign statements come
    /// from `self` only.
    pub fn absorb(&mut self, other: &RevocationPolicy) {
        for s in &other.sessions {
            self.revoke_session(&s.session_name, s.until);
        }
        for a in &other.all {
            self.deny_issued_before(a.scope.as_deref(), &a.issued_before, a.until);
        }
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
    /// them expires): all of them (`scope` `None`), or those whose name holds the marker
    /// `scope` (one producer's). Per-session denials it covers go into it (it lasts as long
    /// as the longest of them).
    pub fn revoke_all(&mut self, scope: Option<&str>, now: &str, until: i64) {
        // Every denied session of the scope was issued before now: the new deny covers it,
        // for as long as its own denial had to last.
        let covered = |s: &SessionDeny| scope.is_none_or(|m| s.session_name.contains(m));
        let until = self
            .sessions
            .iter()
            .filter(|s| covered(s))
            .map(|s| s.until)
            .fold(until, i64::max);
        self.deny_issued_before(scope, now, until);
        self.sessions.retain(|s| !covered(s));
    }

    fn deny_issued_before(&mut self, scope: Option<&str>, before: &str, until: i64) {
        match self.all.iter_mut().find(|a| a.scope.as_deref() == scope) {
            Some(a) => {
                // RFC 3339 in UTC with the same layout: later sorts after.
                if before > a.issued_before.as_str() {
                    a.issued_before = before.to_owned();
                }
                a.until = a.until.max(until);
            }
            None => self.all.push(IssuedBefore {
                scope: scope.map(str::to_owned),
                issued_before: before.to_owned(),
                until,
            }),
        }
    }

    /// Drops what no longer matters at `now` (Unix seconds); whether anything went.
    pub fn prune(&mut self, now: i64) -> bool {
        let before = (self.sessions.len(), self.all.len());
        self.sessions.retain(|s| s.until > now);
        self.all.retain(|a| a.until > now);
        before != (self.sessions.len(), self.all.len())
    }

    /// How many sessions are denied one by one.
    pub fn denied_sessions(&self) -> usize {
        self.sessions.len()
    }

    /// Whether a session or issue-time denial of Mayfly's is left.
    pub fn has_own_statements(&self) -> bool {
        !self.sessions.is_empty() || !self.all.is_empty()
    }

    /// When the first of Mayfly's statements stops mattering (Unix seconds).
    pub fn next_expiry(&self) -> Option<i64> {
        self.sessions
            .iter()
            .map(|s| s.until)
            .chain(self.all.iter().map(|a| a.until))
            .min()
    }

    /// Only Mayfly's statements, as a document (what the gateway keeps in its database).
    pub fn own_document(&self) -> String {
        let own = RevocationPolicy {
            foreign: Vec::new(),
            sessions: self.sessions.clone(),
            all: self.all.clone(),
        };
        serde_json::to_string(&json!({"Version": "2012-10-17", "Statement": own.statements()}))
            .unwrap_or_default()
    }

    fn statements(&self) -> Vec<Value> {
        let mut out = self.foreign.clone();
        for (n, a) in self.all.iter().enumerate() {
            let mut condition = json!({"DateLessThan": {"aws:TokenIssueTime": a.issued_before}});
            if let Some(marker) = &a.scope {
                condition["StringLike"] = json!({"aws:userid": format!("*:*{marker}*")});
            }
            out.push(json!({
                "Sid": format!("{ALL_SID}{}N{n}", a.until),
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": condition,
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
    /// per-session denials become issue-time denies at `now`, one per producer (which also
    /// deny that producer's other sessions issued before now: `merged` says so, for the audit
    /// trail).
    pub fn render(&mut self, now: &str) -> Rendered {
        let render = |p: &RevocationPolicy| {
            serde_json::to_string(&json!({"Version": "2012-10-17", "Statement": p.statements()}))
                .unwrap_or_default()
        };
        if self.foreign.is_empty() && !self.has_own_statements() {
            return Rendered::Empty;
        }
        let json = render(self);
        if json.len() <= MAX_DOCUMENT_CHARS {
            return Rendered::Document {
                json,
                merged: false,
            };
        }
        let sessions = std::mem::take(&mut self.sessions);
        let mut scopes: Vec<(Option<String>, i64)> = Vec::new();
        for s in sessions {
            let scope = marker_of(&s.session_name);
            match scopes.iter_mut().find(|(m, _)| *m == scope) {
                Some((_, until)) => *until = (*until).max(s.until),
                None => scopes.push((scope, s.until)),
            }
        }
        for (scope, until) in scopes {
            self.revoke_all(scope.as_deref(), now, until);
        }
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
        p.revoke_all(None, "2026-11-29T05:00:00Z", 3_600);
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
        assert_eq!(d["Statement"][0]["Sid"], "MayflyAllBefore5199N0");
    }

    #[test]
    fn a_broken_document_is_an_error_not_a_guess() {
        assert!(RevocationPolicy::parse(Some("{nope")).is_err());
    }

    #[test]
    fn session_names_fit_aws_limits_and_carry_the_producer() {
        let lease = "tc-abcdefghijklmnopqrst";
        let n = session_name(
            "mayfly-deploy-bot-with-a-long-name-that-goes-on",
            7,
            lease,
            64,
        )
        .unwrap();
        assert!(n.len() <= 64);
        assert!(n.ends_with("@p7-tc-abcdefghijklmnopqrst"), "{n}");
        assert!(n.starts_with("mayfly-deploy"));
        // GetFederationToken allows 32: the prefix shrinks, the unique part stays.
        let f = session_name("mayfly-deploy", 1_000_000, lease, 32).unwrap();
        assert_eq!(f.len(), 32, "{f}");
        assert!(f.ends_with(&format!("{}{lease}", producer_marker(1_000_000))));
        assert_eq!(producer_marker(35), "@pz-");
        assert_eq!(
            marker_of(&f).as_deref(),
            Some(producer_marker(1_000_000).as_str())
        );
        assert!(session_name("x", i64::MAX, lease, 32).is_err());
        // Characters AWS does not take in a session name are dropped from the prefix.
        let odd = session_name("a b/c", 1, lease, 64).unwrap();
        assert!(odd.starts_with("abc@p1-"), "{odd}");
    }

    #[test]
    fn revoke_all_of_one_producer_leaves_the_others_sessions_alone() {
        let mut p = RevocationPolicy::default();
        p.revoke_session("bot@p1-tc-aaa", 1_000);
        p.revoke_session("bot@p2-tc-bbb", 1_000);
        p.revoke_all(Some("@p1-"), "2026-11-29T05:00:00Z", 2_000);
        assert_eq!(
            p.denied_sessions(),
            1,
            "only producer 1's denial is covered"
        );
        let d = doc(&p.render("2026-11-29T05:00:00Z"));
        let all = &d["Statement"][0];
        assert_eq!(all["Sid"], "MayflyAllBefore2000N0");
        assert_eq!(
            all["Condition"]["DateLessThan"]["aws:TokenIssueTime"],
            "2026-11-29T05:00:00Z"
        );
        assert_eq!(all["Condition"]["StringLike"]["aws:userid"], "*:*@p1-*");
        // Read back: the scope survives.
        let json = p.own_document();
        let again = RevocationPolicy::parse(Some(&json)).unwrap();
        assert_eq!(again, p);
        // A later revoke-all of the same producer moves the bound, not a second statement.
        p.revoke_all(Some("@p1-"), "2026-11-29T06:00:00Z", 1_500);
        assert_eq!(p.all.len(), 1);
        assert_eq!(p.all[0].issued_before, "2026-11-29T06:00:00Z");
        assert_eq!(p.all[0].until, 2_000);
        assert_eq!(p.next_expiry(), Some(1_000));
    }

    #[test]
    fn absorb_merges_the_gateways_record_with_what_aws_answered() {
        let foreign = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Theirs","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#;
        let mut from_aws = RevocationPolicy::parse(Some(foreign)).unwrap();
        let mut ours = RevocationPolicy::default();
        ours.revoke_session("bot@p1-tc-aaa", 1_000);
        ours.revoke_all(Some("@p2-"), "2026-11-29T05:00:00Z", 2_000);
        from_aws.absorb(&ours);
        let d = doc(&from_aws.render("x"));
        assert_eq!(d["Statement"].as_array().unwrap().len(), 3);
        assert_eq!(d["Statement"][0]["Sid"], "Theirs");
        // Only ours is kept in the database.
        let own: Value = serde_json::from_str(&from_aws.own_document()).unwrap();
        assert_eq!(own["Statement"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn overflow_merges_per_producer() {
        let mut p = RevocationPolicy::default();
        for i in 0..120 {
            p.revoke_session(&format!("bot@p1-tc-{i:020}"), 5_000 + i);
            p.revoke_session(&format!("bot@p2-tc-{i:020}"), 6_000 + i);
        }
        let out = p.render("2026-11-29T05:00:00Z");
        let Rendered::Document { merged, .. } = &out else {
            panic!()
        };
        assert!(merged);
        let d = doc(&out);
        let sts = d["Statement"].as_array().unwrap();
        assert_eq!(sts.len(), 2);
        assert_eq!(sts[0]["Condition"]["StringLike"]["aws:userid"], "*:*@p1-*");
        assert_eq!(sts[0]["Sid"], "MayflyAllBefore5119N0");
        assert_eq!(sts[1]["Condition"]["StringLike"]["aws:userid"], "*:*@p2-*");
    }

    #[test]
    fn revoke_all_absorbs_a_longer_session_denial_of_its_scope() {
        let mut p = RevocationPolicy::default();
        p.revoke_session("bot@p1-tc-long", 9_000);
        p.revoke_all(Some("@p1-"), "2026-11-29T05:00:00Z", 2_000);
        assert_eq!(p.denied_sessions(), 0);
        assert_eq!(
            p.next_expiry(),
            Some(9_000),
            "as long as the session's denial"
        );
    }
}
