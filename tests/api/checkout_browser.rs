//! The checkout page in a real browser (issue 6, item 4): headless Chromium,
//! driven over WebDriver by `chromedriver`, loads the page once; the
//! simulator pays and mines; the page's own polling must carry the status to
//! confirmed without a reload. Screenshots go to `target/checkout-screenshots/`.
//!
//! Without Chromium the test fails under CI (`.ci/run` installs it) and is
//! skipped, loudly, elsewhere.

use std::time::Duration;

use crate::helpers::browser::Browser;
use crate::helpers::*;
use serde_json::{json, Value};

/// A phone-sized window.
const WINDOW: (u32, u32) = (420, 900);
/// The page polls every 2 s; a status change must show within two polls and a margin.
const STATUS_BAR: Duration = Duration::from_secs(8);

/// What the test reads from the page: the status text, whether parts are shown.
const READ_PAGE: &str = r#"
const shown = (id) => { const e = document.getElementById(id); return !!e && !e.hidden && e.offsetParent !== null; };
return {
  status: document.getElementById("status").textContent,
  amount: document.getElementById("amount").textContent,
  timer: document.getElementById("timer").textContent,
  svg: document.querySelectorAll("svg.qr path").length,
  pay: shown("pay"),
  back: shown("back"),
  offline: shown("offline"),
  loaded_once: window.__loaded_once === true,
};"#;

/// Waits until the page's status text is `want`; the page as [`READ_PAGE`] reads it.
async fn wait_status(browser: &Browser, want: &str) -> Value {
    eventually(&format!("the page to show {want:?}"), STATUS_BAR, || async {
        let page = browser.eval(READ_PAGE).await;
        if page["status"] == want {
            Ok(page)
        } else {
            Err(format!("it shows {page}"))
        }
    })
    .await
}

#[actix_rt::test]
async fn the_page_in_a_browser_follows_the_payment_to_confirmed_by_itself() {
    let Some(browser) = Browser::start("the checkout browser test", WINDOW, "checkout-screenshots", json!({})).await
    else {
        return;
    };
    let app = TestApp::spawn_with(|s| s.payments.poll_interval_ms = 100).await;
    let inv = app
        .create_ok(&json!({
            "amount": "0.0042",
            "description": "Two coffees & a <croissant>",
            "redirect_url": "https://shop.example/thanks",
            "required_confirmations": 1,
        }))
        .await;
    let id = inv["id"].as_str().unwrap();
    let address = inv["address"].as_str().unwrap();

    // Loaded once: a marker set now would be gone after any reload.
    browser.goto(&format!("{}/i/{id}", app.base)).await;
    browser.eval("window.__loaded_once = true; return null;").await;
    let waiting = wait_status(&browser, "Waiting for payment").await;
    assert_eq!(waiting["amount"], "0.0042 BCH", "{waiting}");
    assert!(
        waiting["svg"].as_u64().unwrap_or(0) > 0,
        "a QR code in the DOM: {waiting}"
    );
    assert_eq!(
        (waiting["pay"].as_bool(), waiting["back"].as_bool()),
        (Some(true), Some(false))
    );
    let description = browser
        .eval("return document.querySelector('.description').textContent;")
        .await;
    assert_eq!(description, "Two coffees & a <croissant>");
    // The countdown runs in the page.
    let first = waiting["timer"].as_str().unwrap().to_owned();
    let ticking = eventually("the countdown to tick", Duration::from_secs(4), || async {
        let now = browser.eval(READ_PAGE).await;
        (now["timer"] != first.as_str()).then_some(now)
    })
    .await;
    assert!(ticking["timer"].as_str().unwrap().starts_with("14:5"), "{ticking}");
    browser.screenshot("waiting").await;

    app.sim.pay(address, 420_000).expect("pay");
    let paid = wait_status(&browser, "Paid, waiting for confirmation (0 of 1)").await;
    assert_eq!(paid["pay"], false, "nothing left to pay: {paid}");
    assert_eq!(paid["loaded_once"], true, "no reload: {paid}");
    browser.screenshot("paid").await;

    app.sim.mine(1);
    let confirmed = wait_status(&browser, "Confirmed").await;
    assert_eq!(confirmed["back"], true, "the way back to the shop: {confirmed}");
    assert_eq!(confirmed["offline"], false, "{confirmed}");
    assert_eq!(confirmed["loaded_once"], true, "no reload: {confirmed}");
    let href = browser.eval("return document.getElementById('back').href;").await;
    assert_eq!(href, "https://shop.example/thanks");
    let shot = browser.screenshot("confirmed").await;
    eprintln!("screenshots in {}", shot.parent().unwrap().display());

    // The browser ran the page under its policy: nothing was refused.
    let log = browser
        .eval("return performance.getEntriesByType('resource').map(e => e.name);")
        .await;
    for url in log.as_array().expect("resource entries") {
        let url = url.as_str().unwrap_or("");
        assert!(url.starts_with(&app.base), "the page loaded {url}");
    }
    browser.quit().await;
}
