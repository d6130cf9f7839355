//! `GET /dashboard/export.csv?from=YYYY-MM-DD&to=YYYY-MM-DD`: one row an
//! invoice created in those days (UTC, both included), newest first, for
//! bookkeeping. Streamed a page at a time, each page read off the HTTP
//! workers, so a long range costs no more memory than a page.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use futures_util::stream;

use super::csv::record;
use super::page::DashError;
use super::pricing::price;
use super::queries;
use super::session::Signed;
use crate::http::AppState;
use crate::invoice::{api_time, Invoice};

/// Invoices read per page.
const PAGE: usize = 500;

/// The header row.
pub const COLUMNS: [&str; 10] = [
    "id",
    "order_id",
    "created",
    "status",
    "price",
    "currency",
    "rate",
    "amount_bch",
    "received_bch",
    "txids",
];

/// The row of `inv`.
pub fn row(inv: &Invoice) -> String {
    let p = price(inv);
    let txids: Vec<&str> = inv.payments.iter().map(|p| p.txid.as_str()).collect();
    record(&[
        inv.id.as_str().to_owned(),
        inv.order_id.clone().unwrap_or_default(),
        api_time(inv.created_at),
        inv.status.as_str().to_owned(),
        p.price,
        p.currency,
        p.rate.unwrap_or_default(),
        inv.amount_sats.to_bch_string(),
        inv.received_sats().to_bch_string(),
        txids.join(" "),
    ])
}

fn day(query: &HashMap<String, String>, name: &str) -> Result<NaiveDate, DashError> {
    let text = query
        .get(name)
        .ok_or_else(|| DashError::BadRequest(format!("{name}: a date YYYY-MM-DD is needed")))?;
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|d| d.format("%Y-%m-%d").to_string() == *text)
        .ok_or_else(|| DashError::BadRequest(format!("{name}: not a date YYYY-MM-DD")))
}

/// Where the export's walk through the invoices stands.
struct Walk {
    /// The listing's cursor for the next page; `None` before the first.
    cursor: Option<String>,
    /// Nothing more to read.
    done: bool,
}

/// `GET /dashboard/export.csv`
pub async fn csv(
    _: Signed,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, DashError> {
    let (from, to) = (day(&query, "from")?, day(&query, "to")?);
    if from > to {
        return Err(DashError::BadRequest("from: must not be after to".into()));
    }
    let start: DateTime<Utc> = from.and_time(NaiveTime::MIN).and_utc();
    let end: DateTime<Utc> = (to + chrono::Duration::days(1)).and_time(NaiveTime::MIN).and_utc();
    let reader = state.reader.clone();
    let header = stream::once(async { Ok::<_, actix_web::Error>(web::Bytes::from(record(&COLUMNS))) });
    let rows = stream::unfold(
        Walk {
            cursor: None,
            done: false,
        },
        move |walk| {
            let reader = reader.clone();
            async move {
                if walk.done {
                    return None;
                }
                let page = queries::invoice_page(&reader, None, PAGE, walk.cursor.clone()).await;
                let (invoices, next) = match page {
                    Ok(page) => page,
                    Err(e) => {
                        log::error!("CSV export stopped: {e}");
                        let err = actix_web::error::ErrorInternalServerError("export failed");
                        return Some((
                            Err(err),
                            Walk {
                                cursor: None,
                                done: true,
                            },
                        ));
                    }
                };
                let mut chunk = String::new();
                let mut older_than_range = false;
                for inv in &invoices {
                    if inv.created_at < start {
                        older_than_range = true;
                        break;
                    }
                    if inv.created_at < end {
                        chunk.push_str(&row(inv));
                    }
                }
                let done = older_than_range || next.is_none();
                Some((Ok(web::Bytes::from(chunk)), Walk { cursor: next, done }))
            }
        },
    );
    log::info!("dashboard: CSV export of invoices created {from} to {to}");
    Ok(HttpResponse::build(StatusCode::OK)
        .insert_header(("Content-Type", "text/csv; charset=utf-8; header=present"))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"bchpay-invoices-{from}-to-{to}.csv\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .streaming(futures_util::StreamExt::chain(header, rows)))
}
