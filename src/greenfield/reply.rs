//! How the Greenfield routes answer (`docs/greenfield.md` §3): `200` with a
//! JSON body on success (create included: the PHP client compares `=== 200`),
//! and errors in BTCPay's shapes — `{"code", "message"}` (`ProblemDetails`),
//! the 403 with `missingPermission`, the 422 array of `{"path", "message"}`.
//! Every Greenfield handler returns `Result<HttpResponse, GreenfieldError>`;
//! the guard words its refusals through [`GreenfieldError::from_refusal`].

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use super::types::{ApiError as ProblemBody, FieldError, PermissionError};
use crate::api_key::Permission;
use crate::http::routes::Refusal;
use crate::http::AppState;
use crate::store::StoreError;

/// Seconds a client should wait before retrying after a `503`.
pub const RETRY_AFTER_SECS: u64 = 5;

/// A Greenfield failure, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GreenfieldError {
    /// `401 unauthenticated`: no key, a wrong one, a revoked one.
    #[error("unauthenticated")]
    Unauthenticated,
    /// `403 missing-permission` with the policy's name.
    #[error("missing permission {0}")]
    MissingPermission(Permission),
    /// `422`: bad fields, each with its JSON path.
    #[error("invalid fields: {0:?}")]
    Validation(Vec<FieldError>),
    /// Any other `4xx`/`5xx` as `{"code", "message"}`.
    #[error("{status} {code}: {message}")]
    Problem {
        /// The HTTP status.
        status: u16,
        /// BTCPay-style kebab-case code.
        code: &'static str,
        /// For people.
        message: String,
        /// Seconds for a `Retry-After` header.
        retry_after: Option<u64>,
    },
}

impl GreenfieldError {
    /// A `{"code", "message"}` error.
    pub fn problem(status: u16, code: &'static str, message: impl Into<String>) -> GreenfieldError {
        GreenfieldError::Problem {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A `422` about one field.
    pub fn field(path: &str, message: &str) -> GreenfieldError {
        GreenfieldError::Validation(vec![FieldError::new(path, message)])
    }

    /// `404 store-not-found` (api.md; BTCPay itself answers 403 here, §2.7).
    pub fn store_not_found() -> GreenfieldError {
        GreenfieldError::problem(404, "store-not-found", "The store was not found")
    }

    /// `404 invoice-not-found`.
    pub fn invoice_not_found() -> GreenfieldError {
        GreenfieldError::problem(404, "invoice-not-found", "The invoice was not found")
    }

    /// `500`: the details go to the log, not to the client.
    pub fn internal() -> GreenfieldError {
        GreenfieldError::problem(500, "internal-error", "Internal error; see the engine's log")
    }

    /// A `503` with `Retry-After`.
    pub fn unavailable(code: &'static str, message: impl Into<String>, retry_after: u64) -> GreenfieldError {
        GreenfieldError::Problem {
            status: 503,
            code,
            message: message.into(),
            retry_after: Some(retry_after),
        }
    }

    /// A store failure: `503 store-unavailable` when the store cannot write
    /// now, else `500`. Logged here, with `what`.
    pub fn store(what: &str, e: &StoreError) -> GreenfieldError {
        log::error!("{what} failed: {e}");
        if e.is_unavailable() {
            GreenfieldError::unavailable(
                "store-unavailable",
                "The store cannot write now; nothing was stored, try again later",
                crate::http::error::STORE_RETRY_AFTER_SECS,
            )
        } else {
            GreenfieldError::internal()
        }
    }

    /// How the `/api/v1` guard's refusal reads on a Greenfield route.
    pub fn from_refusal(refusal: &Refusal) -> GreenfieldError {
        match refusal {
            Refusal::Unauthenticated => GreenfieldError::Unauthenticated,
            Refusal::MissingPermission(p) => GreenfieldError::MissingPermission(*p),
            Refusal::UnsupportedMediaType => GreenfieldError::problem(
                415,
                "unsupported-media-type",
                "The request body must be sent as Content-Type: application/json",
            ),
            Refusal::InvalidJson(why) => GreenfieldError::problem(
                400,
                "invalid-json",
                format!("The request body is not valid JSON: {why}"),
            ),
            Refusal::TooLarge(limit) => GreenfieldError::problem(
                413,
                "payload-too-large",
                format!("The request body is larger than {} KiB", limit / 1024),
            ),
            Refusal::UnreadableBody => {
                GreenfieldError::problem(400, "invalid-body", "The request body could not be read")
            }
            Refusal::NoRoute => GreenfieldError::problem(404, "route-not-found", "No such route"),
            Refusal::WrongMethod => {
                GreenfieldError::problem(405, "method-not-allowed", "This route does not take this method")
            }
            Refusal::Internal => GreenfieldError::internal(),
        }
    }
}

impl ResponseError for GreenfieldError {
    fn status_code(&self) -> StatusCode {
        let status = match self {
            GreenfieldError::Unauthenticated => 401,
            GreenfieldError::MissingPermission(_) => 403,
            GreenfieldError::Validation(_) => 422,
            GreenfieldError::Problem { status, .. } => *status,
        };
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            GreenfieldError::Unauthenticated => response.json(ProblemBody {
                code: "unauthenticated".into(),
                message: "Authentication is required for accessing this endpoint".into(),
            }),
            GreenfieldError::MissingPermission(p) => response.json(PermissionError::new(p.as_str())),
            GreenfieldError::Validation(errors) => response.json(errors),
            GreenfieldError::Problem {
                code,
                message,
                retry_after,
                ..
            } => {
                if let Some(secs) = retry_after {
                    response.insert_header(("Retry-After", secs.to_string()));
                }
                response.json(ProblemBody {
                    code: (*code).into(),
                    message: message.clone(),
                })
            }
        }
    }
}

/// `200` with `body` as JSON (`Content-Type: application/json`).
pub fn ok<T: Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok().json(body)
}

/// Whether `store_id` (a `stores/{storeId}` segment) is the store bchpay
/// shows; `404 store-not-found` otherwise.
pub fn check_store(state: &AppState, store_id: &str) -> Result<(), GreenfieldError> {
    if store_id == state.settings.greenfield.store_id {
        Ok(())
    } else {
        Err(GreenfieldError::store_not_found())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use serde_json::{json, Value};

    async fn answer(e: GreenfieldError) -> (u16, Value, Option<String>) {
        let response = e.error_response();
        let status = response.status().as_u16();
        let retry = response
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = to_bytes(response.into_body()).await.unwrap_or_default();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null), retry)
    }

    #[actix_rt::test]
    async fn errors_answer_in_btcpays_shapes() {
        assert_eq!(
            answer(GreenfieldError::Unauthenticated).await,
            (
                401,
                json!({"code": "unauthenticated", "message": "Authentication is required for accessing this endpoint"}),
                None
            )
        );
        let (status, body, _) = answer(GreenfieldError::MissingPermission(Permission::CanViewInvoices)).await;
        assert_eq!(status, 403);
        assert_eq!(body["code"], "missing-permission");
        assert_eq!(body["missingPermission"], "btcpay.store.canviewinvoices");
        assert!(body["message"].as_str().is_some_and(|m| m.contains("canviewinvoices")));
        assert_eq!(
            answer(GreenfieldError::field("amount", "amount is required")).await,
            (422, json!([{"path": "amount", "message": "amount is required"}]), None)
        );
        assert_eq!(
            answer(GreenfieldError::invoice_not_found()).await,
            (
                404,
                json!({"code": "invoice-not-found", "message": "The invoice was not found"}),
                None
            )
        );
        let (status, body, retry) = answer(GreenfieldError::unavailable("rate-unavailable", "no rate", 7)).await;
        assert_eq!(
            (status, body["code"].clone(), retry),
            (503, json!("rate-unavailable"), Some("7".into()))
        );
    }

    #[actix_rt::test]
    async fn every_refusal_of_the_guard_has_a_greenfield_answer() {
        for (refusal, status) in [
            (Refusal::Unauthenticated, 401),
            (Refusal::MissingPermission(Permission::CanCreateInvoice), 403),
            (Refusal::UnsupportedMediaType, 415),
            (Refusal::InvalidJson("x".into()), 400),
            (Refusal::TooLarge(65536), 413),
            (Refusal::UnreadableBody, 400),
            (Refusal::NoRoute, 404),
            (Refusal::WrongMethod, 405),
            (Refusal::Internal, 500),
        ] {
            let (got, body, _) = answer(GreenfieldError::from_refusal(&refusal)).await;
            assert_eq!(got, status, "{refusal:?}");
            assert!(
                body["code"].is_string() && body["message"].is_string(),
                "{refusal:?}: {body}"
            );
        }
    }
}
