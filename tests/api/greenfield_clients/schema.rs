//! BTCPay's swagger schemas (tests/fixtures/greenfield/, from btcpayserver
//! v2.4.1, see its README) as validators: a client-observed answer by its
//! route and status, a webhook body by its `type`. Every `$ref` is resolved
//! inside `schemas.json`: nothing is fetched.

use std::path::Path;

use serde_json::{json, Map, Value};

/// `schemas.json` and `routes.json`.
pub struct Schemas {
    /// `schemas.json`: `$id`, `$schema` and every schema under `$defs`.
    schemas: Value,
    /// `routes.json`: `routes` (responses by status) and `webhookEvents`.
    routes: Value,
}

/// A fixture file as JSON.
fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/greenfield")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `routes.json` refers to `schemas.json#/$defs/X`; inside one document that is `#/$defs/X`.
fn local_refs(schema: &Value) -> Value {
    match schema {
        Value::String(s) => Value::String(s.replacen("schemas.json#", "#", 1)),
        Value::Array(items) => Value::Array(items.iter().map(local_refs).collect()),
        Value::Object(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), local_refs(v))).collect()),
        other => other.clone(),
    }
}

impl Schemas {
    /// Reads both fixtures.
    pub fn load() -> Schemas {
        Schemas {
            schemas: fixture("schemas.json"),
            routes: fixture("routes.json"),
        }
    }

    /// Checks `instance` against `schema` (as routes.json words it); every error, with its place.
    pub fn check(&self, what: &str, schema: &Value, instance: &Value) -> Result<(), String> {
        let Value::Object(schema) = local_refs(schema) else {
            return Err(format!("{what}: no schema in the fixtures"));
        };
        // One document: the fixture's $id, $schema and $defs, and the schema itself.
        let mut doc: Map<String, Value> = self.schemas.as_object().cloned().unwrap_or_default();
        doc.remove("description");
        doc.extend(schema);
        let validator = jsonschema::validator_for(&Value::Object(doc))
            .map_err(|e| format!("{what}: the fixture schema does not compile: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{e} (at {:?})", e.instance_path().to_string()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{what}: {}\nin {instance}", errors.join("\n")))
        }
    }

    /// Checks an answer of `route` (`"GET /api/v1/stores"`) with `status`:
    /// a success against the route's 200 schema, a 422 against
    /// `ValidationProblemDetails`, any other error against `ProblemDetails`.
    pub fn check_answer(&self, route: &str, status: u16, body: &Value) -> Result<(), String> {
        let responses = &self.routes["routes"][route]["responses"];
        if responses.is_null() {
            return Err(format!("{route}: not in routes.json"));
        }
        let schema = match status {
            200 => responses["200"].clone(),
            422 => json!({"$ref": "#/$defs/ValidationProblemDetails"}),
            _ => json!({"$ref": "#/$defs/ProblemDetails"}),
        };
        self.check(&format!("{route} → {status}"), &schema, body)
    }

    /// Checks a webhook body against the schema of its `type`.
    pub fn check_event(&self, body: &Value) -> Result<(), String> {
        let kind = body["type"].as_str().unwrap_or_default();
        let schema = &self.routes["webhookEvents"][kind];
        if schema.is_null() {
            return Err(format!("webhook type {kind:?}: not in routes.json"));
        }
        self.check(&format!("webhook {kind}"), schema, body)
    }
}

#[test]
fn the_schemas_refuse_what_the_plugin_could_not_read() {
    let schemas = Schemas::load();
    let route = "GET /api/v1/server/info";
    let good = json!({"version": "2.4.1", "onion": "", "supportedPaymentMethods": ["BCH-CHAIN"],
        "fullySynched": true, "syncStatus": []});
    schemas.check_answer(route, 200, &good).expect("a good server/info");
    // `fullySynched` as 1, as a PHP server might say it: refused.
    let mut bad = good.clone();
    bad["fullySynched"] = json!(1);
    assert!(schemas.check_answer(route, 200, &bad).is_err(), "fullySynched 1 passed");
    // Error shapes.
    schemas
        .check_answer(
            route,
            404,
            &json!({"code": "invoice-not-found", "message": "The invoice was not found"}),
        )
        .expect("a problem");
    assert!(schemas
        .check_answer(route, 404, &json!({"error": {"code": "x"}}))
        .is_err());
    assert!(schemas.check_answer(route, 422, &json!({"path": "amount"})).is_err());
}
