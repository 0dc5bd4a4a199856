//! Creating a temporary IAM user: `CreateUser`, then everything else at once, then the key.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use futures_util::future::{join_all, BoxFuture, FutureExt};
use tokio::time::Instant;

use super::{has_our_tags, CreatedUser, IssueFailure, UserPlan};
use crate::retry::{with_retries, RetryPolicy};
use crate::{ops, AwsError, CreateUser, IamApi};

/// Creates the user of `plan` with its policies, groups, login profile and (if programmatic)
/// an access key, within `deadline`.
///
/// Order and latency: `CreateUser` (tags and permissions boundary are set atomically with it),
/// then **all** of `AttachUserPolicy` / `PutUserPolicy` / `AddUserToGroup` /
/// `CreateLoginProfile` concurrently, then `CreateAccessKey` last, so no credential exists
/// before the user is fully set up. That is three sequential IAM round trips however many
/// policies and groups the plan has. Each call is retried on its own ([`with_retries`]).
///
/// All concurrent calls are awaited even when one fails (no cancellation), so nothing is still
/// in flight when the caller starts tearing down; otherwise a late `AttachUserPolicy` could
/// land after teardown's detach step and make `DeleteUser` fail.
///
/// A retried `CreateUser` whose first response was lost answers `EntityAlreadyExists`; the
/// user then counts as ours only if `GetUser` shows every tag of the plan (so the plan's tags
/// must identify this issuance, e.g. by lease id). A name taken by anyone else fails with
/// `user_created = false`, and the caller must not tear that user down.
///
/// Under throttling the plan's writes are reserved before the first one
/// ([`IamApi::reserve_writes`]): an issue that cannot make them all by `deadline` fails at
/// once with [`AwsError::Overloaded`] and `user_created = false`, rather than half-way, when
/// its rollback would spend writes that other requests are waiting for.
///
/// On failure nothing is torn down here: see [`IssueFailure::user_created`].
///
/// Eventual consistency: on real AWS a new access key can take a few seconds before it
/// authenticates everywhere. This function does not wait for that (the gateway does not sleep
/// by default); clients should retry their first call briefly.
pub async fn create_user_with_access(
    iam: &dyn IamApi,
    plan: &UserPlan,
    deadline: Instant,
    retry: &RetryPolicy,
) -> Result<CreatedUser, IssueFailure> {
    crate::governor::reservation_scope(async {
        iam.reserve_writes(plan.write_calls(), deadline)
            .await
            .map_err(|error| IssueFailure {
                error,
                user_created: false,
            })?;
        create_user_and_setup(iam, plan, deadline, retry).await
    })
    .await
}

/// [`create_user_with_access`] once its writes are reserved.
async fn create_user_and_setup(
    iam: &dyn IamApi,
    plan: &UserPlan,
    deadline: Instant,
    retry: &RetryPolicy,
) -> Result<CreatedUser, IssueFailure> {
    let arn = create_user(iam, plan, deadline, retry).await?;

    let created = |error: AwsError| IssueFailure {
        error,
        user_created: true,
    };
    // The key is made alongside the set-up calls (both need only the user), so an issue
    // costs two IAM round trips, not three; it is handed out only if every call succeeded,
    // and on failure the caller tears the user down, key included.
    let make_key = async {
        if plan.programmatic {
            with_retries(retry, deadline, ops::CREATE_ACCESS_KEY, || {
                iam.create_access_key(&plan.name)
            })
            .await
            .map(Some)
        } else {
            Ok(None)
        }
    };
    let (results, key) =
        futures_util::future::join(join_all(setup_calls(iam, plan, deadline, retry)), make_key)
            .await;
    if let Some(error) = results.into_iter().find_map(Result::err) {
        return Err(created(error));
    }
    let access_key = key.map_err(created)?;
    Ok(CreatedUser { access_key, arn })
}

/// `CreateUser` with retries, deciding whether a failure may have left a user behind.
async fn create_user(
    iam: &dyn IamApi,
    plan: &UserPlan,
    deadline: Instant,
    retry: &RetryPolicy,
) -> Result<Option<String>, IssueFailure> {
    let input = CreateUser {
        name: plan.name.clone(),
        path: plan.path.clone(),
        permissions_boundary: plan.permissions_boundary.clone(),
        tags: plan.tags.clone(),
    };
    // Set when an attempt may have reached AWS without us seeing the answer.
    let maybe_created = AtomicBool::new(false);
    let result = with_retries(retry, deadline, ops::CREATE_USER, || async {
        let result = iam.create_user(&input).await;
        if let Err(err) = &result {
            if outcome_unknown(err) {
                maybe_created.store(true, Ordering::SeqCst);
            }
        }
        result
    })
    .await;
    let err = match result {
        Ok(arn) => return Ok(arn),
        Err(err) => err,
    };
    if err.is_entity_already_exists() {
        return match with_retries(retry, deadline, ops::GET_USER, || iam.get_user(&plan.name)).await
        {
            Ok(Some(user)) if has_our_tags(&user.tags, &plan.tags) => {
                tracing::info!(user = %plan.name, "CreateUser was retried; the existing user is ours");
                Ok(Some(user.arn))
            }
            // Somebody else's user (or it vanished again): nothing of ours exists.
            Ok(_) => Err(IssueFailure {
                error: err,
                user_created: false,
            }),
            // We cannot tell: assume ours may exist; teardown of a foreign name is prevented
            // by unique generated names, and of a missing user is a no-op.
            Err(lookup) => Err(IssueFailure {
                error: lookup,
                user_created: maybe_created.load(Ordering::SeqCst),
            }),
        };
    }
    Err(IssueFailure {
        user_created: outcome_unknown(&err) || maybe_created.load(Ordering::SeqCst),
        error: err,
    })
}

/// Errors after which the request may have been carried out although we saw no answer.
fn outcome_unknown(err: &AwsError) -> bool {
    match err {
        AwsError::Timeout(_) | AwsError::Unreachable(_) => true,
        AwsError::ServiceError { .. } => err.is_retryable(),
        _ => false,
    }
}

/// The calls that run concurrently after `CreateUser`, each with its own retries, in plan
/// order (so the first error reported is the first failing step of the plan).
fn setup_calls<'a>(
    iam: &'a dyn IamApi,
    plan: &'a UserPlan,
    deadline: Instant,
    retry: &'a RetryPolicy,
) -> Vec<BoxFuture<'a, Result<(), AwsError>>> {
    let user = plan.name.as_str();
    let mut calls: Vec<BoxFuture<'a, Result<(), AwsError>>> = Vec::new();
    for arn in &plan.policy_arns {
        calls.push(
            with_retries(retry, deadline, ops::ATTACH_USER_POLICY, move || {
                iam.attach_user_policy(user, arn)
            })
            .boxed(),
        );
    }
    if let Some((name, document)) = &plan.inline_policy {
        calls.push(
            with_retries(retry, deadline, ops::PUT_USER_POLICY, move || {
                iam.put_user_policy(user, name, document)
            })
            .boxed(),
        );
    }
    for group in &plan.groups {
        calls.push(
            with_retries(retry, deadline, ops::ADD_USER_TO_GROUP, move || {
                iam.add_user_to_group(user, group)
            })
            .boxed(),
        );
    }
    if let Some(password) = &plan.console_password {
        calls.push(
            async move {
                let attempts = AtomicU32::new(0);
                let result = with_retries(retry, deadline, ops::CREATE_LOGIN_PROFILE, || {
                    attempts.fetch_add(1, Ordering::SeqCst);
                    iam.create_login_profile(user, password, false)
                })
                .await;
                match result {
                    // Our user is brand new: a profile found on a retry is the one our lost
                    // first attempt created.
                    Err(err)
                        if err.is_entity_already_exists()
                            && attempts.load(Ordering::SeqCst) > 1 =>
                    {
                        Ok(())
                    }
                    other => other,
                }
            }
            .boxed(),
        );
    }
    calls
}
