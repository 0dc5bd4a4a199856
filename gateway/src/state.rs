//! What every request handler shares.

use std::{sync::Arc, time::Duration};

use mayfly_crypto::KeyRing;
use sea_orm::DatabaseConnection;

/// Shared, cheaply clonable application state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    keys: KeyRing,
    cluster_id: String,
    token_ttl: Duration,
    max_body_bytes: usize,
    request_timeout: Duration,
}

impl AppState {
    pub fn new(
        db: DatabaseConnection,
        keys: KeyRing,
        cluster_id: String,
        token_ttl: Duration,
        max_body_bytes: usize,
        request_timeout: Duration,
    ) -> Self {
        AppState {
            inner: Arc::new(Inner {
                db,
                keys,
                cluster_id,
                token_ttl,
                max_body_bytes,
                request_timeout,
            }),
        }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    pub fn keys(&self) -> &KeyRing {
        &self.inner.keys
    }

    pub fn cluster_id(&self) -> &str {
        &self.inner.cluster_id
    }

    pub fn token_ttl(&self) -> Duration {
        self.inner.token_ttl
    }

    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    pub fn request_timeout(&self) -> Duration {
        self.inner.request_timeout
    }
}
