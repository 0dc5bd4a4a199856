//! `list-items`: the dynamic secrets under a path (targets are not items; see `list-targets`).

use clap::Args;
use serde::Serialize;

use super::ApiRequest;

#[derive(Debug, Clone, Args, Serialize)]
pub struct ListItemsArgs {
    /// Folder to list, e.g. /prod.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,

    /// Item type, e.g. dynamic-secret (repeatable).
    #[arg(long = "type", value_name = "TYPE")]
    #[serde(rename = "type", skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,

    /// Only items whose name contains this text.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

impl ApiRequest for ListItemsArgs {}
