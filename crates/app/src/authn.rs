//! Authentication: API-key login, and resolving a token to a [`Caller`] with the rules of
//! its roles. Every front door authenticates through here.

use mayfly_crypto::{generate_token, hash_secret, verify_secret};
use mayfly_domain::{claims::glob_matches, AuthMethodKind, JwksSource, TokenClaims};
use mayfly_identity::{jwt, k8s::ServiceAccount, Bindings, JwksError, KeySet};
use mayfly_store::{
    auth::{self, NewToken},
    entity::auth_method,
    now_millis, AuthMethodId, Millis,
};
use secrecy::{ExposeSecret, SecretString};

use crate::{
    access::{self as authz, AuditAccess, CachedCaller, Caller, Rule},
    auth_methods::{aws_iam_settings_of, jwt_settings_of, k8s_settings_of, sub_claims_of},
    error::{AppError, AppResult},
    state::AppState,
};

/// A token issued by a login. The token itself is shown to the caller once and stored only
/// as a hash.
pub struct IssuedToken {
    pub token: SecretString,
    /// Milliseconds since the Unix epoch.
    pub expires_at: Millis,
    /// The auth method's access id, as stored.
    pub access_id: String,
    /// Who logged in, for a JWT method: its unique-identifier claim. Empty for API keys.
    pub identity: String,
}

/// Loads the rules of every role an auth method holds for a token with these claims: an
/// association with sub-claims counts only when the claims match them (API-key tokens have
/// none, so only associations without sub-claims apply to them).
pub async fn load_permissions(
    state: &AppState,
    auth_method_id: &AuthMethodId,
    claims: &TokenClaims,
) -> AppResult<(Vec<Rule>, AuditAccess)> {
    let held = mayfly_store::access::roles_with_rules_of(state.db(), auth_method_id).await?;
    let mut rules = Vec::new();
    let mut audit = AuditAccess::None;
    for mayfly_store::access::HeldRole {
        association,
        role,
        rules: role_rules,
    } in held
    {
        if !sub_claims_of(&association)?.matches(claims) {
            continue;
        }
        audit = audit.max(AuditAccess::parse(&role.audit_access).unwrap_or(AuditAccess::None));
        rules.extend(
            role_rules
                .iter()
                .filter_map(|r| authz::rule_from_stored(&r.rule_type, &r.path, &r.capabilities)),
        );
    }
    Ok((rules, audit))
}

const ACCESS_DENIED: &str = "access denied: unknown access-id or wrong access-key";

/// A hash that matches nothing, compared against when the access id is unknown, so that an
/// unknown id and a wrong key take the same time and cannot be told apart.
const NO_MATCH_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Longest access id accepted at `/auth` (generated ids have 16 characters, configured ones
/// at most 64).
const MAX_ACCESS_ID_CHARS: usize = 128;

/// The one form of an access id that login, throttling and the audit trail all use: surrounding
/// whitespace removed (ids are stored trimmed, so `" p-abc"` is `p-abc`), and refused (400)
/// when empty, too long or holding control characters. Case is kept: ids are stored and
/// compared exactly.
pub fn canonical_access_id(raw: Option<&str>) -> AppResult<String> {
    let id = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AppError::invalid("access-id: required (the p-... id of your API key)"))?;
    if id.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "access-id: must not contain control characters; send the p-... id exactly as create-auth-method returned it",
        ));
    }
    if id.chars().count() > MAX_ACCESS_ID_CHARS {
        return Err(AppError::invalid(format!(
            "access-id: at most {MAX_ACCESS_ID_CHARS} characters; send the p-... id of your API key"
        )));
    }
    Ok(id.to_owned())
}

/// Logs in with an API key: a token for the auth method whose access id (already
/// canonical, [`canonical_access_id`]) and key match, or `Unauthenticated` with the same
/// message and the same work whether the id is unknown or the key is wrong.
pub async fn login_with_key(
    state: &AppState,
    access_id: &str,
    access_key: &str,
) -> AppResult<IssuedToken> {
    let method = auth::find_auth_method_by_access_id(state.db(), access_id)
        .await?
        // Only an API key logs in with a key; a JWT method's empty hash matches nothing anyway.
        .filter(|m| m.method_type == AuthMethodKind::ApiKey.as_str());
    let stored_hash = method
        .as_ref()
        .map_or(NO_MATCH_HASH, |m| m.key_hash.as_str());
    let key_ok = verify_secret(access_key, stored_hash);
    let method = match (method, key_ok) {
        (Some(m), true) => m,
        _ => {
            tracing::warn!(access_id = %access_id, "authentication failed");
            return Err(AppError::Unauthenticated(ACCESS_DENIED.into()));
        }
    };

    issue_token(
        state,
        method,
        state.token_ttl(),
        String::new(),
        String::new(),
    )
    .await
}

/// Stores a new token for `method` and returns it.
async fn issue_token(
    state: &AppState,
    method: auth_method::Model,
    ttl: std::time::Duration,
    identity: String,
    claims: String,
) -> AppResult<IssuedToken> {
    let token = generate_token();
    let now = now_millis();
    let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    let expires_at = now.saturating_add(ttl_ms);
    auth::insert_token(
        state.db(),
        &method,
        NewToken {
            token_hash: hash_secret(token.expose_secret()),
            identity: identity.clone(),
            claims,
            created_at: now,
            expires_at,
        },
    )
    .await?;
    tracing::info!(access_id = %method.access_id, identity = %identity, "token issued");
    Ok(IssuedToken {
        token,
        expires_at,
        access_id: method.access_id,
        identity,
    })
}

/// What every workload-identity login shares: the method its access id names (of one kind),
/// refusals worded and logged alike, the method's `access-expires`, and the session it ends in.
struct Workload<'a> {
    state: &'a AppState,
    access_id: &'a str,
    kind: AuthMethodKind,
}

impl Workload<'_> {
    /// A 401 `access denied: <why>`, logged with the access id (never the credential).
    fn denied(&self, why: &str) -> AppError {
        tracing::warn!(access_id = %self.access_id, kind = self.kind.as_str(), reason = why, "login refused");
        AppError::Unauthenticated(format!("access denied: {why}"))
    }

    /// The method the access id names, if it is of this kind; `what` names the kind in the
    /// refusal ("JWT", "Kubernetes" ...).
    async fn method(&self, what: &str) -> AppResult<auth_method::Model> {
        auth::find_auth_method_by_access_id(self.state.db(), self.access_id)
            .await?
            .filter(|m| m.method_type == self.kind.as_str())
            .ok_or_else(|| {
                self.denied(&format!(
                    "unknown access-id, or it names no {what} auth method"
                ))
            })
    }

    /// Refuses a method past its `access-expires` (Unix seconds).
    fn check_not_expired(&self, access_expires: Option<i64>) -> AppResult<()> {
        if access_expires.is_some_and(|at| at.saturating_mul(1000) <= now_millis()) {
            return Err(self.denied("the auth method's access has expired (access-expires)"));
        }
        Ok(())
    }

    /// The session: a token for `method` living `ttl_minutes` (the gateway's token lifetime
    /// when unset), remembering who logged in and the claims associations match.
    async fn open_session(
        &self,
        method: auth_method::Model,
        ttl_minutes: Option<u32>,
        identity: String,
        claims: &TokenClaims,
    ) -> AppResult<IssuedToken> {
        let ttl = ttl_minutes
            .filter(|m| *m > 0)
            .map_or(self.state.token_ttl(), |m| {
                std::time::Duration::from_secs(u64::from(m) * 60)
            });
        let kept = serde_json::to_string(claims)
            .map_err(|e| AppError::internal(format!("cannot serialize claims: {e}")))?;
        issue_token(self.state, method, ttl, identity, kept).await
    }
}

/// Logs in with a JWT (`access-type` `jwt` or `oidc`): the token must verify with the JWT
/// auth method `access_id` names (its keys, issuer, audiences, bound client ids and bound
/// claims) and carry its unique-identifier claim. The session keeps that identity and the
/// token's claims, which decide the roles it holds ([`load_permissions`]). Never the JWT
/// itself: only the new token's hash is stored.
pub async fn login_with_jwt(
    state: &AppState,
    access_id: &str,
    token: &str,
) -> AppResult<IssuedToken> {
    let login = Workload {
        state,
        access_id,
        kind: AuthMethodKind::OAuth2,
    };
    let denied = |why: &str| login.denied(why);
    let method = login.method("JWT").await?;
    let settings = jwt_settings_of(&method)?;
    login.check_not_expired(settings.access_expires)?;
    let header = jwt::header(token).map_err(|r| denied(&r.0))?;
    let keys: std::sync::Arc<KeySet> = match &settings.jwks {
        JwksSource::Inline(json) => std::sync::Arc::new(
            KeySet::parse(json).map_err(|e| AppError::internal(format!("stored JWKS: {e}")))?,
        ),
        JwksSource::Uri(uri) => state
            .jwks()
            .keys(uri, header.kid.as_deref())
            .await
            .map_err(|e| match e {
                JwksError::Refused(why) | JwksError::Unavailable(why) => {
                    AppError::IdentityUnavailable(format!(
                        "the auth method's keys cannot be fetched right now ({why}); retry shortly"
                    ))
                }
            })?,
    };
    let bindings = Bindings {
        issuer: settings.issuer.as_deref(),
        audiences: &settings.audiences,
    };
    let raw = jwt::verify(token, &keys, &bindings).map_err(|r| denied(&r.0))?;
    let claims = TokenClaims::from_json(&raw);
    if !settings.bound_client_ids.is_empty() {
        let client = claims.first("azp").or_else(|| claims.first("client_id"));
        if !client.is_some_and(|c| settings.bound_client_ids.iter().any(|b| b == c)) {
            return Err(denied(
                "the token's client (azp or client_id) is not one of the auth method's bound-client-ids",
            ));
        }
    }
    if !settings.bound_claims.matches(&claims) {
        return Err(denied(
            "the token's claims do not match the auth method's bound-claims",
        ));
    }
    let identity = claims
        .first(&settings.unique_identifier)
        .map(str::to_owned)
        .ok_or_else(|| {
            denied(&format!(
                "the token has no {} claim, which the auth method uses as its unique identifier",
                settings.unique_identifier
            ))
        })?;
    login
        .open_session(method, settings.token_ttl_minutes, identity, &claims)
        .await
}

/// Logs in with a Kubernetes service-account token (`access-type: k8s`). The token is
/// verified one of three ways:
///
/// - the login names a k8s auth config (`k8s-auth-config-name`) of this method: offline with
///   the config's cluster JWKS when it has one, otherwise online by the cluster's TokenReview
///   API (with the config's reviewer JWT, or the token itself), whose answer must name the
///   same service account the token's claims do;
/// - otherwise (no config named, or the named one does not exist): offline against the
///   method's own cluster keys, when it has them.
///
/// A config of another auth method is refused. Issuer and audiences are checked when bound,
/// `exp` is required (legacy never-expiring tokens are refused), and the service account must
/// match the method's bound namespaces, service-account names and pod names. The session's
/// identity is `system:serviceaccount:<namespace>:<name>`; its claims (`namespace`,
/// `service_account_name`, `pod_name`, `sub`) are what sub-claims on associations match.
pub async fn login_with_k8s(
    state: &AppState,
    access_id: &str,
    token: &str,
    config_name: Option<&str>,
) -> AppResult<IssuedToken> {
    let login = Workload {
        state,
        access_id,
        kind: AuthMethodKind::K8s,
    };
    let denied = |why: &str| login.denied(why);
    let method = login.method("Kubernetes").await?;
    let settings = k8s_settings_of(&method)?;
    login.check_not_expired(settings.access_expires)?;
    let config = match config_name {
        Some(name) => crate::k8s_configs::for_login(state, name).await?,
        None => None,
    };
    let account = match config {
        Some(config) if config.auth_method_id != method.id => {
            return Err(denied(
                "the k8s auth config named by k8s-auth-config-name belongs to another auth method",
            ));
        }
        Some(config) => verify_with_cluster(&login, &settings, config, token).await?,
        None => {
            let Some(jwks) = &settings.jwks else {
                return Err(denied(&match config_name {
                    Some(_) => "no k8s auth config has the name given in k8s-auth-config-name, and the auth method has no cluster keys of its own".to_owned(),
                    None => "the auth method verifies tokens through a k8s auth config: name it in k8s-auth-config-name".to_owned(),
                }));
            };
            let keys = KeySet::parse(jwks)
                .map_err(|e| AppError::internal(format!("stored cluster JWKS: {e}")))?;
            let bindings = Bindings {
                issuer: settings.issuer.as_deref(),
                audiences: &settings.audiences,
            };
            let raw = jwt::verify(token, &keys, &bindings).map_err(|r| denied(&r.0))?;
            ServiceAccount::from_claims(&raw)
                .ok_or_else(|| denied("the token is not a Kubernetes service-account token"))?
        }
    };
    let bound = |globs: &[String], value: Option<&str>| {
        globs.is_empty() || value.is_some_and(|v| globs.iter().any(|g| glob_matches(g, v, true)))
    };
    if !bound(&settings.bound_namespaces, Some(&account.namespace)) {
        return Err(denied(
            "the service account's namespace is not one of the auth method's bound-namespaces",
        ));
    }
    if !bound(&settings.bound_sa_names, Some(&account.name)) {
        return Err(denied(
            "the service account is not one of the auth method's bound-sa-names",
        ));
    }
    if !bound(&settings.bound_pod_names, account.pod.as_deref()) {
        return Err(denied(
            "the token's pod is not one of the auth method's bound-pod-names",
        ));
    }
    let identity = account.username();
    let mut claims = std::collections::BTreeMap::new();
    claims.insert("namespace".to_owned(), vec![account.namespace.clone()]);
    claims.insert(
        "service_account_name".to_owned(),
        vec![account.name.clone()],
    );
    if let Some(pod) = &account.pod {
        claims.insert("pod_name".to_owned(), vec![pod.clone()]);
    }
    claims.insert("sub".to_owned(), vec![identity.clone()]);
    login
        .open_session(
            method,
            settings.token_ttl_minutes,
            identity,
            &TokenClaims(claims),
        )
        .await
}

/// Verifies a service-account token with a k8s auth config: offline with its JWKS, or by
/// the cluster's TokenReview. The config's issuer (else the method's) is checked unless the
/// config disables issuer validation.
async fn verify_with_cluster(
    login: &Workload<'_>,
    settings: &mayfly_domain::K8sSettings,
    config: crate::k8s_configs::LoginConfig,
    token: &str,
) -> AppResult<ServiceAccount> {
    use mayfly_identity::{Cluster, ReviewError, Reviewer};
    let denied = |why: &str| login.denied(why);
    let cluster = &config.cluster;
    let issuer = if cluster.disable_issuer_validation {
        None
    } else {
        cluster.issuer.as_deref().or(settings.issuer.as_deref())
    };
    let bindings = Bindings {
        issuer,
        audiences: &settings.audiences,
    };
    if let Some(jwks) = &cluster.jwks {
        let keys = KeySet::parse(jwks)
            .map_err(|e| AppError::internal(format!("stored cluster JWKS: {e}")))?;
        let raw = jwt::verify(token, &keys, &bindings).map_err(|r| denied(&r.0))?;
        return ServiceAccount::from_claims(&raw)
            .ok_or_else(|| denied("the token is not a Kubernetes service-account token"));
    }
    // Read (not trusted yet) before the review: a malformed, expired or foreign-issuer token
    // is refused without calling the cluster.
    let unverified = jwt::claims_for_review(token, &bindings).map_err(|r| denied(&r.0))?;
    let claimed = ServiceAccount::from_claims(&unverified)
        .ok_or_else(|| denied("the token is not a Kubernetes service-account token"))?;
    let reviewer = match &config.reviewer_jwt {
        Some(jwt) => Reviewer::Jwt(jwt.expose_secret()),
        None => Reviewer::TheTokenItself,
    };
    let reviewed = login
        .state
        .token_reviewer()
        .review(
            Cluster {
                host: &cluster.host,
                ca_pem: cluster.ca_cert.as_deref(),
            },
            reviewer,
            token,
            &settings.audiences,
        )
        .await
        .map_err(|e| match e {
            ReviewError::Refused(why) => denied(&why),
            ReviewError::Unavailable(why) => AppError::IdentityUnavailable(format!(
                "the service-account token cannot be checked right now: {why}"
            )),
        })?;
    // The cluster vouches for a user; the claims must name the same one, or a token of one
    // account could carry another's claims past the review.
    if reviewed.username != claimed.username() {
        return Err(denied(
            "the cluster's TokenReview names another service account than the token's claims",
        ));
    }
    if !settings.audiences.is_empty()
        && !reviewed
            .audiences
            .iter()
            .any(|a| settings.audiences.contains(a))
    {
        return Err(denied(
            "the cluster did not validate the token for an audience the auth method accepts",
        ));
    }
    Ok(ServiceAccount {
        pod: reviewed.pod_name.or(claimed.pod.clone()),
        ..claimed
    })
}

/// Logs in with an AWS identity (`access-type: aws_iam`): the cloud-id (a signed
/// `sts:GetCallerIdentity`) is checked (only that action, a recent signature) and sent to the
/// method's STS URL, never to a URL the caller names; STS's answer must be an account, ARN,
/// role or user the method binds. The session's identity is the caller's ARN; its claims
/// (`account`, `arn`, `role_name`, `user_name`, `user_id`) are what sub-claims match.
pub async fn login_with_aws_iam(
    state: &AppState,
    access_id: &str,
    cloud_id: &str,
) -> AppResult<IssuedToken> {
    use mayfly_identity::aws_iam::{SignedRequest, StsError};
    let login = Workload {
        state,
        access_id,
        kind: AuthMethodKind::AwsIam,
    };
    let denied = |why: &str| login.denied(why);
    let method = login.method("AWS IAM").await?;
    let settings = aws_iam_settings_of(&method)?;
    login.check_not_expired(settings.access_expires)?;
    let request = SignedRequest::from_cloud_id(cloud_id, std::time::SystemTime::now())
        .map_err(|r| denied(&r.0))?;
    let identity = state
        .sts()
        .caller_identity(&settings.sts_url, &request)
        .await
        .map_err(|e| match e {
            StsError::Refused(why) => denied(&why),
            StsError::Unavailable(why) => AppError::IdentityUnavailable(format!(
                "the AWS identity cannot be checked right now: {why}"
            )),
        })?;
    let principal = identity.principal();
    let any = |globs: &[String], value: Option<&str>| {
        globs.is_empty() || value.is_some_and(|v| globs.iter().any(|g| glob_matches(g, v, true)))
    };
    let exact = |list: &[String], value: Option<&str>| {
        list.is_empty() || value.is_some_and(|v| list.iter().any(|x| x == v))
    };
    if !exact(&settings.bound_account_ids, Some(&identity.account)) {
        return Err(denied(
            "the caller's AWS account is not one of the auth method's bound-aws-account-id",
        ));
    }
    if !any(&settings.bound_arns, Some(&identity.arn)) {
        return Err(denied(
            "the caller's ARN is not one of the auth method's bound-arn",
        ));
    }
    if !exact(&settings.bound_role_names, principal.role_name.as_deref()) {
        return Err(denied(
            "the caller's role is not one of the auth method's bound-role-name",
        ));
    }
    if !exact(&settings.bound_user_names, principal.user_name.as_deref()) {
        return Err(denied(
            "the caller's user is not one of the auth method's bound-user-name",
        ));
    }
    if !exact(&settings.bound_role_ids, principal.role_id.as_deref()) {
        return Err(denied(
            "the caller's role id is not one of the auth method's bound-role-id",
        ));
    }
    if !exact(&settings.bound_user_ids, principal.user_id.as_deref()) {
        return Err(denied(
            "the caller's user id is not one of the auth method's bound-user-id",
        ));
    }
    let mut claims = std::collections::BTreeMap::new();
    claims.insert("account".to_owned(), vec![identity.account.clone()]);
    claims.insert("arn".to_owned(), vec![identity.arn.clone()]);
    claims.insert("user_id".to_owned(), vec![identity.user_id.clone()]);
    if let Some(role) = &principal.role_name {
        claims.insert("role_name".to_owned(), vec![role.clone()]);
    }
    if let Some(user) = &principal.user_name {
        claims.insert("user_name".to_owned(), vec![user.clone()]);
    }
    login
        .open_session(
            method,
            settings.token_ttl_minutes,
            identity.arn,
            &TokenClaims(claims),
        )
        .await
}

/// Resolves a token to its caller, or `Unauthenticated`.
pub async fn resolve(state: &AppState, token: Option<&str>) -> AppResult<Caller> {
    Ok(resolve_with_expiry(state, token).await?.0)
}

/// Like [`resolve`], with the token's expiry (milliseconds since the Unix epoch): for front
/// doors that tell a caller how long its token still lives (the Vault API's `lookup-self`).
pub async fn resolve_with_expiry(
    state: &AppState,
    token: Option<&str>,
) -> AppResult<(Caller, Millis)> {
    let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or_else(|| {
        AppError::Unauthenticated(
            "a token is required: call /auth, then send the token as the body field \"token\" or as Authorization: Bearer".into(),
        )
    })?;
    let invalid = || {
        AppError::Unauthenticated(
            "the token is invalid or expired; get a new one from /auth".into(),
        )
    };
    if !token.starts_with("t-") {
        return Err(invalid());
    }
    let hash = hash_secret(token);
    let cached = state
        .caches()
        .callers
        .get_or_load(&hash, || async {
            let Some(found) = auth::find_live_token(state.db(), &hash, now_millis()).await? else {
                return Ok::<_, AppError>(None);
            };
            let claims: TokenClaims = if found.claims.is_empty() {
                TokenClaims::default()
            } else {
                serde_json::from_str(&found.claims).map_err(|e| {
                    AppError::internal(format!("a token's stored claims are unreadable: {e}"))
                })?
            };
            let (rules, audit_access) =
                load_permissions(state, &found.auth_method_id, &claims).await?;
            Ok(Some(CachedCaller {
                token_expires_at: found.expires_at,
                caller: Caller {
                    rules,
                    audit_access,
                    access_id: found.access_id,
                    auth_method_id: found.auth_method_id,
                    identity: found.identity,
                    claims: std::sync::Arc::new(claims),
                },
            }))
        })
        .await?
        .ok_or_else(invalid)?;
    if cached.token_expires_at <= now_millis() {
        return Err(invalid());
    }
    Ok((cached.caller.clone(), cached.token_expires_at))
}

/// Issues another token for the caller's own auth method, with the caller's identity and
/// claims (so the same roles apply), living `ttl` (the gateway's token lifetime when unset)
/// but never past `parent_expires_at`: it can do nothing the caller's token cannot, for no
/// longer. The Vault API's `auth/token/create` (Terraform's provider asks for one per run).
/// Revoking the parent does not end it; it ends at its own expiry or when revoked itself.
pub async fn child_token(
    state: &AppState,
    caller: &Caller,
    parent_expires_at: Millis,
    ttl: Option<std::time::Duration>,
) -> AppResult<IssuedToken> {
    let method = mayfly_store::access::find_auth_method_by_id(state.db(), &caller.auth_method_id)
        .await?
        .ok_or_else(|| {
            AppError::Unauthenticated("the token's auth method no longer exists".into())
        })?;
    let left_ms = parent_expires_at.saturating_sub(now_millis()).max(0);
    let left = std::time::Duration::from_millis(u64::try_from(left_ms).unwrap_or(0));
    let ttl = ttl.unwrap_or_else(|| state.token_ttl()).min(left);
    if ttl.is_zero() {
        return Err(AppError::Unauthenticated(
            "the token is invalid or expired; get a new one from /auth".into(),
        ));
    }
    let claims = serde_json::to_string(caller.claims.as_ref())
        .map_err(|e| AppError::internal(format!("cannot serialize claims: {e}")))?;
    let claims = if caller.claims.as_ref() == &TokenClaims::default() {
        String::new()
    } else {
        claims
    };
    issue_token(state, method, ttl, caller.identity.clone(), claims).await
}

/// Ends a token: the caller's own (`own_token`), or, given `other`, another live token, which
/// needs `delete` on the auth method that owns it (404 for a token that is not live).
pub async fn revoke_token(
    state: &AppState,
    caller: &Caller,
    own_token: &str,
    other: Option<&str>,
) -> AppResult<()> {
    let token = other.unwrap_or(own_token);
    let hash = hash_secret(token);
    if other.is_some() && token != own_token {
        let found = auth::find_live_token(state.db(), &hash, now_millis())
            .await?
            .ok_or_else(|| AppError::not_found("token-to-revoke: no such live token"))?;
        let owner = mayfly_store::access::find_auth_method_by_id(state.db(), &found.auth_method_id)
            .await?
            .ok_or_else(|| AppError::not_found("token-to-revoke: no such live token"))?;
        authz::authorize(
            caller,
            authz::Capability::Delete,
            authz::ResourceKind::AuthMethod,
            &owner.name,
        )?;
    }
    auth::delete_token(state.db(), &hash).await?;
    Ok(())
}
