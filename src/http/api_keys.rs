//! `/api/v1/api-keys`: make a key (shown once), list keys (never the key),
//! revoke one. All need `unrestricted` (the route table says so).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::auth::Authenticated;
use super::error::ApiError;
use super::query;
use super::AppState;
use crate::api_key::{self, ApiKeyRecord, KeyId, Permission, Permissions};
use crate::store::{CreateApiKey, RevokeApiKey, StoreError};

/// What a create request says: `{"label", "permissions": [...]}`.
fn parse_create(body: &[u8]) -> Result<(String, Permissions), ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(400, "invalid_json", format!("request body is not valid JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(ApiError::new(400, "invalid_json", "request body must be a JSON object"));
    };
    if let Some(unknown) = fields.keys().find(|k| !["label", "permissions"].contains(&k.as_str())) {
        return Err(ApiError::field(
            "unknown_field",
            unknown,
            format!("unknown field {unknown:?}"),
        ));
    }
    let label = match fields.get("label") {
        Some(Value::String(label)) => label.clone(),
        _ => return Err(ApiError::field("invalid_label", "label", "label must be a string")),
    };
    let bad_permissions = |message: String| ApiError::field("invalid_permissions", "permissions", message);
    let names = match fields.get("permissions") {
        Some(Value::Array(names)) => names,
        _ => {
            return Err(bad_permissions(format!(
                "permissions must be a list of: {}",
                Permission::names().join(", ")
            )))
        }
    };
    let permissions = names
        .iter()
        .map(|n| match n {
            Value::String(n) => Permission::parse(n).map_err(|e| bad_permissions(e.to_string())),
            _ => Err(bad_permissions("each permission is a string".into())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let permissions = Permissions::of(permissions);
    api_key::check_new(&label, &permissions).map_err(|(field, message)| match field {
        "label" => ApiError::field("invalid_label", "label", message),
        _ => bad_permissions(message),
    })?;
    Ok((label, permissions))
}

/// A store failure, logged, as a 500.
fn store_failed(what: &str, e: impl std::fmt::Display) -> ApiError {
    log::error!("{what} failed: {e}");
    ApiError::internal()
}

/// `POST /api/v1/api-keys`: `201` with the key, the only time it is shown.
pub async fn create(by: Authenticated, body: web::Bytes, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (label, permissions) = parse_create(&body)?;
    let (key, record) = ApiKeyRecord::generate(label, permissions, chrono::Utc::now());
    let created = match state.store.send(CreateApiKey(record)).await {
        Ok(Ok(created)) => created,
        Ok(Err(e)) => return Err(store_failed("creating an API key", e)),
        Err(e) => return Err(store_failed("creating an API key", e)),
    };
    log::info!("api key {} created through the API by {}", created.id, by.id);
    let mut body = created.to_api();
    body["key"] = json!(key.expose());
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(body))
}

/// `GET /api/v1/api-keys`: every stored key, oldest first, without the keys.
pub async fn list(
    q: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    query::only(&q, &[])?;
    let keys = state
        .reader
        .api_keys()
        .map_err(|e| store_failed("listing API keys", e))?;
    let keys: Vec<Value> = keys.iter().map(ApiKeyRecord::to_api).collect();
    Ok(HttpResponse::Ok().json(json!({ "api_keys": keys })))
}

/// `DELETE /api/v1/api-keys/{id}`: the key opens nothing from now on; `200`
/// with what it was.
pub async fn revoke(
    by: Authenticated,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = KeyId::parse(&path).map_err(|_| ApiError::not_found("api key"))?;
    match state.store.send(RevokeApiKey(id)).await {
        Ok(Ok(revoked)) => {
            log::info!("api key {} revoked through the API by {}", revoked.id, by.id);
            Ok(HttpResponse::Ok().json(revoked.to_api()))
        }
        Ok(Err(StoreError::NotFound)) => Err(ApiError::not_found("api key")),
        Ok(Err(e)) => Err(store_failed("revoking an API key", e)),
        Err(e) => Err(store_failed("revoking an API key", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_create_request_is_read_with_the_field_at_fault_named() {
        let ok = parse_create(
            br#"{"label":"shop","permissions":["btcpay.store.cancreateinvoice","btcpay.store.canviewinvoices"]}"#,
        );
        assert_eq!(
            ok.map(|(l, p)| (l, p.names())),
            Ok((
                "shop".into(),
                vec!["btcpay.store.canviewinvoices", "btcpay.store.cancreateinvoice"]
            ))
        );
        for (body, code, field) in [
            (
                &br#"{"label":"x","permissions":["admin"]}"#[..],
                "invalid_permissions",
                "permissions",
            ),
            (
                br#"{"label":"x","permissions":[]}"#,
                "invalid_permissions",
                "permissions",
            ),
            (
                br#"{"label":"x","permissions":"unrestricted"}"#,
                "invalid_permissions",
                "permissions",
            ),
            (
                br#"{"label":"x","permissions":[1]}"#,
                "invalid_permissions",
                "permissions",
            ),
            (
                br#"{"label":"","permissions":["unrestricted"]}"#,
                "invalid_label",
                "label",
            ),
            (br#"{"permissions":["unrestricted"]}"#, "invalid_label", "label"),
            (
                br#"{"label":"x","permissions":["unrestricted"],"key":"mine"}"#,
                "unknown_field",
                "key",
            ),
        ] {
            let err = parse_create(body).unwrap_err();
            assert_eq!(
                (err.code, err.field.as_deref()),
                (code, Some(field)),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(parse_create(b"[]").unwrap_err().code, "invalid_json");
    }
}
