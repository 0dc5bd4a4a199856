//! Conversions between the SDK's types and ours.

use aws_sdk_iam::primitives::DateTime as SmithyDateTime;
use chrono::{DateTime, Utc};

use crate::AwsError;

/// A Smithy timestamp as a chrono UTC time (`None` if out of chrono's range).
pub(crate) fn to_chrono(t: &SmithyDateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// IAM tags for a request. The SDK's builder only fails on missing fields, which we always set.
pub(crate) fn iam_tags(
    action: &str,
    tags: &[(String, String)],
) -> Result<Vec<aws_sdk_iam::types::Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| build_error(action, e))
        })
        .collect()
}

/// STS session tags for a request.
pub(crate) fn sts_tags(
    action: &str,
    tags: &[(String, String)],
) -> Result<Vec<aws_sdk_sts::types::Tag>, AwsError> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_sts::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| build_error(action, e))
        })
        .collect()
}

/// A request the SDK could not even build.
pub(crate) fn build_error(action: &str, e: impl std::fmt::Display) -> AwsError {
    AwsError::InvalidInput {
        code: "RequestConstruction".into(),
        message: format!("{action}: {e}"),
    }
}

/// A successful response without a field AWS always sends.
pub(crate) fn missing(action: &str, what: &str) -> AwsError {
    AwsError::ServiceError {
        status: Some(200),
        code: "InvalidResponse".into(),
        message: format!("{action}: the response has no {what}"),
    }
}

/// Guards a pagination loop against a server that keeps answering `IsTruncated` with the
/// same marker (which would loop forever).
pub(crate) struct Pages {
    action: &'static str,
    seen: usize,
    last: Option<String>,
}

/// More pages than any real listing has (1 000 users per page would be 10 million users).
const MAX_PAGES: usize = 10_000;

impl Pages {
    pub(crate) fn new(action: &'static str) -> Self {
        Self {
            action,
            seen: 0,
            last: None,
        }
    }

    /// The marker for the next request, `Ok(None)` when the listing is complete.
    pub(crate) fn next(
        &mut self,
        is_truncated: bool,
        marker: Option<&str>,
    ) -> Result<Option<String>, AwsError> {
        self.seen += 1;
        let Some(marker) = marker.filter(|_| is_truncated) else {
            return Ok(None);
        };
        if self.last.as_deref() == Some(marker) || self.seen >= MAX_PAGES {
            return Err(AwsError::ServiceError {
                status: Some(200),
                code: "InvalidResponse".into(),
                message: format!("{}: pagination does not advance", self.action),
            });
        }
        self.last = Some(marker.to_owned());
        Ok(Some(marker.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination_stops_when_not_truncated_and_refuses_a_stuck_marker() {
        let mut pages = Pages::new("iam:ListUsers");
        assert_eq!(
            pages.next(true, Some("a")).expect("ok").as_deref(),
            Some("a")
        );
        assert_eq!(
            pages.next(true, Some("b")).expect("ok").as_deref(),
            Some("b")
        );
        assert!(pages.next(true, Some("b")).is_err());
        let mut pages = Pages::new("iam:ListUsers");
        assert_eq!(pages.next(false, Some("a")).expect("ok"), None);
        assert_eq!(pages.next(true, None).expect("ok"), None);
    }

    #[test]
    fn timestamps_convert_exactly() {
        let t = SmithyDateTime::from_secs_and_nanos(1_700_000_000, 5);
        let c = to_chrono(&t).expect("in range");
        assert_eq!(c.timestamp(), 1_700_000_000);
        assert_eq!(c.timestamp_subsec_nanos(), 5);
    }
}
