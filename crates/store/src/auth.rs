//! Auth methods and tokens. Both are kept only as SHA-256 hashes of their secrets.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

use crate::{
    entity::{auth_method, token},
    AuthMethodId, Millis, StoreError,
};

/// A new auth method: an API key with its key already hashed, or a JWT method with its
/// settings (and an empty `key_hash`, which no key matches).
#[derive(Debug, Clone)]
pub struct NewAuthMethod {
    pub name: String,
    pub access_id: String,
    /// `mayfly_domain::AuthMethodKind::as_str`.
    pub kind: String,
    pub key_hash: String,
    pub settings: String,
    pub description: String,
    pub delete_protection: bool,
}

/// How many auth methods exist: zero means a fresh database that needs its admin key.
pub async fn count_auth_methods(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(auth_method::Entity::find().count(db).await?)
}

pub async fn insert_auth_method(
    db: &impl ConnectionTrait,
    new: NewAuthMethod,
    now: Millis,
) -> Result<auth_method::Model, StoreError> {
    let name = new.name.clone();
    auth_method::ActiveModel {
        id: Set(AuthMethodId::new(uuid::Uuid::new_v4().to_string())),
        name: Set(new.name),
        access_id: Set(new.access_id),
        method_type: Set(new.kind),
        key_hash: Set(new.key_hash),
        settings: Set(new.settings),
        created_at: Set(now),
        description: Set(new.description),
        delete_protection: Set(new.delete_protection),
    }
    .insert(db)
    .await
    .map_err(|e| StoreError::from_insert(e, format!("auth method {name}")))
}

pub async fn find_auth_method_by_access_id(
    db: &impl ConnectionTrait,
    access_id: &str,
) -> Result<Option<auth_method::Model>, StoreError> {
    Ok(auth_method::Entity::find()
        .filter(auth_method::Column::AccessId.eq(access_id))
        .one(db)
        .await?)
}

/// Who a new token is for: its method's login identity and kept claims (both empty for API
/// keys), and its hash and lifetime.
#[derive(Debug, Clone, Default)]
pub struct NewToken {
    pub token_hash: String,
    pub identity: String,
    /// JSON of the claims kept for matching associations, or empty.
    pub claims: String,
    pub created_at: Millis,
    pub expires_at: Millis,
}

/// Stores a token hash for `method`, valid until `expires_at`.
pub async fn insert_token(
    db: &impl ConnectionTrait,
    method: &auth_method::Model,
    new: NewToken,
) -> Result<token::Model, StoreError> {
    let NewToken {
        token_hash,
        identity,
        claims,
        created_at: now,
        expires_at,
    } = new;
    let model = token::Model {
        id: uuid::Uuid::new_v4().to_string(),
        token_hash,
        auth_method_id: method.id.clone(),
        access_id: method.access_id.clone(),
        created_at: now,
        expires_at,
        identity,
        claims,
    };
    // One statement: sea-orm's `insert` reads the row back on SQLite.
    token::Entity::insert(token::ActiveModel::from(model.clone()))
        .exec_without_returning(db)
        .await?;
    Ok(model)
}

/// Finds an unexpired token by the hash of its value.
///
/// The lookup is by hash through a unique index: comparing hashes of 256-bit random values
/// leaks nothing useful through timing, so no constant-time compare is needed here.
pub async fn find_live_token(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: Millis,
) -> Result<Option<token::Model>, StoreError> {
    Ok(token::Entity::find()
        .filter(token::Column::TokenHash.eq(token_hash))
        .filter(token::Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// Deletes expired tokens; returns how many.
pub async fn delete_expired_tokens(
    db: &impl ConnectionTrait,
    now: Millis,
) -> Result<u64, StoreError> {
    Ok(token::Entity::delete_many()
        .filter(token::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}

/// Deletes a token by the hash of its value; returns whether it existed.
pub async fn delete_token(db: &impl ConnectionTrait, token_hash: &str) -> Result<bool, StoreError> {
    Ok(token::Entity::delete_many()
        .filter(token::Column::TokenHash.eq(token_hash))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Replaces an auth method's key hash and deletes all its tokens, in one transaction the
/// caller supplies: the old key and every token issued with it stop working together.
/// Returns how many tokens were revoked.
pub async fn replace_key(
    db: &impl ConnectionTrait,
    auth_method_id: &AuthMethodId,
    key_hash: &str,
) -> Result<u64, StoreError> {
    auth_method::Entity::update_many()
        .col_expr(
            auth_method::Column::KeyHash,
            sea_orm::sea_query::Expr::value(key_hash.to_owned()),
        )
        .filter(auth_method::Column::Id.eq(auth_method_id.clone()))
        .exec(db)
        .await?;
    Ok(token::Entity::delete_many()
        .filter(token::Column::AuthMethodId.eq(auth_method_id.clone()))
        .exec(db)
        .await?
        .rows_affected)
}

/// Sets or lifts an auth method's delete protection.
pub async fn set_delete_protection(
    db: &impl ConnectionTrait,
    auth_method_id: &AuthMethodId,
    on: bool,
) -> Result<(), StoreError> {
    auth_method::Entity::update_many()
        .col_expr(
            auth_method::Column::DeleteProtection,
            sea_orm::sea_query::Expr::value(on),
        )
        .filter(auth_method::Column::Id.eq(auth_method_id.clone()))
        .exec(db)
        .await?;
    Ok(())
}

/// Replaces a workload-identity auth method's settings (JSON).
pub async fn set_settings(
    db: &impl ConnectionTrait,
    auth_method_id: &AuthMethodId,
    settings: &str,
) -> Result<(), StoreError> {
    auth_method::Entity::update_many()
        .col_expr(
            auth_method::Column::Settings,
            sea_orm::sea_query::Expr::value(settings.to_owned()),
        )
        .filter(auth_method::Column::Id.eq(auth_method_id.clone()))
        .exec(db)
        .await?;
    Ok(())
}

/// Changes an auth method's description.
pub async fn set_description(
    db: &impl ConnectionTrait,
    auth_method_id: &AuthMethodId,
    description: &str,
) -> Result<(), StoreError> {
    auth_method::Entity::update_many()
        .col_expr(
            auth_method::Column::Description,
            sea_orm::sea_query::Expr::value(description.to_owned()),
        )
        .filter(auth_method::Column::Id.eq(auth_method_id.clone()))
        .exec(db)
        .await?;
    Ok(())
}
