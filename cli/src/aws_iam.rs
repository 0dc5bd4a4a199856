//! AWS IAM logins (`--access-type aws_iam`): the CLI proves the machine's AWS identity with a
//! `cloud-id`, a signed `sts:GetCallerIdentity` request that the gateway sends on to STS to
//! learn who signed it. The format is the one of the `akeyless-cloud-id` package: base64 of
//! the JSON `{"sts_request_method", "sts_request_url", "sts_request_body",
//! "sts_request_headers"}`, with the URL, body and headers (a JSON object of header lists)
//! each base64-encoded.
//!
//! The request is signed here with Signature Version 4 for `sts` in `us-east-1`, for the host
//! `sts.amazonaws.com`, using the credentials of AWS's default chain: the environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), the shared config and
//! credentials files (`AWS_PROFILE`), web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` and
//! `AWS_ROLE_ARN`, as on EKS), the ECS container credentials endpoint, then the EC2 instance
//! metadata service. The keys never leave the machine; what is sent is one signature, good
//! for this one request for 15 minutes.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_config::default_provider::credentials::DefaultCredentialsChain;
use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::ProfileFileRegionProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::Region;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials as _;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};

use crate::error::CliError;

/// The endpoint the request is signed for (the gateway sends it to its auth method's STS URL,
/// keeping this signed host).
pub const STS_URL: &str = "https://sts.amazonaws.com/";
/// The host of [`STS_URL`].
pub const STS_HOST: &str = "sts.amazonaws.com";
/// The only request the gateway accepts.
pub const GET_CALLER_IDENTITY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// The region of the global STS endpoint's signatures.
const SIGNING_REGION: &str = "us-east-1";

/// A cloud-id for the machine's AWS identity: the default credential chain's credentials,
/// signed now.
pub fn cloud_id_from_ambient_credentials() -> Result<String, CliError> {
    let credentials = ambient_credentials()?;
    cloud_id(&credentials, SystemTime::now())
}

/// A cloud-id: `GetCallerIdentity` signed with `credentials` at `now` (an
/// `X-Amz-Security-Token` header only with temporary credentials).
pub fn cloud_id(credentials: &Credentials, now: SystemTime) -> Result<String, CliError> {
    let signing_failed =
        |e: &dyn std::fmt::Display| CliError::AwsCredentials(format!("cannot sign: {e}"));
    let identity: Identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(SIGNING_REGION)
        .name("sts")
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| signing_failed(&e))?
        .into();
    let unsigned = [("Content-Type", CONTENT_TYPE), ("Host", STS_HOST)];
    let request = SignableRequest::new(
        "POST",
        STS_URL,
        unsigned.into_iter(),
        SignableBody::Bytes(GET_CALLER_IDENTITY.as_bytes()),
    )
    .map_err(|e| signing_failed(&e))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| signing_failed(&e))?
        .into_parts();

    // Header lists, as Python's requests and the akeyless-cloud-id package write them.
    let mut headers: BTreeMap<String, Vec<String>> = unsigned
        .iter()
        .map(|(name, value)| ((*name).to_owned(), vec![(*value).to_owned()]))
        .collect();
    for (name, value) in instructions.headers() {
        headers.insert(header_case(name), vec![value.to_owned()]);
    }
    let headers = serde_json::to_string(&headers).map_err(|e| signing_failed(&e))?;
    let wire = serde_json::json!({
        "sts_request_method": "POST",
        "sts_request_url": BASE64.encode(STS_URL),
        "sts_request_body": BASE64.encode(GET_CALLER_IDENTITY),
        "sts_request_headers": BASE64.encode(headers),
    });
    Ok(BASE64.encode(wire.to_string()))
}

/// `x-amz-date` as `X-Amz-Date`.
fn header_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The credentials of AWS's default chain (see the module documentation). Its HTTPS client
/// (for web identity, ECS and instance metadata) is the workspace's rustls/ring one. The
/// region, which only web identity's STS call uses, comes from the environment or the
/// profile, else us-east-1, without asking the instance metadata service.
fn ambient_credentials() -> Result<Credentials, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::AwsCredentials(format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(async {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let config = ProviderConfig::default().with_http_client(http);
        let region = RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
            .or_else(
                ProfileFileRegionProvider::builder()
                    .configure(&config)
                    .build(),
            )
            .or_else(Region::from_static(SIGNING_REGION));
        DefaultCredentialsChain::builder()
            .configure(config)
            .region(region)
            .build()
            .await
            .provide_credentials()
            .await
    });
    result.map_err(|error| match error {
        CredentialsError::CredentialsNotLoaded(_) => CliError::usage(format!(
            "no AWS credentials for --access-type aws_iam: none in the environment \
             (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), the shared config and credentials \
             files (AWS_PROFILE), web identity (AWS_WEB_IDENTITY_TOKEN_FILE), the ECS container \
             endpoint or the EC2 instance metadata service ({})",
            error_chain(&error)
        )),
        other => CliError::AwsCredentials(error_chain(&other)),
    })
}

/// An error with its causes (the SDK's top-level messages say little on their own).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(cause) = current {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        current = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::time::Duration;

    /// 2026-11-29T02:00:00Z.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_917_600)
    }

    fn credentials(session_token: Option<&str>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            session_token.map(str::to_owned),
            None,
            "test",
        )
    }

    fn decoded(b64: &str) -> String {
        String::from_utf8(BASE64.decode(b64).expect("base64")).expect("text")
    }

    /// The cloud-id's JSON, and its headers as a name -> first value map.
    fn parts(cloud_id: &str) -> (Value, BTreeMap<String, String>) {
        let wire: Value = serde_json::from_str(&decoded(cloud_id)).expect("JSON");
        let headers: BTreeMap<String, Vec<String>> = serde_json::from_str(&decoded(
            wire["sts_request_headers"].as_str().expect("headers"),
        ))
        .expect("a JSON object of header lists");
        let headers = headers
            .into_iter()
            .map(|(name, mut values)| {
                assert_eq!(values.len(), 1, "{name}");
                (name, values.remove(0))
            })
            .collect();
        (wire, headers)
    }

    #[test]
    fn a_cloud_id_is_a_sigv4_signed_get_caller_identity_for_global_sts() {
        let cloud_id = cloud_id(&credentials(None), now()).unwrap();
        let (wire, headers) = parts(&cloud_id);
        assert_eq!(wire["sts_request_method"], "POST");
        assert_eq!(
            decoded(wire["sts_request_url"].as_str().unwrap()),
            "https://sts.amazonaws.com/"
        );
        assert_eq!(
            decoded(wire["sts_request_body"].as_str().unwrap()),
            "Action=GetCallerIdentity&Version=2011-06-15"
        );
        assert_eq!(
            headers.keys().map(String::as_str).collect::<Vec<_>>(),
            ["Authorization", "Content-Type", "Host", "X-Amz-Date"],
            "a long-term key has no session token header"
        );
        assert_eq!(headers["Host"], "sts.amazonaws.com");
        assert_eq!(
            headers["Content-Type"],
            "application/x-www-form-urlencoded; charset=utf-8"
        );
        assert_eq!(headers["X-Amz-Date"], "20261129T020000Z");
        let authorization = &headers["Authorization"];
        assert!(
            authorization.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/us-east-1/sts/aws4_request, "
            ),
            "{authorization}"
        );
        assert!(
            authorization.contains("SignedHeaders=content-type;host;x-amz-date, "),
            "{authorization}"
        );
        let signature = authorization
            .split("Signature=")
            .nth(1)
            .expect("a signature");
        assert_eq!(signature.len(), 64, "{authorization}");
        assert!(signature.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(!cloud_id.contains("wJalr") && !decoded(&cloud_id).contains("wJalr"));

        // Signing is deterministic for a given time; another time, another signature.
        assert_eq!(
            super::cloud_id(&credentials(None), now()).unwrap(),
            cloud_id
        );
        let later = super::cloud_id(&credentials(None), now() + Duration::from_secs(1)).unwrap();
        assert_ne!(parts(&later).1["Authorization"], *authorization);
    }

    #[test]
    fn temporary_credentials_sign_and_send_their_session_token() {
        let (_, headers) = parts(&cloud_id(&credentials(Some("TOKEN123")), now()).unwrap());
        assert_eq!(headers["X-Amz-Security-Token"], "TOKEN123");
        // What botocore's SigV4Auth (1.44) signs for the same request, key and time.
        assert_eq!(
            headers["Authorization"],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/us-east-1/sts/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, \
             Signature=c4afa22eafd607309258692dfdb232b589a160e1d09e6d897988d5e5619cbe6b"
        );
    }

    #[test]
    fn header_names_are_written_in_their_usual_case() {
        assert_eq!(header_case("x-amz-date"), "X-Amz-Date");
        assert_eq!(header_case("authorization"), "Authorization");
        assert_eq!(header_case("x-amz-security-token"), "X-Amz-Security-Token");
    }
}
