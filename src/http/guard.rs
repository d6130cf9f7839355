//! The guard of the `/api/v1` scope, run once for every request under it
//! before any handler: the key (`401`), the route's permission from the table
//! (`403 missing_permission`), then the body of a JSON route (`415` unless
//! `application/json`, `413` past 64 KiB, `400 invalid_json` when not one
//! JSON document or a key repeats). A request that matches no row is
//! answered here (`404`/`405`), so nothing under the scope is served
//! unchecked. A store key's use is noted off the request's path.

use std::sync::OnceLock;

use actix_web::body::BoxBody;
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use futures_util::StreamExt;

use super::auth::{authenticate, presented_key, Authenticated, KeySource};
use super::create_request::MAX_BODY;
use super::routes::{ApiRoute, Body, ErrorShape, Refusal, API_V1};
use super::AppState;
use crate::store::TouchApiKey;

/// The table's paths as actix matches them, compiled once.
fn patterns() -> &'static [ResourceDef] {
    static PATTERNS: OnceLock<Vec<ResourceDef>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        API_V1
            .iter()
            .map(|r| {
                let paths: Vec<String> = r
                    .mounted_paths()
                    .into_iter()
                    .map(|p| format!("{}{p}", super::routes::PREFIX))
                    .collect();
                ResourceDef::new(paths)
            })
            .collect()
    })
}

/// The row a request is for; `Err` when only the method differs, or no path
/// matches, with the family whose words the refusal takes.
fn route_of(req: &ServiceRequest) -> Result<&'static ApiRoute, (ErrorShape, Refusal)> {
    let path = req.match_info().as_str();
    let mut path_known = None;
    for (route, pattern) in API_V1.iter().zip(patterns()) {
        if pattern.is_match(path) {
            if route.verb.method() == *req.method() {
                return Ok(route);
            }
            path_known = path_known.or(Some(route.errors));
        }
    }
    Err(match path_known {
        Some(shape) => (shape, Refusal::WrongMethod),
        None => (ErrorShape::of_unrouted(path), Refusal::NoRoute),
    })
}

/// Whether the request says its body is JSON (`application/json`, parameters allowed).
fn is_json(req: &ServiceRequest) -> bool {
    req.mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.essence_str().eq_ignore_ascii_case("application/json"))
}

/// Whether the request carries a body (announced length above 0, or chunked).
fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key("transfer-encoding")
        || headers
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// Reads the body (at most [`MAX_BODY`], refusing a larger announced one
/// before reading), checks it, and puts it back for the handler.
async fn checked_json_body(req: &mut ServiceRequest) -> Result<(), Refusal> {
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(Refusal::TooLarge(MAX_BODY));
    }
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| Refusal::UnreadableBody)?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Refusal::TooLarge(MAX_BODY));
        }
        body.extend_from_slice(&chunk);
    }
    super::strict_json::check(&body).map_err(Refusal::InvalidJson)?;
    req.set_payload(actix_web::dev::Payload::from(body.freeze()));
    Ok(())
}

/// Checks one request; what to refuse it with, or the key it came with.
async fn check(req: &mut ServiceRequest) -> Result<Authenticated, (ErrorShape, Refusal)> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or((ErrorShape::Bchpay, Refusal::Internal))?;
    let route = route_of(req);
    let shape = match &route {
        Ok(r) => r.errors,
        Err((shape, _)) => *shape,
    };
    let given = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(presented_key);
    let key = match given {
        None => None,
        Some(given) => authenticate(given, &state.settings.api.keys, &state.reader).map_err(|e| {
            log::error!("reading the API keys failed: {e}");
            (shape, Refusal::Internal)
        })?,
    };
    let key = key.ok_or((shape, Refusal::Unauthenticated))?;
    let route = route?;
    if let Some(needed) = route.permission.filter(|p| !key.permissions.grants(*p)) {
        log::info!(
            "api key {} refused on {} {}: lacks {needed}",
            key.id,
            route.verb.as_str(),
            route.path,
        );
        return Err((shape, Refusal::MissingPermission(needed)));
    }
    if key.source == KeySource::Store && key.due_for_touch {
        state.store.do_send(TouchApiKey {
            digest: key.digest,
            at: chrono::Utc::now(),
        });
    }
    match route.body {
        Body::Json if !is_json(req) => return Err((shape, Refusal::UnsupportedMediaType)),
        Body::Json => checked_json_body(req).await.map_err(|r| (shape, r))?,
        Body::None if has_body(req) && !is_json(req) => return Err((shape, Refusal::UnsupportedMediaType)),
        Body::None => {}
    }
    Ok(key)
}

/// The middleware: `web::scope("/api/v1").wrap(from_fn(guard))`.
pub async fn guard(mut req: ServiceRequest, next: Next<BoxBody>) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    match check(&mut req).await {
        Ok(key) => {
            req.extensions_mut().insert(key);
            next.call(req).await
        }
        Err((shape, refusal)) => Ok(req.into_response(shape.respond(&refusal))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::Method;
    use actix_web::test::TestRequest;

    fn route(method: Method, uri: &str) -> Result<&'static str, Refusal> {
        let req = TestRequest::with_uri(uri).method(method).to_srv_request();
        route_of(&req).map(|r| r.path).map_err(|(_, refusal)| refusal)
    }

    fn shape(method: Method, uri: &str) -> ErrorShape {
        let req = TestRequest::with_uri(uri).method(method).to_srv_request();
        route_of(&req).map_or_else(|(shape, _)| shape, |r| r.errors)
    }

    #[test]
    fn a_request_finds_its_row_by_method_and_path_as_actix_routes_it() {
        assert_eq!(route(Method::POST, "/api/v1/invoices"), Ok("/invoices"));
        assert_eq!(route(Method::GET, "/api/v1/invoices?status=new"), Ok("/invoices"));
        assert_eq!(route(Method::GET, "/api/v1/invoices/inv_x"), Ok("/invoices/{id}"));
        assert_eq!(
            route(Method::POST, "/api/v1/events/evt_1/redeliver"),
            Ok("/events/{id}/redeliver")
        );
        assert_eq!(route(Method::DELETE, "/api/v1/api-keys/key_1"), Ok("/api-keys/{id}"));
        assert_eq!(route(Method::PUT, "/api/v1/invoices"), Err(Refusal::WrongMethod));
        assert_eq!(route(Method::GET, "/api/v1/api-keys/key_1"), Err(Refusal::WrongMethod));
        for uri in [
            "/api/v1",
            "/api/v1/",
            "/api/v1/invoices/a/b",
            "/api/v1/invoices/",
            "/api/v1/nope",
        ] {
            assert_eq!(route(Method::GET, uri), Err(Refusal::NoRoute), "{uri}");
        }
    }

    #[test]
    fn greenfield_rows_take_a_trailing_slash_and_refuse_in_greenfield_words() {
        assert_eq!(route(Method::GET, "/api/v1/stores"), Ok("/stores"));
        assert_eq!(route(Method::GET, "/api/v1/stores/"), Ok("/stores"));
        assert_eq!(route(Method::GET, "/api/v1/stores/S1/"), Ok("/stores/{storeId}"));
        assert_eq!(route(Method::GET, "/api/v1/api-keys/current"), Ok("/api-keys/current"));
        assert_eq!(route(Method::DELETE, "/api/v1/api-keys/key_1"), Ok("/api-keys/{id}"));
        assert_eq!(shape(Method::GET, "/api/v1/stores/S1"), ErrorShape::Greenfield);
        assert_eq!(shape(Method::PATCH, "/api/v1/stores/S1"), ErrorShape::Greenfield);
        assert_eq!(
            shape(Method::GET, "/api/v1/stores/S1/nothing/here"),
            ErrorShape::Greenfield
        );
        assert_eq!(shape(Method::GET, "/api/v1/server/nothing"), ErrorShape::Greenfield);
        // bchpay's own keep theirs, trailing slash refused as before.
        assert_eq!(shape(Method::GET, "/api/v1/invoices"), ErrorShape::Bchpay);
        assert_eq!(shape(Method::PUT, "/api/v1/invoices"), ErrorShape::Bchpay);
        assert_eq!(shape(Method::GET, "/api/v1/storesx"), ErrorShape::Bchpay);
        assert_eq!(shape(Method::GET, "/api/v1/nope"), ErrorShape::Bchpay);
    }

    #[test]
    fn no_two_rows_share_a_method_and_a_path() {
        for (i, a) in API_V1.iter().enumerate() {
            for b in &API_V1[i + 1..] {
                assert!(
                    !(a.verb == b.verb && a.path == b.path),
                    "{} {}",
                    a.verb.as_str(),
                    a.path
                );
            }
        }
    }
}
