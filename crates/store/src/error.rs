use sea_orm::{DbErr, SqlErr};

/// What can go wrong in the store, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key already exists (a name taken, usually).
    #[error("{0} already exists")]
    Conflict(String),
    /// A row references another that is not there, or is still referenced.
    #[error("{0}")]
    Constraint(String),
    /// A stored value could not be decoded: a bug or a hand-edited database.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`] naming `what`.
    pub fn from_insert(err: DbErr, what: impl Into<String>) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict(what.into()),
            Some(SqlErr::ForeignKeyConstraintViolation(msg)) => StoreError::Constraint(msg),
            _ => StoreError::Db(err),
        }
    }
}
