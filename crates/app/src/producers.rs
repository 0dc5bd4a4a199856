//! Dynamic secrets as the core uses them: a stored row with its parsed definition.

use mayfly_domain::ProducerSpec;
use mayfly_store::{
    entity::{producer, target},
    StoreError,
};

use crate::error::{AppError, AppResult};

/// A dynamic secret as requests use it: its row, its parsed definition, its target and the
/// target's admin-key rotation interval. Shared through the producer cache.
#[derive(Debug)]
pub struct ProducerView {
    pub row: producer::Model,
    pub spec: ProducerSpec,
    pub target: target::Model,
    pub rotation_days: u32,
}

/// The stored definition. It was written from a parsed spec, so failure here is a bug.
pub fn load_spec(row: &producer::Model) -> AppResult<ProducerSpec> {
    serde_json::from_str(&row.spec).map_err(|e| {
        AppError::from(StoreError::Corrupt(format!(
            "producer {} spec: {e}",
            row.name
        )))
    })
}

/// Whether a stored producer has delete protection.
pub fn is_delete_protected(row: &producer::Model) -> AppResult<bool> {
    Ok(load_spec(row)?.delete_protection())
}
