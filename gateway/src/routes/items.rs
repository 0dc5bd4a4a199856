//! `list-items` for the Akeyless API: its filters parsed for the core's `mayfly_app::items`,
//! and the listing shown as Akeyless items.

use mayfly_api_types::{request, response};
use mayfly_app::{access::Caller, items, state::AppState, time::rfc3339};
use mayfly_domain::FolderPath;

use super::given;
use crate::error::{ApiError, ApiResult};

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
    let command = items::ListItems {
        folder,
        filter: given(&req.filter).map(str::to_lowercase),
        tag: given(&req.tag).map(str::to_owned),
        current_folder_only: req.current_folder == Some(true),
    };
    let listing = items::list(state, caller, &command).await?;
    let items = listing
        .items
        .into_iter()
        .map(|items::Item { row, spec, target }| response::Item {
            item_name: row.name.clone(),
            item_id: row.id.get(),
            display_id: format!("ds-{}", row.id),
            item_type: "DYNAMIC_SECRET".into(),
            item_sub_type: "aws".into(),
            item_tags: spec.tags().to_vec(),
            is_enabled: true,
            delete_protection: spec.delete_protection(),
            creation_date: rfc3339(row.created_at),
            modification_date: rfc3339(row.modified_at),
            item_targets_assoc: target
                .map(
                    |(target_id, target_name, target_type)| response::ItemTargetAssoc {
                        target_id: target_id.get(),
                        target_name,
                        target_type,
                        assoc_id: format!("ta-{}-{}", target_id, row.id),
                    },
                )
                .into_iter()
                .collect(),
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
        })
        .collect();
    Ok(response::ListItems {
        items,
        folders: listing.folders,
        ..empty
    })
}
