//! `get-dynamic-secret-value`: one fresh credential per request.
//!
//! For `iam_user` the lease row is written (`creating`) before any AWS call, the user is
//! created and fully set up, the lease becomes `active`, and only then is the credential
//! returned. Any failure tears down what exists; if that fails too the lease stays `creating`
//! for the reconciler. The work runs in its own task, so a client that hangs up midway cannot
//! leave it half done.

use std::collections::BTreeMap;

use crate::{producers::ProducerView, time::rfc3339};

use mayfly_aws::{iam_user, AssumeRole, FederationToken, RetryPolicy, StsCredentials};
use mayfly_crypto::{generate_password, random_string, PasswordRules, LOWER_ALNUM};
use mayfly_domain::{AccessMode, ItemName, ModeKind, ProducerSpec, RenderContext, Ttl};
use mayfly_store::{
    entity::{producer, target},
    leases::{self, LeaseState, NewLease},
    now_millis, LeaseId,
};
use secrecy::ExposeSecret;
use tokio::time::Instant;

use super::{clients_for, TAG_CLUSTER, TAG_LEASE, TAG_PRODUCER};
use crate::access::Caller;
use crate::access::{authorize, Capability, ResourceKind};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The flat string map the SDKs, the Terraform provider and the GitHub action read.
pub type Value = BTreeMap<String, String>;

/// What the request asked for beyond the producer's definition (`args`).
#[derive(Debug, Default)]
struct Args {
    role_arn: Option<String>,
    ttl: Option<Ttl>,
    /// `output=console-url`: a console sign-in link with the credential.
    console_url: bool,
    /// `console_destination=`: the console page the link opens.
    console_destination: Option<String>,
}

/// More arguments than this is not a real request.
const MAX_ARGS: usize = 20;

fn parse_args(raw: &[String]) -> AppResult<Args> {
    if raw.len() > MAX_ARGS {
        return Err(AppError::invalid(format!(
            "args: at most {MAX_ARGS} arguments"
        )));
    }
    let mut args = Args::default();
    let mut pairs = Vec::new();
    for item in raw {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        if item.starts_with('{') {
            let map: BTreeMap<String, serde_json::Value> =
                serde_json::from_str(item).map_err(|e| {
                    AppError::invalid(format!("args: {item:?} is not a JSON object: {e}"))
                })?;
            for (k, v) in map {
                let v = v
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string());
                pairs.push((k, v));
            }
        } else {
            let (k, v) = item.split_once('=').ok_or_else(|| {
                AppError::invalid(format!("args: {item:?} is not key=value, e.g. ttl=15m or role_arn=arn:aws:iam::123456789012:role/x"))
            })?;
            pairs.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    for (k, v) in pairs {
        match k.as_str() {
            "role_arn" => args.role_arn = Some(v),
            "output" => match v.as_str() {
                "console-url" | "console_url" => args.console_url = true,
                "" | "json" => {}
                other => {
                    return Err(AppError::invalid(format!(
                        "args: output {other:?} is not understood; Mayfly knows output=console-url (a console sign-in link with the credential)"
                    )))
                }
            },
            "console_destination" => args.console_destination = Some(v),
            "ttl" => {
                args.ttl =
                    Some(Ttl::parse(&v).map_err(|e| AppError::invalid(format!("args: ttl: {e}")))?)
            }
            other => {
                return Err(AppError::invalid(format!(
                    "args: unknown argument {other:?}; Mayfly understands role_arn, ttl, output=console-url and console_destination"
                )))
            }
        }
    }
    Ok(args)
}

/// Who asked, from where: recorded on the lease.
pub struct Requester {
    pub caller: Caller,
    pub client_address: String,
}

/// What `get-dynamic-secret-value` asks for, as a front door parsed it.
#[derive(Debug, Clone)]
pub struct GetValue {
    /// The dynamic secret.
    pub name: ItemName,
    /// `key=value` strings or JSON objects: `role_arn=...`, `ttl=15m`.
    pub args: Vec<String>,
    /// How long the caller will wait; the gateway's own deadline caps it.
    pub timeout: Option<std::time::Duration>,
}

/// Issues a credential of a dynamic secret the caller may `read`.
pub async fn get_value(state: &AppState, requester: Requester, req: GetValue) -> AppResult<Value> {
    let name = req.name;
    authorize(
        &requester.caller,
        Capability::Read,
        ResourceKind::Item,
        name.as_str(),
    )?;
    let args = parse_args(&req.args)?;
    let view = crate::resolve::view(state, &name).await?;
    let ttl = view
        .spec
        .effective_ttl(args.ttl.clone())
        .map_err(|e| AppError::invalid(format!("args: ttl: {e}")))?;
    let wanted = req.timeout;
    let budget = wanted.map_or(state.request_timeout(), |w| w.min(state.request_timeout()));
    let deadline = Instant::now() + budget;
    // Checked before anything is issued: a link that cannot be made must not cost a credential.
    let console = if args.console_url {
        Some(console_link_plan(
            &view.spec,
            &view.target,
            args.console_destination.as_deref(),
        )?)
    } else if args.console_destination.is_some() {
        return Err(AppError::invalid(
            "args: console_destination goes with output=console-url",
        ));
    } else {
        None
    };

    // A caller asking again within the producer's reuse window gets the same STS credential.
    let reuse_key = view.spec.reuse_window().map(|_| {
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            view.row.id,
            requester.caller.access_id,
            requester.caller.identity,
            req.args.join("\u{1f}")
        )
    });
    if let (Some(key), Some(window)) = (&reuse_key, view.spec.reuse_window()) {
        let since = now_millis() - i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        if let Some(value) = state.reusable_credential(key, since) {
            // Only while it is still live: a revoked credential is never handed out again
            // (revoked through any gateway, so the database decides).
            let id = value.get("id").map(|id| LeaseId::new(id.clone()));
            let live = match id {
                Some(id) => leases::find(state.db(), &id)
                    .await?
                    .is_some_and(|l| l.state == LeaseState::Active && l.expires_at > now_millis()),
                None => false,
            };
            if live {
                state.metrics().record_guardrail("reused");
                return Ok(value);
            }
            state.forget_credential(key);
        }
    }
    check_guardrails(
        state,
        &view.spec,
        view.row.id,
        &view.row.name,
        &requester.caller,
    )
    .await?;

    match view.spec.mode().kind() {
        ModeKind::IamUser => {
            let state = state.clone();
            let timer = crate::metrics::current_aws_timer();
            let (answer, answered) = tokio::sync::oneshot::channel();
            // Its own task: a client that hangs up cannot abandon the lease half way.
            tokio::spawn(crate::metrics::with_aws_timer(timer, async move {
                let ProducerView {
                    row, spec, target, ..
                } = &*view;
                let result = issue_iam_user(&state, requester, row, spec, target, ttl, deadline)
                    .await
                    .map(|(mut value, account)| {
                        if let (Some(plan), Some(account)) = (console, account) {
                            value.insert(
                                "console_url".into(),
                                plan.partition.account_signin_url(&account),
                            );
                        }
                        value
                    });
                if let Err(Ok(value)) = answer.send(result) {
                    revoke_unreceived(&state, &value).await;
                }
            }));
            answered
                .await
                .map_err(|e| AppError::internal(format!("issuing task failed: {e}")))?
        }
        _ => issue_sts(
            state,
            requester,
            &view.row,
            &view.spec,
            &view.target,
            ttl,
            args.role_arn,
            deadline,
            console,
        )
        .await
        .inspect(|value| {
            if let Some(key) = reuse_key {
                state.remember_credential(key, value.clone(), now_millis());
            }
        }),
    }
}

/// Refuses (429, with when to retry) a credential the producer's or the caller's auth
/// method's limits do not leave room for: live credentials at once (`max-live-credentials`,
/// MAYFLY_AUTH_METHOD_MAX_LIVE) and credentials issued per period (`max-issue-rate`,
/// MAYFLY_AUTH_METHOD_MAX_ISSUE_RATE). Counted from the lease table, so every gateway sees
/// the same counts; requests racing each other can pass a limit by the few in flight.
async fn check_guardrails(
    state: &AppState,
    spec: &ProducerSpec,
    producer_id: mayfly_store::ProducerId,
    producer_name: &str,
    caller: &Caller,
) -> AppResult<()> {
    use mayfly_store::leases::LiveOf;
    let now = now_millis();
    let (method_live, method_rate) = state.auth_method_limits();
    let checks = [
        (
            LiveOf::Producer(producer_id),
            spec.max_live_credentials(),
            spec.max_issue_rate(),
            format!("dynamic secret {producer_name}"),
            "its max-live-credentials",
            "its max-issue-rate",
        ),
        (
            LiveOf::Creator(&caller.access_id),
            method_live,
            method_rate,
            format!("auth method {}", caller.access_id),
            "the gateway's MAYFLY_AUTH_METHOD_MAX_LIVE",
            "the gateway's MAYFLY_AUTH_METHOD_MAX_ISSUE_RATE",
        ),
    ];
    let secs_until = |at: i64| u64::try_from((at - now + 999) / 1000).unwrap_or(1).max(1);
    for (of, live, rate, who, live_setting, rate_setting) in checks {
        if let Some(max) = live {
            let (n, first_end) = leases::live_count(state.db(), of, now).await?;
            if n >= u64::from(max) {
                state.metrics().record_guardrail("live_limit");
                let retry = first_end.map_or(60, secs_until);
                return Err(AppError::Throttled {
                    message: format!(
                        "{who} has {n} live credentials, {live_setting} ({max}); retry when one ends (in about {retry} s) or revoke some"
                    ),
                    retry_after_secs: retry,
                });
            }
        }
        if let Some(rate) = rate {
            let window = i64::from(rate.per_secs) * 1000;
            let (n, oldest) = leases::issued_since(state.db(), of, now - window).await?;
            if n >= u64::from(rate.count) {
                state.metrics().record_guardrail("rate_limit");
                let retry = oldest.map_or(u64::from(rate.per_secs), |o| secs_until(o + window));
                return Err(AppError::Throttled {
                    message: format!(
                        "{who} issued {n} credentials in the last {} s, {rate_setting} ({}); retry in {retry} s",
                        rate.per_secs,
                        rate.to_wire_string()
                    ),
                    retry_after_secs: retry,
                });
            }
        }
    }
    Ok(())
}

/// What an STS session carries of its caller: session tags and `SourceIdentity`.
struct CallerInAws {
    tags: Vec<(String, String)>,
    source_identity: Option<String>,
}

/// Renders the producer's `caller-session-tags` and `source-identity` for this caller (a
/// value the caller does not have is left out). The auth method's name is read only when a
/// template names it.
async fn caller_in_aws(
    state: &AppState,
    spec: &ProducerSpec,
    caller: &Caller,
) -> AppResult<CallerInAws> {
    let tags = spec.caller_session_tags();
    let source = spec.source_identity();
    if tags.is_empty() && source.is_none() {
        return Ok(CallerInAws {
            tags: Vec::new(),
            source_identity: None,
        });
    }
    let method_name =
        if tags.uses_auth_method() || source.as_ref().is_some_and(|s| s.uses_auth_method()) {
            mayfly_store::access::find_auth_method_by_id(state.db(), &caller.auth_method_id)
                .await?
                .map(|m| m.name)
                .unwrap_or_default()
        } else {
            String::new()
        };
    let who = mayfly_domain::caller_attrs::CallerAttrs {
        access_id: &caller.access_id,
        auth_method: &method_name,
        identity: &caller.identity,
        claims: &caller.claims,
    };
    Ok(CallerInAws {
        tags: tags.render(&who),
        source_identity: source
            .and_then(|s| s.render(&who))
            .and_then(|s| mayfly_domain::caller_attrs::source_identity(&s)),
    })
}

/// Where a console link goes: checked before issuing.
struct ConsolePlan {
    partition: mayfly_aws::signin::Partition,
    destination: String,
}

/// What `output=console-url` needs: an STS session that can sign in (AssumeRole,
/// GetFederationToken; not GetSessionToken), or an IAM user with a console password; and a
/// destination on the partition's console.
fn console_link_plan(
    spec: &ProducerSpec,
    target: &target::Model,
    destination: Option<&str>,
) -> AppResult<ConsolePlan> {
    match spec.mode() {
        AccessMode::SessionToken => {
            return Err(AppError::invalid(
                "args: output=console-url: AWS signs in only sessions of AssumeRole or GetFederationToken, not session_token credentials",
            ))
        }
        AccessMode::IamUser if !spec.console_access() => {
            return Err(AppError::invalid(
                "args: output=console-url: this dynamic secret's users have no console password (aws-user-console-access is false)",
            ))
        }
        _ => {}
    }
    let partition = mayfly_aws::signin::Partition::of_region(&target.region);
    let destination = partition
        .destination(destination)
        .map_err(|why| AppError::invalid(format!("args: {why}")))?;
    Ok(ConsolePlan {
        partition,
        destination,
    })
}

/// The dynamic secret was deleted (or moved to another target) through another gateway
/// while this one still had it cached: nothing is handed out, and the stale entry goes.
fn producer_gone(state: &AppState, name: &str) -> AppError {
    state.invalidate_caches();
    AppError::not_found(format!(
        "no dynamic secret named {name}: it was deleted or changed just now; try again"
    ))
}

fn new_lease_id() -> LeaseId {
    LeaseId::new(format!("tc-{}", random_string(20, LOWER_ALNUM)))
}

fn render(
    spec: &ProducerSpec,
    producer: &producer::Model,
    caller: &Caller,
    max_len: usize,
) -> String {
    let random = random_string(8, LOWER_ALNUM);
    let name = ItemName::parse(&producer.name)
        .map(|n| n.last_segment().to_owned())
        .unwrap_or_default();
    spec.username_template().render(
        &RenderContext {
            name: &name,
            random: &random,
            unix_time: u64::try_from(now_millis() / 1000).unwrap_or_default(),
            caller: &caller.access_id,
        },
        max_len,
    )
}

fn minutes(ttl: &Ttl) -> String {
    (ttl.as_secs() / 60).max(1).to_string()
}

async fn issue_iam_user(
    state: &AppState,
    requester: Requester,
    producer: &producer::Model,
    spec: &ProducerSpec,
    target: &target::Model,
    ttl: Ttl,
    deadline: Instant,
) -> AppResult<(Value, Option<String>)> {
    let clients = clients_for(state, target)?;
    let lease_id = new_lease_id();
    let user_name = render(spec, producer, &requester.caller, 64);
    let path = spec
        .user_path()
        .unwrap_or(state.iam_user_path())
        .as_str()
        .to_owned();
    let now = now_millis();
    let expires_at = now + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2_000) * 1000;

    // 1. The lease row first: from here on, whatever AWS holds is tracked.
    let inserted = leases::insert(
        state.db(),
        NewLease {
            id: lease_id.clone(),
            producer_id: producer.id,
            producer_name: producer.name.clone(),
            target_id: target.id,
            mode: lease_mode(spec)?,
            state: LeaseState::Creating,
            iam_user_name: Some(user_name.clone()),
            iam_user_path: Some(path.clone()),
            access_key_id: None,
            created_by: requester.caller.access_id.clone(),
            created_by_identity: requester.caller.identity.clone(),
            created_by_claims: claims_json(&requester.caller.claims),
            client_address: requester.client_address.clone(),
            expires_at,
            // Known once CreateUser answers (mark_active).
            aws_account: None,
            session_name: None,
            role_arn: None,
        },
        now,
    )
    .await?;
    if !inserted {
        return Err(producer_gone(state, &producer.name));
    }

    // 2. The user, fully set up, then its key.
    let password = spec.console_access().then(|| {
        let p = spec.password_policy();
        generate_password(&PasswordRules {
            length: p.length() as usize,
            upper: p.capital_letters(),
            lower: p.lower_letters(),
            digits: p.numbers(),
            special: p.special_characters(),
        })
    });
    let mut tags = vec![
        (TAG_CLUSTER.to_owned(), state.cluster_id().to_owned()),
        (TAG_PRODUCER.to_owned(), producer.name.clone()),
        (TAG_LEASE.to_owned(), lease_id.to_string()),
    ];
    tags.extend(
        spec.user_tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned())),
    );
    let plan = iam_user::UserPlan {
        name: user_name.clone(),
        path,
        permissions_boundary: spec.permissions_boundary().map(|b| b.as_str().to_owned()),
        tags,
        policy_arns: spec
            .policies()
            .iter()
            .map(|p| p.as_str().to_owned())
            .collect(),
        inline_policy: spec
            .policy_document()
            .map(|d| ("mayfly-inline".to_owned(), d.as_str().to_owned())),
        groups: spec
            .groups()
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect(),
        console_password: password.clone(),
        programmatic: spec.programmatic_access(),
    };
    let retry = RetryPolicy::default();
    match iam_user::create_user_with_access(clients.iam.as_ref(), &plan, deadline, &retry).await {
        Ok(created) => {
            let key_id = created.access_key.as_ref().map(|k| k.access_key_id.clone());
            // The account that holds the user: teardown checks it before it believes a
            // NoSuchEntity.
            let account = created.arn.as_deref().and_then(iam_user::account_of_arn);
            // 3. Active, then (and only then) handed out.
            if !leases::mark_active(state.db(), &lease_id, key_id, account.clone(), now_millis())
                .await?
            {
                roll_back(state, &clients, &lease_id, &user_name).await;
                return Err(AppError::conflict(
                    "the credential was taken over by the reconciler before it was ready (the request ran longer than MAYFLY_RECONCILE_MIN_AGE); try again",
                ));
            }
            tracing::info!(lease = %lease_id, producer = %producer.name, user = %user_name, "iam_user credential issued");
            let mut value = Value::new();
            if let (Some(wait), Some(key)) = (spec.wait_until_usable(), &created.access_key) {
                let ready = wait_until_usable(state, target, key, wait, deadline).await;
                value.insert("ready".into(), ready.to_string());
            }
            if let Some(key) = created.access_key {
                value.insert("access_key_id".into(), key.access_key_id);
                value.insert(
                    "secret_access_key".into(),
                    key.secret_access_key.expose_secret().to_owned(),
                );
            }
            if let Some(p) = password {
                value.insert("password".into(), p.expose_secret().to_owned());
            }
            value.insert("id".into(), lease_id.into_string());
            value.insert("user".into(), user_name);
            value.insert("type".into(), "aws_dynamic_user".into());
            value.insert("ttl_in_minutes".into(), minutes(&ttl));
            value.insert("expiration".into(), rfc3339(expires_at));
            Ok((value, account))
        }
        Err(failure) => {
            tracing::warn!(lease = %lease_id, producer = %producer.name, error = %failure.error, "issuing an iam_user credential failed; rolling back");
            // A refusal of CreateUser itself is definite; anything ambiguous (a timeout, a lost
            // answer) may have created the user, so tear down in every other case.
            if failure.user_created || failure.error.is_retryable() {
                // The rollback runs in its own task and is awaited only while the request's
                // deadline (plus a moment) allows: under throttling it can take longer, and
                // the caller must not wait for it. The lease stays `creating` until it ends
                // (the reconciler finishes it if the gateway stops first).
                let task = tokio::spawn({
                    let (state, clients) = (state.clone(), clients.clone());
                    let (lease_id, user_name) = (lease_id.clone(), user_name.clone());
                    async move { roll_back(&state, &clients, &lease_id, &user_name).await }
                });
                let wait_until = deadline.max(Instant::now() + ROLLBACK_GRACE);
                if tokio::time::timeout_at(wait_until, task).await.is_err() {
                    tracing::info!(lease = %lease_id, "rollback continues after the answer");
                }
            } else {
                let _ = leases::mark_aborted(
                    state.db(),
                    &lease_id,
                    &failure.error.to_string(),
                    now_millis(),
                )
                .await;
            }
            Err(failure.error.into())
        }
    }
}

/// An `iam_user` credential made after its request was gone (the request's deadline passed or
/// the client hung up while AWS was still being called, as in a burst under throttling):
/// nobody will ever hold it, so it is revoked now rather than left to live out its TTL (an IAM
/// user, and IAM writes, that other requests are waiting for).
async fn revoke_unreceived(state: &AppState, value: &Value) {
    let Some(id) = value.get("id") else {
        return;
    };
    let lease_id = LeaseId::from(id.clone());
    tracing::info!(lease = %lease_id, "an iam_user credential was ready after its request had gone; revoking it");
    match leases::revoke_one_soon(state.db(), &lease_id, now_millis()).await {
        Ok(true) => state.wake_revoker(),
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(lease = %lease_id, error = %e, "could not end an unreceived credential early; it expires with its TTL");
        }
    }
}

/// How long past its deadline a failed issue waits for its rollback before answering.
const ROLLBACK_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// Successful calls in a row with a new key before it counts as usable: IAM's eventual
/// consistency can let one call through and fail the next.
const USABLE_STREAK: u32 = 3;
/// The pause between two tries with a new key.
const USABLE_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// Tries a new key with a harmless signed call (`sts:GetCallerIdentity`, made with the key
/// itself, at the target's endpoints) until it works [`USABLE_STREAK`] times in a row, for at
/// most `wait` (and never past the request's deadline). Whether it became usable; the key is
/// handed out either way (it exists and is tracked), marked `ready: false` when it did not.
async fn wait_until_usable(
    state: &AppState,
    target: &target::Model,
    key: &mayfly_aws::AccessKey,
    wait: std::time::Duration,
    deadline: Instant,
) -> bool {
    let started = Instant::now();
    let until = (started + wait).min(deadline);
    let spec = mayfly_aws::ConnectionSpec {
        base: mayfly_aws::BaseCredentials::Keys {
            access_key_id: key.access_key_id.clone(),
            secret_access_key: key.secret_access_key.clone(),
            session_token: None,
        },
        region: target.region.clone(),
        iam_endpoint: target.iam_endpoint.clone(),
        sts_endpoint: target.sts_endpoint.clone(),
        role: None,
    };
    let clients = state.aws().uncached(&spec);
    let mut streak = 0;
    let ready = loop {
        match clients.sts.get_caller_identity().await {
            Ok(_) => streak += 1,
            Err(_) => streak = 0,
        }
        if streak >= USABLE_STREAK {
            break true;
        }
        if Instant::now() + USABLE_PAUSE >= until {
            break false;
        }
        tokio::time::sleep(USABLE_PAUSE).await;
    };
    let waited = started.elapsed();
    state.metrics().record_key_ready_wait(ready, waited);
    if ready {
        tracing::debug!(key = %key.access_key_id, waited_ms = waited.as_millis() as u64, "new key usable");
    } else {
        tracing::warn!(key = %key.access_key_id, waited_ms = waited.as_millis() as u64, "new key not usable within wait-until-usable; handed out with ready=false");
    }
    ready
}

/// Tears down a half-made user with a fresh, short deadline. On success the lease is
/// `aborted`; on failure it stays `creating` and the reconciler finishes it.
async fn roll_back(
    state: &AppState,
    clients: &mayfly_aws::AwsClients,
    lease_id: &LeaseId,
    user: &str,
) {
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    match iam_user::teardown_user(
        clients.iam.as_ref(),
        user,
        deadline,
        &RetryPolicy::default(),
    )
    .await
    {
        Ok(_) => {
            if let Err(e) = leases::mark_aborted(
                state.db(),
                lease_id,
                "issuing failed; rolled back",
                now_millis(),
            )
            .await
            {
                tracing::warn!(lease = %lease_id, error = %e, "rolled back but could not mark the lease aborted; the reconciler will");
            }
        }
        Err(e) => {
            tracing::warn!(lease = %lease_id, user = %user, error = %e, "rollback failed; the reconciler will finish it")
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn issue_sts(
    state: &AppState,
    requester: Requester,
    producer: &producer::Model,
    spec: &ProducerSpec,
    target: &target::Model,
    ttl: Ttl,
    role_arn: Option<String>,
    deadline: Instant,
    console: Option<ConsolePlan>,
) -> AppResult<Value> {
    let clients = clients_for(state, target)?;
    let caller = caller_in_aws(state, spec, &requester.caller).await?;
    let duration = i32::try_from(ttl.as_secs()).unwrap_or(i32::MAX);
    let retry = RetryPolicy::default();
    let policy = spec.policy_document().map(|d| d.as_str().to_owned());
    let policy_arns: Vec<String> = spec
        .policies()
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    // The lease id exists before the credential, so a revocable one carries it in its
    // session name (unique: revoking it denies that name and no other).
    let lease_id = new_lease_id();
    let revocable = spec.session_revocation();
    let session_name = |max_len: usize| -> AppResult<String> {
        let prefix = render(spec, producer, &requester.caller, max_len);
        if !revocable {
            return Ok(prefix);
        }
        mayfly_domain::sts_revocation::session_name(
            &prefix,
            producer.id.get(),
            lease_id.as_str(),
            max_len,
        )
        .map_err(AppError::internal)
    };
    let mut recorded_name = None;
    let mut recorded_role = None;
    let creds: StsCredentials = match spec.mode() {
        AccessMode::AssumeRole { .. } => {
            let roles: Vec<&str> = spec.role_arns().iter().map(|r| r.as_str()).collect();
            let role = match role_arn {
                Some(r) if roles.contains(&r.as_str()) => r,
                Some(r) => {
                    return Err(AppError::invalid(format!(
                        "args: role_arn {r} is not one of this dynamic secret's aws-role-arns ({})",
                        roles.join(", ")
                    )))
                }
                None => roles
                    .first()
                    .map(|r| (*r).to_owned())
                    .ok_or_else(|| AppError::internal("assume_role producer without a role"))?,
            };
            let mut tags: Vec<(String, String)> = spec
                .session_tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            tags.extend(caller.tags.clone());
            let name = session_name(64)?;
            recorded_name = revocable.then(|| name.clone());
            recorded_role = Some(role.clone());
            let request = AssumeRole {
                role_arn: role,
                session_name: name,
                duration_secs: duration,
                external_id: spec.external_id().map(|e| e.as_str().to_owned()),
                policy,
                policy_arns,
                tags,
                transitive_tag_keys: spec.transitive_tag_keys().keys().to_vec(),
                source_identity: caller.source_identity.clone(),
            };
            let sts = clients.sts.clone();
            mayfly_aws::with_retries(&retry, deadline, "sts:AssumeRole", || {
                sts.assume_role(&request)
            })
            .await?
        }
        AccessMode::FederationToken => {
            let name = session_name(32)?;
            recorded_name = revocable.then(|| name.clone());
            let request = FederationToken {
                name,
                duration_secs: duration,
                policy,
                policy_arns,
                tags: caller.tags.clone(),
            };
            let sts = clients.sts.clone();
            mayfly_aws::with_retries(&retry, deadline, "sts:GetFederationToken", || {
                sts.get_federation_token(&request)
            })
            .await?
        }
        AccessMode::SessionToken => {
            // No name to give (`recorded_name` stays empty): revocable only all at once, by
            // an issue-time deny on the user.
            let sts = clients.sts.clone();
            mayfly_aws::with_retries(&retry, deadline, "sts:GetSessionToken", || {
                sts.get_session_token(duration)
            })
            .await?
        }
        AccessMode::IamUser => return Err(AppError::internal("iam_user reached the STS path")),
    };
    let now = now_millis();
    let expires_at = creds
        .expiration
        .timestamp_millis()
        .min(now + i64::from(duration) * 1000);
    let inserted = leases::insert(
        state.db(),
        NewLease {
            id: lease_id.clone(),
            producer_id: producer.id,
            producer_name: producer.name.clone(),
            target_id: target.id,
            mode: lease_mode(spec)?,
            state: LeaseState::Active,
            iam_user_name: None,
            iam_user_path: None,
            access_key_id: Some(creds.access_key_id.clone()),
            created_by: requester.caller.access_id.clone(),
            created_by_identity: requester.caller.identity.clone(),
            created_by_claims: claims_json(&requester.caller.claims),
            client_address: requester.client_address,
            expires_at,
            aws_account: creds.arn.as_deref().and_then(iam_user::account_of_arn),
            session_name: recorded_name,
            role_arn: recorded_role,
        },
        now,
    )
    .await?;
    if !inserted {
        // AWS cannot take an STS credential back; it expires on its own.
        return Err(producer_gone(state, &producer.name));
    }
    tracing::info!(lease = %lease_id, producer = %producer.name, mode = %spec.mode().as_str(), "STS credential issued");
    let mut value = Value::new();
    value.insert("access_key_id".into(), creds.access_key_id);
    value.insert(
        "secret_access_key".into(),
        creds.secret_access_key.expose_secret().to_owned(),
    );
    value.insert(
        "security_token".into(),
        creds.session_token.expose_secret().to_owned(),
    );
    value.insert("expiration".into(), rfc3339(expires_at));
    value.insert("ttl_in_minutes".into(), minutes(&ttl));
    value.insert("id".into(), lease_id.into_string());
    if let Some(plan) = console {
        // The credential exists (STS cannot take it back); a failed link fails the request
        // and the credential ends at its expiry.
        let link = state
            .federation()
            .signin_url(
                plan.partition,
                &value["access_key_id"],
                &value["secret_access_key"],
                &value["security_token"],
                &plan.destination,
                "mayfly",
            )
            .await?;
        value.insert("console_url".into(), link);
    }
    Ok(value)
}

/// The stored mode of a lease of `spec`.
fn lease_mode(spec: &ProducerSpec) -> AppResult<leases::LeaseMode> {
    let name = spec.mode().as_str();
    leases::LeaseMode::from_access_mode(name)
        .ok_or_else(|| AppError::internal(format!("access mode {name} has no lease mode")))
}

/// The requester's claims as a lease keeps them: JSON, or empty for none.
fn claims_json(claims: &mayfly_domain::TokenClaims) -> String {
    if claims.0.is_empty() {
        String::new()
    } else {
        serde_json::to_string(claims).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_accept_pairs_and_json_and_reject_unknown_keys() {
        let a = parse_args(&[
            "ttl=15m".into(),
            r#"{"role_arn":"arn:aws:iam::1:role/x"}"#.into(),
        ])
        .unwrap();
        assert_eq!(a.ttl.unwrap().as_secs(), 900);
        assert_eq!(a.role_arn.as_deref(), Some("arn:aws:iam::1:role/x"));
        assert!(parse_args(&["username=bob".into()])
            .unwrap_err()
            .to_string()
            .contains("role_arn, ttl"));
        assert!(parse_args(&["ttl".into()]).is_err());
        assert!(parse_args(&["ttl=60".into()])
            .unwrap_err()
            .to_string()
            .contains("ttl"));
    }
}
