//! `GET /dashboard/webhooks`: where events go (the configured default; the
//! webhooks registered through Greenfield will join here), then the
//! deliveries in trouble, failing first: those failed for good, then those
//! retrying after a failed attempt. Each can be sent again.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::i18n::{self, texts};
use super::invoice::{event_card, notice};
use super::page::{document, esc, html, DashError, Nav};
use super::queries;
use super::session::Signed;
use crate::http::AppState;

/// Events listed in each section.
const SHOWN: usize = 50;

/// `GET /dashboard/webhooks`
pub async fn page(
    signed: Signed,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, DashError> {
    let lang = i18n::of_request(&req);
    let t = texts(lang);
    let failed = |e: queries::QueryError| {
        log::error!("dashboard webhooks: {e}");
        DashError::Internal
    };
    let failing = queries::failed_events(&state.reader, SHOWN).await.map_err(failed)?;
    let retrying = queries::retrying_events(&state.reader, SHOWN).await.map_err(failed)?;
    let hooks = &state.settings.webhooks;
    let url = if hooks.url.is_empty() {
        format!(r#"<span class="muted">{}</span>"#, esc(t.not_set))
    } else {
        format!(r#"<span class="mono">{}</span>"#, esc(&hooks.url))
    };
    let secret = if hooks.secret.is_empty() {
        format!(r#"<span class="pill failed">{}</span>"#, esc(t.secret_missing))
    } else {
        format!(r#"<span class="pill up">{}</span>"#, esc(t.secret_set))
    };
    let back = "/dashboard/webhooks";
    let cards = |events: &[crate::event::Event], none: &str| -> String {
        if events.is_empty() {
            format!(r#"<p class="muted">{}</p>"#, esc(none))
        } else {
            events
                .iter()
                .map(|e| event_card(lang, e, &signed.session.csrf, back, true))
                .collect()
        }
    };
    // GREENFIELD (issue 14): list the registered webhooks (URL, events,
    // enabled, last delivery) in the section below once they are in the store.
    let body = format!(
        r#"{notice}<div class="grid"><section class="card" id="default-webhook"><h2>{default_l}</h2><p>{url}</p><p>{secret}</p></section>
<section class="card" id="registered-webhooks"><h2>{registered_l}</h2><p class="muted">{registered_none}</p></section></div>
<h2>{failing_l}</h2><div id="failed-events">{failing}</div>
<h2>{retrying_l}</h2><div id="retrying-events">{retrying}</div>"#,
        notice = notice(lang, &query),
        default_l = esc(t.default_webhook),
        registered_l = esc(t.registered_webhooks),
        registered_none = esc(t.registered_none),
        failing_l = esc(t.failing),
        failing = cards(&failing, t.none_failing),
        retrying_l = esc(t.retrying),
        retrying = cards(&retrying, t.none_retrying),
    );
    Ok(html(
        StatusCode::OK,
        document(lang, t.nav_webhooks, Nav::Webhooks, Some(&signed.session), back, &body),
    ))
}
