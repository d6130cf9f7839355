//! `POST /wallet/notify/{token}`: the daemon's `notify` pushes. No auth of
//! its own: the unguessable token in the path is the guard. A push is only a
//! hint to look at that address now; its content is never trusted.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::error::ApiError;
use super::AppState;
use crate::api_key::KeyDigest;
use crate::cashaddr::Address;
use crate::confirmer::Pushed;

/// The largest push: `{"address", "status"}` is a few hundred bytes.
const MAX_PUSH: usize = 4 * 1024;

/// The token of a `notify_url` (`…/wallet/notify/<token>`), if it has one.
pub fn token_of(notify_url: &str) -> Option<&str> {
    notify_url
        .split_once("/wallet/notify/")
        .map(|(_, t)| t.trim_end_matches('/'))
        .filter(|t| !t.is_empty())
}

/// Takes one push. The token is checked before a byte of the body is read:
/// this route needs no key, so a wrong token must cost the engine nothing
/// (no body held back by a slow client, no buffer filled).
pub async fn push(
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // Digests compared, not the token: a timing difference tells nothing about it.
    let expected = token_of(&state.settings.electron_cash.notify_url).map(KeyDigest::of);
    let known = expected.is_some_and(|t| t == KeyDigest::of(&path));
    if !known {
        return Err(ApiError::not_found("route"));
    }
    let body = payload
        .to_bytes_limited(MAX_PUSH)
        .await
        .map_err(|_| ApiError::too_large(MAX_PUSH))?
        .map_err(|_| ApiError::new(400, "invalid_body", "the request body could not be read"))?;
    let push: Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::new(400, "invalid_json", "a notify push is {\"address\", \"status\"}"))?;
    let address = push["address"]
        .as_str()
        .and_then(|a| Address::parse(a).ok())
        .ok_or_else(|| ApiError::field("invalid_address", "address", "not a cashaddr"))?;
    state.confirmer.addr.do_send(Pushed(address));
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_the_last_segment_of_the_notify_url() {
        assert_eq!(
            token_of("http://bchpay:8080/wallet/notify/abcDEF0123456789xyz"),
            Some("abcDEF0123456789xyz")
        );
        assert_eq!(token_of("http://bchpay:8080/wallet/notify/"), None);
        assert_eq!(token_of(""), None);
    }
}
