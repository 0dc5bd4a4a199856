//! Rotation of the two kinds of long-lived secrets the gateway depends on.
//!
//! - [`master`]: `mayfly-gateway rotate-master-key`: re-seals every stored target secret
//!   under a new master key, row by row with conditional updates, while gateways keep
//!   serving (they reload their keys when they meet a new key id; see `crate::keys`).
//! - [`admin`]: rotating the access key of a target's IAM user (Vault's `rotate-root`,
//!   Akeyless's admin rotation): create, verify, store, then delete the old key, so that an
//!   interruption at any step leaves a working key stored.
//! - [`schedule`]: rotation intervals of targets and of producers' inline credentials.
//! - [`on_request`]: rotations a caller asks for, authorized like any other change.
//! - [`worker`]: the background worker that rotates targets whose interval is due.

pub mod admin;
pub mod master;
pub mod on_request;
pub mod schedule;
pub mod worker;

/// The key id of a sealed value (`v1.<keyid>.<data>`), if it has that shape.
pub fn sealed_key_id(sealed: &str) -> Option<&str> {
    let rest = sealed.strip_prefix("v1.")?;
    let (id, _) = rest.split_once('.')?;
    Some(id)
}
