//! `GET /dashboard/invoices/{id}`: one invoice, its payments (txids,
//! confirmations) and its webhook events with every attempt; and `POST
//! /dashboard/events/{id}/redeliver`, which queues an event again through the
//! store's `Redeliver`, as `POST /api/v1/events/{id}/redeliver` does.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;

use super::i18n::{self, delivery_name, status_name, texts, Lang};
use super::page::{document, esc, html, local_path, see_other, time, url_encode, DashError, Nav};
use super::pricing::price;
use super::queries;
use super::session::Signed;
use crate::event::{DeliveryState, Event};
use crate::http::AppState;
use crate::invoice::{InvoiceException, InvoiceId};
use crate::store::{Redeliver, StoreError};

/// One event as a card: its delivery, every attempt, and the redeliver button
/// (coming back to `back`).
pub fn event_card(lang: Lang, e: &Event, csrf: &str, back: &str, with_invoice: bool) -> String {
    let t = texts(lang);
    let mut attempts = String::new();
    for a in &e.attempts {
        let outcome = match (a.status, &a.error) {
            (_, Some(err)) => esc(err),
            (Some(status), None) => format!("HTTP {status}"),
            (None, None) => String::new(),
        };
        attempts.push_str(&format!(
            "<li><span class=\"nowrap\">{}</span> — {outcome}</li>",
            time(a.at)
        ));
    }
    if attempts.is_empty() {
        attempts = format!("<li class=\"muted\">{}</li>", esc(t.no_attempts));
    }
    let next = match (e.state, e.next_attempt_at) {
        (DeliveryState::Pending, Some(at)) => format!(r#"<dt>{}</dt><dd>{}</dd>"#, esc(t.next_attempt), time(at)),
        _ => String::new(),
    };
    let invoice = if with_invoice {
        format!(
            r#"<dt>{}</dt><dd><a class="mono" href="/dashboard/invoices/{id}">{id}</a></dd>"#,
            esc(t.invoice),
            id = esc(e.invoice_id.as_str())
        )
    } else {
        String::new()
    };
    let button = if e.state == DeliveryState::Delivered && e.attempts.is_empty() {
        String::new()
    } else {
        format!(
            r#"<form method="post" action="/dashboard/events/{id}/redeliver" class="redeliver"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="back" value="{back}"><button type="submit" class="secondary">{label}</button></form>"#,
            id = url_encode(&e.id),
            csrf = esc(csrf),
            back = esc(back),
            label = esc(t.redeliver),
        )
    };
    format!(
        r#"<article class="card event" id="{id}" data-state="{state}"><h2>{kind} <span class="pill {state}">{state_name}</span></h2>
<dl class="facts">{invoice}<dt>{created_l}</dt><dd>{created}</dd><dt>URL</dt><dd class="mono">{url}</dd>{next}
<dt>{attempts_l}</dt><dd><ul class="attempts">{attempts}</ul></dd></dl>{button}<p class="muted mono">{id}</p></article>"#,
        id = esc(&e.id),
        kind = esc(e.kind.type_name()),
        state = e.state.as_str(),
        state_name = esc(delivery_name(lang, e.state)),
        created_l = esc(t.created),
        created = time(e.created_at),
        url = esc(e.url.as_deref().unwrap_or("—")),
        attempts_l = esc(t.attempts),
    )
}

/// The notice after a redelivery (`?redelivered=…`, `?no_endpoint=…`).
pub fn notice(lang: Lang, query: &HashMap<String, String>) -> String {
    let t = texts(lang);
    if query.contains_key("redelivered") {
        format!(r#"<p class="notice ok" id="notice">{}</p>"#, esc(t.redelivered))
    } else if query.contains_key("no_endpoint") {
        format!(r#"<p class="notice error" id="notice">{}</p>"#, esc(t.no_endpoint))
    } else {
        String::new()
    }
}

/// `GET /dashboard/invoices/{id}`
pub async fn page(
    signed: Signed,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, DashError> {
    let lang = i18n::of_request(&req);
    let t = texts(lang);
    let id = InvoiceId::parse(&path).map_err(|_| DashError::NotFound)?;
    let (inv, events) = queries::invoice_with_events(&state.reader, id.clone())
        .await
        .map_err(|e| {
            log::error!("dashboard: reading invoice {id}: {e}");
            DashError::Internal
        })?
        .ok_or(DashError::NotFound)?;
    let tip = state.tip();
    let p = price(&inv);
    let rate = p
        .rate
        .as_deref()
        .map(|r| {
            format!(
                r#" <span class="muted">(1 BCH = {} {})</span>"#,
                esc(r),
                esc(&p.currency)
            )
        })
        .unwrap_or_default();
    let mut payments = String::new();
    for pay in &inv.payments {
        let height = if pay.height > 0 {
            pay.height.to_string()
        } else {
            t.mempool.to_owned()
        };
        payments.push_str(&format!(
            r#"<tr><td class="mono txid">{txid}</td><td class="num">{amount}</td><td class="num">{height}</td><td class="num confirmations">{conf}</td></tr>"#,
            txid = esc(&pay.txid),
            amount = pay.amount_sats.to_bch_string(),
            height = esc(&height),
            conf = pay.confirmations(tip),
        ));
    }
    let payments = if payments.is_empty() {
        format!(r#"<p class="muted">{}</p>"#, esc(t.no_payments))
    } else {
        format!(
            r#"<div class="scroll"><table id="payments"><thead><tr><th>{}</th><th class="num">BCH</th><th class="num">{}</th><th class="num">{}</th></tr></thead><tbody>{payments}</tbody></table></div>"#,
            esc(t.txid),
            esc(t.height),
            esc(t.confirmations)
        )
    };
    let back = format!("/dashboard/invoices/{}", inv.id);
    let events_html = if events.is_empty() {
        format!(r#"<p class="muted">{}</p>"#, esc(t.no_events))
    } else {
        events
            .iter()
            .map(|e| event_card(lang, e, &signed.session.csrf, &back, false))
            .collect()
    };
    let exception = inv
        .exception
        .map(|x| {
            let name = match x {
                InvoiceException::PaidPartial => "paid_partial",
                InvoiceException::PaidOver => "paid_over",
                InvoiceException::PaidLate => "paid_late",
            };
            format!(r#" <span class="pill">{name}</span>"#)
        })
        .unwrap_or_default();
    let body = format!(
        r#"{notice}<section class="card" id="summary"><dl class="facts">
<dt>{status_l}</dt><dd><span class="pill {s}" id="status">{status}</span>{exception}</dd>
<dt>{order_l}</dt><dd id="order">{order}</dd>
<dt>{price_l}</dt><dd>{price} {currency}{rate}</dd>
<dt>{amount_l}</dt><dd>{amount} BCH</dd>
<dt>{received_l}</dt><dd>{received} BCH</dd>
<dt>{conf_l}</dt><dd>{conf} / {required}</dd>
<dt>{address_l}</dt><dd class="mono">{address}</dd>
<dt>{desc_l}</dt><dd>{desc}</dd>
<dt>{created_l}</dt><dd>{created}</dd>
<dt>{expires_l}</dt><dd>{expires}</dd>
<dt>{checkout_l}</dt><dd><a href="/i/{id}">/i/{id}</a></dd>
</dl></section>
<section class="card"><h2>{payments_l}</h2>{payments}</section>
<h2>{events_l}</h2>{events_html}"#,
        notice = notice(lang, &query),
        status_l = esc(t.status),
        s = inv.status.as_str(),
        status = esc(status_name(lang, inv.status)),
        order_l = esc(t.order),
        order = esc(inv.order_id.as_deref().unwrap_or("—")),
        price_l = esc(t.price),
        price = esc(&p.price),
        currency = esc(&p.currency),
        amount_l = esc(t.amount),
        amount = inv.amount_sats.to_bch_string(),
        received_l = esc(t.received),
        received = inv.received_sats().to_bch_string(),
        conf_l = esc(t.confirmations),
        conf = inv.confirmations(tip),
        required = inv.required_confirmations,
        address_l = esc(t.address),
        address = esc(inv.address.as_str()),
        desc_l = esc(t.description),
        desc = esc(inv.description.as_deref().unwrap_or("—")),
        created_l = esc(t.created),
        created = time(inv.created_at),
        expires_l = esc(t.expires),
        expires = time(inv.expires_at),
        checkout_l = esc(t.checkout_page),
        id = esc(inv.id.as_str()),
        payments_l = esc(t.payments),
        events_l = esc(t.events),
    );
    let here = req.uri().path_and_query().map_or(back.as_str(), |p| p.as_str());
    Ok(html(
        StatusCode::OK,
        document(lang, inv.id.as_str(), Nav::Invoices, Some(&signed.session), here, &body),
    ))
}

/// `POST /dashboard/events/{id}/redeliver` (with `csrf`, `back`): queues the
/// event again now, then `303` back to the page it came from.
pub async fn redeliver(
    signed: Signed,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, DashError> {
    signed.check_csrf(form.get("csrf").map(String::as_str))?;
    let event_id = path.into_inner();
    let back = form
        .get("back")
        .and_then(|b| local_path(b))
        .filter(|b| b.starts_with("/dashboard"))
        .unwrap_or("/dashboard/webhooks");
    let back = back.split(['?', '#']).next().unwrap_or(back).to_owned();
    let msg = Redeliver {
        event_id: event_id.clone(),
        now: Utc::now(),
    };
    let outcome = match state.store.send(msg).await {
        Ok(Ok(event)) => {
            log::info!(
                "dashboard: event {} of invoice {} queued again",
                event.id,
                event.invoice_id
            );
            "redelivered"
        }
        Ok(Err(StoreError::NotFound)) => return Err(DashError::NotFound),
        Ok(Err(StoreError::NoEndpoint)) => "no_endpoint",
        Ok(Err(e)) => {
            log::error!("dashboard: redelivering {event_id}: {e}");
            return Err(DashError::Internal);
        }
        Err(e) => {
            log::error!("dashboard: store unavailable for redelivering {event_id}: {e}");
            return Err(DashError::Internal);
        }
    };
    Ok(see_other(&format!("{back}?{outcome}=1#{}", url_encode(&event_id))))
}
