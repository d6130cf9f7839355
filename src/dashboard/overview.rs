//! `GET /dashboard`: the wallet link and balance (the same view as `GET
//! /api/v1/wallet`), the address pool, the rates, invoices by status, and the
//! webhook deliveries failing.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::i18n::{self, delivery_name, status_name, texts};
use super::page::{document, esc, html, signed_bch, DashError, Nav};
use super::queries;
use super::session::Signed;
use crate::http::wallet::wallet_view;
use crate::http::AppState;

/// Failing deliveries listed on the overview.
const FAILING_SHOWN: usize = 5;

/// `GET /dashboard`
pub async fn page(signed: Signed, req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, DashError> {
    let lang = i18n::of_request(&req);
    let t = texts(lang);
    let failed = |e: queries::QueryError| {
        log::error!("dashboard overview: {e}");
        DashError::Internal
    };
    let (by_status, pool, outbox) = queries::counts(&state.reader).await.map_err(failed)?;
    let failing = queries::failed_events(&state.reader, FAILING_SHOWN)
        .await
        .map_err(failed)?;
    let wallet = wallet_view(&state).await;

    let balance = match wallet.balance {
        Some(b) => format!(
            r#"<div class="big" id="balance-confirmed">{} {bch}</div><div class="muted">{} <span id="balance-unconfirmed">{} {bch}</span></div>"#,
            signed_bch(b.confirmed),
            esc(t.unconfirmed_balance),
            signed_bch(b.unconfirmed),
            bch = t.bch,
        ),
        None => format!(
            r#"<p class="muted" id="balance-unknown">{}</p>"#,
            esc(t.balance_unknown)
        ),
    };
    let wallet_card = format!(
        r#"<section class="card" id="wallet"><h2>{title}</h2>
<dl class="facts"><dt>{link}</dt><dd><span class="pill {state}" id="wallet-state">{state}</span></dd>
<dt>{network}</dt><dd>{net}</dd></dl>
<h2 class="gap">{confirmed}</h2>{balance}</section>"#,
        title = esc(t.wallet),
        link = esc(t.link),
        state = wallet.state,
        network = esc(t.network),
        net = esc(wallet.network.as_deref().unwrap_or("?")),
        confirmed = esc(t.confirmed_balance),
    );
    let pool_card = format!(
        r#"<section class="card" id="pool"><h2>{}</h2><div class="big">{pool}</div><div class="muted">{}</div>
<p class="muted">{outbox} {}</p></section>"#,
        esc(t.pool),
        esc(t.pool_available),
        esc(t.pending_deliveries),
    );
    let rates_card = format!(
        r#"<section class="card" id="rates"><h2>{}</h2>{}</section>"#,
        esc(t.rates),
        rates_table(&state.rates.to_api(chrono::Utc::now()), t)
    );
    let mut statuses = String::new();
    for (status, n) in &by_status {
        statuses.push_str(&format!(
            r#"<tr><td><a href="/dashboard/invoices?status={s}"><span class="pill {s}">{name}</span></a></td><td class="num" id="count-{s}">{n}</td></tr>"#,
            s = status.as_str(),
            name = esc(status_name(lang, *status)),
        ));
    }
    let mut failing_rows = String::new();
    for e in &failing {
        failing_rows.push_str(&format!(
            r#"<tr><td><a href="/dashboard/invoices/{inv}#{id}" class="mono">{inv}</a></td><td>{kind}</td><td><span class="pill failed">{state}</span></td><td class="num">{n}</td></tr>"#,
            inv = esc(e.invoice_id.as_str()),
            id = esc(&e.id),
            kind = esc(e.kind.type_name()),
            state = esc(delivery_name(lang, e.state)),
            n = e.attempts.len(),
        ));
    }
    let failing_html = if failing.is_empty() {
        format!(r#"<p class="muted">{}</p>"#, esc(t.none_failing))
    } else {
        format!(
            r#"<div class="scroll"><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th class="num">{}</th></tr></thead><tbody>{failing_rows}</tbody></table></div><p><a href="/dashboard/webhooks">{} →</a></p>"#,
            esc(t.invoice),
            esc(t.events),
            esc(t.delivery),
            esc(t.attempts),
            esc(t.nav_webhooks)
        )
    };
    let body = format!(
        r#"<div class="grid">{wallet_card}{pool_card}{rates_card}</div>
<div class="grid"><section class="card" id="statuses"><h2>{by_status}</h2><table><tbody>{statuses}</tbody></table></section>
<section class="card" id="failing"><h2>{failing_title}</h2>{failing_html}</section></div>"#,
        by_status = esc(t.by_status),
        failing_title = esc(t.failing),
    );
    Ok(html(
        StatusCode::OK,
        document(
            lang,
            t.nav_overview,
            Nav::Overview,
            Some(&signed.session),
            "/dashboard",
            &body,
        ),
    ))
}

/// The rates as `GET /api/v1/rates` gives them: a row a currency (its rate or
/// "no rate", when, and each source's state).
fn rates_table(rates: &serde_json::Value, t: &i18n::Texts) -> String {
    let Some(list) = rates["rates"].as_array().filter(|l| !l.is_empty()) else {
        return format!(r#"<p class="muted">{}</p>"#, esc(t.rates_none));
    };
    let mut rows = String::new();
    for r in list {
        let currency = r["currency"].as_str().unwrap_or("?");
        let rate = r["rate"].as_str().unwrap_or(t.rate_unavailable);
        let sources: Vec<String> = r["sources"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                let state = s["state"].as_str().unwrap_or("?");
                format!(
                    r#"<span class="pill {state}">{} {state}</span>"#,
                    esc(s["name"].as_str().unwrap_or("?"))
                )
            })
            .collect();
        rows.push_str(&format!(
            r#"<tr id="rate-{c}"><td>{c}</td><td class="num mono">{rate}</td><td class="muted">{at}</td><td>{sources}</td></tr>"#,
            c = esc(currency),
            rate = esc(rate),
            at = esc(r["at"].as_str().unwrap_or("")),
            sources = sources.join(" "),
        ));
    }
    format!(r#"<div class="scroll"><table><tbody>{rows}</tbody></table></div>"#)
}
