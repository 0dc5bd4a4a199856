//! Listing dynamic secrets by folder. Folders are implicit in item names; a caller sees only
//! the items (and the targets' names) its rules let it `list`.

use std::collections::{BTreeSet, HashMap};

use mayfly_domain::{FolderPath, ProducerSpec};
use mayfly_store::{entity::producer, producers, targets, TargetId};

use crate::{
    access::{listed, Caller, ResourceKind},
    error::AppResult,
    producers::load_spec,
    state::AppState,
};

/// What to list.
#[derive(Debug, Clone)]
pub struct ListItems {
    pub folder: FolderPath,
    /// Only names containing this (lower-case) text.
    pub filter: Option<String>,
    /// Only items with this tag.
    pub tag: Option<String>,
    /// Only the items directly in `folder` (sub-folders are still named).
    pub current_folder_only: bool,
}

/// One dynamic secret of a listing.
#[derive(Debug)]
pub struct Item {
    pub row: producer::Model,
    pub spec: ProducerSpec,
    /// Its target, if the caller may `list` the target: id, name and type.
    pub target: Option<(TargetId, String, String)>,
}

/// A folder's items and sub-folders.
#[derive(Debug, Default)]
pub struct Listing {
    pub items: Vec<Item>,
    pub folders: Vec<String>,
}

pub async fn list(state: &AppState, caller: &Caller, req: &ListItems) -> AppResult<Listing> {
    let prefix = if req.folder.is_root() {
        "/".to_owned()
    } else {
        format!("{}/", req.folder.as_str())
    };
    let rows = producers::list_below(state.db(), req.folder.as_str()).await?;
    let target_names: HashMap<TargetId, (String, String)> = targets::list_public(state.db())
        .await?
        .into_iter()
        .map(|t| (t.id, (t.name, t.target_type)))
        .collect();
    let mut items = Vec::new();
    let mut folders = BTreeSet::new();
    for row in rows {
        if !listed(caller, ResourceKind::Item, None, &row.name) {
            continue;
        }
        let rest = row.name.strip_prefix(&prefix).unwrap_or(&row.name);
        if let Some((sub, _)) = rest.split_once('/') {
            folders.insert(format!("{prefix}{sub}"));
            if req.current_folder_only {
                continue;
            }
        }
        if req
            .filter
            .as_ref()
            .is_some_and(|f| !row.name.to_lowercase().contains(f.as_str()))
        {
            continue;
        }
        let spec = load_spec(&row)?;
        if req
            .tag
            .as_ref()
            .is_some_and(|t| !spec.tags().iter().any(|x| x == t))
        {
            continue;
        }
        // A target's name only for callers who may `list` that target.
        let target = target_names
            .get(&row.target_id)
            .filter(|(name, _)| listed(caller, ResourceKind::Target, None, name))
            .map(|(name, kind)| (row.target_id, name.clone(), kind.clone()));
        items.push(Item { row, spec, target });
    }
    Ok(Listing {
        items,
        folders: folders.into_iter().collect(),
    })
}
