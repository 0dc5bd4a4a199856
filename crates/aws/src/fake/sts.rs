//! [`FakeSts`]: in-memory STS that validates like AWS and records what it was asked.

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DurationRound, TimeDelta, Utc};
use secrecy::SecretString;

use super::faults::{fault_methods, Faults};
use super::iam::FAKE_ACCOUNT;
use crate::api::{AssumeRole, CallerIdentity, FederationToken, StsApi, StsCredentials};
use crate::{ops, AwsError};

/// Shortest STS session, all modes.
const MIN_DURATION: i32 = 900;
/// `AssumeRole`'s hard maximum (a role's `MaxSessionDuration` can be at most 12 hours).
const MAX_ASSUME_ROLE: i32 = 43_200;
/// `GetFederationToken` and `GetSessionToken` maximum (36 hours).
const MAX_TOKEN: i32 = 129_600;
/// STS allows at most 50 session tags.
const MAX_SESSION_TAGS: usize = 50;

/// An in-memory STS for unit tests.
///
/// Validates what AWS validates and moto does not: role ARN syntax, session/federation name
/// length and characters, duration ranges (900 s to the role maximum, default 12 hours, for
/// `AssumeRole`; 900 s to 36 hours otherwise), at most 50 session tags, transitive tag keys
/// that are session tag keys. Credentials look like STS's (`ASIA...`), are unique, and expire
/// `duration_secs` from now. Every request is recorded for assertions.
#[derive(Debug)]
pub struct FakeSts {
    faults: Faults,
    state: Mutex<StsState>,
}

#[derive(Debug)]
struct StsState {
    issued: u64,
    role_max_session_secs: i32,
    identity: CallerIdentity,
    assume_role: Vec<AssumeRole>,
    federation_token: Vec<FederationToken>,
    session_token: Vec<i32>,
}

impl Default for FakeSts {
    fn default() -> Self {
        Self::new()
    }
}

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::InvalidInput {
        code: "ValidationError".into(),
        message: message.into(),
    }
}

fn check_duration(value: i32, max: i32) -> Result<(), AwsError> {
    if (MIN_DURATION..=max).contains(&value) {
        Ok(())
    } else {
        Err(validation(format!(
            "1 validation error detected: Value '{value}' at 'durationSeconds' failed to \
             satisfy constraint: Member must have value between {MIN_DURATION} and {max}"
        )))
    }
}

fn check_sts_name(field: &str, value: &str, min: usize, max: usize) -> Result<(), AwsError> {
    let legal = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    let len = value.chars().count();
    if len < min || len > max || !value.chars().all(legal) {
        return Err(validation(format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and \
             have length between {min} and {max}"
        )));
    }
    Ok(())
}

/// External ids: `[\w+=,.@:/-]{2,1224}`.
fn check_external_id(value: &str) -> Result<(), AwsError> {
    let legal = |c: char| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c);
    let len = value.chars().count();
    if !(2..=1224).contains(&len) || !value.chars().all(legal) {
        return Err(validation(
            "1 validation error detected: Value at 'externalId' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length \
             between 2 and 1224",
        ));
    }
    Ok(())
}

fn check_tags(tags: &[(String, String)], transitive: &[String]) -> Result<(), AwsError> {
    if tags.len() > MAX_SESSION_TAGS {
        return Err(validation(format!(
            "Cannot exceed quota for SessionTags: {MAX_SESSION_TAGS}"
        )));
    }
    if let Some(key) = transitive
        .iter()
        .find(|key| !tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)))
    {
        return Err(AwsError::InvalidInput {
            code: "InvalidParameterValue".into(),
            message: format!("Transitive tag key {key} is not a session tag key."),
        });
    }
    Ok(())
}

/// `arn:aws:iam::<12 digits>:role/<path/name>` (other partitions too).
fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(),
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && resource.strip_prefix("role/").is_some_and(|name| !name.is_empty()))
}

impl FakeSts {
    pub fn new() -> Self {
        Self {
            faults: Faults::new(ops::STS_OPS),
            state: Mutex::new(StsState {
                issued: 0,
                role_max_session_secs: MAX_ASSUME_ROLE,
                identity: CallerIdentity {
                    account: FAKE_ACCOUNT.into(),
                    arn: format!("arn:aws:iam::{FAKE_ACCOUNT}:user/mayfly-target"),
                    user_id: "AIDAFAKEUSERID000001".into(),
                },
                assume_role: Vec::new(),
                federation_token: Vec::new(),
                session_token: Vec::new(),
            }),
        }
    }

    fault_methods!();

    fn lock(&self) -> MutexGuard<'_, StsState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The roles' `MaxSessionDuration` (default 43 200 s, the largest AWS allows).
    pub fn set_role_max_session_secs(&self, secs: i32) {
        self.lock().role_max_session_secs = secs;
    }

    /// What `GetCallerIdentity` answers.
    pub fn set_caller_identity(&self, identity: CallerIdentity) {
        self.lock().identity = identity;
    }

    /// Every `AssumeRole` request that passed validation, in order.
    pub fn assume_role_requests(&self) -> Vec<AssumeRole> {
        self.lock().assume_role.clone()
    }

    /// Every `GetFederationToken` request that passed validation, in order.
    pub fn federation_token_requests(&self) -> Vec<FederationToken> {
        self.lock().federation_token.clone()
    }

    /// The durations of every valid `GetSessionToken` request, in order.
    pub fn session_token_requests(&self) -> Vec<i32> {
        self.lock().session_token.clone()
    }

    fn issue(state: &mut StsState, duration_secs: i32, arn: Option<String>) -> StsCredentials {
        state.issued += 1;
        let n = state.issued;
        let now = Utc::now()
            .duration_trunc(TimeDelta::seconds(1))
            .unwrap_or_else(|_| Utc::now());
        StsCredentials {
            access_key_id: format!("ASIAFAKE{n:012}"),
            secret_access_key: SecretString::from(format!("fakeStsSecret{n:027}")),
            session_token: SecretString::from(format!("FwoGZXIvYXdzEFAKE//{n:040}")),
            expiration: now + TimeDelta::seconds(i64::from(duration_secs)),
            arn,
        }
    }
}

#[async_trait]
impl StsApi for FakeSts {
    async fn assume_role(&self, input: &AssumeRole) -> Result<StsCredentials, AwsError> {
        self.faults
            .run(ops::ASSUME_ROLE, || {
                if !is_role_arn(&input.role_arn) {
                    return Err(validation(format!(
                        "{} is invalid: not a role ARN",
                        input.role_arn
                    )));
                }
                check_sts_name("roleSessionName", &input.session_name, 2, 64)?;
                if let Some(external_id) = &input.external_id {
                    check_external_id(external_id)?;
                }
                check_tags(&input.tags, &input.transitive_tag_keys)?;
                let mut state = self.lock();
                if input.duration_secs > state.role_max_session_secs
                    && input.duration_secs <= MAX_ASSUME_ROLE
                {
                    return Err(validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
                }
                check_duration(input.duration_secs, MAX_ASSUME_ROLE)?;
                state.assume_role.push(input.clone());
                // arn:aws:iam::ACCOUNT:role/PATH/NAME -> arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
                let parts: Vec<&str> = input.role_arn.splitn(6, ':').collect();
                let role = parts[5].rsplit('/').next().unwrap_or_default();
                let arn = format!(
                    "arn:{}:sts::{}:assumed-role/{role}/{}",
                    parts[1], parts[4], input.session_name
                );
                Ok(Self::issue(&mut state, input.duration_secs, Some(arn)))
            })
            .await
    }

    async fn get_federation_token(
        &self,
        input: &FederationToken,
    ) -> Result<StsCredentials, AwsError> {
        self.faults
            .run(ops::GET_FEDERATION_TOKEN, || {
                check_sts_name("name", &input.name, 2, 32)?;
                check_duration(input.duration_secs, MAX_TOKEN)?;
                check_tags(&input.tags, &[])?;
                let mut state = self.lock();
                state.federation_token.push(input.clone());
                let arn = format!(
                    "arn:aws:sts::{}:federated-user/{}",
                    state.identity.account, input.name
                );
                Ok(Self::issue(&mut state, input.duration_secs, Some(arn)))
            })
            .await
    }

    async fn get_session_token(&self, duration_secs: i32) -> Result<StsCredentials, AwsError> {
        self.faults
            .run(ops::GET_SESSION_TOKEN, || {
                check_duration(duration_secs, MAX_TOKEN)?;
                let mut state = self.lock();
                state.session_token.push(duration_secs);
                Ok(Self::issue(&mut state, duration_secs, None))
            })
            .await
    }

    async fn get_caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        self.faults
            .run(ops::GET_CALLER_IDENTITY, || {
                Ok(self.lock().identity.clone())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn assume(duration_secs: i32) -> AssumeRole {
        AssumeRole {
            role_arn: "arn:aws:iam::123456789012:role/app/reader".into(),
            session_name: "mayfly-session".into(),
            duration_secs,
            ..AssumeRole::default()
        }
    }

    #[tokio::test]
    async fn assume_role_issues_unique_credentials_with_the_requested_expiry() {
        let sts = FakeSts::new();
        let before = Utc::now();
        let a = sts.assume_role(&assume(3600)).await.expect("valid");
        let b = sts.assume_role(&assume(900)).await.expect("valid");
        assert!(a.access_key_id.starts_with("ASIA"));
        assert_ne!(a.access_key_id, b.access_key_id);
        assert_ne!(
            a.session_token.expose_secret(),
            b.session_token.expose_secret()
        );
        let lifetime = a.expiration - before;
        assert!(
            (3598..=3601).contains(&lifetime.num_seconds()),
            "{lifetime:?}"
        );
        assert_eq!(sts.assume_role_requests().len(), 2);
        assert_eq!(sts.calls(ops::ASSUME_ROLE), 2);
    }

    #[tokio::test]
    async fn assume_role_validates_like_aws() {
        let sts = FakeSts::new();
        for bad in [
            AssumeRole {
                role_arn: "arn:aws:iam::123:role/x".into(),
                ..assume(900)
            },
            AssumeRole {
                role_arn: "arn:aws:iam::123456789012:user/x".into(),
                ..assume(900)
            },
            AssumeRole {
                session_name: "x".repeat(65),
                ..assume(900)
            },
            AssumeRole {
                session_name: "has space".into(),
                ..assume(900)
            },
            assume(899),
            assume(43_201),
            AssumeRole {
                tags: vec![("team".into(), "a".into())],
                transitive_tag_keys: vec!["project".into()],
                ..assume(900)
            },
        ] {
            let err = sts.assume_role(&bad).await.expect_err("invalid");
            assert!(
                matches!(err, AwsError::InvalidInput { .. }),
                "{bad:?}: {err:?}"
            );
        }
        assert!(sts.assume_role_requests().is_empty());

        sts.set_role_max_session_secs(3600);
        let err = sts
            .assume_role(&assume(7200))
            .await
            .expect_err("over role max");
        assert!(err.to_string().contains("MaxSessionDuration"), "{err}");
    }

    #[tokio::test]
    async fn federation_and_session_tokens_check_names_and_durations() {
        let sts = FakeSts::new();
        let ok = FederationToken {
            name: "mayfly-fed".into(),
            duration_secs: 129_600,
            ..FederationToken::default()
        };
        sts.get_federation_token(&ok).await.expect("valid");
        let long_name = FederationToken {
            name: "x".repeat(33),
            ..ok.clone()
        };
        assert!(sts.get_federation_token(&long_name).await.is_err());
        assert!(sts.get_session_token(129_601).await.is_err());
        sts.get_session_token(900).await.expect("valid");
        assert_eq!(sts.session_token_requests(), vec![900]);
        assert_eq!(sts.federation_token_requests(), vec![ok]);
    }

    #[tokio::test]
    async fn faults_are_injected_per_operation() {
        let sts = FakeSts::new();
        sts.throttle_next(ops::GET_CALLER_IDENTITY, 1);
        assert!(matches!(
            sts.get_caller_identity().await,
            Err(AwsError::Throttled(_))
        ));
        assert_eq!(
            sts.get_caller_identity()
                .await
                .expect("fault used up")
                .account,
            FAKE_ACCOUNT
        );
        assert_eq!(sts.calls(ops::GET_CALLER_IDENTITY), 2);
    }

    #[test]
    #[should_panic(expected = "unknown operation")]
    fn misspelt_operations_are_refused() {
        FakeSts::new().fail_next("sts:AssumeRol", AwsError::Timeout(String::new()));
    }
}
