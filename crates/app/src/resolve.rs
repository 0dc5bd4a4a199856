//! Resolving a dynamic secret's name to what requests use, through the producer cache.

use mayfly_domain::ItemName;
use mayfly_store::{
    entity::{producer, target},
    producers, targets,
};

use crate::{
    error::{AppError, AppResult},
    producers::{load_spec, ProducerView},
    state::AppState,
};

/// The dynamic secret named `name`, from the cache or the database, or 404.
pub async fn view(state: &AppState, name: &ItemName) -> AppResult<std::sync::Arc<ProducerView>> {
    state
        .caches()
        .producers
        .get_or_load(&name.as_str().to_owned(), || async {
            let Some(row) = producers::find_by_name(state.db(), name.as_str()).await? else {
                return Ok::<_, AppError>(None);
            };
            let spec = load_spec(&row)?;
            let target = target_of(state, &row).await?;
            let schedule = crate::rotation::schedule::of_target(state.db(), target.id).await?;
            Ok(Some(ProducerView {
                row,
                spec,
                target,
                rotation_days: schedule.interval_days,
            }))
        })
        .await?
        .ok_or_else(|| not_found(name.as_str()))
}

fn not_found(name: &str) -> AppError {
    AppError::not_found(format!(
        "no dynamic secret named {name}; gateway-list-producers shows the existing ones"
    ))
}

pub async fn target_of(state: &AppState, row: &producer::Model) -> AppResult<target::Model> {
    targets::find_by_id(state.db(), row.target_id)
        .await?
        .ok_or_else(|| AppError::internal(format!("producer {} has no target row", row.name)))
}
