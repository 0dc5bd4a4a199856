//! What the OpenAPI document says about one operation, as the operation table
//! (`crate::operation`) gives it: the schemas of its request and response bodies (derived from
//! the DTOs), who may call it and the error statuses it can answer. A leaf: the table uses it
//! and [`super`] builds the document from the table.

use std::collections::{BTreeMap, BTreeSet};

use utoipa::{
    openapi::{schema::ArrayBuilder, Ref, RefOr, Schema},
    PartialSchema, ToSchema,
};

/// Tags, in the order the document lists them (the table's order of first use).
pub const AUTH: &str = "auth";
pub const TARGETS: &str = "targets";
pub const PRODUCERS: &str = "dynamic secrets";
pub const ITEMS: &str = "items";
pub const CREDENTIALS: &str = "credentials";
/// Health and this document.
pub const GATEWAY: &str = "gateway";
pub const ACCESS: &str = "access control";
pub const AUDIT: &str = "audit";

/// Statuses every authenticated operation can answer besides 200: bad input, no or bad token,
/// not allowed, body too large, database unreachable, deadline passed.
pub const TOKEN_ERRORS: &[u16] = &[400, 401, 403, 413, 503, 504];

/// A JSON body: its schema (usually a `$ref`) and the components that schema needs.
pub struct Body {
    pub(super) schema: RefOr<Schema>,
    pub(super) components: Vec<(String, RefOr<Schema>)>,
}

impl Body {
    /// The schema this body is described by, as it appears in the operation.
    pub fn schema(&self) -> &RefOr<Schema> {
        &self.schema
    }
}

/// A named DTO: referenced as `#/components/schemas/<name>`.
pub fn json<T: ToSchema>() -> Body {
    let mut components = vec![(T::name().into_owned(), T::schema())];
    T::schemas(&mut components);
    Body {
        schema: RefOr::Ref(Ref::from_schema_name(T::name())),
        components,
    }
}

/// A JSON array of a named DTO.
pub fn array_of<T: ToSchema>() -> Body {
    let item = json::<T>();
    Body {
        schema: ArrayBuilder::new().items(item.schema).into(),
        components: item.components,
    }
}

/// A flat JSON object of strings (what `get-dynamic-secret-value` answers).
pub fn string_map() -> Body {
    Body {
        schema: BTreeMap::<String, String>::schema(),
        components: Vec::new(),
    }
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token (only `/auth`).
    Public,
    /// A token in the body (`token`, `uid-token`) or `Authorization: Bearer`.
    Token,
}

/// What the document says about one operation.
pub struct OperationDoc {
    pub tag: &'static str,
    pub summary: &'static str,
    pub access: Access,
    pub request: Body,
    pub response: Body,
    /// Error statuses; for [`Access::Token`] in addition to [`TOKEN_ERRORS`].
    pub errors: &'static [u16],
}

impl OperationDoc {
    /// Every status besides 200 this operation can answer, sorted.
    pub fn error_statuses(&self) -> BTreeSet<u16> {
        let common: &[u16] = match self.access {
            Access::Public => &[],
            Access::Token => TOKEN_ERRORS,
        };
        common.iter().chain(self.errors).copied().collect()
    }
}
