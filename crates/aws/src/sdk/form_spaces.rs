//! [`FormSpaces`]: send spaces in IAM/STS form bodies as `+`, the way botocore does.
//!
//! IAM and STS use the AWS Query protocol: `application/x-www-form-urlencoded` bodies. The Rust
//! SDK encodes a space as `%20`, botocore (boto3, the AWS CLI) as `+`; both mean the same in a
//! form body and AWS accepts both. moto, however, verifies signatures over a *re-encoded* copy
//! of the form (with `+`), so with authentication enforced it refuses every request whose
//! parameters contain a space, such as a pretty-printed policy document, with
//! `SignatureDoesNotMatch`. Rewriting `%20` to `+` before signing makes our requests byte for
//! byte what botocore sends, which every AWS-compatible endpoint is tested against.
//!
//! The rewrite is exact: in a percent-encoded body every `%` starts a three-character escape
//! (a literal `%` is `%25`), so the escape `%20` cannot be part of anything else.

use aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_iam::error::BoxError;

/// The interceptor; add it to IAM and STS clients.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FormSpaces;

impl Intercept for FormSpaces {
    fn name(&self) -> &'static str {
        "mayfly::FormSpaces"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let is_form = request
            .headers()
            .get("content-type")
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Ok(());
        }
        let Some(rewritten) = request.body().bytes().and_then(plus_for_spaces) else {
            return Ok(());
        };
        request
            .headers_mut()
            .insert("content-length", rewritten.len().to_string());
        *request.body_mut() = rewritten.into();
        Ok(())
    }
}

/// `body` with every `%20` replaced by `+`, or `None` when there is none.
fn plus_for_spaces(body: &[u8]) -> Option<Vec<u8>> {
    if !body.windows(3).any(|w| w == b"%20") {
        return None;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.windows(3).position(|w| w == b"%20") {
        out.extend_from_slice(&rest[..at]);
        out.push(b'+');
        rest = &rest[at + 3..];
    }
    out.extend_from_slice(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_spaces_become_plus_and_nothing_else_changes() {
        assert_eq!(
            plus_for_spaces(b"Action=PutUserPolicy&PolicyDocument=%7B%20%22a%22%3A%201%7D")
                .as_deref(),
            Some(&b"Action=PutUserPolicy&PolicyDocument=%7B+%22a%22%3A+1%7D"[..])
        );
        // A literal "%20" in a value is sent as "%2520" and must stay as it is.
        assert_eq!(plus_for_spaces(b"Password=a%2520b"), None);
        assert_eq!(plus_for_spaces(b"x=%20%20").as_deref(), Some(&b"x=++"[..]));
        assert_eq!(
            plus_for_spaces(b"Action=ListUsers&Version=2010-05-08"),
            None
        );
    }
}
