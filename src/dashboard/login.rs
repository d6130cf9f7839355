//! Signing in and out, and the language switch.
//!
//! Sign-in takes a key with `unrestricted` (form field `api_key`) and answers
//! `303` to `/dashboard` (or the page asked for) with the session cookie; a
//! wrong key gets the form again with `401`; an address with too many
//! failures gets `429` with `Retry-After` and its attempts are not looked at.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use actix_web::cookie::{time::Duration as CookieAge, Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::i18n::{self, texts, Lang};
use super::page::{document, esc, html, local_path, see_other, DashError, Nav};
use super::session::{cookie, Lookup, Signed, COOKIE};
use crate::http::AppState;

/// What the sign-in page says above the form.
enum Notice {
    None,
    WrongKey,
    Throttled,
    Expired,
    SignedOut,
}

fn render(lang: Lang, notice: Notice, next: Option<&str>, here: &str) -> String {
    let t = texts(lang);
    let notice = match notice {
        Notice::None => String::new(),
        Notice::WrongKey => format!(r#"<p class="notice error" role="alert">{}</p>"#, esc(t.wrong_key)),
        Notice::Throttled => format!(r#"<p class="notice error" role="alert">{}</p>"#, esc(t.throttled)),
        Notice::Expired => format!(r#"<p class="notice">{}</p>"#, esc(t.expired)),
        Notice::SignedOut => format!(r#"<p class="notice ok">{}</p>"#, esc(t.signed_out)),
    };
    let next = next
        .and_then(local_path)
        .map(|n| format!(r#"<input type="hidden" name="next" value="{}">"#, esc(n)))
        .unwrap_or_default();
    let body = format!(
        r#"<div class="card login stack">{notice}<p class="muted">{hint}</p>
<form method="post" action="/dashboard/login" class="stack" id="login-form">{next}
<label for="api_key">{label}</label>
<input type="password" id="api_key" name="api_key" autocomplete="off" autocapitalize="off" spellcheck="false" required autofocus>
<button type="submit">{button}</button>
</form></div>"#,
        hint = esc(t.sign_in_hint),
        label = esc(t.api_key),
        button = esc(t.sign_in),
    );
    document(lang, t.sign_in_title, Nav::None, None, here, &body)
}

fn here(req: &HttpRequest) -> String {
    req.uri()
        .path_and_query()
        .map_or("/dashboard/login".to_owned(), |p| p.as_str().to_owned())
}

/// `GET /dashboard/login`: the form (or on to the dashboard when signed in).
pub async fn form(
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let next = query.get("next").map(String::as_str);
    if let Some(c) = req.cookie(COOKIE) {
        if let Lookup::Live(_) = state.dashboard.sessions.find(c.value(), Instant::now()) {
            return see_other(next.and_then(local_path).unwrap_or("/dashboard"));
        }
    }
    let notice = if query.contains_key("expired") {
        Notice::Expired
    } else if query.contains_key("out") {
        Notice::SignedOut
    } else {
        Notice::None
    };
    html(
        StatusCode::OK,
        render(i18n::of_request(&req), notice, next, &here(&req)),
    )
}

/// `POST /dashboard/login` with `api_key` (and `next`).
pub async fn sign_in(
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, DashError> {
    let lang = i18n::of_request(&req);
    let ip = req.peer_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let next = form.get("next").map(String::as_str);
    let dash = &state.dashboard;
    let now = Instant::now();
    if let Err(wait) = dash.throttle.check(ip, now) {
        log::warn!(
            "dashboard sign-in from {ip} refused: locked out for {}s more",
            wait.as_secs() + 1
        );
        let mut response = super::page::with_headers(
            HttpResponse::build(StatusCode::TOO_MANY_REQUESTS),
            super::page::content_security_policy(),
        );
        response.insert_header(("Retry-After", (wait.as_secs() + 1).to_string()));
        return Ok(response.body(render(lang, Notice::Throttled, next, "/dashboard/login")));
    }
    let key = form.get("api_key").map(|k| k.trim()).unwrap_or("");
    let signed_with = if key.is_empty() {
        None
    } else {
        dash.keys.sign_in(key).await.map_err(|e| {
            log::error!("dashboard sign-in: keys unavailable: {e}");
            DashError::Internal
        })?
    };
    let Some((key_id, label)) = signed_with else {
        dash.throttle.failed(ip, now);
        log::warn!("dashboard sign-in from {ip} refused: wrong key");
        return Ok(html(
            StatusCode::UNAUTHORIZED,
            render(lang, Notice::WrongKey, next, "/dashboard/login"),
        ));
    };
    dash.throttle.succeeded(ip);
    let id = dash.sessions.open(&key_id, &label, now);
    log::info!("dashboard sign-in from {ip} with a key of {label}");
    let mut response = see_other(next.and_then(local_path).unwrap_or("/dashboard"));
    response
        .add_cookie(&cookie(&id, dash.secure_cookies))
        .map_err(|_| DashError::Internal)?;
    Ok(response)
}

/// `POST /dashboard/logout` (with `csrf`): ends the session.
pub async fn sign_out(
    signed: Signed,
    form: web::Form<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, DashError> {
    signed.check_csrf(form.get("csrf").map(String::as_str))?;
    state.dashboard.sessions.close(&signed.id);
    log::info!("dashboard sign-out");
    let mut response = see_other("/dashboard/login?out=1");
    response
        .add_cookie(&cookie("", state.dashboard.secure_cookies))
        .map_err(|_| DashError::Internal)?;
    Ok(response)
}

/// `GET /dashboard/lang/{ko|en}?next=…`: keeps the choice in a cookie and goes back.
pub async fn switch_language(
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, DashError> {
    let lang = path.into_inner();
    if lang != "ko" && lang != "en" {
        return Err(DashError::NotFound);
    }
    let back = query.get("next").and_then(|n| local_path(n)).unwrap_or("/dashboard");
    let mut response = see_other(back);
    let choice = Cookie::build(i18n::LANG_COOKIE, lang)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.dashboard.secure_cookies)
        .max_age(CookieAge::days(365))
        .finish();
    response.add_cookie(&choice).map_err(|_| DashError::Internal)?;
    Ok(response)
}
