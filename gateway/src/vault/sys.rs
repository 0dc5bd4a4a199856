//! `sys/*`: health and seal status (no token), mounts and capabilities (a token).
//!
//! Every gateway serves requests (there is no leader or standby), so health answers as an
//! active, unsealed Vault; when its database is unreachable it cannot serve and answers as
//! a sealed one (503), which is what load balancers and clients probing Vault expect.

use mayfly_app::access::{is_allowed, Capability, ResourceKind};
use serde_json::{json, Value};

use super::{item_name, wire::Envelope, Ctx, Reply};
use crate::error::{ApiError, ApiResult};

/// The Vault API version Mayfly answers as, with Mayfly's own after the `+`: clients that
/// gate features on the server's version (the Terraform provider) see a recent Vault.
pub fn version() -> String {
    format!("1.15.0+mayfly.{}", env!("CARGO_PKG_VERSION"))
}

/// A status code from the query (`activecode=204`), if one is given and valid.
fn code(cx: &Ctx<'_>, name: &str, default: u16) -> u16 {
    cx.params
        .string(name)
        .ok()
        .flatten()
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|c| (100..600).contains(c))
        .unwrap_or(default)
}

pub async fn health(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    let ready = mayfly_store::connect::ping(cx.state.db()).await;
    if let Err(e) = &ready {
        tracing::warn!(error = %e, "sys/health: the database does not answer");
    }
    let sealed = ready.is_err();
    let status = if sealed {
        code(cx, "sealedcode", 503)
    } else {
        code(cx, "activecode", 200)
    };
    let body = json!({
        "initialized": true,
        "sealed": sealed,
        "standby": false,
        "performance_standby": false,
        "replication_performance_mode": "disabled",
        "replication_dr_mode": "disabled",
        "server_time_utc": chrono::Utc::now().timestamp(),
        "version": version(),
        "enterprise": false,
        "cluster_name": "mayfly",
        "cluster_id": cx.state.cluster_id(),
    });
    Ok(Reply::Status(status, body))
}

pub fn seal_status(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    Ok(Reply::Json(json!({
        "type": "shamir",
        "initialized": true,
        "sealed": false,
        "t": 1,
        "n": 1,
        "progress": 0,
        "nonce": "",
        "version": version(),
        "build_date": "",
        "migration": false,
        "cluster_name": "mayfly",
        "cluster_id": cx.state.cluster_id(),
        "recovery_seal": false,
        "storage_type": "mayfly",
    })))
}

/// The one secrets engine: the AWS engine at the configured mount.
pub async fn mounts(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    cx.session().await?;
    let mount = json!({
        "type": "aws",
        "description": format!("Mayfly: AWS credentials from the target {}", cx.settings.target),
        "accessor": format!("aws_mayfly_{}", cx.settings.mount),
        "config": {"default_lease_ttl": 0, "max_lease_ttl": 0, "force_no_cache": false},
        "options": null,
        "local": false,
        "seal_wrap": false,
        "external_entropy_access": false,
        "uuid": "",
        "plugin_version": "",
        "running_plugin_version": "",
        "running_sha256": "",
    });
    let key = format!("{}/", cx.settings.mount);
    let mut out = serde_json::Map::new();
    out.insert(key.clone(), mount.clone());
    let envelope = Envelope::data(&cx.request_id(), json!({ key: mount })).into_json();
    if let Value::Object(fields) = envelope {
        // Vault answers the mounts both at the top level and under `data`.
        out.extend(fields);
    }
    Ok(Reply::Json(Value::Object(out)))
}

/// What the caller's rules allow on each Vault path, in Vault's capability words; a path
/// Mayfly does not serve, or one the rules do not reach, is `deny`.
pub async fn capabilities_self(cx: &mut Ctx<'_>) -> ApiResult<Reply> {
    let session = cx.session().await?;
    let paths = match cx.params.list("paths")? {
        Some(p) if !p.is_empty() => p,
        _ => cx
            .params
            .list("path")?
            .filter(|p| !p.is_empty())
            .ok_or_else(|| ApiError::bad_request("paths: required: the Vault paths to check"))?,
    };
    let mut data = serde_json::Map::new();
    for path in &paths {
        let caps = capabilities(&session.caller.rules, &cx.settings.mount, path);
        data.insert(path.clone(), json!(caps));
    }
    if paths.len() == 1 {
        data.insert("capabilities".into(), data[&paths[0]].clone());
    }
    let mut out = data.clone();
    if let Value::Object(fields) = Envelope::data(&cx.request_id(), Value::Object(data)).into_json()
    {
        out.extend(fields);
    }
    Ok(Reply::Json(Value::Object(out)))
}

fn capabilities(rules: &[mayfly_app::access::Rule], mount: &str, raw: &str) -> Vec<&'static str> {
    let path = raw.trim().trim_start_matches('/');
    let on = |kind, name: &str, pairs: &[(Capability, &'static str)]| -> Vec<&'static str> {
        pairs
            .iter()
            .filter(|(c, _)| is_allowed(rules, *c, kind, name))
            .map(|(_, word)| *word)
            .collect()
    };
    let engine = path.strip_prefix(mount).and_then(|r| r.strip_prefix('/'));
    let caps: Vec<&'static str> = match engine {
        Some(rest) => {
            let item = |raw: &str| item_name("path", raw).ok();
            if let Some(name) = rest
                .strip_prefix("creds/")
                .or_else(|| rest.strip_prefix("sts/"))
                .and_then(item)
            {
                on(
                    ResourceKind::Item,
                    name.as_str(),
                    &[(Capability::Read, "read"), (Capability::Read, "update")],
                )
            } else if rest.trim_end_matches('/') == "roles" {
                vec!["list"]
            } else if let Some(name) = rest.strip_prefix("roles/").and_then(item) {
                on(
                    ResourceKind::Item,
                    name.as_str(),
                    &[
                        (Capability::Create, "create"),
                        (Capability::Read, "read"),
                        (Capability::Update, "update"),
                        (Capability::Delete, "delete"),
                        (Capability::List, "list"),
                    ],
                )
            } else {
                Vec::new()
            }
        }
        None => match path.trim_end_matches('/') {
            "sys/health" | "sys/seal-status" | "sys/mounts" | "auth/token/lookup-self" => {
                vec!["read", "update"]
            }
            "auth/token/revoke-self"
            | "auth/token/renew-self"
            | "auth/token/create"
            | "sys/leases/lookup"
            | "sys/leases/renew"
            | "sys/leases/revoke"
            | "sys/capabilities-self" => vec!["update"],
            p if p.starts_with("sys/leases/revoke-prefix/") => vec!["sudo", "update"],
            _ => Vec::new(),
        },
    };
    let mut caps = caps;
    caps.dedup();
    if caps.is_empty() {
        vec!["deny"]
    } else {
        caps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mayfly_app::access::rule_from_stored;

    #[test]
    fn capabilities_follow_the_rules_of_the_path() {
        let rules = vec![
            rule_from_stored("item-rule", "/team-a/*", "read,list").unwrap(),
            rule_from_stored("item-rule", "/team-a/secret", "deny").unwrap(),
        ];
        assert_eq!(
            capabilities(&rules, "aws", "aws/creds/team-a/s3"),
            ["read", "update"]
        );
        assert_eq!(
            capabilities(&rules, "aws", "aws/roles/team-a/s3"),
            ["read", "list"]
        );
        assert_eq!(
            capabilities(&rules, "aws", "aws/creds/team-a/secret"),
            ["deny"]
        );
        assert_eq!(capabilities(&rules, "aws", "aws/creds/team-b/s3"), ["deny"]);
        assert_eq!(
            capabilities(&rules, "aws", "aws/creds/team-a/../team-b/s3"),
            ["deny"]
        );
        assert_eq!(
            capabilities(&rules, "aws", "other/creds/team-a/s3"),
            ["deny"]
        );
        assert_eq!(
            capabilities(&rules, "aws", "auth/token/renew-self"),
            ["update"]
        );
    }
}
