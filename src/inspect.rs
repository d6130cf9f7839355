//! `bchpay inspect`: reads a store and prints invoices, addresses, the pool,
//! the events and totals, as aligned tables or JSON.
//!
//! The same [`query`] serves a stopped engine's store (opened directly) and a
//! running engine (through `/api/v1/admin/…`, since sled locks its directory);
//! [`render`] prints either answer. Nothing here writes to the store.

use std::path::Path;

use serde_json::{json, Value};

use crate::event::DeliveryState;
use crate::invoice::{InvoiceId, InvoiceStatus};
use crate::store::{StoreError, StoreReader, SCHEMA_VERSION};

/// What to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Totals; with `check`, the store's invariants checked too (reads everything).
    Stats {
        /// Run [`crate::store::check_invariants`] and report what is broken.
        check: bool,
    },
    /// Invoices, newest first.
    Invoices {
        /// Only this status.
        status: Option<InvoiceStatus>,
        /// At most this many.
        limit: usize,
    },
    /// One invoice with its payments and events.
    Invoice(InvoiceId),
    /// The ledger: address → invoice.
    Addresses {
        /// At most this many.
        limit: usize,
    },
    /// Addresses made in advance.
    Pool {
        /// At most this many.
        limit: usize,
    },
    /// Webhook deliveries with their attempts.
    Events {
        /// Only this delivery state.
        state: Option<DeliveryState>,
        /// At most this many.
        limit: usize,
    },
}

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The store failed or is locked.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such invoice.
    #[error("no invoice {0}")]
    NotFound(String),
}

/// Bytes of the files under `dir`.
pub fn size_on_disk(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => size_on_disk(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Answers `q` from `reader` (`store_dir` for the size on disk).
pub fn query(reader: &StoreReader, store_dir: &Path, q: &Query) -> Result<Value, InspectError> {
    Ok(match q {
        Query::Stats { check } => {
            let by_status: serde_json::Map<String, Value> = reader
                .status_counts()?
                .into_iter()
                .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
                .collect();
            let outbox: serde_json::Map<String, Value> = reader
                .event_state_counts()?
                .into_iter()
                .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
                .collect();
            json!({
                "invoices": reader.invoice_count()?,
                "invoices_by_status": by_status,
                "pool": reader.pool_len(),
                "ledger": reader.ledger_len(),
                "watched": reader.watched_ids()?.len(),
                "events_by_state": outbox,
                "outbox_depth": reader.outbox_len(),
                "store_bytes": size_on_disk(store_dir),
                "schema_version": reader.schema_version()?.unwrap_or(SCHEMA_VERSION),
                "invariants_broken": if *check { json!(crate::store::check_invariants(reader)?) } else { Value::Null },
            })
        }
        Query::Invoices { status, limit } => {
            let (invoices, _) = reader.list(*status, None, *limit, None)?;
            json!({"invoices": invoices.iter().map(|i| i.to_api("", None)).collect::<Vec<_>>()})
        }
        Query::Invoice(id) => {
            let invoice = reader
                .invoice(id)?
                .ok_or_else(|| InspectError::NotFound(id.to_string()))?;
            let (events, _) = reader.events(Some(id), None, usize::MAX, None)?;
            json!({
                "invoice": invoice.to_api("", None),
                "events": events.iter().map(|e| e.to_api()).collect::<Vec<_>>(),
            })
        }
        Query::Addresses { limit } => {
            let rows: Vec<Value> = reader
                .ledger(*limit)?
                .into_iter()
                .map(|(a, id)| json!({"address": a, "invoice_id": id}))
                .collect();
            json!({"addresses": rows})
        }
        Query::Pool { limit } => {
            let pool: Vec<String> = reader
                .pool_addresses()?
                .into_iter()
                .take(*limit)
                .map(|a| a.to_string())
                .collect();
            json!({"pool": pool})
        }
        Query::Events { state, limit } => {
            let (events, _) = reader.events(None, *state, *limit, None)?;
            json!({"events": events.iter().map(|e| e.to_api()).collect::<Vec<_>>()})
        }
    })
}

/// Lays out rows as a table with aligned columns.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(headers.to_vec());
    out += &line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for row in rows {
        out += &line(row.iter().map(String::as_str).collect());
    }
    out
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn rows(list: &Value, columns: &[&str]) -> Vec<Vec<String>> {
    list.as_array().map_or_else(Vec::new, |items| {
        items
            .iter()
            .map(|item| columns.iter().map(|c| text(&item[*c])).collect())
            .collect()
    })
}

/// A table whose columns are the same-named members of each item of `list`.
fn listing(list: &Value, columns: &[&str]) -> String {
    table(columns, &rows(list, columns))
}

/// Prints the answer to `q` as aligned tables.
pub fn render(q: &Query, answer: &Value) -> String {
    match q {
        Query::Stats { .. } => {
            let mut lines = Vec::new();
            for key in [
                "invoices",
                "pool",
                "ledger",
                "watched",
                "outbox_depth",
                "store_bytes",
                "schema_version",
            ] {
                lines.push(vec![key.to_owned(), text(&answer[key])]);
            }
            for group in ["invoices_by_status", "events_by_state"] {
                if let Some(map) = answer[group].as_object() {
                    for (k, v) in map {
                        lines.push(vec![format!("{group}.{k}"), text(v)]);
                    }
                }
            }
            let mut out = table(&["what", "count"], &lines);
            if let Some(broken) = answer["invariants_broken"].as_array() {
                out.push_str(&match broken.len() {
                    0 => "invariants: all hold\n".to_owned(),
                    n => format!("invariants: {n} broken\n"),
                });
                for b in broken {
                    out.push_str(&format!("  {}\n", text(b)));
                }
            }
            out
        }
        Query::Invoices { .. } => listing(
            &answer["invoices"],
            &[
                "id",
                "status",
                "amount",
                "price",
                "currency",
                "received",
                "address",
                "order_id",
                "created_at",
            ],
        ),
        Query::Invoice(_) => {
            let inv = &answer["invoice"];
            let fields = [
                "id",
                "status",
                "exception",
                "amount",
                "price",
                "currency",
                "rate",
                "rate_sources",
                "rate_at",
                "received",
                "address",
                "order_id",
                "description",
                "required_confirmations",
                "created_at",
                "expires_at",
                "paid_at",
                "confirmed_at",
            ];
            let mut out = table(
                &["field", "value"],
                &fields
                    .iter()
                    .map(|f| vec![(*f).to_owned(), text(&inv[*f])])
                    .collect::<Vec<_>>(),
            );
            out += "\npayments\n";
            out += &listing(&inv["payments"], &["txid", "amount_sats", "height"]);
            out += "\nevents\n";
            out += &listing(
                &answer["events"],
                &["sequence", "type", "state", "attempts", "last_error", "id"],
            );
            out
        }
        Query::Addresses { .. } => listing(&answer["addresses"], &["address", "invoice_id"]),
        Query::Pool { .. } => {
            let list: Vec<Vec<String>> = answer["pool"]
                .as_array()
                .map_or_else(Vec::new, |a| a.iter().map(|x| vec![text(x)]).collect());
            table(&["address"], &list)
        }
        Query::Events { .. } => listing(
            &answer["events"],
            &[
                "id",
                "invoice_id",
                "sequence",
                "type",
                "state",
                "attempts",
                "last_error",
                "next_attempt_at",
            ],
        ),
    }
}

/// The admin API path (and query) that answers `q` on a running engine.
pub fn admin_path(q: &Query) -> String {
    match q {
        Query::Stats { check: false } => "/api/v1/admin/stats".into(),
        Query::Stats { check: true } => "/api/v1/admin/stats?check=true".into(),
        Query::Invoices { status, limit } => match status {
            Some(s) => format!("/api/v1/admin/invoices?limit={limit}&status={}", s.as_str()),
            None => format!("/api/v1/admin/invoices?limit={limit}"),
        },
        Query::Invoice(id) => format!("/api/v1/admin/invoices/{id}"),
        Query::Addresses { limit } => format!("/api/v1/admin/addresses?limit={limit}"),
        Query::Pool { limit } => format!("/api/v1/admin/pool?limit={limit}"),
        Query::Events { state, limit } => match state {
            Some(s) => format!("/api/v1/admin/events?limit={limit}&state={}", s.as_str()),
            None => format!("/api/v1/admin/events?limit={limit}"),
        },
    }
}

/// Where `bchpay inspect` reads from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A stopped engine's store directory.
    Store(std::path::PathBuf),
    /// A running engine, through its admin API.
    Api {
        /// Its base URL.
        url: String,
        /// An API key of it.
        key: crate::config::Secret,
    },
}

/// Runs one inspection: the answer as JSON, or a message for the terminal.
pub async fn fetch(source: &Source, q: &Query) -> Result<Value, String> {
    match source {
        Source::Store(dir) => {
            let store = crate::store::Store::open_existing(dir).map_err(|e| match e {
                StoreError::Locked(_) => format!(
                    "{e}\n(a running engine holds it: use `bchpay inspect --url http://HOST:PORT --api-key KEY …`)"
                ),
                other => other.to_string(),
            })?;
            query(&store.reader(), dir, q).map_err(|e| e.to_string())
        }
        Source::Api { url, key } => {
            let client = awc::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .finish();
            let target = format!("{}{}", url.trim_end_matches('/'), admin_path(q));
            let mut response = client
                .get(&target)
                .bearer_auth(key.expose())
                .send()
                .await
                .map_err(|e| format!("cannot reach {url}: {e}"))?;
            let body = response
                .body()
                .limit(256 * 1024 * 1024)
                .await
                .map_err(|e| format!("reading the answer: {e}"))?;
            let value: Value =
                serde_json::from_slice(&body).map_err(|e| format!("the engine answered no JSON: {e}"))?;
            if response.status().is_success() {
                Ok(value)
            } else {
                Err(format!(
                    "the engine answered {}: {}",
                    response.status().as_u16(),
                    value["error"]["message"].as_str().unwrap_or("no message")
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_aligned() {
        let t = table(
            &["a", "long header"],
            &[vec!["wide cell".into(), "x".into()], vec!["y".into(), "z".into()]],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "a          long header");
        assert_eq!(lines[1], "---------  -----------");
        assert_eq!(lines[2], "wide cell  x");
        assert_eq!(lines[3], "y          z");
    }

    #[test]
    fn admin_paths_carry_the_filters() {
        assert_eq!(
            admin_path(&Query::Invoices {
                status: Some(InvoiceStatus::Paid),
                limit: 5
            }),
            "/api/v1/admin/invoices?limit=5&status=paid"
        );
        assert_eq!(admin_path(&Query::Stats { check: false }), "/api/v1/admin/stats");
        assert_eq!(
            admin_path(&Query::Stats { check: true }),
            "/api/v1/admin/stats?check=true"
        );
    }
}
