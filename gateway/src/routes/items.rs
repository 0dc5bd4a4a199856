//! `list-items`: dynamic secrets by folder. Folders are implicit in item names.

use mayfly_app::time::rfc3339;
use std::collections::BTreeSet;

use mayfly_api_types::{request, response};
use mayfly_domain::FolderPath;
use mayfly_store::{producers, targets};

use mayfly_app::producers::load_spec;

use super::given;
use crate::error::{ApiError, ApiResult};
use mayfly_app::access::Caller;
use mayfly_app::access::{authorize, Capability, ResourceKind};
use mayfly_app::state::AppState;

pub async fn list(
    state: &AppState,
    caller: &Caller,
    req: request::ListItems,
) -> ApiResult<response::ListItems> {
    let folder = match given(&req.path) {
        Some(raw) => {
            FolderPath::parse(raw).map_err(|e| ApiError::bad_request(format!("path: {e}")))?
        }
        None => FolderPath::root(),
    };
    let wants = |list: &Option<Vec<String>>, what: &str| {
        list.as_ref()
            .is_none_or(|v| v.is_empty() || v.iter().any(|t| t.eq_ignore_ascii_case(what)))
    };
    let empty = response::ListItems {
        items: Vec::new(),
        folders: Vec::new(),
        next_page: String::new(),
        has_next: false,
    };
    if !wants(&req.item_type, "dynamic-secret") || !wants(&req.sub_types, "aws") {
        return Ok(empty);
    }
    let filter = given(&req.filter).map(str::to_lowercase);
    let tag = given(&req.tag);
    let only_here = req.current_folder == Some(true);
    let prefix = if folder.is_root() {
        "/".to_owned()
    } else {
        format!("{}/", folder.as_str())
    };

    let rows = producers::list_below(state.db(), folder.as_str()).await?;
    let target_names: std::collections::HashMap<i64, (String, String, bool)> =
        targets::list_public(state.db())
            .await?
            .into_iter()
            .map(|t| (t.id, (t.name, t.target_type, t.is_private)))
            .collect();
    let mut items = Vec::new();
    let mut folders = BTreeSet::new();
    for row in rows {
        if authorize(caller, Capability::List, ResourceKind::Item, &row.name).is_err() {
            continue;
        }
        let rest = row.name.strip_prefix(&prefix).unwrap_or(&row.name);
        if let Some((sub, _)) = rest.split_once('/') {
            folders.insert(format!("{prefix}{sub}"));
            if only_here {
                continue;
            }
        }
        if filter
            .as_ref()
            .is_some_and(|f| !row.name.to_lowercase().contains(f.as_str()))
        {
            continue;
        }
        let spec = load_spec(&row)?;
        if tag.is_some_and(|t| !spec.tags().iter().any(|x| x == t)) {
            continue;
        }
        // A target's name only for callers who may `list` that target.
        let assoc = target_names
            .get(&row.target_id)
            .filter(|(name, _, _)| super::listed(caller, ResourceKind::Target, None, name))
            .map(|(name, kind, _)| response::ItemTargetAssoc {
                target_id: row.target_id,
                target_name: name.clone(),
                target_type: kind.clone(),
                assoc_id: format!("ta-{}-{}", row.target_id, row.id),
            })
            .into_iter()
            .collect();
        items.push(response::Item {
            item_name: row.name.clone(),
            item_id: row.id,
            display_id: format!("ds-{}", row.id),
            item_type: "DYNAMIC_SECRET".into(),
            item_sub_type: "aws".into(),
            item_tags: spec.tags().to_vec(),
            is_enabled: true,
            delete_protection: spec.delete_protection(),
            creation_date: rfc3339(row.created_at),
            modification_date: rfc3339(row.modified_at),
            item_targets_assoc: assoc,
            gateway_details: vec![response::GatewayDetails {
                cluster_name: format!("mayfly-{}", state.cluster_id()),
                cluster_url: String::new(),
            }],
            item_general_info: response::ItemGeneralInfo {
                dynamic_secret_producer_details: response::DynamicSecretProducerDetails {
                    producer_type: "aws".into(),
                    producer_status: "ProducerConnected".into(),
                    user_ttl: spec.ttl().original().to_owned(),
                    failure_message: String::new(),
                },
            },
        });
    }
    Ok(response::ListItems {
        items,
        folders: folders.into_iter().collect(),
        ..empty
    })
}
