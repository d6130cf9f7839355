//! `ApiError`: every 4xx/5xx of the API, with its stable code, decided in one place.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// Seconds a client should wait before retrying a write the store could not make.
pub const STORE_RETRY_AFTER_SECS: u64 = 5;

/// An API failure: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// Stable snake_case code shops branch on.
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// The request field at fault, if one is.
    pub field: Option<String>,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// A 400 about one field.
    pub fn field(code: &'static str, field: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            code,
            message: message.into(),
            field: Some(field.to_owned()),
            retry_after: None,
        }
    }

    /// An error with no field.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after: None,
        }
    }

    /// 401: nothing else is said.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            401,
            "unauthorized",
            "a valid API key is required: Authorization: Bearer <key>",
        )
    }

    /// 404.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(404, "not_found", format!("{what} not found"))
    }

    /// 413.
    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            413,
            "payload_too_large",
            format!("request body is larger than {} KiB", limit / 1024),
        )
    }

    /// A store failure: `503 store_unavailable` with `Retry-After` when the
    /// store cannot write now (a full disk, an I/O error, its writer
    /// restarting: api.md "Store faults"), else `500`. Logged here, with `what`.
    pub fn store(what: &str, e: &crate::store::StoreError) -> ApiError {
        log::error!("{what} failed: {e}");
        if e.is_unavailable() {
            ApiError {
                retry_after: Some(STORE_RETRY_AFTER_SECS),
                ..ApiError::new(
                    503,
                    "store_unavailable",
                    "the store cannot write now; nothing was stored, try again later",
                )
            }
        } else {
            ApiError::internal()
        }
    }

    /// 500: the details go to the log, not to the client.
    pub fn internal() -> ApiError {
        ApiError::new(500, "internal_error", "internal error; see the engine's log")
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(field) = &self.field {
            error["field"] = json!(field);
        }
        let mut response = HttpResponse::build(self.status_code());
        if let Some(secs) = self.retry_after {
            response.insert_header(("Retry-After", secs.to_string()));
        }
        response.json(json!({ "error": error }))
    }
}
