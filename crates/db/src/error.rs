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
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

pub fn not_found(model: &crate::model::Model) -> AppError {
    AppError::NotFound(format!("No {} matches the given query.", model.verbose))
}

pub fn permission_denied() -> AppError {
    AppError::PermissionDenied("You do not have permission to perform this action.".into())
}

pub fn bad_field(field: &str, msg: impl Into<String>) -> AppError {
    AppError::Validation(FieldErrors::single(field, msg))
}
