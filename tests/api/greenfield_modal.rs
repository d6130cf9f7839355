//! BTCPay's modal checkout (issue 14, `docs/greenfield.md` §7): the script
//! `/modal/btcpay.js` and the frameable page `/invoice?id=ID&view=modal`,
//! over HTTP (headers) and in headless Chromium: a shop page on another
//! origin loads the script as the WooCommerce plugin does, calls
//! `showInvoice`, and sees the frame load, `"loaded"`, and the status in
//! Greenfield's words once the simulator pays.
//!
//! Without Chromium the browser test fails under CI (`.ci/run` installs it)
//! and is skipped, loudly, elsewhere.

use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::{json, Value};

use crate::helpers::browser::Browser;
use crate::helpers::*;

/// The page polls every 2 s; a status change must show within two polls and a margin.
const STATUS_BAR: Duration = Duration::from_secs(8);

/// A plain GET, redirects not followed; status, headers and text.
async fn fetch(app: &TestApp, path: &str) -> (u16, awc::http::header::HeaderMap, String) {
    let client = awc::Client::builder()
        .disable_redirects()
        .timeout(Duration::from_secs(10))
        .finish();
    let mut response = client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let bytes = response.body().await.unwrap_or_default();
    (
        response.status().as_u16(),
        response.headers().clone(),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn header(headers: &awc::http::header::HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

#[actix_rt::test]
async fn the_script_and_the_frameable_page_are_served_and_the_checkout_page_stays_strict() {
    let app = TestApp::spawn().await;
    let inv = app.create_ok(&json!({"amount": "0.001"})).await;
    let id = inv["id"].as_str().expect("id");

    let (status, headers, script) = fetch(&app, "/modal/btcpay.js?ver=2.8.0").await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").is_some_and(|c| c.starts_with("application/javascript")));
    for name in [
        "showInvoice",
        "hideFrame",
        "setApiUrlPrefix",
        "onModalReceiveMessage",
        "onModalWillEnter",
        "onModalWillLeave",
    ] {
        assert!(script.contains(&format!("{name}:")), "window.btcpay.{name}");
    }

    let (status, headers, page) = fetch(&app, &format!("/invoice?id={id}&view=modal")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-frame-options"), None, "frameable");
    let csp = header(&headers, "content-security-policy").expect("a CSP");
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(
        page.contains(&format!("\"status_url\":\"i/{id}/status\"")),
        "polls the checkout status"
    );
    assert!(page.contains("postMessage(\"loaded\""));

    // /i/{id} keeps its strict headers.
    let (_, headers, _) = fetch(&app, &format!("/i/{id}")).await;
    assert_eq!(header(&headers, "x-frame-options").as_deref(), Some("DENY"));
    assert!(header(&headers, "content-security-policy").is_some_and(|c| c.contains("frame-ancestors 'none'")));
    // Without view=modal: BTCPay's /invoice?id= is the full checkout.
    let (status, headers, _) = fetch(&app, &format!("/invoice?id={id}")).await;
    assert_eq!((status, header(&headers, "location")), (302, Some(format!("i/{id}"))));
    for path in [
        "/invoice?view=modal",
        "/invoice?id=inv_00000000000000000000000000&view=modal",
    ] {
        assert_eq!(fetch(&app, path).await.0, 404, "{path}");
    }
}

/// The shop's page, as the plugin writes it: the script from bchpay, the
/// prefix set, the callbacks registered, the invoice shown.
fn shop_page(base: &str, invoice_id: &str) -> String {
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Shop</title>
<script src="{base}/modal/btcpay.js?ver=2.8.0"></script></head><body><h1>Checkout</h1>
<script>
window.__messages = [];
window.__entered = 0;
window.btcpay.setApiUrlPrefix("{base}/");
window.btcpay.onModalWillEnter(function () {{ window.__entered += 1; }});
window.btcpay.onModalReceiveMessage(function (event) {{ window.__messages.push(event.data); }});
window.btcpay.showInvoice("{invoice_id}");
</script></body></html>"#
    )
}

/// What the test reads from the shop's page.
const READ_SHOP: &str = r#"
const frame = document.querySelector("iframe[name=btcpay]");
return {
  frame: !!frame,
  src: frame ? frame.src : null,
  shown: !!frame && frame.style.display === "block",
  entered: window.__entered,
  messages: window.__messages,
};"#;

#[actix_rt::test]
async fn a_shop_page_opens_the_invoice_in_the_modal_and_hears_loaded_and_the_status() {
    let Some(browser) = Browser::start(
        "the modal checkout browser test",
        (1000, 800),
        "modal-screenshots",
        json!({}),
    )
    .await
    else {
        return;
    };
    let app = TestApp::spawn_with(|s| s.payments.poll_interval_ms = 100).await;
    let inv = app
        .create_ok(&json!({"amount": "0.0042", "required_confirmations": 1}))
        .await;
    let id = inv["id"].as_str().expect("id").to_owned();
    let address = inv["address"].as_str().expect("address").to_owned();

    // The shop: another origin (another port) serving its page.
    let page = shop_page(&app.base, &id);
    let shop = HttpServer::new(move || {
        let page = page.clone();
        App::new().route(
            "/checkout",
            web::get().to(move || {
                let page = page.clone();
                async move { HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page) }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind(("127.0.0.1", 0))
    .expect("bind the shop");
    let shop_port = shop.addrs()[0].port();
    let running = shop.run();
    let handle = running.handle();
    actix_rt::spawn(running);

    browser.goto(&format!("http://127.0.0.1:{shop_port}/checkout")).await;
    let loaded = eventually("the modal frame shown after \"loaded\"", STATUS_BAR, || async {
        let shop = browser.eval(READ_SHOP).await;
        let heard = shop["messages"]
            .as_array()
            .is_some_and(|m| m.contains(&json!("loaded")));
        if shop["shown"] == true && heard {
            Ok(shop)
        } else {
            Err(format!("the shop sees {shop}"))
        }
    })
    .await;
    assert_eq!(
        loaded["src"],
        format!("{}/invoice?id={id}&view=modal", app.base),
        "{loaded}"
    );
    assert_eq!(loaded["entered"], 1, "onModalWillEnter ran once: {loaded}");
    assert_eq!(loaded["messages"][0], "loaded", "{loaded}");
    browser.screenshot("modal-open").await;

    app.sim.pay(&address, 420_000).expect("pay");
    let processing = json!({"invoiceId": id, "status": "Processing"});
    let paid = eventually("the status in Greenfield's words", STATUS_BAR, || async {
        let shop = browser.eval(READ_SHOP).await;
        let messages = shop["messages"].as_array().cloned().unwrap_or_default();
        if messages.contains(&processing) {
            Ok(shop)
        } else {
            Err(format!("the shop heard {messages:?}"))
        }
    })
    .await;
    let statuses: Vec<&Value> = paid["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m.is_object())
        .collect();
    assert_eq!(
        statuses.first(),
        Some(&&json!({"invoiceId": id, "status": "New"})),
        "{paid}"
    );
    browser.screenshot("modal-paid").await;

    // hideFrame() takes the frame away.
    browser.eval("window.btcpay.hideFrame(); return null;").await;
    assert_eq!(browser.eval(READ_SHOP).await["frame"], false);
    browser.quit().await;
    handle.stop(true).await;
}
