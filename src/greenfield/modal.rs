//! BTCPay's modal checkout (`docs/greenfield.md` §7): `GET /modal/btcpay.js`
//! (`window.btcpay`, bchpay's own script with BTCPay's interface) and `GET
//! /invoice?id=ID&view=modal`, the checkout page of `/i/{id}` with a script
//! that posts `"loaded"`, `"close"` and `{invoiceId, status}` to the shop's
//! window. That page may be framed by any shop (decision 5 of issue 14:
//! `frame-ancestors *`, no `X-Frame-Options`); its CSP is otherwise the
//! checkout page's, with this script's hash added. `/i/{id}` keeps its
//! strict headers.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine as _;
use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::http::checkout::i18n::Lang;
use crate::http::checkout::{page, status_json};
use crate::http::AppState;
use crate::invoice::InvoiceId;

/// The shop-side script.
const BTCPAY_JS: &str = include_str!("modal/btcpay.js");
/// The script added to the checkout page in the frame.
const PAGE_JS: &str = include_str!("modal/page.js");

/// Mounts the two routes (beside the checkout page's).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/modal/btcpay.js", web::get().to(script))
        .route("/invoice", web::get().to(invoice_page));
}

/// `GET /modal/btcpay.js`.
pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Content-Type", "application/javascript; charset=utf-8"))
        .insert_header(("Cache-Control", "public, max-age=300"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(BTCPAY_JS)
}

/// The modal page's CSP: the checkout page's, its script hash added, any
/// shop allowed to frame it.
pub fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(PAGE_JS.as_bytes()));
        page::content_security_policy()
            .replacen("script-src ", &format!("script-src 'sha256-{hash}' "), 1)
            .replace("frame-ancestors 'none'", "frame-ancestors *")
    })
}

/// The checkout document of `/i/{id}` made the modal page: its status URL
/// relative to `/invoice` (`i/ID/status`), the modal script before `</body>`.
fn modal_document(document: &str, id: &InvoiceId) -> String {
    document
        .replacen(
            &format!("\"status_url\":\"{id}/status\""),
            &format!("\"status_url\":\"i/{id}/status\""),
            1,
        )
        .replacen("</body>", &format!("<script>{PAGE_JS}</script>\n</body>"), 1)
}

/// An HTML answer with the modal page's headers: frameable, otherwise strict.
fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Content-Type", "text/html; charset=utf-8"))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Content-Security-Policy", content_security_policy()))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Vary", "Accept-Language"))
        .body(body)
}

/// `GET /invoice?id=ID&view=modal`; without `view=modal`, a redirect to the
/// checkout page `/i/{id}` (BTCPay's `/invoice?id=` is its full checkout).
pub async fn invoice_page(
    request: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let lang = Lang::negotiate(request.headers().get("Accept-Language").and_then(|v| v.to_str().ok()));
    let Some(id) = query.get("id").and_then(|id| InvoiceId::parse(id).ok()) else {
        return html(StatusCode::NOT_FOUND, page::render_missing(lang, false));
    };
    if query.get("view").map(String::as_str) != Some("modal") {
        return HttpResponse::Found()
            .insert_header(("Location", format!("i/{id}")))
            .insert_header(("Cache-Control", "no-store"))
            .finish();
    }
    match state.reader.invoice(&id) {
        Ok(Some(invoice)) => {
            let tip = state.tip();
            let document = page::render(
                &invoice,
                &status_json(&invoice, tip),
                invoice.confirmations(tip),
                Utc::now(),
                lang,
            );
            html(StatusCode::OK, modal_document(&document, &id))
        }
        Ok(None) => html(StatusCode::NOT_FOUND, page::render_missing(lang, false)),
        Err(e) => {
            log::error!("reading invoice {id} for its modal checkout failed: {e}");
            html(StatusCode::INTERNAL_SERVER_ERROR, page::render_missing(lang, true))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_modal_csp_allows_its_script_and_any_framer_and_nothing_else_new() {
        let strict = page::content_security_policy();
        let modal = content_security_policy();
        assert!(strict.contains("frame-ancestors 'none'"));
        assert!(modal.contains("frame-ancestors *") && !modal.contains("frame-ancestors 'none'"));
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(PAGE_JS.as_bytes()));
        assert!(
            modal.contains(&format!("script-src 'sha256-{hash}' 'sha256-")),
            "{modal}"
        );
        // Everything else as strict as the checkout page.
        let rest = |csp: &str| {
            csp.split(';')
                .map(str::trim)
                .filter(|d| !d.starts_with("script-src") && !d.starts_with("frame-ancestors"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(rest(modal), rest(strict));
    }

    #[test]
    fn the_modal_document_polls_the_checkout_status_and_carries_its_script() {
        let id = InvoiceId::from_bytes([3; 16]);
        let document = format!(
            "<html><body><script type=\"application/json\">{{\"status_url\":\"{id}/status\"}}</script></body></html>"
        );
        let modal = modal_document(&document, &id);
        assert!(modal.contains(&format!("\"status_url\":\"i/{id}/status\"")), "{modal}");
        assert!(modal.contains(PAGE_JS) && modal.ends_with("</script>\n</body></html>"));
    }
}
