//! The checkout page over plain HTTP (issue 6, item 4): what it shows, in
//! which language, with which headers, and that it escapes what the shop
//! wrote and loads nothing from anywhere else. The browser test is
//! `checkout_browser.rs`.

use std::time::Duration;

use crate::helpers::*;
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// A description that would run if it were not escaped.
const EVIL: &str = "<script>alert(1)</script>";

/// Where the shop wants its customers back; `&` and `'` must be escaped in the `href`.
const REDIRECT: &str = "https://shop.example/done?order=A-1&x='y'";

/// An HTML answer.
struct Page {
    /// The status code.
    status: u16,
    /// The response headers.
    headers: awc::http::header::HeaderMap,
    /// The body as text.
    html: String,
}

impl Page {
    /// A header's value, or `""`.
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// `GET {path}` with no key and this `Accept-Language`, if any.
async fn page(app: &TestApp, path: &str, accept_language: Option<&str>) -> Page {
    let mut request = app.client.get(format!("{}{path}", app.base));
    if let Some(lang) = accept_language {
        request = request.insert_header(("Accept-Language", lang));
    }
    let mut response = request.send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let body = response
        .body()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: body: {e}"));
    Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        html: String::from_utf8(body.to_vec()).expect("UTF-8 HTML"),
    }
}

/// An engine whose confirmer polls every 100 ms.
async fn app() -> TestApp {
    TestApp::spawn_with(|s| s.payments.poll_interval_ms = 100).await
}

/// A 0.00123 BCH invoice with the evil description and [`REDIRECT`].
async fn invoice(app: &TestApp) -> Value {
    app.create_ok(&json!({
        "amount": "0.00123",
        "description": EVIL,
        "redirect_url": REDIRECT,
        "required_confirmations": 1,
    }))
    .await
}

/// The text of the element with this `id` (its first text up to the next tag).
fn element_text<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let open_end = start + html[start..].find('>').expect("tag end") + 1;
    let close = open_end + html[open_end..].find('<').expect("next tag");
    &html[open_end..close]
}

/// The opening tag of the element with this `id`.
fn opening_tag<'a>(html: &'a str, id: &str) -> &'a str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {html}"));
    let start = html[..at].rfind('<').expect("tag start");
    &html[start..at + html[at..].find('>').expect("tag end") + 1]
}

#[actix_rt::test]
async fn the_page_shows_the_amount_the_address_a_qr_code_and_the_wallet_link() {
    let app = app().await;
    let inv = invoice(&app).await;
    let id = inv["id"].as_str().unwrap();

    let page = page(&app, &format!("/i/{id}"), None).await;

    assert_eq!(page.status, 200, "{}", page.html);
    let html = &page.html;
    assert_eq!(element_text(html, "amount"), "0.00123 BCH");
    assert_eq!(element_text(html, "address"), inv["address"].as_str().unwrap());
    let uri = inv["payment_uri"].as_str().unwrap();
    assert!(uri.ends_with("?amount=0.00123"), "{uri}");
    assert!(
        opening_tag(html, "wallet").contains(&format!("href=\"{uri}\"")),
        "{html}"
    );
    assert_eq!(element_text(html, "wallet"), "Open in wallet");
    let svg = &html[html.find("<svg").expect("an inline <svg> QR code")..];
    assert!(svg.contains("<path") && svg.contains("</svg>"), "{svg}");
    assert_eq!(element_text(html, "status"), "Waiting for payment");
    let timer = element_text(html, "timer");
    assert!(["14:59", "15:00"].contains(&timer), "time left {timer}");
    assert!(
        html.contains(&format!("\"status_url\":\"{id}/status\"")),
        "the page polls its status"
    );
}

#[actix_rt::test]
async fn the_page_speaks_korean_to_a_korean_browser_and_english_otherwise() {
    let app = app().await;
    let inv = invoice(&app).await;
    let path = format!("/i/{}", inv["id"].as_str().unwrap());

    for (accept, lang) in [
        (Some("ko-KR,ko;q=0.9"), "ko"),
        (Some("en-US,en;q=0.9,ko;q=0.8"), "en"),
        (Some("fr-FR,ko;q=0.5"), "ko"),
        (Some("de-DE,de;q=0.9"), "en"),
        (None, "en"),
    ] {
        let page = page(&app, &path, accept).await;
        let html = &page.html;
        assert_eq!(page.status, 200);
        assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{accept:?}: {html}");
        let (status, wallet, copy) = if lang == "ko" {
            ("결제 대기 중", "지갑에서 열기", "주소 복사")
        } else {
            ("Waiting for payment", "Open in wallet", "Copy address")
        };
        assert_eq!(element_text(html, "status"), status, "{accept:?}");
        assert_eq!(element_text(html, "wallet"), wallet, "{accept:?}");
        assert_eq!(element_text(html, "copy"), copy, "{accept:?}");
        assert_eq!(html.contains("금액"), lang == "ko", "{accept:?}");
        assert!(page.header("Vary").contains("Accept-Language"));
    }
}

#[actix_rt::test]
async fn what_the_shop_wrote_is_escaped_in_the_html_and_in_the_script_data() {
    let app = app().await;
    let inv = invoice(&app).await;

    let html = page(&app, &format!("/i/{}", inv["id"].as_str().unwrap()), None)
        .await
        .html;

    assert!(
        html.contains("<p class=\"description\">&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        "{html}"
    );
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(!html.contains("alert(1)</script>"), "{html}");
    // Every script element is either the data block or the page's own script.
    assert_eq!(html.matches("<script").count(), 2, "{html}");
    assert_eq!(html.matches("</script>").count(), 2, "{html}");
    let back = opening_tag(&html, "back");
    assert!(
        back.contains("href=\"https://shop.example/done?order=A-1&amp;x=&#39;y&#39;\""),
        "{back}"
    );
}

#[actix_rt::test]
async fn an_unknown_or_malformed_id_gets_an_html_404_page() {
    let app = app().await;
    let unknown = bchpay::invoice::InvoiceId::from_bytes([7; 16]);

    for path in [
        format!("/i/{unknown}"),
        "/i/nope".to_owned(),
        "/i/%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_owned(),
    ] {
        for (accept, text) in [(None, "Invoice not found"), (Some("ko"), "인보이스를 찾을 수 없습니다")] {
            let page = page(&app, &path, accept).await;
            assert_eq!(page.status, 404, "{path}");
            assert_eq!(page.header("Content-Type"), "text/html; charset=utf-8", "{path}");
            assert!(page.html.starts_with("<!doctype html>"), "{path}: {}", page.html);
            assert!(page.html.contains(&format!("<h1>{text}</h1>")), "{path}: {}", page.html);
            assert!(!page.html.contains("alert"), "{path}: {}", page.html);
            assert_eq!(page.header("X-Content-Type-Options"), "nosniff");
            assert!(page.header("Content-Security-Policy").starts_with("default-src 'none'"));
        }
    }
}

#[actix_rt::test]
async fn the_page_is_served_with_strict_security_headers() {
    let app = app().await;
    let inv = invoice(&app).await;

    let page = page(&app, &format!("/i/{}", inv["id"].as_str().unwrap()), None).await;

    assert_eq!(page.header("Content-Type"), "text/html; charset=utf-8");
    assert_eq!(page.header("Cache-Control"), "no-store");
    assert_eq!(page.header("X-Content-Type-Options"), "nosniff");
    assert_eq!(page.header("Referrer-Policy"), "no-referrer");
    let csp = page.header("Content-Security-Policy");
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        !csp.contains("unsafe") && !csp.contains('*') && !csp.contains("http"),
        "{csp}"
    );
    // The hashes in the policy are those of the inline style and script, so a
    // browser runs them and nothing else.
    let inline = |open: &str, close: &str| {
        let start = page.html.find(open).unwrap_or_else(|| panic!("no {open}")) + open.len();
        let end = start + page.html[start..].find(close).expect("closed");
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&page.html.as_bytes()[start..end]))
    };
    assert!(
        csp.contains(&format!("script-src 'sha256-{}'", inline("<script>", "</script>"))),
        "{csp}"
    );
    assert!(
        csp.contains(&format!("style-src 'sha256-{}'", inline("<style>", "</style>"))),
        "{csp}"
    );
}

#[actix_rt::test]
async fn the_page_loads_nothing_from_anywhere_else() {
    let app = app().await;
    let inv = invoice(&app).await;

    let html = page(&app, &format!("/i/{}", inv["id"].as_str().unwrap()), None)
        .await
        .html;

    let lower = html.to_ascii_lowercase();
    for banned in [
        "<script src",
        " src=",
        "<link",
        "@import",
        "url(",
        "<iframe",
        "<img",
        "@font-face",
    ] {
        assert!(!lower.contains(banned), "{banned} in {html}");
    }
    // The only URL with a host is the shop's own redirect_url (escaped).
    let allowed = "https://shop.example/done?order=A-1&amp;x=&#39;y&#39;";
    let mut rest = lower.as_str();
    let mut found = 0;
    while let Some(at) = ["http://", "https://", "//"].iter().filter_map(|s| rest.find(s)).min() {
        let url: String = rest[at..]
            .chars()
            .take_while(|c| !c.is_whitespace() && !"\"<>".contains(*c))
            .collect();
        // `//` also starts comments in the script: only a URL-looking one counts.
        if url.starts_with("http") || url[2..].starts_with(|c: char| c.is_ascii_alphanumeric()) {
            assert_eq!(url, allowed.to_ascii_lowercase(), "an outside reference in the page");
            found += 1;
        }
        rest = &rest[at + url.len().max(2)..];
    }
    assert_eq!(found, 1, "the redirect link");
}

#[actix_rt::test]
async fn the_page_shows_paid_then_confirmed_in_words_and_then_the_way_back() {
    let app = app().await;
    let inv = invoice(&app).await;
    let id = inv["id"].as_str().unwrap();
    let path = format!("/i/{id}");
    let status = |want: &'static str| {
        let path = format!("/i/{id}/status");
        let app = &app;
        async move {
            eventually(&format!("status {want}"), Duration::from_secs(5), || async {
                let reply = app.get_with(&path, None).await;
                (reply.body["status"] == want).then_some(())
            })
            .await
        }
    };
    let before = page(&app, &path, None).await.html;
    assert!(
        opening_tag(&before, "back").contains(" hidden"),
        "no way back before it is paid"
    );
    assert!(!opening_tag(&before, "pay").contains(" hidden"));

    app.sim.pay(inv["address"].as_str().unwrap(), 123_000).expect("pay");
    status("paid").await;
    let paid = page(&app, &path, None).await.html;
    assert_eq!(element_text(&paid, "status"), "Paid, waiting for confirmation (0 of 1)");
    assert!(opening_tag(&paid, "pay").contains(" hidden"), "nothing left to pay");
    let ko = page(&app, &path, Some("ko")).await.html;
    assert_eq!(element_text(&ko, "status"), "결제됨, 확인 대기 중 (1회 중 0회)");

    app.sim.mine(1);
    status("confirmed").await;
    let confirmed = page(&app, &path, None).await.html;
    assert_eq!(element_text(&confirmed, "status"), "Confirmed");
    assert!(
        !opening_tag(&confirmed, "back").contains(" hidden"),
        "the way back shows"
    );
    assert_eq!(element_text(&confirmed, "back"), "Return to the shop");
}

#[actix_rt::test]
async fn a_partial_payment_and_an_overpayment_are_said_in_words() {
    let app = app().await;
    let inv = invoice(&app).await;
    let id = inv["id"].as_str().unwrap();
    let address = inv["address"].as_str().unwrap();
    let path = format!("/i/{id}");

    app.sim.pay(address, 23_000).expect("pay part");
    let partial = eventually("the partial payment on the page", Duration::from_secs(5), || async {
        let html = page(&app, &path, None).await.html;
        (element_text(&html, "status") != "Waiting for payment").then_some(html)
    })
    .await;
    assert_eq!(
        element_text(&partial, "status"),
        "Partially paid (0.00023 of 0.00123 BCH)"
    );

    app.sim.pay(address, 200_000).expect("pay the rest and more");
    let over = eventually("the overpayment on the page", Duration::from_secs(5), || async {
        let html = page(&app, &path, None).await.html;
        (element_text(&html, "status").starts_with("Paid")).then_some(html)
    })
    .await;
    assert_eq!(
        element_text(&over, "note"),
        "More than the amount was paid (0.00223 BCH)"
    );
    assert!(!opening_tag(&over, "note").contains(" hidden"));
}
