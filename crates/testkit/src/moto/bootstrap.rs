//! Bootstrapping an admin IAM user on a fresh moto, before authentication is enforced.
//!
//! moto enforces IAM authentication only after it has served `INITIAL_NO_AUTH_ACTION_COUNT`
//! requests to an AWS service (every action request counts, of any service; requests under
//! `/moto-api/` do not, and neither do rejected ones). The bootstrap uses exactly
//! [`BOOTSTRAP_ACTIONS`] = 3 of them, `CreateUser`, `AttachUserPolicy(AdministratorAccess)`
//! and `CreateAccessKey`, so the server is started with `INITIAL_NO_AUTH_ACTION_COUNT=3` and
//! enforces from the fourth request on. `AdministratorAccess` exists only with
//! `MOTO_IAM_LOAD_MANAGED_POLICIES=true`.
//!
//! The requests are plain IAM Query API form POSTs, not signed. moto picks the service of a
//! request from the credential scope of its `Authorization` header (without one, an unsigned
//! POST to `/` is taken for S3), so they carry a syntactically valid SigV4 header for the
//! `iam` service whose signature moto does not check while requests are still free.
//!
//! Afterwards [`check_enforced`] proves that enforcement is on: a request with an unknown key
//! must be refused with 403, or every "denied" assertion in the tests would be meaningless.

use std::time::Duration;

use reqwest::blocking::Client;

/// moto requests served without authentication: the three bootstrap calls.
pub const BOOTSTRAP_ACTIONS: u32 = 3;

/// Name of the bootstrapped admin user.
pub const ADMIN_USER_NAME: &str = "mayfly-test-admin";

/// An `Authorization` header that routes a request to moto's IAM backend without valid
/// credentials (used for the free bootstrap requests and for the enforcement check).
const UNSIGNED_IAM_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 \
    Credential=AKIAMAYFLYBOOTSTRAP0/20240101/us-east-1/iam/aws4_request, \
    SignedHeaders=host, Signature=0000000000000000000000000000000000000000000000000000000000000000";

/// An HTTP client for moto's loopback address (no proxies: an `HTTP_PROXY` in the environment
/// must not capture loopback test traffic).
pub(crate) fn client() -> Result<Client, String> {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .map_err(|e| format!("building an HTTP client: {e}"))
}

/// One IAM Query API call without valid credentials; returns the status and body.
fn iam_query(client: &Client, url: &str, params: &[(&str, &str)]) -> Result<(u16, String), String> {
    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.push(("Version", "2010-05-08"));
    let response = client
        .post(format!("{url}/"))
        .header("Authorization", UNSIGNED_IAM_AUTHORIZATION)
        .form(&form)
        .send()
        .map_err(|e| format!("POST {url}/ {params:?}: {e}"))?;
    let status = response.status().as_u16();
    let body = response
        .text()
        .map_err(|e| format!("reading the answer to {params:?}: {e}"))?;
    Ok((status, body))
}

/// The text of the first `<tag>...</tag>` element in an XML body.
fn xml_text(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = body.find(&open)? + open.len();
    let len = body[start..].find(&close)?;
    Some(body[start..start + len].to_owned())
}

/// Creates the admin user with `AdministratorAccess` and an access key through the first
/// [`BOOTSTRAP_ACTIONS`] requests; returns `(access_key_id, secret_access_key)`.
pub(crate) fn bootstrap_admin(url: &str) -> Result<(String, String), String> {
    let client = client()?;
    let steps: [&[(&str, &str)]; 2] = [
        &[("Action", "CreateUser"), ("UserName", ADMIN_USER_NAME)],
        &[
            ("Action", "AttachUserPolicy"),
            ("UserName", ADMIN_USER_NAME),
            ("PolicyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
        ],
    ];
    for params in steps {
        let (status, body) = iam_query(&client, url, params)?;
        if status != 200 {
            return Err(format!("{params:?} answered {status}: {body}"));
        }
    }
    let (status, body) = iam_query(
        &client,
        url,
        &[("Action", "CreateAccessKey"), ("UserName", ADMIN_USER_NAME)],
    )?;
    if status != 200 {
        return Err(format!("CreateAccessKey answered {status}: {body}"));
    }
    match (
        xml_text(&body, "AccessKeyId"),
        xml_text(&body, "SecretAccessKey"),
    ) {
        (Some(id), Some(secret)) => Ok((id, secret)),
        _ => Err(format!("CreateAccessKey answer without a key: {body}")),
    }
}

/// Checks that moto now refuses a request signed with a key it does not know.
pub(crate) fn check_enforced(url: &str) -> Result<(), String> {
    let (status, body) = iam_query(&client()?, url, &[("Action", "ListUsers")])?;
    if status == 403 {
        Ok(())
    } else {
        Err(format!(
            "moto accepted an unknown access key after the bootstrap (HTTP {status}); IAM \
             authentication is not enforced, so no 'denied' assertion would mean anything: {body}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_finds_the_first_element() {
        let body = "<R><AccessKey><AccessKeyId>AKIA1</AccessKeyId>\
                    <SecretAccessKey>s/e+c</SecretAccessKey></AccessKey></R>";
        assert_eq!(xml_text(body, "AccessKeyId").as_deref(), Some("AKIA1"));
        assert_eq!(xml_text(body, "SecretAccessKey").as_deref(), Some("s/e+c"));
        assert_eq!(xml_text(body, "Missing"), None);
    }
}
