//! Bearer API keys, compared in constant time.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::AppState;
use crate::config::Secret;

/// Proof that the request carried a configured API key; take it as the first
/// argument of every `/api/v1` handler.
pub struct ApiKey;

/// Whether `given` is one of `keys`. Hashes first, so the comparison takes the
/// same time whatever the lengths, and looks at every key without stopping early.
pub fn key_matches(given: &str, keys: &[Secret]) -> bool {
    let given = Sha256::digest(given.as_bytes());
    keys.iter().fold(false, |found, key| {
        let key = Sha256::digest(key.expose().as_bytes());
        let diff = given.iter().zip(key.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        found | (diff == 0)
    })
}

impl FromRequest for ApiKey {
    type Error = ApiError;
    type Future = Ready<Result<ApiKey, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(ApiError::internal()));
        };
        let given = req
            .headers()
            .get("Authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        ready(match given {
            Some(key) if !key.is_empty() && key_matches(key, &state.settings.api.keys) => Ok(ApiKey),
            _ => Err(ApiError::unauthorized()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_configured_keys_match() {
        let keys = vec![Secret::new("key-one-0001"), Secret::new("key-two-0002")];
        assert!(key_matches("key-one-0001", &keys));
        assert!(key_matches("key-two-0002", &keys));
        assert!(!key_matches("key-one-000", &keys));
        assert!(!key_matches("key-one-00011", &keys));
        assert!(!key_matches("", &keys));
        assert!(!key_matches("key-one-0001", &[]));
    }
}
