//! The merchant dashboard in a real browser (issue 15, item 4): headless
//! Chromium over WebDriver signs in, finds an invoice by its order id, opens
//! it, sends a failed webhook again and sees it delivered, makes and revokes
//! a key, downloads the CSV, and consents on the key-authorization page; each
//! page is photographed at desktop and phone widths into
//! `target/dashboard-screenshots/` (`{page}-desktop.png`, `{page}-phone.png`).

use std::time::Duration;

use crate::helpers::browser::Browser;
use crate::helpers::receiver::Receiver;
use crate::helpers::*;
use serde_json::json;

/// A laptop's window.
const DESKTOP: (u32, u32) = (1280, 900);
/// A phone's.
const PHONE: (u32, u32) = (390, 844);
/// What a page may take to show what a click asked for.
const BAR: Duration = Duration::from_secs(10);

/// Both screenshots of the whole page shown now; checks nothing overflows the
/// phone's width but the tables' own scrolling boxes.
async fn shoot(browser: &Browser, name: &str) {
    browser.resize(DESKTOP.0, DESKTOP.1).await;
    browser.screenshot_page(&format!("{name}-desktop")).await;
    browser.resize(PHONE.0, PHONE.1).await;
    let overflow = browser
        .eval("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
        .await;
    assert!(
        overflow.as_i64().unwrap_or(1) <= 0,
        "{name}: the page is wider than a phone by {overflow} px"
    );
    browser.screenshot_page(&format!("{name}-phone")).await;
    browser.resize(DESKTOP.0, DESKTOP.1).await;
}

/// The text of the first element matching `css`, or `null`.
async fn text_of(browser: &Browser, css: &str) -> String {
    let script = format!(
        "const e = document.querySelector({}); return e ? e.textContent : null;",
        serde_json::to_string(css).unwrap()
    );
    browser.eval(&script).await.as_str().unwrap_or("").to_owned()
}

/// Waits until the first element matching `css` holds `needle` (a click's
/// navigation may still be under way when WebDriver answers); its text.
async fn wait_text(browser: &Browser, css: &str, needle: &str) -> String {
    eventually(&format!("{css} to hold {needle:?}"), BAR, || async {
        let text = text_of(browser, css).await;
        if text.contains(needle) {
            Ok(text)
        } else {
            Err(format!("{text:?} at {}", browser.url().await))
        }
    })
    .await
}

/// Waits until the browser is at a URL that contains `part`.
async fn wait_url(browser: &Browser, part: &str) {
    eventually(&format!("the browser at {part}"), BAR, || async {
        let url = browser.url().await;
        if url.contains(part) {
            Ok(())
        } else {
            Err(url)
        }
    })
    .await
}

#[actix_rt::test]
async fn a_merchant_works_through_the_dashboard_in_a_browser() {
    let downloads = tempfile::tempdir().expect("download dir");
    let prefs = json!({
        "download.default_directory": downloads.path().display().to_string(),
        "download.prompt_for_download": false,
    });
    let Some(browser) = Browser::start("the dashboard browser test", DESKTOP, "dashboard-screenshots", prefs).await
    else {
        return;
    };
    let shop = Receiver::up();
    shop.answer(&[500]);
    shop.answer_always(200);
    let app = TestApp::spawn_with(|s| {
        s.server.public_url = "http://127.0.0.1:8080".into();
        s.webhooks.url = shop.url();
        s.webhooks.secret = bchpay::config::Secret::new("whsec-browser");
        s.webhooks.retry_schedule_secs = vec![];
        s.payments.poll_interval_ms = 100;
    })
    .await;
    for n in 1..=3 {
        app.create_ok(&json!({"amount": format!("0.00{n}"), "order_id": format!("ORDER-{n}")}))
            .await;
    }
    let inv = app
        .create_ok(&json!({"amount": "0.0042", "order_id": "ORDER-42", "description": "Two coffees"}))
        .await;
    let id = inv["id"].as_str().unwrap().to_owned();
    let txid = app.sim.pay(inv["address"].as_str().unwrap(), 420_000).expect("pay");
    // The shop answers the first delivery 500: with no retries left it fails.
    eventually("the paid event to fail", BAR, || async {
        let events = app.get(&format!("/api/v1/events?invoice_id={id}&state=failed")).await;
        events.body["events"].as_array().is_some_and(|e| !e.is_empty())
    })
    .await;

    // Signed out, the dashboard sends the browser to the sign-in page.
    browser.goto(&format!("{}/dashboard", app.base)).await;
    assert!(
        browser.url().await.ends_with("/dashboard/login"),
        "{}",
        browser.url().await
    );
    browser.type_into("#api_key", "not-the-key").await;
    browser.click("#login-form button").await;
    wait_text(&browser, ".notice.error", "not valid").await;
    shoot(&browser, "1-sign-in-wrong-key").await;
    browser.type_into("#api_key", API_KEY).await;
    browser.click("#login-form button").await;
    wait_text(&browser, "h1", "Overview").await;
    assert_eq!(browser.url().await, format!("{}/dashboard", app.base));
    eventually("the overview's balance", BAR, || async {
        browser.goto(&format!("{}/dashboard", app.base)).await;
        text_of(&browser, "#balance-unconfirmed").await == "0.0042 BCH"
    })
    .await;
    assert_eq!(text_of(&browser, "#wallet-state").await, "up");
    shoot(&browser, "2-overview").await;

    // Find the invoice by its order id, and open it.
    browser.click("nav a[href='/dashboard/invoices']").await;
    wait_text(&browser, "h1", "Invoices").await;
    shoot(&browser, "3-invoices").await;
    browser.type_into("#filters input[name='q']", "ORDER-42").await;
    browser.click("#filters button").await;
    wait_url(&browser, "q=ORDER-42").await;
    let rows = browser
        .eval("return document.querySelectorAll('#invoices tbody tr').length;")
        .await;
    assert_eq!(rows, 1);
    assert_eq!(text_of(&browser, "#invoices td.order").await, "ORDER-42");
    shoot(&browser, "4-invoices-search").await;
    browser.click("a.invoice-link").await;
    wait_text(&browser, "h1", &id).await;
    assert_eq!(text_of(&browser, "#payments td.txid").await, txid);
    assert!(text_of(&browser, "article.event[data-state='failed']")
        .await
        .contains("HTTP 500"));
    shoot(&browser, "5-invoice-failed-webhook").await;
    // The webhooks page lists it among the failing deliveries.
    browser.click("nav a[href='/dashboard/webhooks']").await;
    wait_text(&browser, "#failed-events", &id).await;
    shoot(&browser, "6-webhooks-failing").await;
    browser.goto(&format!("{}/dashboard/invoices/{id}", app.base)).await;

    // Send the failed webhook again: it is delivered, and the page says so.
    browser
        .click("article.event[data-state='failed'] form.redeliver button")
        .await;
    wait_text(&browser, "#notice", "Queued").await;
    shop.wait("the redelivery", BAR, |d| {
        d.iter().any(|x| x.invoice_id() == id && x.answered == 200)
    })
    .await;
    eventually("the event shown delivered", BAR, || async {
        browser.goto(&format!("{}/dashboard/invoices/{id}", app.base)).await;
        browser
            .eval("return document.querySelectorAll(\"article.event[data-state='failed']\").length;")
            .await
            == 0
    })
    .await;
    assert!(text_of(&browser, "article.event[data-state='delivered']")
        .await
        .contains("HTTP 500"));
    shoot(&browser, "7-invoice-redelivered").await;

    // Make a key, see it once, revoke it.
    browser.click("nav a[href='/dashboard/keys']").await;
    wait_text(&browser, "h1", "API keys").await;
    browser.type_into("#label", "Back office").await;
    browser
        .click("input[name='permissions'][value='btcpay.store.canviewinvoices']")
        .await;
    browser
        .click("input[name='permissions'][value='btcpay.store.cancreateinvoice']")
        .await;
    browser.click("#new-key button").await;
    wait_text(&browser, "#new-key-shown", "only once").await;
    let key = text_of(&browser, "#new-key-value").await;
    assert_eq!(key.len(), 40, "{key}");
    shoot(&browser, "8-keys-new-key-shown-once").await;
    let listed = browser
        .eval("return document.querySelectorAll('#keys tr.key').length;")
        .await;
    assert_eq!(listed, 2, "api.keys and the new one");
    browser.click("#keys tr.key:last-child form.revoke button").await;
    wait_text(&browser, "#notice", "revoked").await;
    let listed = browser
        .eval("return document.querySelectorAll('#keys tr.key').length;")
        .await;
    assert_eq!(listed, 1);

    // Download the CSV of the last 30 days (the form's default range).
    browser.click("nav a[href='/dashboard/invoices']").await;
    wait_text(&browser, "h1", "Invoices").await;
    browser
        .command(
            awc::http::Method::POST,
            "/goog/cdp/execute",
            Some(json!({"cmd": "Browser.setDownloadBehavior", "params": {
                "behavior": "allow", "downloadPath": downloads.path().display().to_string()}})),
        )
        .await;
    browser.click("#download-csv").await;
    let csv = eventually("the CSV downloaded", BAR, || async {
        let entries = std::fs::read_dir(downloads.path()).ok()?;
        let file = entries
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "csv"))?;
        std::fs::read_to_string(file).ok()
    })
    .await;
    let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[0].starts_with("id,order_id,created,status,"));
    assert!(
        lines[1].starts_with(&format!("{id},ORDER-42,")) && lines[1].ends_with(&txid),
        "{csv}"
    );

    // The WooCommerce plugin's setup wizard: consent, and the key goes to the shop.
    let redirect = shop.url();
    let ask = format!(
        "{}/api-keys/authorize?permissions=btcpay.store.canviewinvoices&permissions=btcpay.store.cancreateinvoice\
         &applicationName=WooCommerce&strict=true&selectiveStores=true&redirect={}",
        app.base,
        redirect.replace(':', "%3A").replace('/', "%2F")
    );
    browser.goto(&ask).await;
    wait_text(&browser, "#consent", "WooCommerce").await;
    shoot(&browser, "9-authorize-consent").await;
    let before = shop.count();
    browser.click("#authorize").await;
    let posted = shop.wait("the key POSTed to the shop", BAR, |d| d.len() > before).await;
    let form = String::from_utf8_lossy(&posted[before].body).into_owned();
    assert!(form.starts_with("apiKey="), "{form}");
    assert_eq!(form.matches("permissions%5B%5D=").count(), 2, "{form}");
    assert!(form.contains("btcpay.store.canviewinvoices%3A"), "name:storeId: {form}");

    // Korean, by the switch; then sign out.
    browser.goto(&format!("{}/dashboard", app.base)).await;
    browser.click("#lang-switch").await;
    wait_text(&browser, "h1", "개요").await;
    shoot(&browser, "10-overview-korean").await;
    browser.click("#lang-switch").await;
    wait_text(&browser, "h1", "Overview").await;
    browser.click("header form button").await;
    wait_url(&browser, "/dashboard/login?out=1").await;
    shoot(&browser, "11-signed-out").await;

    // Nothing was loaded from anywhere but the engine.
    let loaded = browser
        .eval("return performance.getEntriesByType('resource').map(e => e.name);")
        .await;
    for url in loaded.as_array().expect("resource entries") {
        let url = url.as_str().unwrap_or("");
        assert!(url.starts_with(&app.base), "the page loaded {url}");
    }
    browser.quit().await;
}
