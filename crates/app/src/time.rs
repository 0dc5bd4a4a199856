//! How times are shown to people: every front door and the audit line sink agree.

use chrono::{TimeZone, Utc};

/// A stored timestamp (milliseconds since the Unix epoch) as RFC 3339 in UTC, to the second.
pub fn rfc3339(millis: i64) -> String {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
