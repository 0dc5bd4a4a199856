//! `sys/leases/*`: Vault leases are tmp creds. A lease id `<mount>/creds/<name>/<id>` (or
//! `<mount>/sts/...`) names the dynamic secret and the tmp creds id; each call is the
//! Akeyless tmp-creds operation with the same capability on the dynamic secret: lookup and
//! list need `read`, renew `update`, revoke and revoke-prefix `delete`.

use mayfly_app::{
    access::{authorize, is_allowed, Capability, ResourceKind},
    dynamic_secrets,
    error::AppError,
    tmp_creds::{self, Granted},
};
use mayfly_domain::ItemName;
use mayfly_store::{
    leases::{Lease, LeaseState},
    LeaseId,
};
use serde_json::{json, Value};

use super::{
    auth::seconds_until, aws::lease_id as lease_id_of, item_name, role_name, wire::Envelope, Ctx,
    Reply, Session,
};
use crate::error::{ApiError, ApiResult};

/// A lease id taken apart: the dynamic secret and the tmp creds id.
struct LeaseRef {
    name: ItemName,
    id: LeaseId,
}

/// The path of `raw` inside this mount's creds: `creds/<rest>` or `sts/<rest>`, `None` for
/// anything else.
fn creds_path<'a>(mount: &str, raw: &'a str) -> Option<&'a str> {
    let rest = raw
        .trim_start_matches('/')
        .strip_prefix(mount)?
        .strip_prefix('/')?;
    rest.strip_prefix("creds/")
        .or_else(|| rest.strip_prefix("sts/"))
}

fn parse_lease_id(mount: &str, raw: &str) -> ApiResult<LeaseRef> {
    let invalid = || {
        ApiError::bad_request(format!(
            "lease_id: {raw:?} is not a lease of this gateway: leases look like {mount}/creds/<role>/<id>"
        ))
    };
    let rest = creds_path(mount, raw.trim()).ok_or_else(invalid)?;
    let (name, id) = rest.rsplit_once('/').ok_or_else(invalid)?;
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid());
    }
    Ok(LeaseRef {
        name: item_name("lease_id", name)?,
        id: LeaseId::new(id.to_owned()),
    })
}

async fn granted(
    cx: &mut Ctx<'_>,
    session: &Session,
    lease: &LeaseRef,
    capability: Capability,
) -> ApiResult<Granted> {
    cx.audit.item = lease.name.to_string();
    Ok(tmp_creds::authorize(cx.state, &session.caller, &lease.name, capability).await?)
}

fn required_lease_id(cx: &Ctx<'_>) -> ApiResult<String> {
    cx.params
        .string("lease_id")?
        .ok_or_else(|| ApiError::bad_request("lease_id: required"))
}

fn live(lease: &Lease) -> bool {
    lease.state == LeaseState::Active && lease.expires_at > mayfly_store::now_millis()
}

pub async fn lookup(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let raw = required_lease_id(cx)?;
    let lease_ref = parse_lease_id(&cx.settings.mount, &raw)?;
    let grant = granted(cx, &session, &lease_ref, Capability::Read).await?;
    let lease = tmp_creds::find(cx.state, &grant, &lease_ref.id).await?;
    let alive = live(&lease);
    let data = json!({
        "id": lease_id_of(&cx.settings.mount, lease_ref.name.as_str(), lease.id.as_str()),
        "issue_time": mayfly_app::time::rfc3339(lease.created_at),
        "expire_time": mayfly_app::time::rfc3339(lease.expires_at),
        "last_renewal": if lease.custom_ttl_min.is_some() {
            json!(mayfly_app::time::rfc3339(lease.updated_at))
        } else {
            Value::Null
        },
        "renewable": alive && lease.mode.is_iam_user(),
        "ttl": if alive { seconds_until(lease.expires_at) } else { 0 },
        // Mayfly extension: the tmp creds' state, as the Akeyless API lists it.
        "state": lease.state.as_str(),
    });
    Ok(Reply::Json(
        Envelope::data(&cx.request_id(), data).into_json(),
    ))
}

/// `LIST sys/leases/lookup/<mount>/creds/<role>/`: the ids of the role's live credentials.
pub async fn list(cx: &mut Ctx<'_>, prefix: &str) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let name = creds_path(&cx.settings.mount, prefix)
        .map(|r| r.trim_end_matches('/'))
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "prefix: list the leases of one role: sys/leases/lookup/{}/creds/<role>/",
                cx.settings.mount
            ))
        })?;
    let name = item_name("prefix", name)?;
    cx.audit.item = name.to_string();
    let grant = tmp_creds::authorize(cx.state, &session.caller, &name, Capability::Read).await?;
    let mut keys: Vec<String> = tmp_creds::list(cx.state, &grant)
        .await?
        .into_iter()
        .filter(live)
        .map(|l| l.id.into_string())
        .collect();
    keys.sort();
    if keys.is_empty() {
        return Ok(Reply::Empty);
    }
    Ok(Reply::Json(
        Envelope::data(&cx.request_id(), json!({ "keys": keys })).into_json(),
    ))
}

/// Extends an `iam_user` credential by `increment` from now (its role's TTL when not
/// given), never past its role's max TTL. STS credentials cannot be renewed (400).
pub async fn renew(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let raw = required_lease_id(cx)?;
    let lease_ref = parse_lease_id(&cx.settings.mount, &raw)?;
    let increment = cx
        .params
        .seconds("increment")?
        .filter(|s| *s > 0)
        .map(std::time::Duration::from_secs);
    let grant = granted(cx, &session, &lease_ref, Capability::Update).await?;
    let lease = tmp_creds::renew(cx.state, &grant, &lease_ref.id, increment).await?;
    cx.audit.detail = format!("renewed tmp creds {}", lease.id);
    let envelope = Envelope {
        lease_id: lease_id_of(
            &cx.settings.mount,
            lease_ref.name.as_str(),
            lease.id.as_str(),
        ),
        renewable: true,
        lease_duration: seconds_until(lease.expires_at),
        ..Envelope::data(&cx.request_id(), Value::Null)
    };
    Ok(Reply::Json(envelope.into_json()))
}

/// Revokes one credential now (the lease id in the body, or in the path).
pub async fn revoke(cx: &mut Ctx<'_>, in_path: Option<String>) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let raw = match in_path.filter(|p| !p.is_empty()) {
        Some(raw) => raw,
        None => required_lease_id(cx)?,
    };
    let lease_ref = parse_lease_id(&cx.settings.mount, &raw)?;
    let grant = granted(cx, &session, &lease_ref, Capability::Delete).await?;
    tmp_creds::revoke_by_id(cx.state, &grant, &lease_ref.id).await?;
    cx.audit.detail = format!("revoked tmp creds {}", lease_ref.id);
    Ok(Reply::NoContent)
}

/// Revokes every credential under a prefix, matched by whole path segments:
/// `<mount>/creds/team-a` reaches the roles `team-a` and `team-a/...`, never `team-ab`;
/// `<mount>/creds/<role>/<id>` one credential; `<mount>` (or `<mount>/creds`) every role.
/// The caller needs `delete` on the whole prefix (`/team-a/*`, or the role it names) and
/// on every role under it it may list, all checked before anything is revoked. Like revoke-all on the Akeyless API it is
/// asynchronous for IAM users (the revoker ends them); STS credentials issued without
/// session-revocation cannot be revoked and are skipped with a warning.
pub async fn revoke_prefix(cx: &mut Ctx<'_>, raw_prefix: &str) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let mount = cx.settings.mount.clone();
    let prefix = raw_prefix.trim().trim_matches('/');
    let rest = if prefix == mount
        || prefix == format!("{mount}/creds")
        || prefix == format!("{mount}/sts")
    {
        ""
    } else {
        creds_path(&mount, prefix).ok_or_else(|| {
            ApiError::bad_request(format!(
                "prefix: {prefix:?} is not under this gateway's mount: use {mount}/creds/<role>"
            ))
        })?
    };
    let folder = if rest.is_empty() {
        None
    } else {
        Some(item_name("prefix", rest)?)
    };
    cx.audit.item = folder
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "/".into());
    // As Vault asks for a policy on the prefix itself: delete on the whole subtree (or on
    // the one role the prefix names), before anything is looked up.
    let subtree = match &folder {
        None => "/*".to_owned(),
        Some(f) => format!("{f}/*"),
    };
    let on_role = folder.as_ref().is_some_and(|f| {
        is_allowed(
            &session.caller.rules,
            Capability::Delete,
            ResourceKind::Item,
            f.as_str(),
        )
    });
    if !on_role {
        authorize(
            &session.caller,
            Capability::Delete,
            ResourceKind::Item,
            &subtree,
        )?;
    }
    let rows = dynamic_secrets::list(cx.state, &session.caller).await?;
    let matching: Vec<ItemName> = rows
        .iter()
        .filter_map(|r| ItemName::parse(&r.name).ok())
        .filter(|n| {
            folder
                .as_ref()
                .is_none_or(|f| n == f || n.is_in_folder(f.as_str()))
        })
        .collect();
    if matching.is_empty() {
        // Perhaps one credential: <role>/<id>.
        if let Some(folder) = &folder {
            let raw = lease_id_of(&mount, folder.parent(), folder.last_segment());
            if folder.parent() != "/" {
                if let Ok(lease_ref) = parse_lease_id(&mount, &raw) {
                    let grant = granted(cx, &session, &lease_ref, Capability::Delete).await;
                    match grant {
                        Ok(grant) => {
                            tmp_creds::revoke_by_id(cx.state, &grant, &lease_ref.id).await?;
                            cx.audit.detail = format!("revoked tmp creds {}", lease_ref.id);
                            return Ok(Reply::NoContent);
                        }
                        Err(ApiError::NotFound(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        return Ok(Reply::NoContent);
    }
    let mut grants = Vec::new();
    for name in &matching {
        grants
            .push(tmp_creds::authorize(cx.state, &session.caller, name, Capability::Delete).await?);
    }
    let mut revoking = 0;
    let mut warnings = Vec::new();
    for grant in &grants {
        match tmp_creds::revoke_all(cx.state, grant).await {
            Ok(n) => revoking += n,
            Err(AppError::Invalid(why)) => {
                warnings.push(format!("{}: {why}", role_name(&grant.row().name)))
            }
            Err(e) => return Err(e.into()),
        }
    }
    cx.audit.detail = format!(
        "revoke-prefix over {} role(s): {revoking} credential(s) being revoked",
        grants.len()
    );
    if warnings.is_empty() {
        return Ok(Reply::NoContent);
    }
    Ok(Reply::Json(
        Envelope {
            warnings,
            ..Envelope::data(&cx.request_id(), Value::Null)
        }
        .into_json(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_ids_name_the_role_and_the_tmp_creds() {
        let l = parse_lease_id("aws", "aws/creds/team-a/s3/tc-abc123").unwrap();
        assert_eq!(l.name.as_str(), "/team-a/s3");
        assert_eq!(l.id.as_str(), "tc-abc123");
        let l = parse_lease_id("aws", "aws/sts/deploy/tc-1").unwrap();
        assert_eq!(l.name.as_str(), "/deploy");
        for bad in [
            "other/creds/x/tc-1",
            "aws/creds/tc-1",
            "aws/creds/x/",
            "aws/roles/x/tc-1",
            "aws/creds/../x/tc-1",
            "aws/creds/x/tc 1",
            "awsx/creds/x/tc-1",
        ] {
            assert!(parse_lease_id("aws", bad).is_err(), "{bad}");
        }
    }
}
