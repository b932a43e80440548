//! The one error type of the application. The web crate renders it as
//! Peering Manager's JSON error shapes.

use serde_json::{Map, Value};

/// Field name → messages, in the order problems were found.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FieldErrors(pub Map<String, Value>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: &str, msg: impl Into<String>) {
        let entry = self.0.entry(field.to_string()).or_insert_with(|| Value::Array(vec![]));
        if let Value::Array(a) = entry {
            a.push(Value::String(msg.into()));
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }
    pub fn single(field: &str, msg: impl Into<String>) -> Self {
        let mut e = Self::new();
        e.add(field, msg);
        e
    }
    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() { Ok(()) } else { Err(AppError::Validation(self)) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("validation failed")]
    Validation(FieldErrors),
    /// One entry per item of a bulk request (empty objects for valid items).
    #[error("validation failed")]
    BulkValidation(Vec<FieldErrors>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    ServiceUnavailable(String),
    #[error(transparent)]
    Db(sea_orm::DbErr),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<sea_orm::DbErr> for AppError {
    /// Lock contention that outlasted the busy timeout is a 503 the client
    /// can retry, not a 500.
    fn from(e: sea_orm::DbErr) -> Self {
        match classify(&e) {
            DbFailure::Retry => AppError::ServiceUnavailable("The database is busy; try again.".into()),
            _ => AppError::Db(e),
        }
    }
}

pub fn not_found(model: &crate::model::Model) -> AppError {
    AppError::NotFound(format!("No {} matches the given query.", model.verbose))
}

pub fn permission_denied() -> AppError {
    AppError::PermissionDenied("You do not have permission to perform this action.".into())
}

pub fn bad_field(field: &str, msg: impl Into<String>) -> AppError {
    AppError::Validation(FieldErrors::single(field, msg))
}

/// What a database error means for the request, from the driver's codes
/// (SQLSTATE on PostgreSQL, extended result codes on SQLite), not its text.
#[derive(Debug, PartialEq)]
pub enum DbFailure {
    /// A unique constraint, with the columns it covers (when reported).
    Unique(Vec<String>),
    /// A foreign key constraint; the driver's explanation.
    ForeignKey(String),
    /// Lock contention: the same request can succeed a moment later.
    Retry,
    Other,
}

pub fn classify(e: &sea_orm::DbErr) -> DbFailure {
    use sea_orm::sqlx::error::ErrorKind;
    use sea_orm::{DbErr, RuntimeErr};
    let (DbErr::Exec(RuntimeErr::SqlxError(e))
    | DbErr::Query(RuntimeErr::SqlxError(e))
    | DbErr::Conn(RuntimeErr::SqlxError(e))) = e
    else {
        return DbFailure::Other;
    };
    let Some(d) = e.as_database_error() else {
        return DbFailure::Other;
    };
    match d.kind() {
        ErrorKind::UniqueViolation => {
            let pg = d.try_downcast_ref::<sea_orm::sqlx::postgres::PgDatabaseError>();
            // PostgreSQL: "Key (a, b)=(…) already exists."; SQLite:
            // "UNIQUE constraint failed: table.a, table.b".
            let cols = match pg {
                Some(pg) => pg
                    .detail()
                    .and_then(|d| d.strip_prefix("Key (")?.split_once(")=").map(|(c, _)| c.to_string()))
                    .map(|c| c.split(", ").map(str::to_string).collect())
                    .unwrap_or_default(),
                None => d
                    .message()
                    .rsplit_once(": ")
                    .map(|(_, c)| c.split(", ").filter_map(|c| c.rsplit('.').next()).map(str::to_string).collect())
                    .unwrap_or_default(),
            };
            DbFailure::Unique(cols)
        }
        ErrorKind::ForeignKeyViolation => DbFailure::ForeignKey(d.message().to_string()),
        _ => match d.code().as_deref() {
            // SQLITE_BUSY (+ _RECOVERY, _SNAPSHOT, _TIMEOUT), SQLITE_LOCKED (+ _SHAREDCACHE).
            Some("5" | "261" | "517" | "773" | "6" | "262") => DbFailure::Retry,
            // serialization_failure, deadlock_detected, lock_not_available.
            Some("40001" | "40P01" | "55P03") => DbFailure::Retry,
            _ => DbFailure::Other,
        },
    }
}
