//! `/dashboard/keys`: the API keys (never the keys themselves), a form to
//! make one with chosen permissions (the key is shown once, in the answer to
//! that form), and revoking. Every operation goes through the keys port.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::i18n::{self, texts, Lang};
use super::keys_port::{KeysError, NewKey, Permission};
use super::page::{document, esc, html, see_other, time, url_encode, DashError, Nav};
use super::session::Signed;
use crate::http::AppState;

/// The longest label.
const MAX_LABEL: usize = 100;

fn unavailable(e: KeysError) -> DashError {
    log::error!("dashboard keys: {e}");
    DashError::Internal
}

/// The page, with `notice` above the list (a key just made, an error).
async fn render(
    signed: &Signed,
    lang: Lang,
    state: &AppState,
    notice: &str,
    status: StatusCode,
) -> Result<HttpResponse, DashError> {
    let t = texts(lang);
    let keys = state.dashboard.keys.list().await.map_err(unavailable)?;
    let mut rows = String::new();
    for k in &keys {
        let perms: Vec<String> = k
            .permissions
            .iter()
            .map(|p| format!(r#"<span class="mono">{}</span>"#, esc(p.as_str())))
            .collect();
        let action = if k.from_config {
            format!(r#"<span class="muted">{}</span>"#, esc(t.from_config))
        } else {
            format!(
                r#"<form method="post" action="/dashboard/keys/{id}/revoke" class="inline revoke"><input type="hidden" name="csrf" value="{csrf}"><button type="submit" class="danger">{revoke}</button></form>"#,
                id = url_encode(&k.id),
                csrf = esc(&signed.session.csrf),
                revoke = esc(t.revoke),
            )
        };
        rows.push_str(&format!(
            r#"<tr class="key" data-id="{id}"><td>{label}<div class="muted mono">{id}</div></td><td data-label="{perms_l}">{perms}</td><td class="nowrap hide-narrow">{created}</td><td>{action}</td></tr>"#,
            id = esc(&k.id),
            perms_l = esc(t.permissions),
            label = esc(&k.label),
            perms = perms.join("<br>"),
            created = k.created_at.map(time).unwrap_or_default(),
        ));
    }
    let mut checks = String::new();
    for p in Permission::ALL {
        checks.push_str(&format!(
            r#"<label><input type="checkbox" name="permissions" value="{n}"> <span class="mono">{n}</span></label>"#,
            n = p.as_str()
        ));
    }
    let body = format!(
        r#"{notice}<section class="card"><div class="scroll"><table id="keys" class="cards"><thead><tr><th>{label_l}</th><th>{perms_l}</th><th class="hide-narrow">{created_l}</th><th></th></tr></thead><tbody>{rows}</tbody></table></div></section>
<section class="card" id="new-key"><h2>{new_l}</h2><form method="post" action="/dashboard/keys" class="stack"><input type="hidden" name="csrf" value="{csrf}">
<label for="label">{label_l}</label><input type="text" id="label" name="label" maxlength="{MAX_LABEL}" required>
<fieldset class="checks"><legend>{perms_l}</legend>{checks}</fieldset>
<button type="submit">{create}</button></form></section>"#,
        label_l = esc(t.label),
        perms_l = esc(t.permissions),
        created_l = esc(t.created),
        new_l = esc(t.new_key),
        csrf = esc(&signed.session.csrf),
        create = esc(t.create),
    );
    Ok(html(
        status,
        document(
            lang,
            t.nav_keys,
            Nav::Keys,
            Some(&signed.session),
            "/dashboard/keys",
            &body,
        ),
    ))
}

/// `GET /dashboard/keys`
pub async fn page(
    signed: Signed,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, DashError> {
    let lang = i18n::of_request(&req);
    let notice = if query.contains_key("revoked") {
        format!(
            r#"<p class="notice ok" id="notice">{}</p>"#,
            esc(texts(lang).key_revoked)
        )
    } else {
        String::new()
    };
    render(&signed, lang, &state, &notice, StatusCode::OK).await
}

/// The key just made, shown once.
fn shown_once(lang: Lang, made: &NewKey) -> String {
    format!(
        r#"<div class="notice ok" id="new-key-shown"><p>{}</p><code class="secret mono" id="new-key-value">{}</code><p class="muted mono">{}</p></div>"#,
        esc(texts(lang).key_once),
        esc(made.key.expose()),
        esc(&made.info.id),
    )
}

/// `POST /dashboard/keys` (`csrf`, `label`, `permissions` repeated): makes a key.
pub async fn create(
    signed: Signed,
    req: HttpRequest,
    form: web::Form<Vec<(String, String)>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, DashError> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    signed.check_csrf(field("csrf"))?;
    let lang = i18n::of_request(&req);
    let label = field("label").unwrap_or("").trim();
    let mut permissions = Vec::new();
    for (_, v) in form.iter().filter(|(k, _)| k == "permissions" || k == "permissions[]") {
        permissions.push(
            Permission::parse_any_case(v).ok_or_else(|| DashError::BadRequest(format!("unknown permission {v:?}")))?,
        );
    }
    if label.is_empty() || label.chars().count() > MAX_LABEL || permissions.is_empty() {
        let notice = format!(
            r#"<p class="notice error" id="notice">{}</p>"#,
            esc(texts(lang).label_needed)
        );
        return render(&signed, lang, &state, &notice, StatusCode::BAD_REQUEST).await;
    }
    let made = state
        .dashboard
        .keys
        .create(label, &permissions)
        .await
        .map_err(unavailable)?;
    log::info!("dashboard: API key {} made ({})", made.info.id, made.info.label);
    render(&signed, lang, &state, &shown_once(lang, &made), StatusCode::OK).await
}

/// `POST /dashboard/keys/{id}/revoke` (`csrf`).
pub async fn revoke(
    signed: Signed,
    path: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, DashError> {
    signed.check_csrf(form.get("csrf").map(String::as_str))?;
    let id = path.into_inner();
    match state.dashboard.keys.revoke(&id).await {
        Ok(()) => {
            let ended = state.dashboard.sessions.close_key(&id);
            log::info!("dashboard: API key {id} revoked ({ended} dashboard sessions ended)");
            Ok(see_other("/dashboard/keys?revoked=1"))
        }
        Err(KeysError::NotFound) => Err(DashError::NotFound),
        Err(e) => Err(unavailable(e)),
    }
}
