//! Schema 3 → 4: every payment keeps when it was first seen (`seen_at`) and
//! the outputs that pay the address (`outputs`, with their index).
//!
//! Schema 4 also keeps per payment whether it `settled` (its
//! `PaymentSettled` was emitted): a confirmed invoice's old payments are
//! marked settled here, the others settle at the confirmer's next look.
//!
//! Stores of schema 2 and 3 hold payments without either. This step gives each
//! such payment `seen_at` = its invoice's `paid_at`, else its `created_at` (the
//! closest time the store knows; a payment is never seen before its invoice
//! exists), and leaves `outputs` out: the store cannot know the output index
//! without the wallet, and a guessed `-0` would be a lie. The confirmer fills
//! the outputs in the next time it looks at a watched invoice's address; a
//! final invoice's old payments keep none, and Greenfield shows them with the
//! bare txid as payment id ([`crate::invoice::Payment::per_output`]).
//!
//! It works on the JSON text, before anything decodes an invoice (both the
//! schema-2 form, a bare invoice, and the schema-3 one, `{"position", "invoice"}`),
//! adds only what is missing, and so can run again after a kill. The rest of
//! the migration (`migrate.rs`: reindex, counters, version) then runs as for
//! schema 2; on a schema-3 store that pass rewrites the same bytes.

use serde_json::Value;

use super::super::error::StoreError;
use super::super::layout::trees::Trees;

/// Invoices per write batch.
const BATCH: usize = 10_000;

/// Adds `seen_at` to every stored payment that lacks it; how many invoices changed.
pub fn upgrade(db: &sled::Db, trees: &Trees) -> Result<u64, StoreError> {
    let mut changed = 0u64;
    let mut batch = sled::Batch::default();
    let mut in_batch = 0usize;
    for entry in trees.invoices.iter() {
        let (key, bytes) = entry?;
        let mut value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Corrupt(format!("unreadable invoice {}: {e}", String::from_utf8_lossy(&key))))?;
        if !add_seen_at(&mut value) {
            continue;
        }
        let bytes = serde_json::to_vec(&value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        batch.insert(key, bytes);
        changed += 1;
        in_batch += 1;
        if in_batch == BATCH {
            trees.invoices.apply_batch(std::mem::take(&mut batch))?;
            db.flush()?;
            in_batch = 0;
        }
    }
    trees.invoices.apply_batch(batch)?;
    db.flush()?;
    log::info!("store migration: first-seen times given to the payments of {changed} invoices");
    Ok(changed)
}

/// Gives each payment of the stored invoice `value` (either form) without a
/// `seen_at` its invoice's `paid_at` or `created_at`; whether anything changed.
fn add_seen_at(value: &mut Value) -> bool {
    let invoice = match value.get_mut("invoice") {
        Some(inner) if inner.is_object() => inner,
        _ => value,
    };
    let when = invoice
        .get("paid_at")
        .filter(|v| v.is_string())
        .or_else(|| invoice.get("created_at"))
        .cloned();
    let confirmed = invoice.get("status").and_then(Value::as_str) == Some("confirmed");
    let (Some(when), Some(Value::Array(payments))) = (when, invoice.get_mut("payments")) else {
        return false;
    };
    let mut changed = false;
    for payment in payments.iter_mut().filter_map(Value::as_object_mut) {
        if !payment.contains_key("seen_at") {
            payment.insert("seen_at".into(), when.clone());
            // A confirmed invoice's payments had their confirmations: no
            // `PaymentSettled` is due for them any more.
            if confirmed {
                payment.insert("settled".into(), Value::Bool(true));
            }
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_payment_gets_paid_at_else_created_at_and_keeps_a_time_it_has() {
        let mut v3 = json!({"position": 3, "invoice": {
            "created_at": "2026-01-01T00:00:00Z", "paid_at": "2026-01-01T00:01:00Z",
            "payments": [{"txid": "a", "amount_sats": 1, "height": 0},
                         {"txid": "b", "amount_sats": 1, "height": 0, "seen_at": "2026-01-01T00:02:00Z"}]}});
        assert!(add_seen_at(&mut v3));
        assert_eq!(v3["invoice"]["payments"][0]["seen_at"], "2026-01-01T00:01:00Z");
        assert_eq!(v3["invoice"]["payments"][1]["seen_at"], "2026-01-01T00:02:00Z");
        assert!(!add_seen_at(&mut v3), "a second run changes nothing");

        assert_eq!(v3["invoice"]["payments"][0].get("settled"), None, "not confirmed");

        let mut v2 = json!({"status": "confirmed", "created_at": "2026-01-01T00:00:00Z", "paid_at": null,
            "payments": [{"txid": "a", "amount_sats": 1, "height": 0}]});
        assert!(add_seen_at(&mut v2));
        assert_eq!(v2["payments"][0]["seen_at"], "2026-01-01T00:00:00Z");
        assert_eq!(v2["payments"][0].get("outputs"), None, "no output index is guessed");
        assert_eq!(
            v2["payments"][0]["settled"], true,
            "a confirmed invoice's payments are settled"
        );

        let mut unpaid = json!({"position": 0, "invoice": {"created_at": "2026-01-01T00:00:00Z", "payments": []}});
        assert!(!add_seen_at(&mut unpaid));
    }
}
