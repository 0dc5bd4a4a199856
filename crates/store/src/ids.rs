//! Row ids, one type per table, so that a target id cannot be passed where a producer id is
//! expected (or a role id where an auth method id is).
//!
//! Each is a newtype over what the column stores (`targets.id` and `producers.id` are
//! integers, the others text): entity models use them as column types, sea-orm reads and
//! writes them as the inner value, and serde and `Display` show the inner value, so neither
//! the schema nor any wire format changes. Adapters that put an id into a response DTO
//! convert with [`TargetId::get`] (or `From`).

use std::fmt;

use sea_orm::{DbErr, DeriveValueType, TryFromU64};
use serde::{Deserialize, Serialize};

/// An integer row id.
macro_rules! integer_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            DeriveValueType,
        )]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const fn new(id: i64) -> Self {
                $name(id)
            }

            /// The id as stored and as the API shows it.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                $name(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        /// sea-orm needs it of every primary key type (auto-increment keys come back as u64).
        impl TryFromU64 for $name {
            fn try_from_u64(n: u64) -> Result<Self, DbErr> {
                i64::try_from_u64(n).map($name)
            }
        }
    };
}

/// A text row id (a prefixed or plain UUID generated when the row is inserted).
macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            DeriveValueType,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }

            /// The id as stored and as the API shows it.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(id)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// sea-orm asks it of every primary key type; a text key never comes back as a number.
        impl TryFromU64 for $name {
            fn try_from_u64(n: u64) -> Result<Self, DbErr> {
                String::try_from_u64(n).map($name)
            }
        }
    };
}

integer_id! {
    /// `targets.id`: an AWS target (public, private or retired).
    TargetId
}

integer_id! {
    /// `producers.id`: a dynamic secret.
    ProducerId
}

text_id! {
    /// `leases.id`: one issued credential.
    LeaseId
}

text_id! {
    /// `auth_methods.id`: an auth method (not its public access id).
    AuthMethodId
}

text_id! {
    /// `roles.id`: a role.
    RoleId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_show_and_serialize_as_their_inner_value() {
        let t = TargetId::new(42);
        assert_eq!(t.to_string(), "42");
        assert_eq!(serde_json::to_string(&t).unwrap(), "42");
        assert_eq!(serde_json::from_str::<TargetId>("42").unwrap(), t);
        assert_eq!(i64::from(ProducerId::from(7)), 7);

        let r = RoleId::new("rl-abc");
        assert_eq!(r.to_string(), "rl-abc");
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"rl-abc\"");
        assert_eq!(r.as_str(), "rl-abc");
    }

    #[test]
    fn ids_are_stored_as_their_inner_value() {
        assert_eq!(
            sea_orm::Value::from(TargetId::new(3)),
            sea_orm::Value::from(3i64)
        );
        assert_eq!(
            sea_orm::Value::from(LeaseId::new("l")),
            sea_orm::Value::from("l".to_owned())
        );
    }
}
