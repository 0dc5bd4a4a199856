//! Rotation schedules: how often a target's (or a producer's inline) admin access key is
//! rotated, and what the last rotation did.
//!
//! Targets carry the Mayfly extension `rotation-interval-days` (0 = off); producers carry
//! Akeyless's `enable-admin-rotation` and `admin-rotation-interval-days`, which apply to the
//! producer's private target (its inline credentials). Route handlers call these functions
//! after they created or updated the target row.

use mayfly_store::{rotation as store, Millis, TargetId};
use sea_orm::ConnectionTrait;

use crate::error::{AppError, AppResult};

/// Longest interval accepted, in days (ten years).
pub const MAX_INTERVAL_DAYS: u32 = 3650;

/// A target's rotation schedule and the result of its last rotation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    /// 0: no scheduled rotation.
    pub interval_days: u32,
    /// Milliseconds since the epoch.
    pub last_rotated_at: Option<Millis>,
    pub next_rotation_at: Option<Millis>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
}

impl Schedule {
    pub fn enabled(&self) -> bool {
        self.interval_days > 0
    }
}

/// Checks a target's `rotation-interval-days` (0 switches scheduled rotation off).
pub fn parse_interval_days(days: i64) -> AppResult<u32> {
    u32::try_from(days)
        .ok()
        .filter(|d| *d <= MAX_INTERVAL_DAYS)
        .ok_or_else(|| {
            AppError::invalid(format!(
                "rotation-interval-days: must be 0 (off) to {MAX_INTERVAL_DAYS} days"
            ))
        })
}

/// The interval that a producer's `enable-admin-rotation` / `admin-rotation-interval-days`
/// ask for: `None` when neither is given (keep the current schedule), `Some(0)` to switch
/// rotation off, `Some(days)` to rotate every `days` days. Enabling needs at least 1 day.
pub fn producer_interval(enable: Option<bool>, days: Option<i64>) -> AppResult<Option<u32>> {
    match (enable, days) {
        (None, None) => Ok(None),
        (Some(false), _) => Ok(Some(0)),
        (None, Some(days)) if days <= 0 => Ok(Some(0)),
        (Some(true), None) => Err(AppError::invalid(
            "admin-rotation-interval-days: required with enable-admin-rotation true (1 to 3650)",
        )),
        (Some(true) | None, Some(days)) => {
            let days = parse_interval_days(days).map_err(|_| {
                AppError::invalid(format!(
                    "admin-rotation-interval-days: must be 1 to {MAX_INTERVAL_DAYS} with enable-admin-rotation"
                ))
            })?;
            if days == 0 {
                return Err(AppError::invalid(
                    "admin-rotation-interval-days: must be at least 1 with enable-admin-rotation true",
                ));
            }
            Ok(Some(days))
        }
    }
}

/// Sets the rotation interval of target `target_id` (0 = off). The next rotation is due
/// `days` after the last one (or from now, if it never rotated).
pub async fn set_interval(
    db: &impl ConnectionTrait,
    target_id: TargetId,
    days: u32,
) -> AppResult<()> {
    if days > MAX_INTERVAL_DAYS {
        return Err(AppError::invalid(format!(
            "rotation interval: at most {MAX_INTERVAL_DAYS} days"
        )));
    }
    if !store::set_interval(db, target_id, days, mayfly_store::now_millis()).await? {
        return Err(AppError::not_found(format!(
            "target {target_id} no longer exists"
        )));
    }
    Ok(())
}

/// The schedule of target `target_id` (the default, nothing scheduled, if it is gone).
pub async fn of_target(db: &impl ConnectionTrait, target_id: TargetId) -> AppResult<Schedule> {
    Ok(store::find(db, target_id)
        .await?
        .map(|row| Schedule {
            interval_days: u32::try_from(row.rotation_interval_days).unwrap_or(0),
            last_rotated_at: row.last_rotated_at,
            next_rotation_at: row
                .rotation_due_at
                .filter(|_| row.rotation_interval_days > 0),
            last_error: row.rotation_last_error,
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producer_fields_map_to_an_interval() {
        assert_eq!(producer_interval(None, None).unwrap(), None);
        assert_eq!(producer_interval(Some(false), Some(30)).unwrap(), Some(0));
        // What the SDK sends by default.
        assert_eq!(producer_interval(Some(false), Some(0)).unwrap(), Some(0));
        assert_eq!(producer_interval(None, Some(0)).unwrap(), Some(0));
        assert_eq!(producer_interval(Some(true), Some(30)).unwrap(), Some(30));
        assert_eq!(producer_interval(None, Some(7)).unwrap(), Some(7));
        for bad in [
            producer_interval(Some(true), None),
            producer_interval(Some(true), Some(0)),
            producer_interval(Some(true), Some(-1)),
            producer_interval(Some(true), Some(3651)),
        ] {
            let err = bad.unwrap_err().to_string();
            assert!(err.contains("admin-rotation-interval-days"), "{err}");
        }
    }

    #[test]
    fn target_intervals_are_bounded() {
        assert_eq!(parse_interval_days(0).unwrap(), 0);
        assert_eq!(parse_interval_days(90).unwrap(), 90);
        assert!(parse_interval_days(-1).is_err());
        assert!(parse_interval_days(3651).is_err());
    }
}
