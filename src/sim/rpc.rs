//! The JSON-RPC endpoint: one request at a time, HTTP Basic auth, faults,
//! and the daemon's envelopes, bytes as Python's `json.dumps` writes them.

use std::sync::atomic::Ordering;
use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde::Serialize;
use serde_json::Value;

use super::{lock, methods, Fault, Sim};

/// A JSON-RPC error: code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    /// -32600, -32601, -32602, -32603 or -32700.
    pub code: i64,
    /// The daemon's text.
    pub message: String,
}

impl RpcError {
    /// -32603 with the traceback tail the daemon sends.
    pub fn server(file: &str, line: u32, func: &str, exception: &str) -> RpcError {
        RpcError {
            code: -32603,
            message: format!(
                "Server error: File \"/opt/electron-cash/electroncash/{file}\", line {line}, in {func} | {exception}\n"
            ),
        }
    }
}

/// Python's default HTTP error page.
fn error_page(code: u16, message: &str, explanation: &str) -> String {
    format!(
        "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        \
         <title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n        \
         <p>Error code: {code}</p>\n        <p>Message: {message}.</p>\n        \
         <p>Error code explanation: {code} - {explanation}.</p>\n    </body>\n</html>\n"
    )
}

fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html;charset=utf-8")
        .body(body)
}

fn unauthorized(reason: &str) -> HttpResponse {
    html(
        StatusCode::UNAUTHORIZED,
        error_page(
            401,
            &format!("Authentication failed ({reason})"),
            "No permission -- see authorization schemes",
        ),
    )
}

fn json_rpc(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json-rpc").body(body)
}

/// serde_json output with Python's separators (", " and ": ").
struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

/// Writes a JSON value as Python would.
pub fn dumps(value: &Value) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    match value.serialize(&mut ser) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => "null".to_owned(),
    }
}

/// The envelope, keys in the daemon's order.
fn envelope(id: &Value, v2: bool, outcome: &Result<Value, RpcError>) -> String {
    let id = dumps(id);
    match (outcome, v2) {
        (Ok(r), false) => format!("{{\"result\": {}, \"id\": {id}, \"error\": null}}", dumps(r)),
        (Ok(r), true) => format!("{{\"result\": {}, \"id\": {id}, \"jsonrpc\": \"2.0\"}}", dumps(r)),
        (Err(e), v2) => {
            let err = format!(
                "{{\"code\": {}, \"message\": {}}}",
                e.code,
                dumps(&Value::String(e.message.clone()))
            );
            if v2 {
                format!("{{\"id\": {id}, \"jsonrpc\": \"2.0\", \"error\": {err}}}")
            } else {
                format!("{{\"result\": null, \"id\": {id}, \"error\": {err}}}")
            }
        }
    }
}

/// Checks HTTP Basic credentials; `Err` is the reason for the 401.
fn check_auth(sim: &Sim, req: &HttpRequest) -> Result<(), &'static str> {
    let config = &sim.inner.config;
    if config.rpc_password.is_empty() {
        return Ok(());
    }
    let header = req.headers().get("authorization").ok_or("missing credentials")?;
    let text = header.to_str().map_err(|_| "bad credentials")?;
    let encoded = match text.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => rest.trim(),
        _ => return Err("only basic auth is supported"),
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| "bad credentials")?;
    let expected = format!("{}:{}", config.rpc_user, config.rpc_password);
    if decoded == expected.as_bytes() {
        Ok(())
    } else {
        Err("bad credentials")
    }
}

/// Python's `json.loads` error text for a body that is not JSON (where the
/// body starts well, serde's position stands in for Python's).
fn decode_error(body: &[u8], err: &serde_json::Error) -> String {
    let text = String::from_utf8_lossy(body);
    let skipped = text.len() - text.trim_start().len();
    let (line, column, pos) = match text.trim_start().chars().next() {
        Some('{') | Some('[') => (err.line().max(1), err.column().max(1), err.column().saturating_sub(1)),
        _ => (1, skipped + 1, skipped),
    };
    format!("Request not json invalid. (JSONDecodeError:Expecting value: line {line} column {column} (char {pos}))")
}

/// Every request that is not under `/sim/`.
pub async fn endpoint(req: HttpRequest, body: web::Bytes, sim: web::Data<Sim>) -> HttpResponse {
    sim.inner.total.fetch_add(1, Ordering::SeqCst);
    if req.method() != Method::POST {
        let msg = format!("Unsupported method ('{}')", req.method());
        return html(
            StatusCode::NOT_IMPLEMENTED,
            error_page(501, &msg, "Server does not support this operation"),
        );
    }
    // The daemon answers one request at a time.
    let _turn = sim.inner.rpc_lock.lock().await;
    let fault = *lock(&sim.inner.fault);
    match fault {
        Fault::None => {}
        Fault::Slow(d) => actix_rt::time::sleep(d).await,
        Fault::Http500 => {
            return html(
                StatusCode::INTERNAL_SERVER_ERROR,
                error_page(500, "Internal Server Error", "Server got itself in trouble"),
            )
        }
        Fault::Garbage => return json_rpc("<html>\u{1f}garbage, not json".to_owned()),
        Fault::Unauthorized => return unauthorized("bad credentials"),
    }
    if let Err(reason) = check_auth(&sim, &req) {
        if reason == "bad credentials" {
            actix_rt::time::sleep(Duration::from_millis(50)).await;
        }
        log::debug!("sim: 401 {reason}");
        return unauthorized(reason);
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = RpcError {
                code: -32700,
                message: decode_error(&body, &e),
            };
            return json_rpc(envelope(&Value::Null, true, &Err(err)));
        }
    };
    match parsed {
        Value::Array(batch) if !batch.is_empty() => {
            let mut replies = Vec::with_capacity(batch.len());
            for item in &batch {
                replies.push(one(&sim, item).await);
            }
            json_rpc(format!("[{}]", replies.join(", ")))
        }
        other => json_rpc(one(&sim, &other).await),
    }
}

/// Answers one request object.
async fn one(sim: &Sim, request: &Value) -> String {
    let Some(obj) = request.as_object() else {
        let err = RpcError {
            code: -32600,
            message: "Request is not a JSON object.".into(),
        };
        return envelope(&Value::Null, true, &Err(err));
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    let v2 = obj.contains_key("jsonrpc");
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        let err = RpcError {
            code: -32600,
            message: "Invalid request: missing or invalid method.".into(),
        };
        return envelope(&id, true, &Err(err));
    };
    *lock(&sim.inner.by_method).entry(method.to_owned()).or_insert(0) += 1;
    let delay = lock(&sim.inner.delays).get(method).copied();
    if let Some(d) = delay {
        actix_rt::time::sleep(d).await;
    }
    let outcome = methods::call(sim, method, obj.get("params"));
    if let Err(e) = &outcome {
        log::debug!("sim: {method} -> {} {}", e.code, e.message.trim_end());
    }
    envelope(&id, v2, &outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelopes_have_the_recorded_keys_in_order() {
        assert_eq!(
            envelope(&json!(1), false, &Ok(json!("4.4.5"))),
            r#"{"result": "4.4.5", "id": 1, "error": null}"#
        );
        assert_eq!(
            envelope(&json!(2), true, &Ok(json!([1, 2]))),
            r#"{"result": [1, 2], "id": 2, "jsonrpc": "2.0"}"#
        );
        let err = RpcError {
            code: -32601,
            message: "Method x not supported.".into(),
        };
        assert_eq!(
            envelope(&json!(3), true, &Err(err.clone())),
            r#"{"id": 3, "jsonrpc": "2.0", "error": {"code": -32601, "message": "Method x not supported."}}"#
        );
        assert_eq!(
            envelope(&json!(3), false, &Err(err)),
            r#"{"result": null, "id": 3, "error": {"code": -32601, "message": "Method x not supported."}}"#
        );
    }

    #[test]
    fn a_body_that_is_not_json_gets_pythons_message() {
        let body = b"not json";
        let e = serde_json::from_slice::<Value>(body).expect_err("not json");
        assert_eq!(
            decode_error(body, &e),
            "Request not json invalid. (JSONDecodeError:Expecting value: line 1 column 1 (char 0))"
        );
    }
}
