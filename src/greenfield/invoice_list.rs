//! `GET stores/{storeId}/invoices` (`docs/greenfield.md` §4.6, php
//! `getAllInvoicesWithFilter`): newest first, filtered by `orderId`,
//! `status` (both repeatable, Greenfield's words), `startDate`/`endDate`
//! (unix seconds, on the creation time), `textSearch` (id, order id,
//! address), paged by `skip`/`take`. Not used by the plugin.

use actix_web::{web, HttpResponse};

use super::invoice_routes::view;
use super::mapping::{self, invoice_data};
use super::reply::{check_store, ok, GreenfieldError};
use super::types::InvoiceStatus as GfStatus;
use crate::http::AppState;
use crate::invoice::Invoice;

/// The most invoices one answer holds, and the default.
const MAX_TAKE: usize = 500;
/// Invoices read per store page while filtering.
const PAGE: usize = 500;

/// The filters of one list request.
#[derive(Debug, Default, PartialEq)]
pub struct Filter {
    /// Any of these order ids (none: any).
    pub order_ids: Vec<String>,
    /// Any of these statuses (none: any).
    pub statuses: Vec<GfStatus>,
    /// Created at or after (unix seconds).
    pub start: Option<i64>,
    /// Created at or before (unix seconds).
    pub end: Option<i64>,
    /// In the id, order id or address.
    pub text: Option<String>,
    /// Matches to pass over.
    pub skip: usize,
    /// Matches to answer.
    pub take: usize,
}

/// A query parameter's number, or a `422` at its name.
fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, GreenfieldError> {
    value
        .parse()
        .map_err(|_| GreenfieldError::field(name, &format!("{name} must be a whole number")))
}

impl Filter {
    /// Reads the query (`?orderId=a&orderId=b&status=Settled&take=10`).
    pub fn parse(query: &[(String, String)]) -> Result<Filter, GreenfieldError> {
        let mut filter = Filter {
            take: MAX_TAKE,
            ..Filter::default()
        };
        for (name, value) in query {
            match name.as_str() {
                "orderId" => filter.order_ids.push(value.clone()),
                "status" => filter.statuses.push(
                    serde_json::from_value(serde_json::Value::String(value.clone())).map_err(|_| {
                        GreenfieldError::field("status", "status must be New, Processing, Settled, Expired or Invalid")
                    })?,
                ),
                "startDate" => filter.start = Some(number(name, value)?),
                "endDate" => filter.end = Some(number(name, value)?),
                "textSearch" => filter.text = Some(value.clone()).filter(|t| !t.is_empty()),
                "skip" => filter.skip = number(name, value)?,
                "take" => filter.take = number::<usize>(name, value)?.min(MAX_TAKE),
                // Other BTCPay filters (includeArchived…) change nothing here.
                _ => {}
            }
        }
        Ok(filter)
    }

    /// Whether `invoice` passes.
    pub fn matches(&self, invoice: &Invoice) -> bool {
        let created = invoice.created_at.timestamp();
        let order_ok =
            self.order_ids.is_empty() || invoice.order_id.as_ref().is_some_and(|o| self.order_ids.contains(o));
        let status_ok = self.statuses.is_empty() || self.statuses.contains(&mapping::statuses(invoice).0);
        let text_ok = self.text.as_deref().is_none_or(|t| {
            invoice.id.as_str().contains(t)
                || invoice.address.as_str().contains(t)
                || invoice.order_id.as_deref().is_some_and(|o| o.contains(t))
        });
        order_ok
            && status_ok
            && text_ok
            && self.start.is_none_or(|s| created >= s)
            && self.end.is_none_or(|e| created <= e)
    }
}

/// `GET stores/{storeId}/invoices`.
pub async fn list(
    path: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    check_store(&state, &path)?;
    let filter = Filter::parse(&query)?;
    let reader = state.reader.clone();
    // Pages read from disk: off the HTTP workers.
    let found = web::block(move || -> Result<Vec<Invoice>, crate::store::StoreError> {
        let mut matched = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let (page, next) = reader.list(None, None, PAGE, cursor.as_deref())?;
            let mut older_than_start = false;
            for invoice in page {
                if filter.start.is_some_and(|s| invoice.created_at.timestamp() < s) {
                    older_than_start = true;
                    break;
                }
                if filter.matches(&invoice) {
                    matched.push(invoice);
                }
            }
            if matched.len() >= filter.skip + filter.take || older_than_start {
                break;
            }
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok(matched.into_iter().skip(filter.skip).take(filter.take).collect())
    })
    .await
    .map_err(|_| GreenfieldError::internal())?
    .map_err(|e| GreenfieldError::store("listing invoices", &e))?;
    let view = view(&state);
    let body: Vec<_> = found.iter().map(|i| invoice_data(i, &view)).collect();
    Ok(ok(&body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
    }

    #[test]
    fn repeated_filters_are_all_kept_and_bad_numbers_are_422() {
        let f = Filter::parse(&q(&[
            ("orderId", "a"),
            ("orderId", "b"),
            ("status", "Settled"),
            ("status", "New"),
            ("take", "9999"),
            ("skip", "2"),
            ("includeArchived", "true"),
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.order_ids, ["a", "b"]);
        assert_eq!(f.statuses, [GfStatus::Settled, GfStatus::New]);
        assert_eq!((f.skip, f.take), (2, MAX_TAKE));
        for bad in [("status", "settled"), ("take", "-1"), ("startDate", "yesterday")] {
            assert!(
                matches!(Filter::parse(&q(&[bad])), Err(GreenfieldError::Validation(_))),
                "{bad:?}"
            );
        }
    }
}
