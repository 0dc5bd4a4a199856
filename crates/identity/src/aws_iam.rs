//! AWS IAM logins: the caller proves its AWS identity with a signed `sts:GetCallerIdentity`
//! request (a `cloud-id`, as the `akeyless-cloud-id` package and the Akeyless GitHub action
//! make it), which the gateway sends to STS; STS's answer names the caller's ARN.
//!
//! The caller chooses nothing about where the request goes: it is sent only to the auth
//! method's STS URL (AWS's own endpoint unless the operator allowed another), never to the URL
//! inside the cloud-id. Only `GetCallerIdentity` is sent: any other action or parameter in the
//! body is refused, so a cloud-id cannot make the gateway perform another signed STS call (such
//! as `AssumeRole`) with someone's credentials. The signed `Host` header is kept (the signature
//! covers it) and the signature date must be recent.

use std::{collections::BTreeMap, time::SystemTime};

use base64::{engine::general_purpose::STANDARD, Engine};
use serde::Deserialize;

use crate::jwt::Refused;

/// The body `GetCallerIdentity` is signed with when a cloud-id leaves it out.
pub const DEFAULT_BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
/// The largest cloud-id accepted, in bytes.
pub const MAX_CLOUD_ID_BYTES: usize = 16 * 1024;
/// How far the signature date may be from the gateway's clock (STS allows 15 minutes).
pub const MAX_SIGNATURE_AGE_SECS: i64 = 15 * 60;

/// Headers forwarded to STS; anything else in the cloud-id is dropped.
const FORWARDED: [&str; 6] = [
    "authorization",
    "content-type",
    "host",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

fn refused(why: impl Into<String>) -> Refused {
    Refused(why.into())
}

#[derive(Deserialize)]
struct Wire {
    sts_request_method: Option<String>,
    sts_request_url: Option<String>,
    sts_request_body: Option<String>,
    sts_request_headers: Option<String>,
}

/// A checked, signed `GetCallerIdentity` request, ready to send.
#[derive(Clone)]
pub struct SignedRequest {
    /// Lower-case name and value, `host` among them.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl std::fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The headers hold the session token and the signature.
        f.debug_struct("SignedRequest")
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn b64_text(field: &str, value: &str) -> Result<String, Refused> {
    let bytes = STANDARD
        .decode(value.trim().as_bytes())
        .map_err(|_| refused(format!("cloud-id: {field} is not base64")))?;
    String::from_utf8(bytes).map_err(|_| refused(format!("cloud-id: {field} is not text")))
}

impl SignedRequest {
    /// Parses and checks a cloud-id (base64 of the JSON the Akeyless tools make), at `now`.
    pub fn from_cloud_id(cloud_id: &str, now: SystemTime) -> Result<SignedRequest, Refused> {
        if cloud_id.len() > MAX_CLOUD_ID_BYTES {
            return Err(refused(format!(
                "cloud-id: larger than {MAX_CLOUD_ID_BYTES} bytes"
            )));
        }
        let json = b64_text("the cloud-id", cloud_id)?;
        let wire: Wire = serde_json::from_str(&json).map_err(|_| {
            refused("cloud-id: not the JSON of a signed sts:GetCallerIdentity request (sts_request_method, sts_request_url, sts_request_body, sts_request_headers)")
        })?;
        if !wire
            .sts_request_method
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("POST"))
        {
            return Err(refused("cloud-id: sts_request_method must be POST"));
        }
        let body = match wire.sts_request_body.as_deref() {
            Some(b) if !b.trim().is_empty() => b64_text("sts_request_body", b)?,
            _ => DEFAULT_BODY.to_owned(),
        };
        check_body(&body)?;
        let headers_json = b64_text(
            "sts_request_headers",
            wire.sts_request_headers.as_deref().unwrap_or_default(),
        )?;
        let raw: BTreeMap<String, serde_json::Value> = serde_json::from_str(&headers_json)
            .map_err(|_| {
                refused("cloud-id: sts_request_headers is not a JSON object of header lists")
            })?;
        let mut headers = Vec::new();
        for (name, value) in raw {
            let name = name.to_ascii_lowercase();
            if !FORWARDED.contains(&name.as_str()) {
                continue;
            }
            let first = match value {
                serde_json::Value::Array(items) => items.into_iter().next(),
                other => Some(other),
            };
            // akeyless-cloud-id sends `[null]` for the session token of a long-term key.
            if let Some(serde_json::Value::String(v)) = first {
                if v.chars().any(|c| c.is_control()) {
                    return Err(refused(format!(
                        "cloud-id: header {name} holds control characters"
                    )));
                }
                headers.push((name, v));
            }
        }
        if !headers.iter().any(|(n, _)| n == "host") {
            // The signature covers the host the caller signed for: the URL's.
            let url = wire
                .sts_request_url
                .as_deref()
                .map(|u| b64_text("sts_request_url", u))
                .transpose()?
                .unwrap_or_else(|| "https://sts.amazonaws.com/".into());
            let host = url::Url::parse(&url)
                .ok()
                .and_then(|u| {
                    u.host_str().map(|h| match u.port() {
                        Some(p) => format!("{h}:{p}"),
                        None => h.to_owned(),
                    })
                })
                .ok_or_else(|| refused("cloud-id: sts_request_url is not a URL"))?;
            headers.push(("host".into(), host));
        }
        let header = |n: &str| {
            headers
                .iter()
                .find(|(name, _)| name == n)
                .map(|(_, v)| v.as_str())
        };
        let authorization = header("authorization").ok_or_else(|| {
            refused("cloud-id: the request is not signed (no Authorization header)")
        })?;
        if !authorization.starts_with("AWS4-HMAC-SHA256 ")
            || !authorization.contains("/sts/aws4_request")
        {
            return Err(refused(
                "cloud-id: the Authorization header is not an AWS Signature Version 4 for STS",
            ));
        }
        let date = header("x-amz-date").ok_or_else(|| refused("cloud-id: no X-Amz-Date header"))?;
        check_date(date, now)?;
        Ok(SignedRequest { headers, body })
    }
}

/// Only `Action=GetCallerIdentity&Version=2011-06-15`, in any order, nothing else.
fn check_body(body: &str) -> Result<(), Refused> {
    let mut action = None;
    let mut version = None;
    for pair in body.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "Action" if action.is_none() => action = Some(v),
            "Version" if version.is_none() => version = Some(v),
            _ => {
                return Err(refused(
                    "cloud-id: the signed request may only be sts:GetCallerIdentity (Action and Version, nothing else)",
                ))
            }
        }
    }
    if action != Some("GetCallerIdentity") || version != Some("2011-06-15") {
        return Err(refused(
            "cloud-id: the signed request must be Action=GetCallerIdentity&Version=2011-06-15",
        ));
    }
    Ok(())
}

/// `X-Amz-Date` (`20261129T020000Z`) within [`MAX_SIGNATURE_AGE_SECS`] of `now`.
fn check_date(date: &str, now: SystemTime) -> Result<(), Refused> {
    let parsed = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| refused("cloud-id: X-Amz-Date is not a date such as 20261129T020000Z"))?
        .and_utc()
        .timestamp();
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if (now - parsed).abs() > MAX_SIGNATURE_AGE_SECS {
        return Err(refused(
            "cloud-id: the request was signed more than 15 minutes from now; make a fresh one",
        ));
    }
    Ok(())
}

/// Who STS says signed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub arn: String,
    pub account: String,
    /// `AIDA...` for a user, `AROA...:session` for an assumed role.
    pub user_id: String,
}

/// A principal's parts, from its ARN.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Principal {
    pub role_name: Option<String>,
    pub user_name: Option<String>,
    /// The unique id of the role (`AROA...`) or user (`AIDA...`).
    pub role_id: Option<String>,
    pub user_id: Option<String>,
}

impl CallerIdentity {
    /// The role or user behind the ARN: `assumed-role/<role>/<session>` names the role,
    /// `user/<path>/<name>` the user.
    pub fn principal(&self) -> Principal {
        let resource = self.arn.splitn(6, ':').nth(5).unwrap_or_default();
        let mut parts = resource.split('/');
        let kind = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        let mut p = Principal::default();
        match kind {
            "assumed-role" => {
                p.role_name = rest.first().map(|s| (*s).to_owned());
                p.role_id = self.user_id.split(':').next().map(str::to_owned);
            }
            "role" => {
                p.role_name = rest.last().map(|s| (*s).to_owned());
                p.role_id = self.user_id.split(':').next().map(str::to_owned);
            }
            "user" => {
                p.user_name = rest.last().map(|s| (*s).to_owned());
                p.user_id = Some(self.user_id.clone());
            }
            _ => {}
        }
        p
    }
}

/// Why STS did not vouch for a cloud-id.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StsError {
    /// STS refused the signature or the credentials: the login fails (401).
    #[error("{0}")]
    Refused(String),
    /// STS could not be asked (policy, network, unexpected answer): retry later (503).
    #[error("{0}")]
    Unavailable(String),
}

/// Sends checked cloud-ids to STS under the outbound URL policy.
pub struct StsVerifier {
    fetcher: crate::fetch::Fetcher,
}

impl StsVerifier {
    pub fn new(policy: std::sync::Arc<mayfly_domain::OutboundPolicy>) -> Self {
        StsVerifier {
            fetcher: crate::fetch::Fetcher::new(policy),
        }
    }

    /// Posts a signed `GetCallerIdentity` to `sts_url`; returns the status and body (at most
    /// 64 KiB). The URL must be AWS's own STS endpoint or an allowed origin; the signed
    /// headers go as they are, `Host` included.
    async fn post(
        &self,
        sts_url: &str,
        request: &SignedRequest,
    ) -> Result<(u16, String), StsError> {
        let url = format!("{}/", sts_url.trim_end_matches('/'));
        self.fetcher
            .policy()
            .check_request(mayfly_domain::AwsService::Sts, &url)
            .map_err(StsError::Unavailable)?;
        let mut builder = self.fetcher.client().post(&url).body(request.body.clone());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let response = builder.send().await.map_err(|e| {
            StsError::Unavailable(match crate::fetch::refusal_in(&e) {
                Some(why) => format!("the auth method's sts-url: {why}"),
                None if e.is_timeout() => "STS did not answer within 10 seconds".into(),
                None => "STS could not be reached".into(),
            })
        })?;
        let status = response.status().as_u16();
        let body = crate::fetch::read_limited(response, 64 * 1024)
            .await
            .map_err(|why| {
                StsError::Unavailable(match why {
                    crate::fetch::Unread::TooLarge => "STS's answer is too large".into(),
                    crate::fetch::Unread::BrokeOff => "STS's answer broke off".into(),
                })
            })?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }

    /// Sends `request` to `sts_url` (an origin such as `https://sts.amazonaws.com`) and
    /// returns who STS says signed it.
    pub async fn caller_identity(
        &self,
        sts_url: &str,
        request: &SignedRequest,
    ) -> Result<CallerIdentity, StsError> {
        let (status, body) = self.post(sts_url, request).await?;
        match status {
            200 => parse_caller_identity(&body).ok_or_else(|| {
                StsError::Unavailable("STS answered GetCallerIdentity without an identity".into())
            }),
            400 | 401 | 403 => Err(StsError::Refused(format!(
                "STS refused the signed GetCallerIdentity ({})",
                error_code(&body).unwrap_or("no error code")
            ))),
            other => Err(StsError::Unavailable(format!(
                "STS answered HTTP {other}; retry shortly"
            ))),
        }
    }
}

/// The text of `<tag>` in an STS XML answer.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(xml[start..end].trim())
}

/// Reads a `GetCallerIdentityResponse`.
pub fn parse_caller_identity(xml: &str) -> Option<CallerIdentity> {
    let result = element(xml, "GetCallerIdentityResult")?;
    Some(CallerIdentity {
        arn: element(result, "Arn")?.to_owned(),
        account: element(result, "Account")?.to_owned(),
        user_id: element(result, "UserId")?.to_owned(),
    })
}

/// The error code of an STS error answer (`SignatureDoesNotMatch`, `ExpiredToken` ...).
pub fn error_code(xml: &str) -> Option<&str> {
    element(xml, "Code")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cloud_id(body: Option<&str>, headers: serde_json::Value) -> String {
        let wire = serde_json::json!({
            "sts_request_method": "POST",
            "sts_request_url": STANDARD.encode("https://sts.amazonaws.com/"),
            "sts_request_body": body.map(|b| STANDARD.encode(b)).unwrap_or_default(),
            "sts_request_headers": STANDARD.encode(headers.to_string()),
        });
        STANDARD.encode(wire.to_string())
    }

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_917_600) // 2026-11-29T02:00:00Z
    }

    fn signed_headers() -> serde_json::Value {
        serde_json::json!({
            "Authorization": ["AWS4-HMAC-SHA256 Credential=AKIA/20261129/us-east-1/sts/aws4_request,  SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token, Signature=abc"],
            "Content-Type": ["application/x-www-form-urlencoded; charset=utf-8"],
            "X-Amz-Date": ["20261129T020500Z"],
            "X-Amz-Security-Token": [null],
            "User-Agent": ["aws-sdk-python"],
            "X-Forwarded-For": ["1.2.3.4"],
        })
    }

    #[test]
    fn a_cloud_id_becomes_a_get_caller_identity_to_the_signed_host() {
        let r =
            SignedRequest::from_cloud_id(&cloud_id(Some(DEFAULT_BODY), signed_headers()), now())
                .unwrap();
        assert_eq!(r.body, DEFAULT_BODY);
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"host") && names.contains(&"authorization"));
        assert!(!names.contains(&"x-forwarded-for") && !names.contains(&"user-agent"));
        assert!(
            !names.contains(&"x-amz-security-token"),
            "a null token is left out"
        );
        assert!(r
            .headers
            .contains(&("host".into(), "sts.amazonaws.com".into())));
        // No body: the default one.
        let r = SignedRequest::from_cloud_id(&cloud_id(None, signed_headers()), now()).unwrap();
        assert_eq!(r.body, DEFAULT_BODY);
    }

    #[test]
    fn other_actions_old_signatures_and_garbage_are_refused() {
        for body in [
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/x&RoleSessionName=s",
            "Action=GetCallerIdentity&Version=2011-06-15&Extra=1",
            "Action=GetCallerIdentity",
        ] {
            let e = SignedRequest::from_cloud_id(&cloud_id(Some(body), signed_headers()), now())
                .unwrap_err();
            assert!(e.0.contains("GetCallerIdentity"), "{body}: {e}");
        }
        let mut old = signed_headers();
        old["X-Amz-Date"] = serde_json::json!(["20261129T010000Z"]);
        assert!(SignedRequest::from_cloud_id(&cloud_id(None, old), now())
            .unwrap_err()
            .0
            .contains("15 minutes"));
        let mut unsigned = signed_headers();
        unsigned.as_object_mut().unwrap().remove("Authorization");
        assert!(SignedRequest::from_cloud_id(&cloud_id(None, unsigned), now()).is_err());
        let mut s3 = signed_headers();
        s3["Authorization"] = serde_json::json!([
            "AWS4-HMAC-SHA256 Credential=A/20261129/us-east-1/s3/aws4_request, Signature=x"
        ]);
        assert!(SignedRequest::from_cloud_id(&cloud_id(None, s3), now()).is_err());
        assert!(SignedRequest::from_cloud_id("!!", now()).is_err());
        assert!(SignedRequest::from_cloud_id(&STANDARD.encode("[]"), now()).is_err());
    }

    #[test]
    fn sts_answers_and_principals() {
        let xml = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::123456789012:assumed-role/ci-deployer/gh-run-17</Arn>
    <UserId>AROAEXAMPLEID:gh-run-17</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
</GetCallerIdentityResponse>"#;
        let id = parse_caller_identity(xml).unwrap();
        assert_eq!(id.account, "123456789012");
        let p = id.principal();
        assert_eq!(p.role_name.as_deref(), Some("ci-deployer"));
        assert_eq!(p.role_id.as_deref(), Some("AROAEXAMPLEID"));
        let user = CallerIdentity {
            arn: "arn:aws:iam::123456789012:user/ops/alice".into(),
            account: "123456789012".into(),
            user_id: "AIDAEXAMPLE".into(),
        };
        assert_eq!(user.principal().user_name.as_deref(), Some("alice"));
        assert_eq!(
            error_code(
                "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code></Error></ErrorResponse>"
            ),
            Some("SignatureDoesNotMatch")
        );
    }
}
