//! Parsing target requests into checked values, reporting every problem at once.

use mayfly_api_types::request::{AwsTarget, Secret};
use mayfly_domain::{AwsService, ItemName, OutboundPolicy, ValidationErrors};

use mayfly_app::targets::{AwsCredentials, CreateTarget, TargetChanges};
use mayfly_domain::{target_access, CredentialSource, RoleChain, TargetAccess};

use super::given;

pub const DEFAULT_REGION: &str = "us-east-2";

pub fn parse_new(
    req: &AwsTarget,
    outbound: &OutboundPolicy,
) -> Result<CreateTarget, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let name = errors.check("name", parse_name(&req.name));
    let cloud = req.use_gw_cloud_identity == Some(true);
    // With the gateway's identity the SDK still sends access-key-id and access-key (its model
    // requires them): empty ones are no key.
    let credentials = errors.check(
        "access-key-id",
        credentials(
            &req.access_key_id,
            &req.access_key,
            &req.session_token,
            !cloud,
        ),
    );
    if cloud && matches!(credentials, Some(Some(_))) {
        errors.push(
            "use-gw-cloud-identity",
            "the target uses the gateway's own identity: leave access-key-id and access-key out (or empty)",
        );
    }
    let role = errors.check("role-arn", parse_role(req, None));
    let region = errors.check(
        "region",
        parse_region(given(&req.region).unwrap_or(DEFAULT_REGION)),
    );
    let description = errors.check("description", parse_description(req));
    let iam_endpoint = errors.check(
        "iam-endpoint",
        parse_endpoint(outbound, AwsService::Iam, &req.iam_endpoint),
    );
    let sts_endpoint = errors.check(
        "sts-endpoint",
        parse_endpoint(outbound, AwsService::Sts, &req.sts_endpoint),
    );
    match (
        name,
        credentials,
        region,
        description,
        iam_endpoint,
        sts_endpoint,
        role,
    ) {
        (
            Some(name),
            Some(credentials),
            Some(region),
            Some(description),
            Some(iam),
            Some(sts),
            Some(role),
        ) if errors.is_empty() => Ok(CreateTarget {
            name,
            credentials,
            access: TargetAccess {
                source: if cloud {
                    CredentialSource::GatewayIdentity
                } else {
                    CredentialSource::Keys
                },
                role: role.flatten(),
            },
            region,
            description: description.unwrap_or_default(),
            delete_protection: req.delete_protection.unwrap_or(false),
            iam_endpoint: iam,
            sts_endpoint: sts,
            rotation_days: None,
        }),
        _ => Err(errors),
    }
}

pub fn parse_changes(
    req: &AwsTarget,
    outbound: &OutboundPolicy,
) -> Result<TargetChanges, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let name = errors.check("name", parse_name(&req.name));
    let new_name = match given(&req.new_name) {
        Some(raw) => errors.check("new-name", ItemName::parse(raw)).map(Some),
        None => Some(None),
    };
    let credentials = errors.check(
        "access-key-id",
        credentials(
            &req.access_key_id,
            &req.access_key,
            &req.session_token,
            false,
        ),
    );
    let role = errors.check("role-arn", parse_role(req, Some(())));
    let region = match given(&req.region) {
        Some(raw) => errors.check("region", parse_region(raw)).map(Some),
        None => Some(None),
    };
    let description = errors.check("description", parse_description(req));
    let iam_endpoint = errors.check(
        "iam-endpoint",
        parse_endpoint(outbound, AwsService::Iam, &req.iam_endpoint),
    );
    let sts_endpoint = errors.check(
        "sts-endpoint",
        parse_endpoint(outbound, AwsService::Sts, &req.sts_endpoint),
    );
    match (
        name,
        new_name,
        credentials,
        region,
        description,
        iam_endpoint,
        sts_endpoint,
        role,
    ) {
        (
            Some(name),
            Some(new_name),
            Some(credentials),
            Some(region),
            Some(description),
            Some(iam),
            Some(sts),
            Some(role),
        ) if errors.is_empty() => Ok(TargetChanges {
            source: req.use_gw_cloud_identity.map(|cloud| {
                if cloud {
                    CredentialSource::GatewayIdentity
                } else {
                    CredentialSource::Keys
                }
            }),
            role,
            name,
            new_name,
            credentials,
            region,
            description,
            delete_protection: req.delete_protection,
            iam_endpoint: iam,
            sts_endpoint: sts,
            rotation_days: None,
        }),
        _ => Err(errors),
    }
}

pub fn parse_name(raw: &Option<String>) -> Result<ItemName, String> {
    match given(raw) {
        Some(raw) => ItemName::parse(raw),
        None => Err("required: the target's name, such as /team/aws/admin".into()),
    }
}

/// Both halves of a key pair, or (on update) neither. A new key id with the old secret would
/// be a broken target, so one without the other is refused.
fn credentials(
    key_id: &Option<String>,
    secret: &Option<Secret>,
    session_token: &Option<Secret>,
    required: bool,
) -> Result<Option<AwsCredentials>, String> {
    let secret = secret
        .as_ref()
        .map(|s| s.expose().trim())
        .filter(|s| !s.is_empty());
    let session_token = session_token
        .as_ref()
        .map(|s| s.expose().trim())
        .filter(|s| !s.is_empty());
    match (given(key_id), secret) {
        (None, None) if !required => {
            if session_token.is_some() {
                return Err("session-token needs access-key-id and access-key with it".into());
            }
            Ok(None)
        }
        (None, None) => Err(
            "required, with access-key: the AWS access key id of the admin user (AKIA...)".into(),
        ),
        (Some(_), None) => {
            Err("access-key (the secret access key) must be given with access-key-id".into())
        }
        (None, Some(_)) => Err("required with access-key: give both halves of the key pair".into()),
        (Some(id), Some(secret)) => {
            if !(16..=128).contains(&id.len()) || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(
                    "must be 16 to 128 letters and digits, such as AKIAIOSFODNN7EXAMPLE".into(),
                );
            }
            if secret.len() > 256 || secret.chars().any(char::is_whitespace) {
                return Err("access-key must be at most 256 characters without spaces".into());
            }
            if session_token.is_some_and(|t| t.len() > 8192) {
                return Err("session-token is longer than 8192 characters".into());
            }
            Ok(Some(AwsCredentials {
                access_key_id: id.to_owned(),
                secret_access_key: secret.into(),
                session_token: session_token.map(Into::into),
            }))
        }
    }
}

/// The role chain a request sets: `None` when it says nothing about it, `Some(None)` to
/// remove it (an empty `role-arn` on update), `Some(Some(..))` to set it. The external id is
/// the one given, else a generated one with `generate-external-id`.
fn parse_role(req: &AwsTarget, update: Option<()>) -> Result<Option<Option<RoleChain>>, String> {
    let arn = req.role_arn.as_deref().map(str::trim);
    let extras = given(&req.external_id).is_some()
        || req.generate_external_id == Some(true)
        || given(&req.role_session_name).is_some()
        || req.role_session_duration.is_some();
    match arn {
        None | Some("") if extras => Err(
            "required with external-id, generate-external-id, role-session-name and role-session-duration: the role to assume (arn:aws:iam::ACCOUNT:role/NAME)".into(),
        ),
        None => Ok(None),
        Some("") if update.is_some() => Ok(Some(None)),
        Some("") => Ok(None),
        Some(raw) => {
            let role_arn = target_access::check_role_arn(raw)?;
            let external_id = match (given(&req.external_id), req.generate_external_id) {
                (Some(_), Some(true)) => {
                    return Err("external-id and generate-external-id: give one of them".into())
                }
                (Some(id), _) => Some(target_access::check_external_id(id)?),
                (None, Some(true)) => Some(format!("mayfly-{}", uuid::Uuid::new_v4().simple())),
                (None, _) => None,
            };
            let session_name = match given(&req.role_session_name) {
                Some(t) => target_access::check_session_name(t)?,
                None => target_access::DEFAULT_SESSION_NAME.to_owned(),
            };
            let duration_secs = match req.role_session_duration {
                Some(secs) => target_access::check_session_secs(secs)?,
                None => target_access::DEFAULT_ROLE_SESSION_SECS,
            };
            Ok(Some(Some(RoleChain {
                role_arn,
                external_id,
                session_name,
                duration_secs,
            })))
        }
    }
}

/// AWS region names: `us-east-2`, `eu-central-1`, `us-gov-west-1`, `cn-north-1`, ...
pub fn parse_region(raw: &str) -> Result<String, String> {
    let parts: Vec<&str> = raw.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if ok && raw.len() <= 32 {
        Ok(raw.to_owned())
    } else {
        Err(format!("{raw:?} is not an AWS region such as us-east-1"))
    }
}

fn parse_description(req: &AwsTarget) -> Result<Option<String>, String> {
    let text = req.description.as_ref().or(req.comment.as_ref());
    match text {
        Some(t) if t.chars().count() > 1024 => Err("at most 1024 characters".into()),
        Some(t) => Ok(Some(t.trim().to_owned())),
        None => Ok(None),
    }
}

/// An endpoint override: AWS's own https endpoint of `service`, or an origin the operator
/// allows (`MAYFLY_ALLOWED_ENDPOINTS`), in canonical form `scheme://host[:port]`.
pub fn parse_endpoint(
    outbound: &OutboundPolicy,
    service: AwsService,
    raw: &Option<String>,
) -> Result<Option<String>, String> {
    match given(raw) {
        None => Ok(None),
        Some(raw) => outbound.check_aws_endpoint(service, raw).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(json: &str) -> AwsTarget {
        serde_json::from_str(json).unwrap()
    }

    fn moto_allowed() -> OutboundPolicy {
        OutboundPolicy::new(
            mayfly_domain::AllowedOrigin::parse_list("http://127.0.0.1:5000").unwrap(),
        )
    }

    fn parse_new(req: &AwsTarget) -> Result<CreateTarget, ValidationErrors> {
        super::parse_new(req, &moto_allowed())
    }

    fn parse_changes(req: &AwsTarget) -> Result<TargetChanges, ValidationErrors> {
        super::parse_changes(req, &moto_allowed())
    }

    #[test]
    fn endpoints_must_be_aws_or_allowed() {
        let t = parse_changes(&req(
            r#"{"name":"/t","iam-endpoint":"https://IAM.amazonaws.com/","sts-endpoint":"https://sts.eu-west-1.amazonaws.com"}"#,
        ))
        .unwrap();
        assert_eq!(t.iam_endpoint.as_deref(), Some("https://iam.amazonaws.com"));
        assert_eq!(
            t.sts_endpoint.as_deref(),
            Some("https://sts.eu-west-1.amazonaws.com")
        );
        let err = parse_changes(&req(
            r#"{"name":"/t","iam-endpoint":"http://127.0.0.1:5001","sts-endpoint":"https://evil.example.com"}"#,
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("iam-endpoint:") && err.contains("sts-endpoint:"),
            "{err}"
        );
        assert!(err.contains("MAYFLY_ALLOWED_ENDPOINTS"), "{err}");
        let err = super::parse_changes(
            &req(r#"{"name":"/t","iam-endpoint":"http://127.0.0.1:5000"}"#),
            &OutboundPolicy::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("MAYFLY_ALLOWED_ENDPOINTS"), "{err}");
    }

    #[test]
    fn every_problem_of_a_create_is_reported_at_once() {
        let err = parse_new(&req(
            r#"{"name":"a//b","access-key-id":"AKIA1234567890ABCDEF","region":"moon","iam-endpoint":"ftp://x"}"#,
        ))
        .unwrap_err()
        .to_string();
        for field in ["name:", "access-key-id:", "region:", "iam-endpoint:"] {
            assert!(err.contains(field), "{field} missing in {err}");
        }
    }

    #[test]
    fn a_good_create_is_accepted_with_defaults() {
        let t = parse_new(&req(
            r#"{"name":"t","access-key-id":"AKIA1234567890ABCDEF","access-key":"s3cr3t/+x","sts-endpoint":"http://127.0.0.1:5000/"}"#,
        ))
        .unwrap();
        assert_eq!(t.name.as_str(), "/t");
        assert_eq!(t.region, "us-east-2");
        assert_eq!(t.sts_endpoint.as_deref(), Some("http://127.0.0.1:5000"));
        assert!(!format!("{t:?}").contains("s3cr3t"));
    }

    #[test]
    fn updates_need_both_halves_of_a_key_or_neither() {
        assert!(parse_changes(&req(r#"{"name":"/t","region":"eu-west-1"}"#))
            .unwrap()
            .credentials
            .is_none());
        let err = parse_changes(&req(
            r#"{"name":"/t","access-key-id":"AKIA1234567890ABCDEF"}"#,
        ))
        .unwrap_err()
        .to_string();
        assert!(err.contains("access-key"), "{err}");
    }

    #[test]
    fn regions() {
        for ok in ["us-east-1", "us-gov-west-1", "cn-north-1", "eu-central-2"] {
            assert!(parse_region(ok).is_ok(), "{ok}");
        }
        for bad in ["", "us", "US-EAST-1", "us-east", "useast1", "us--1"] {
            assert!(parse_region(bad).is_err(), "{bad}");
        }
    }
}
