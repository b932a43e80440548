//! `AppError` as HTTP: Peering Manager's JSON error shapes for the API.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pm_db::AppError;
use serde_json::{Value, json};

pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub fn status_and_body(e: &AppError) -> (StatusCode, Value) {
    let detail = |s: &str| json!({ "detail": s });
    match e {
        AppError::NotFound(m) => (StatusCode::NOT_FOUND, detail(m)),
        AppError::Validation(f) => (StatusCode::BAD_REQUEST, Value::Object(f.0.clone())),
        AppError::BulkValidation(list) => {
            (StatusCode::BAD_REQUEST, Value::Array(list.iter().map(|f| Value::Object(f.0.clone())).collect()))
        }
        AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, detail(m)),
        AppError::Unauthenticated(m) => (StatusCode::UNAUTHORIZED, detail(m)),
        AppError::PermissionDenied(m) => (StatusCode::FORBIDDEN, detail(m)),
        AppError::Conflict(m) => (StatusCode::CONFLICT, detail(m)),
        AppError::MethodNotAllowed(m) => (StatusCode::METHOD_NOT_ALLOWED, detail(m)),
        AppError::PayloadTooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, detail(m)),
        AppError::ServiceUnavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, detail(m)),
        AppError::Db(err) => {
            tracing::error!(error = %err, "database error");
            (StatusCode::INTERNAL_SERVER_ERROR, json!({"error": "database error", "exception": "DatabaseError"}))
        }
        AppError::Internal(err) => {
            tracing::error!(error = %err, "internal error");
            (StatusCode::INTERNAL_SERVER_ERROR, json!({"error": "internal error", "exception": "InternalError"}))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = status_and_body(&self.0);
        let mut resp = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert("WWW-Authenticate", "Token".parse().unwrap());
        }
        resp
    }
}
