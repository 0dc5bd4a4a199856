//! IAM vocabulary other than ARNs: group names, user paths, tags, external ids, inline policy
//! documents, and the comma-separated lists the contract packs several of these into.
//!
//! Each type checks what IAM or STS would reject, so a producer definition that parses is one
//! AWS will accept when the first credential is issued.

mod external_id;
mod group;
mod list;
mod policy_document;
mod tags;
mod user_path;

pub use external_id::ExternalId;
pub use group::GroupName;
pub use list::parse_comma_list;
pub use policy_document::PolicyDocument;
pub use tags::{Tag, TagList, TransitiveTagKeys, MAX_USER_TAGS, RESERVED_TAG_PREFIXES};
pub use user_path::UserPath;
