//! The checkout page as HTML, pure: the invoice in, a document out.
//!
//! Everything the page needs is in the document: the style and the script are
//! inline (from `page.css` and `page.js` beside this file) and allowed by their
//! hashes in the Content-Security-Policy; the QR code is an inline SVG made
//! here; the data the script needs is a JSON data block, never code.

use std::sync::OnceLock;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use qrcode::render::svg;
use qrcode::QrCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::i18n::{Lang, Texts};
use crate::invoice::{Invoice, InvoiceException, InvoiceStatus};
use crate::money::Sats;

/// The page's style, inlined.
const CSS: &str = include_str!("page.css");
/// The page's script, inlined: it polls the status and counts down.
const JS: &str = include_str!("page.js");

/// The Content-Security-Policy of every checkout page: nothing from
/// anywhere, but this style and this script (by hash) and fetches to this origin.
pub fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let hash = |text: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()));
        format!(
            "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; connect-src 'self'; \
             img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            hash(JS),
            hash(CSS)
        )
    })
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON that is safe inside a `<script>` element: no `<`, `>` or `&` that could
/// close it or open a comment, and no U+2028/U+2029 line separators.
pub fn json_for_script(value: &Value) -> String {
    let mut out = String::new();
    for c in value.to_string().chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// `data` as an inline SVG QR code with the accessible name `label`, or
/// `None` if it does not fit in a QR code.
pub fn qr_svg(data: &str, label: &str) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color>()
        .module_dimensions(1, 1)
        .dark_color(svg::Color("#111"))
        .light_color(svg::Color("#fff"))
        .build();
    // The renderer writes a standalone SVG file; inline in HTML, the XML
    // declaration and the namespace are not needed (and would name a host).
    let start = image.find("<svg")?;
    let body = image[start + "<svg".len()..].replacen(r#" xmlns="http://www.w3.org/2000/svg""#, "", 1);
    Some(format!(
        r#"<svg class="qr" role="img" aria-label="{}"{body}"#,
        escape_html(label)
    ))
}

/// What the status shows: the status in words and a note about an exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusWords {
    /// The status in words.
    pub text: String,
    /// Late or over payment, or the part paid of an expired invoice.
    pub note: Option<String>,
}

/// The status in words (the page's script does the same with the same texts).
pub fn status_words(
    texts: &Texts,
    status: InvoiceStatus,
    exception: Option<InvoiceException>,
    received: Sats,
    amount: Sats,
    confirmations: u64,
    required: u32,
) -> StatusWords {
    let fill = |template: &str| {
        template
            .replace("{received}", &received.to_bch_string())
            .replace("{amount}", &amount.to_bch_string())
            .replace("{n}", &confirmations.min(u64::from(required)).to_string())
            .replace("{required}", &required.to_string())
    };
    let text = match status {
        InvoiceStatus::New if received > Sats::ZERO => texts.partial,
        InvoiceStatus::New => texts.waiting,
        InvoiceStatus::Paid => texts.paid,
        InvoiceStatus::Confirmed => texts.confirmed,
        InvoiceStatus::Expired => texts.expired,
        InvoiceStatus::Invalid => texts.invalid,
    };
    let note = match (exception, status) {
        (Some(InvoiceException::PaidLate), _) => Some(texts.note_late),
        (Some(InvoiceException::PaidOver), _) => Some(texts.note_over),
        (Some(InvoiceException::PaidPartial), InvoiceStatus::Expired | InvoiceStatus::Invalid) => {
            Some(texts.note_partial)
        }
        _ => None,
    };
    StatusWords {
        text: fill(text),
        note: note.map(fill),
    }
}

/// Whether a `redirect_url` may become a link: http(s) only (it was checked
/// at creation; this keeps a `javascript:` URL out whatever the store holds).
fn safe_redirect(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// `seconds` as `m:ss`, or `h:mm:ss` from an hour.
fn clock(seconds: u64) -> String {
    let s = seconds;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// The document around `body`.
fn document(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n<title>{title}</title>\n<style>{CSS}</style>\n</head>\n\
         <body>\n{body}\n</body>\n</html>\n",
        lang = lang.code(),
        title = escape_html(title),
    )
}

/// A fiat invoice's price for people, beside the BCH amount
/// (`<strong class="price">15,000원</strong> = `); nothing for a BCH invoice.
fn fiat_price(invoice: &Invoice, lang: Lang) -> String {
    let (Some(price), Ok(currency)) = (invoice.price, crate::fiat::Currency::parse(&invoice.currency)) else {
        return String::new();
    };
    let text = crate::fiat::format_price(price, currency, lang == Lang::Korean);
    format!(
        "<strong class=\"price\" id=\"price\">{}</strong> = ",
        escape_html(&text)
    )
}

/// The checkout page of `invoice` at `now`; `status` is the JSON of
/// `GET /i/{id}/status` now, which the page starts from.
pub fn render(invoice: &Invoice, status: &Value, confirmations: u64, now: DateTime<Utc>, lang: Lang) -> String {
    let t = lang.texts();
    let e = escape_html;
    let words = status_words(
        t,
        invoice.status,
        invoice.exception,
        invoice.received_sats(),
        invoice.amount_sats,
        confirmations,
        invoice.required_confirmations,
    );
    let uri = invoice.payment_uri();
    let address = invoice.address.as_str();
    let seconds_left = ((invoice.expires_at - now).num_milliseconds().max(0) as u64).div_ceil(1000);
    let paying = invoice.status == InvoiceStatus::New;
    let done = matches!(
        invoice.status,
        InvoiceStatus::Confirmed | InvoiceStatus::Expired | InvoiceStatus::Invalid
    );
    let hidden = |hide: bool| if hide { " hidden" } else { "" };

    let description = invoice
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
        .map(|d| format!("<p class=\"description\">{}</p>\n", e(d)))
        .unwrap_or_default();
    let note = words.note.as_deref().unwrap_or("");
    let qr = qr_svg(&uri, t.qr_label).unwrap_or_default();
    let back = invoice
        .redirect_url
        .as_deref()
        .filter(|u| safe_redirect(u))
        .map(|u| {
            format!(
                "<a id=\"back\" class=\"button primary\" href=\"{}\" rel=\"noreferrer\"{}>{}</a>\n",
                e(u),
                hidden(!done),
                e(t.back)
            )
        })
        .unwrap_or_default();
    let data = json!({
        "status_url": format!("{}/status", invoice.id),
        "required": invoice.required_confirmations,
        "seconds_left": seconds_left,
        "initial": status,
        "texts": t,
    });

    let body = format!(
        r#"<main class="card">
<h1>{title}</h1>
{description}<p class="amount"><span class="label">{amount_label}</span> {fiat}<strong id="amount">{amount} BCH</strong></p>
<p id="status" class="status status-{status}" role="status" aria-live="polite">{status_text}</p>
<p id="note" class="note"{note_hidden}>{note}</p>
<section id="pay"{pay_hidden}>
<p class="timer"><span class="label">{time_left}</span> <span id="timer">{clock}</span></p>
<p class="hint">{instructions}</p>
<div class="qr-box">{qr}</div>
<a id="wallet" class="button primary" href="{uri}">{open_wallet}</a>
<p class="label">{address_label}</p>
<p id="address" class="address">{address}</p>
<button id="copy" class="button" type="button" data-address="{address}">{copy}</button>
<p id="copy-failed" class="note" hidden>{copy_failed}</p>
</section>
<p id="offline" class="offline" hidden>{offline}</p>
{back}</main>
<script type="application/json" id="checkout-data">{data}</script>
<script>{JS}</script>"#,
        title = e(t.title),
        amount_label = e(t.amount),
        amount = e(&invoice.amount_sats.to_bch_string()),
        fiat = fiat_price(invoice, lang),
        status = invoice.status.as_str(),
        status_text = e(&words.text),
        note_hidden = hidden(words.note.is_none()),
        note = e(note),
        pay_hidden = hidden(!paying),
        instructions = e(t.instructions),
        uri = e(&uri),
        open_wallet = e(t.open_wallet),
        address_label = e(t.address),
        address = e(address),
        copy = e(t.copy),
        copy_failed = e(t.copy_failed),
        time_left = e(t.time_left),
        clock = clock(seconds_left),
        offline = e(t.offline),
        data = json_for_script(&data),
    );
    document(lang, t.title, &body)
}

/// The page for an id that names no invoice (404) or that could not be read (500).
pub fn render_missing(lang: Lang, failed: bool) -> String {
    let t = lang.texts();
    let (title, hint) = if failed {
        (t.failed, t.failed_hint)
    } else {
        (t.not_found, t.not_found_hint)
    };
    let body = format!(
        "<main class=\"card\">\n<h1>{}</h1>\n<p class=\"hint\">{}</p>\n</main>",
        escape_html(title),
        escape_html(hint)
    );
    document(lang, title, &body)
}

#[cfg(test)]
#[path = "page_tests.rs"]
mod tests;
