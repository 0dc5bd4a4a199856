//! AWS's answer to a throttled IAM or STS call, exactly as they send it: HTTP 400 with a
//! Query-protocol `ErrorResponse` whose code is `Throttling`. The AWS SDKs find the code in
//! that body and count it as throttling (aws-runtime's `THROTTLING_ERRORS` lists
//! `Throttling`), so a client backs off and retries it as it would against AWS.

/// The HTTP status of a throttled call.
pub const THROTTLING_STATUS: u16 = 400;

/// The body of a throttled call, with the request id AWS would give it.
pub fn throttling_body(request_id: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_aws_throttling_error() {
        assert_eq!(
            throttling_body("0a1b"),
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>0a1b</RequestId></ErrorResponse>"
        );
    }
}
