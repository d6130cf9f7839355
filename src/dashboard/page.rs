//! The frame every dashboard page shares: the document, its header and
//! navigation, the style (inline, allowed by its hash in a strict
//! Content-Security-Policy: no script at all, nothing from elsewhere), the
//! error pages, and small formatting helpers.

use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::i18n::{texts, Lang};
use super::session::Session;
pub use crate::http::checkout::page::escape_html as esc;

/// The style of every page.
const CSS: &str = include_str!("style.css");

/// The hash source of `text` for a CSP (`'sha256-…'`).
pub fn csp_hash(text: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// The Content-Security-Policy of the dashboard: this style only, no script,
/// forms to this origin only, not framed.
pub fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; style-src {}; img-src 'self'; script-src 'none'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
            csp_hash(CSS)
        )
    })
}

/// Which navigation entry a page is under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// `/dashboard`
    Overview,
    /// `/dashboard/invoices`
    Invoices,
    /// `/dashboard/webhooks`
    Webhooks,
    /// `/dashboard/keys`
    Keys,
    /// No entry (sign-in, consent).
    None,
}

/// A whole document: `body` inside the frame. `here` is the page's own path
/// and query (the language switch comes back to it).
pub fn document(lang: Lang, title: &str, nav: Nav, session: Option<&Session>, here: &str, body: &str) -> String {
    let t = texts(lang);
    let other = match lang {
        Lang::English => "ko",
        Lang::Korean => "en",
    };
    let mut links = String::new();
    if session.is_some() && nav != Nav::None {
        for (entry, href, name) in [
            (Nav::Overview, "/dashboard", t.nav_overview),
            (Nav::Invoices, "/dashboard/invoices", t.nav_invoices),
            (Nav::Webhooks, "/dashboard/webhooks", t.nav_webhooks),
            (Nav::Keys, "/dashboard/keys", t.nav_keys),
        ] {
            let current = if entry == nav { r#" aria-current="page""# } else { "" };
            links.push_str(&format!(r#"<a href="{href}"{current}>{}</a>"#, esc(name)));
        }
    }
    let sign_out = match session {
        Some(s) => format!(
            r#"<form method="post" action="/dashboard/logout" class="inline"><input type="hidden" name="csrf" value="{}"><button type="submit" class="link">{}</button></form>"#,
            esc(&s.csrf),
            esc(t.sign_out)
        ),
        None => String::new(),
    };
    format!(
        r#"<!doctype html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title} · {brand}</title>
<style>{CSS}</style>
</head>
<body>
<header class="top">
<a class="brand" href="/dashboard">{brand}</a>
<nav>{links}</nav>
<div class="tools"><a href="/dashboard/lang/{other}?next={next}" lang="{other}" id="lang-switch">{other_name}</a>{sign_out}</div>
</header>
<main>
<h1>{title}</h1>
{body}
</main>
</body>
</html>
"#,
        code = lang.code(),
        title = esc(title),
        brand = esc(t.brand),
        next = url_encode(here),
        other_name = esc(t.other_language),
    )
}

/// An HTML answer with the dashboard's headers.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    with_headers(HttpResponse::build(status), content_security_policy()).body(body)
}

/// The headers of every dashboard document, under the policy `csp`.
pub fn with_headers(mut builder: actix_web::HttpResponseBuilder, csp: &str) -> actix_web::HttpResponseBuilder {
    builder
        .insert_header(("Content-Type", "text/html; charset=utf-8"))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Content-Security-Policy", csp.to_owned()))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Frame-Options", "DENY"));
    builder
}

/// `303 See Other` to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", location.to_owned()))
        .insert_header(("Cache-Control", "no-store"))
        .finish()
}

/// Why a dashboard request was not served as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DashError {
    /// No live session: `303` to the sign-in page (coming back to `next` after).
    #[error("signed out")]
    SignedOut {
        /// The session ended by idleness (the sign-in page says so).
        expired: bool,
        /// The page asked for, to come back to.
        next: Option<String>,
    },
    /// A state-changing form without this session's token: `403`.
    #[error("CSRF token refused")]
    Csrf,
    /// `404`.
    #[error("not found")]
    NotFound,
    /// `400` with what is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// `500`: the details are in the log.
    #[error("internal error")]
    Internal,
}

impl ResponseError for DashError {
    fn status_code(&self) -> StatusCode {
        match self {
            DashError::SignedOut { .. } => StatusCode::SEE_OTHER,
            DashError::Csrf => StatusCode::FORBIDDEN,
            DashError::NotFound => StatusCode::NOT_FOUND,
            DashError::BadRequest(_) => StatusCode::BAD_REQUEST,
            DashError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (en, ko) = (texts(Lang::English), texts(Lang::Korean));
        let (heading, message) = match self {
            DashError::SignedOut { expired, next } => {
                let mut location = "/dashboard/login".to_owned();
                let mut sep = '?';
                if *expired {
                    location.push_str("?expired=1");
                    sep = '&';
                }
                if let Some(next) = next.as_deref().filter(|n| *n != "/dashboard") {
                    location.push_str(&format!("{sep}next={}", url_encode(next)));
                }
                return see_other(&location);
            }
            DashError::Csrf => (
                format!("{} / {}", en.error_title, ko.error_title),
                format!("{}<br>{}", esc(en.csrf_refused), esc(ko.csrf_refused)),
            ),
            DashError::NotFound => (format!("{} / {}", en.not_found, ko.not_found), String::new()),
            DashError::BadRequest(why) => (format!("{} / {}", en.error_title, ko.error_title), esc(why)),
            DashError::Internal => (
                format!("{} / {}", en.error_title, ko.error_title),
                format!("{}<br>{}", esc(en.internal_error), esc(ko.internal_error)),
            ),
        };
        let body = format!(
            r#"<p class="notice error">{message}</p><p><a href="/dashboard">{}</a></p>"#,
            esc(en.nav_overview)
        );
        html(
            self.status_code(),
            document(Lang::English, &heading, Nav::None, None, "/dashboard", &body),
        )
    }
}

/// Percent-encodes `text` for a query-string value (RFC 3986 unreserved kept).
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A time as the pages show it: `2026-12-06 08:40:12 UTC`.
pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Signed satoshis as BCH: `-0.100003`, `0.0007`.
pub fn signed_bch(sats: i64) -> String {
    let abs = crate::money::Sats(sats.unsigned_abs()).to_bch_string();
    if sats < 0 {
        format!("-{abs}")
    } else {
        abs
    }
}

/// A local path to come back to, or `None` for anything that could leave the site.
pub fn local_path(next: &str) -> Option<&str> {
    let ok =
        next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') && !next.chars().any(char::is_control);
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/dashboard/keys?x=1"), Some("/dashboard/keys?x=1"));
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "",
            "dashboard",
            "/a\nb",
        ] {
            assert_eq!(local_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn helpers_format_exactly() {
        assert_eq!(url_encode("/a b?c=d&é"), "%2Fa%20b%3Fc%3Dd%26%C3%A9");
        assert_eq!(signed_bch(-10_000_300), "-0.100003");
        assert_eq!(signed_bch(70_000), "0.0007");
        assert_eq!(signed_bch(0), "0");
        let csp = content_security_policy();
        assert!(
            csp.contains("script-src 'none'") && csp.contains("default-src 'none'"),
            "{csp}"
        );
    }

    #[test]
    fn the_document_escapes_what_it_is_given_and_links_the_other_language() {
        let doc = document(Lang::Korean, "<x>", Nav::None, None, "/dashboard?q=a&b", "");
        assert!(doc.contains("&lt;x&gt;") && !doc.contains("<x>"));
        assert!(
            doc.contains(r#"href="/dashboard/lang/en?next=%2Fdashboard%3Fq%3Da%26b""#),
            "{doc}"
        );
        assert!(doc.contains(r#"<html lang="ko">"#));
    }
}
