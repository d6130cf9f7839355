//! `GET /dashboard/invoices?status=…&q=…&cursor=…`: invoices newest first,
//! filtered by status, or found by invoice id, order id, address or txid;
//! pages of [`PAGE`]. Also the CSV export's form.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::i18n::{self, status_name, texts, Lang};
use super::page::{document, esc, html, time, url_encode, DashError, Nav};
use super::pricing::price;
use super::queries::{self, QueryError};
use super::session::Signed;
use crate::http::AppState;
use crate::invoice::{Invoice, InvoiceStatus};

/// Invoices on one page.
pub const PAGE: usize = 25;

/// The table of `invoices`.
pub fn table(lang: Lang, invoices: &[Invoice]) -> String {
    let t = texts(lang);
    if invoices.is_empty() {
        return format!(r#"<p class="muted" id="no-invoices">{}</p>"#, esc(t.no_invoices));
    }
    let mut rows = String::new();
    for inv in invoices {
        let p = price(inv);
        rows.push_str(&format!(
            r#"<tr><td class="nowrap hide-narrow">{created}</td><td><a class="mono invoice-link" href="/dashboard/invoices/{id}">{id}</a> <span class="pill {s}">{status}</span></td><td class="order" data-label="{order_l}">{order}</td><td class="num" data-label="{price_l}">{price} {currency}</td><td class="num hide-narrow">{amount}</td><td class="num" data-label="{received_l}">{received} BCH</td></tr>"#,
            created = time(inv.created_at),
            order_l = esc(t.order),
            price_l = esc(t.price),
            received_l = esc(t.received),
            id = esc(inv.id.as_str()),
            order = esc(inv.order_id.as_deref().unwrap_or("")),
            s = inv.status.as_str(),
            status = esc(status_name(lang, inv.status)),
            price = esc(&p.price),
            currency = esc(&p.currency),
            amount = inv.amount_sats.to_bch_string(),
            received = inv.received_sats().to_bch_string(),
        ));
    }
    format!(
        r#"<div class="scroll"><table id="invoices" class="cards"><thead><tr><th class="hide-narrow">{created}</th><th>{invoice} · {status}</th><th>{order}</th><th class="num">{price}</th><th class="num hide-narrow">{amount} (BCH)</th><th class="num">{received}</th></tr></thead><tbody>{rows}</tbody></table></div>"#,
        created = esc(t.created),
        invoice = esc(t.invoice),
        order = esc(t.order),
        status = esc(t.status),
        price = esc(t.price),
        amount = esc(t.amount),
        received = esc(t.received),
    )
}

/// `GET /dashboard/invoices`
pub async fn page(
    signed: Signed,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, DashError> {
    let lang = i18n::of_request(&req);
    let t = texts(lang);
    let status = match query.get("status").map(String::as_str) {
        None | Some("") => None,
        Some(s) => Some(InvoiceStatus::parse(s).ok_or_else(|| {
            DashError::BadRequest("status must be one of new, paid, confirmed, expired, invalid".into())
        })?),
    };
    let q = query.get("q").map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    let cursor = query.get("cursor").filter(|c| !c.is_empty()).cloned();
    let failed = |e: QueryError| match e {
        QueryError::InvalidCursor => DashError::BadRequest("cursor was not given out by this engine".into()),
        other => {
            log::error!("dashboard invoice list: {other}");
            DashError::Internal
        }
    };
    let (invoices, next) = match &q {
        Some(q) => {
            let network = state.wallet.status().network;
            let mut found = queries::search(&state.reader, q.clone(), network)
                .await
                .map_err(failed)?;
            if let Some(s) = status {
                found.retain(|i| i.status == s);
            }
            (found, None)
        }
        None => queries::invoice_page(&state.reader, status, PAGE, cursor.clone())
            .await
            .map_err(failed)?,
    };

    let mut options = format!(r#"<option value="">{}</option>"#, esc(t.any_status));
    for s in [
        InvoiceStatus::New,
        InvoiceStatus::Paid,
        InvoiceStatus::Confirmed,
        InvoiceStatus::Expired,
        InvoiceStatus::Invalid,
    ] {
        let selected = if status == Some(s) { " selected" } else { "" };
        options.push_str(&format!(
            r#"<option value="{v}"{selected}>{}</option>"#,
            esc(status_name(lang, s)),
            v = s.as_str()
        ));
    }
    let status_param = status.map(|s| format!("status={}&", s.as_str())).unwrap_or_default();
    let mut pager = String::new();
    if cursor.is_some() {
        pager.push_str(&format!(
            r#"<a href="/dashboard/invoices?{}">{}</a>"#,
            esc(status_param.trim_end_matches('&')),
            esc(t.first_page)
        ));
    } else {
        pager.push_str("<span></span>");
    }
    if let Some(next) = &next {
        pager.push_str(&format!(
            r#"<a id="next-page" href="/dashboard/invoices?{}cursor={}">{}</a>"#,
            esc(&status_param),
            url_encode(next),
            esc(t.next_page)
        ));
    }
    let today = chrono::Utc::now().date_naive();
    let month_ago = today - chrono::Duration::days(30);
    let body = format!(
        r#"<section class="card"><form method="get" action="/dashboard/invoices" class="filters" id="filters">
<label>{status_l}<select name="status">{options}</select></label>
<label class="grow">{search_l}<input type="text" name="q" value="{q}" placeholder="{hint}" autocomplete="off"></label>
<button type="submit">{apply}</button></form></section>
<section class="card">{table}<div class="pager">{pager}</div></section>
<section class="card" id="export"><h2>{export}</h2><form method="get" action="/dashboard/export.csv" class="filters">
<label>{from_l}<input type="date" name="from" value="{from}" required></label>
<label>{to_l}<input type="date" name="to" value="{to}" required></label>
<button type="submit" class="secondary" id="download-csv">{download}</button></form></section>"#,
        status_l = esc(t.status),
        search_l = esc(t.search),
        q = esc(q.as_deref().unwrap_or("")),
        hint = esc(t.search_hint),
        apply = esc(t.apply),
        table = table(lang, &invoices),
        export = esc(t.export),
        from_l = esc(t.from),
        to_l = esc(t.to),
        from = month_ago.format("%Y-%m-%d"),
        to = today.format("%Y-%m-%d"),
        download = esc(t.download),
    );
    let here = req.uri().path_and_query().map_or("/dashboard/invoices", |p| p.as_str());
    Ok(html(
        StatusCode::OK,
        document(lang, t.nav_invoices, Nav::Invoices, Some(&signed.session), here, &body),
    ))
}
