//! The merchant dashboard over HTTP (issue 15; api.md, "Merchant
//! dashboard"): every page and form, signed out, signed in, with a wrong key,
//! a refused CSRF token, an expired session; the CSV export; the consent page.
//! The browser's view is `dashboard_browser`.

use std::time::Duration;

use crate::helpers::receiver::Receiver;
use crate::helpers::*;
use serde_json::{json, Value};

/// A page as the browser would get it, redirects not followed.
#[derive(Debug)]
struct Page {
    /// The status.
    status: u16,
    /// The response headers.
    headers: awc::http::header::HeaderMap,
    /// The body as text.
    text: String,
}

impl Page {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }

    /// Every `Set-Cookie`.
    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }

    /// The session cookie's value set by this answer.
    fn session(&self) -> Option<String> {
        self.set_cookies().iter().find_map(|c| {
            c.strip_prefix("bchpay_session=")
                .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
    }

    /// The value of the first `name="csrf"` field.
    fn csrf(&self) -> String {
        let at = self.text.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
        self.text[at..].split('"').next().unwrap().to_owned()
    }

    #[track_caller]
    fn assert_redirect(&self, to: &str) {
        assert_eq!(
            (self.status, self.header("location").as_str()),
            (303, to),
            "{}",
            self.text
        );
    }
}

/// The engine and a client that keeps no cookies and follows no redirects.
struct Dash {
    app: TestApp,
    client: awc::Client,
}

impl Dash {
    async fn spawn_with(configure: impl FnOnce(&mut bchpay::config::Settings)) -> Dash {
        Dash {
            app: TestApp::spawn_with(configure).await,
            client: awc::Client::builder()
                .timeout(Duration::from_secs(10))
                .disable_redirects()
                .finish(),
        }
    }

    async fn spawn() -> Dash {
        Dash::spawn_with(|_| {}).await
    }

    async fn read(
        mut response: awc::ClientResponse<
            impl futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
        >,
    ) -> Page {
        let body = response.body().limit(16 * 1024 * 1024).await.expect("body");
        Page {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    fn request(&self, method: awc::http::Method, path: &str, session: Option<&str>) -> awc::ClientRequest {
        let mut request = self.client.request(method, format!("{}{path}", self.app.base));
        if let Some(s) = session {
            request = request.insert_header(("Cookie", format!("bchpay_session={s}")));
        }
        request
    }

    async fn get(&self, path: &str, session: Option<&str>) -> Page {
        let sent = self.request(awc::http::Method::GET, path, session).send().await;
        Dash::read(sent.unwrap_or_else(|e| panic!("GET {path}: {e}"))).await
    }

    async fn get_lang(&self, path: &str, session: Option<&str>, accept: &str) -> Page {
        let sent = self
            .request(awc::http::Method::GET, path, session)
            .insert_header(("Accept-Language", accept))
            .send()
            .await;
        Dash::read(sent.unwrap_or_else(|e| panic!("GET {path}: {e}"))).await
    }

    async fn post(&self, path: &str, session: Option<&str>, fields: &[(&str, &str)]) -> Page {
        let sent = self
            .request(awc::http::Method::POST, path, session)
            .send_form(&fields)
            .await;
        Dash::read(sent.unwrap_or_else(|e| panic!("POST {path}: {e}"))).await
    }

    /// Signs in with the engine's key; the session id.
    async fn sign_in(&self) -> String {
        let page = self.post("/dashboard/login", None, &[("api_key", API_KEY)]).await;
        page.assert_redirect("/dashboard");
        page.session().expect("a session cookie")
    }

    /// The session's CSRF token, read from a page.
    async fn csrf(&self, session: &str) -> String {
        self.get("/dashboard", Some(session)).await.csrf()
    }
}

#[actix_rt::test]
async fn signed_out_every_page_and_form_answers_303_to_the_sign_in_page() {
    let dash = Dash::spawn().await;
    let inv = dash.app.create_ok(&json!({"amount": "0.001"})).await;
    let id = inv["id"].as_str().unwrap();
    for path in [
        "/dashboard".to_owned(),
        format!("/dashboard/invoices/{id}"),
        "/dashboard/webhooks".to_owned(),
        "/dashboard/keys".to_owned(),
    ] {
        let page = dash.get(&path, None).await;
        assert_eq!(page.status, 303, "{path}");
        let location = page.header("location");
        assert!(location.starts_with("/dashboard/login"), "{path}: {location}");
    }
    dash.get("/dashboard", None).await.assert_redirect("/dashboard/login");
    dash.get("/dashboard/invoices?status=new", None)
        .await
        .assert_redirect("/dashboard/login?next=%2Fdashboard%2Finvoices%3Fstatus%3Dnew");
    dash.get("/dashboard/export.csv?from=2026-01-01&to=2026-12-31", None)
        .await
        .assert_redirect("/dashboard/login?next=%2Fdashboard%2Fexport.csv%3Ffrom%3D2026-01-01%26to%3D2026-12-31");
    // An unknown session id is signed out too, and so are forms.
    dash.get("/dashboard", Some("00ff"))
        .await
        .assert_redirect("/dashboard/login");
    for path in [
        "/dashboard/logout",
        "/dashboard/keys",
        "/api-keys/authorize",
        "/dashboard/events/evt_x/redeliver",
    ] {
        dash.post(path, None, &[("csrf", "x")])
            .await
            .assert_redirect("/dashboard/login");
    }
}

#[actix_rt::test]
async fn sign_in_sets_a_strict_http_only_secure_session_cookie_and_the_pages_open() {
    let dash = Dash::spawn().await;
    let form = dash.get("/dashboard/login", None).await;
    assert_eq!(form.status, 200);
    assert!(form.text.contains(r#"name="api_key""#), "{}", form.text);
    let csp = form.header("content-security-policy");
    for part in [
        "default-src 'none'",
        "script-src 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!form.text.contains("<script"), "no script on the dashboard");
    assert!(
        !form.text.contains("http://") && !form.text.contains("https://"),
        "nothing from elsewhere"
    );

    let page = dash.post("/dashboard/login", None, &[("api_key", API_KEY)]).await;
    page.assert_redirect("/dashboard");
    let cookie = page
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("bchpay_session="))
        .expect("the session cookie");
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    let session = page.session().unwrap();
    assert_eq!(session.len(), 64, "256 random bits");
    for path in [
        "/dashboard",
        "/dashboard/invoices",
        "/dashboard/webhooks",
        "/dashboard/keys",
    ] {
        let page = dash.get(path, Some(&session)).await;
        assert_eq!(page.status, 200, "{path}: {}", page.text);
        assert_eq!(page.header("cache-control"), "no-store", "{path}");
        assert!(page.header("content-security-policy").contains("script-src 'none'"));
    }
    // The sign-in page of a signed-in merchant goes on to the dashboard, or to `next`.
    dash.get("/dashboard/login", Some(&session))
        .await
        .assert_redirect("/dashboard");
    dash.get("/dashboard/login?next=%2Fdashboard%2Fkeys", Some(&session))
        .await
        .assert_redirect("/dashboard/keys");
    dash.get("/dashboard/login?next=%2F%2Fevil.example", Some(&session))
        .await
        .assert_redirect("/dashboard");
}

#[actix_rt::test]
async fn the_cookie_is_not_secure_when_the_public_url_is_http() {
    let dash = Dash::spawn_with(|s| s.server.public_url = "http://127.0.0.1:8080".into()).await;
    let page = dash.post("/dashboard/login", None, &[("api_key", API_KEY)]).await;
    let cookie = page.set_cookies().join("\n");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[actix_rt::test]
async fn a_wrong_key_gets_the_form_again_with_401_and_repeated_failures_are_slowed_down() {
    let dash = Dash::spawn().await;
    for attempt in 1..=4 {
        let page = dash.post("/dashboard/login", None, &[("api_key", "not-the-key")]).await;
        assert_eq!(page.status, 401, "attempt {attempt}");
        assert!(page.text.contains(r#"name="api_key""#), "the form again");
        assert!(page.session().is_none());
    }
    let empty = dash.post("/dashboard/login", None, &[("api_key", "")]).await;
    assert_eq!(empty.status, 401);
    // The fifth failure locked the address out: even the right key waits.
    let page = dash.post("/dashboard/login", None, &[("api_key", API_KEY)]).await;
    assert_eq!(page.status, 429, "{}", page.text);
    assert!(page.header("retry-after").parse::<u64>().unwrap() >= 1);
    assert!(page.session().is_none());
    // The lock-out of the first locked failure is one second.
    let session = eventually("the lock-out to pass", Duration::from_secs(4), || async {
        dash.post("/dashboard/login", None, &[("api_key", API_KEY)])
            .await
            .session()
    })
    .await;
    assert_eq!(dash.get("/dashboard", Some(&session)).await.status, 200);
}

#[actix_rt::test]
async fn an_idle_session_expires_and_the_sign_in_page_says_so() {
    let dash = Dash::spawn_with(|s| s.dashboard.session_idle_secs = 1).await;
    let session = dash.sign_in().await;
    assert_eq!(dash.get("/dashboard", Some(&session)).await.status, 200);
    // Every look uses the session: look less often than the idle time.
    let page = poll_every(Duration::from_millis(1500), Duration::from_secs(5), || async {
        let page = dash.get("/dashboard/keys", Some(&session)).await;
        (page.status == 303).then_some(page)
    })
    .await
    .expect("the session to expire");
    page.assert_redirect("/dashboard/login?expired=1&next=%2Fdashboard%2Fkeys");
    let login = dash.get("/dashboard/login?expired=1", None).await;
    assert!(login.text.contains("Your session expired"), "{}", login.text);
    // Expired is gone: the same cookie is now simply unknown.
    dash.get("/dashboard", Some(&session))
        .await
        .assert_redirect("/dashboard/login");
}

#[actix_rt::test]
async fn every_state_changing_form_refuses_a_missing_or_wrong_csrf_token_with_403() {
    let receiver = Receiver::up();
    let dash = Dash::spawn_with(|s| {
        s.webhooks.url = receiver.url();
        s.webhooks.secret = bchpay::config::Secret::new("whsec");
    })
    .await;
    let session = dash.sign_in().await;
    let other = dash.sign_in().await;
    let wrong = dash.csrf(&other).await;
    let inv = dash.app.create_ok(&json!({"amount": "0.001"})).await;
    dash.app.sim.pay(inv["address"].as_str().unwrap(), 100_000).unwrap();
    let event = eventually("an event", Duration::from_secs(5), || async {
        let events = dash
            .app
            .get(&format!("/api/v1/events?invoice_id={}", inv["id"].as_str().unwrap()))
            .await;
        events.body["events"][0]["id"].as_str().map(str::to_owned)
    })
    .await;
    let keys_before = dash
        .get("/dashboard/keys", Some(&session))
        .await
        .text
        .matches("class=\"key\"")
        .count();
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/dashboard/logout".into(), vec![]),
        (
            "/dashboard/keys".into(),
            vec![("label", "x"), ("permissions", "unrestricted")],
        ),
        ("/dashboard/keys/key_0/revoke".into(), vec![]),
        (format!("/dashboard/events/{event}/redeliver"), vec![]),
        ("/api-keys/authorize".into(), vec![("permissions", "unrestricted")]),
    ];
    for (path, fields) in &forms {
        let page = dash.post(path, Some(&session), fields).await;
        assert_eq!(page.status, 403, "{path} without a token: {}", page.text);
        let mut with_wrong = fields.clone();
        with_wrong.push(("csrf", &wrong));
        let page = dash.post(path, Some(&session), &with_wrong).await;
        assert_eq!(page.status, 403, "{path} with another session's token");
    }
    // Nothing changed: still signed in, no key made, the event not queued again.
    let keys = dash.get("/dashboard/keys", Some(&session)).await;
    assert_eq!(keys.status, 200);
    assert_eq!(keys.text.matches("class=\"key\"").count(), keys_before);
    let events = dash
        .app
        .get(&format!("/api/v1/events?invoice_id={}", inv["id"].as_str().unwrap()))
        .await;
    assert!(
        events.body["events"][0]["attempts"].as_u64().unwrap() <= 1,
        "{}",
        events.body
    );
}

#[actix_rt::test]
async fn sign_out_ends_the_session() {
    let dash = Dash::spawn().await;
    let session = dash.sign_in().await;
    let csrf = dash.csrf(&session).await;
    let page = dash.post("/dashboard/logout", Some(&session), &[("csrf", &csrf)]).await;
    page.assert_redirect("/dashboard/login?out=1");
    assert!(
        page.set_cookies().join(" ").contains("bchpay_session=;"),
        "{:?}",
        page.set_cookies()
    );
    dash.get("/dashboard", Some(&session))
        .await
        .assert_redirect("/dashboard/login");
    let login = dash.get("/dashboard/login?out=1", None).await;
    assert!(login.text.contains("You are signed out"));
}

#[actix_rt::test]
async fn the_overview_shows_the_wallet_balance_the_pool_and_invoices_by_status() {
    let dash = Dash::spawn().await;
    let session = dash.sign_in().await;
    let inv = dash.app.create_ok(&json!({"amount": "0.0007"})).await;
    dash.app.sim.pay(inv["address"].as_str().unwrap(), 70_000).unwrap();
    dash.app.sim.mine(1);
    let page = eventually("the overview to show the balance", Duration::from_secs(5), || async {
        let page = dash.get("/dashboard", Some(&session)).await;
        page.text
            .contains(r#"<div class="big" id="balance-confirmed">0.0007 BCH</div>"#)
            .then_some(page)
    })
    .await;
    assert!(page.text.contains(r#"id="wallet-state">up</span>"#), "{}", page.text);
    assert!(page.text.contains("bchreg"));
    assert!(page.text.contains(r#"id="rates""#), "the rates panel");
    let confirmed = eventually("the invoice confirmed", Duration::from_secs(5), || async {
        let page = dash.get("/dashboard", Some(&session)).await;
        page.text.contains(r#"id="count-confirmed">1</td>"#).then_some(page)
    })
    .await;
    assert!(
        confirmed.text.contains(r#"id="count-new">0</td>"#),
        "{}",
        confirmed.text
    );
}

#[actix_rt::test]
async fn invoices_filter_by_status_find_by_id_order_address_and_txid_and_page() {
    let dash = Dash::spawn().await;
    let session = dash.sign_in().await;
    let mut made = Vec::new();
    for n in 0..27 {
        made.push(
            dash.app
                .create_ok(&json!({"amount_sats": 1000 + n, "order_id": format!("A-{n}")}))
                .await,
        );
    }
    let paid = &made[3];
    let txid = dash.app.sim.pay(paid["address"].as_str().unwrap(), 1003).unwrap();
    let id = |i: &Value| i["id"].as_str().unwrap().to_owned();
    eventually("invoice A-3 paid", Duration::from_secs(5), || async {
        dash.app.get(&format!("/api/v1/invoices/{}", id(paid))).await.body["status"] == "paid"
    })
    .await;

    let first = dash.get("/dashboard/invoices", Some(&session)).await;
    assert_eq!(first.text.matches("class=\"mono invoice-link\"").count(), 25);
    assert!(
        first.text.contains(&id(&made[26])) && !first.text.contains(&id(&made[0])),
        "newest first"
    );
    let at = first.text.find(r#"id="next-page" href=""#).expect("a next page") + r#"id="next-page" href=""#.len();
    let next = first.text[at..].split('"').next().unwrap().replace("&amp;", "&");
    let second = dash.get(&next, Some(&session)).await;
    assert_eq!(second.text.matches("class=\"mono invoice-link\"").count(), 2, "{next}");
    assert!(second.text.contains(&id(&made[0])));

    let only_paid = dash.get("/dashboard/invoices?status=paid", Some(&session)).await;
    assert_eq!(only_paid.text.matches("class=\"mono invoice-link\"").count(), 1);
    assert!(only_paid.text.contains(&id(paid)));

    let address = paid["address"].as_str().unwrap();
    let bare = address.split(':').nth(1).unwrap();
    for q in [
        id(paid),
        "A-3".to_owned(),
        address.to_owned(),
        bare.to_owned(),
        txid.clone(),
    ] {
        let page = dash
            .get(&format!("/dashboard/invoices?q={}", urlencode(&q)), Some(&session))
            .await;
        assert_eq!(page.status, 200);
        assert_eq!(page.text.matches("class=\"mono invoice-link\"").count(), 1, "q={q}");
        assert!(page.text.contains(&id(paid)), "q={q}");
    }
    let none = dash
        .get("/dashboard/invoices?q=nothing-like-this", Some(&session))
        .await;
    assert!(none.text.contains(r#"id="no-invoices""#));
    assert_eq!(
        dash.get("/dashboard/invoices?status=bogus", Some(&session))
            .await
            .status,
        400
    );
    assert_eq!(
        dash.get("/dashboard/invoices?cursor=x", Some(&session)).await.status,
        400
    );
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[actix_rt::test]
async fn the_invoice_page_shows_payments_and_every_attempt_and_redelivers_a_failed_event() {
    let receiver = Receiver::up();
    receiver.answer(&[500]);
    receiver.answer_always(200);
    let dash = Dash::spawn_with(|s| {
        s.webhooks.url = receiver.url();
        s.webhooks.secret = bchpay::config::Secret::new("whsec");
        s.webhooks.retry_schedule_secs = vec![];
        s.payments.poll_interval_ms = 100;
    })
    .await;
    let session = dash.sign_in().await;
    let inv = dash.app.create_ok(&json!({"amount": "0.001", "order_id": "B-1"})).await;
    let id = inv["id"].as_str().unwrap();
    let txid = dash.app.sim.pay(inv["address"].as_str().unwrap(), 100_000).unwrap();
    let page = eventually("a failed event on the page", Duration::from_secs(10), || async {
        let page = dash.get(&format!("/dashboard/invoices/{id}"), Some(&session)).await;
        page.text.contains(r#"data-state="failed""#).then_some(page)
    })
    .await;
    assert!(page.text.contains(&txid), "the payment's txid");
    assert!(
        page.text.contains(r#"<td class="num confirmations">0</td>"#),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("HTTP 500"),
        "the failed attempt and its error: {}",
        page.text
    );
    assert!(page.text.contains("B-1"));
    let event = page
        .text
        .split(r#"<article class="card event" id=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    let csrf = page.csrf();
    let back = format!("/dashboard/invoices/{id}");
    let redelivered = dash
        .post(
            &format!("/dashboard/events/{event}/redeliver"),
            Some(&session),
            &[("csrf", &csrf), ("back", &back)],
        )
        .await;
    redelivered.assert_redirect(&format!("{back}?redelivered=1#{event}"));
    receiver
        .wait("the event delivered again", Duration::from_secs(10), |d| {
            d.iter().any(|x| x.event_id() == event && x.answered == 200)
        })
        .await;
    let after = eventually("the event delivered on the page", Duration::from_secs(5), || async {
        let page = dash.get(&format!("{back}?redelivered=1"), Some(&session)).await;
        page.text.contains(r#"data-state="delivered""#).then_some(page)
    })
    .await;
    assert!(after.text.contains(r#"id="notice""#));
    assert!(after.text.contains("HTTP 500"), "the old attempt stays in the log");
    // The webhooks page lists failing deliveries first.
    dash.app.sim.mine(1);
    let hooks = dash.get("/dashboard/webhooks", Some(&session)).await;
    assert!(hooks.text.contains(&receiver.url()), "the configured default");
    assert!(hooks.text.contains(r#"id="registered-webhooks""#));
    // An unknown invoice or event.
    assert_eq!(
        dash.get("/dashboard/invoices/inv_nope", Some(&session)).await.status,
        404
    );
    let unknown = dash
        .post(
            "/dashboard/events/evt_nope/redeliver",
            Some(&session),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(unknown.status, 404);
}

#[actix_rt::test]
async fn keys_are_made_with_chosen_permissions_shown_once_and_revoked() {
    let dash = Dash::spawn().await;
    let session = dash.sign_in().await;
    let csrf = dash.csrf(&session).await;
    let made = dash
        .post(
            "/dashboard/keys",
            Some(&session),
            &[
                ("csrf", &csrf),
                ("label", "back office"),
                ("permissions", "unrestricted"),
            ],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.text);
    let at = made.text.find(r#"id="new-key-value">"#).expect("the key shown") + r#"id="new-key-value">"#.len();
    let key = made.text[at..at + 40].to_owned();
    assert!(
        key.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{key}"
    );
    let listed = dash.get("/dashboard/keys", Some(&session)).await;
    assert!(listed.text.contains("back office"));
    assert!(!listed.text.contains(&key), "shown once only");
    // The new unrestricted key signs in.
    let page = dash.post("/dashboard/login", None, &[("api_key", &key)]).await;
    page.assert_redirect("/dashboard");
    let opened_with_it = page.session().unwrap();

    let narrow = dash
        .post(
            "/dashboard/keys",
            Some(&session),
            &[
                ("csrf", &csrf),
                ("label", "shop"),
                ("permissions", "btcpay.store.canviewinvoices"),
                ("permissions", "btcpay.store.cancreateinvoice"),
            ],
        )
        .await;
    assert!(narrow.text.contains("btcpay.store.cancreateinvoice"));
    let at = narrow.text.find(r#"id="new-key-value">"#).unwrap() + r#"id="new-key-value">"#.len();
    let narrow_key = narrow.text[at..at + 40].to_owned();
    assert_eq!(
        dash.post("/dashboard/login", None, &[("api_key", &narrow_key)])
            .await
            .status,
        401,
        "a key without unrestricted does not sign in"
    );

    let key_id = listed
        .text
        .split(r#"<tr class="key" data-id=""#)
        .nth(2)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let revoked = dash
        .post(
            &format!("/dashboard/keys/{key_id}/revoke"),
            Some(&session),
            &[("csrf", &csrf)],
        )
        .await;
    revoked.assert_redirect("/dashboard/keys?revoked=1");
    let after = dash.get("/dashboard/keys?revoked=1", Some(&session)).await;
    assert!(!after.text.contains("back office"), "{}", after.text);
    assert_eq!(
        dash.post("/dashboard/login", None, &[("api_key", &key)]).await.status,
        401
    );
    // The sessions it opened end with it; others go on.
    dash.get("/dashboard", Some(&opened_with_it))
        .await
        .assert_redirect("/dashboard/login");
    assert_eq!(dash.get("/dashboard", Some(&session)).await.status, 200);

    for bad in [
        vec![("csrf", csrf.as_str()), ("label", ""), ("permissions", "unrestricted")],
        vec![("csrf", csrf.as_str()), ("label", "no permissions")],
    ] {
        assert_eq!(
            dash.post("/dashboard/keys", Some(&session), &bad).await.status,
            400,
            "{bad:?}"
        );
    }
    let unknown = dash
        .post(
            "/dashboard/keys",
            Some(&session),
            &[("csrf", &csrf), ("label", "x"), ("permissions", "root")],
        )
        .await;
    assert_eq!(unknown.status, 400);
    let again = dash
        .post(
            &format!("/dashboard/keys/{key_id}/revoke"),
            Some(&session),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, 404);
}

#[actix_rt::test]
async fn the_csv_export_has_a_row_per_invoice_of_the_range_quoted_and_defused() {
    let dash = Dash::spawn().await;
    let session = dash.sign_in().await;
    let a = dash
        .app
        .create_ok(&json!({"amount": "0.0007", "order_id": "=HYPERLINK(\"http://x\",\"y\")"}))
        .await;
    let b = dash
        .app
        .create_ok(&json!({"amount_sats": 1, "order_id": "shop, \"main\""}))
        .await;
    let txid = dash.app.sim.pay(b["address"].as_str().unwrap(), 1).unwrap();
    eventually("b paid", Duration::from_secs(5), || async {
        dash.app
            .get(&format!("/api/v1/invoices/{}", b["id"].as_str().unwrap()))
            .await
            .body["status"]
            == "paid"
    })
    .await;
    let today = chrono::Utc::now().date_naive();
    let page = dash
        .get(
            &format!("/dashboard/export.csv?from={today}&to={today}"),
            Some(&session),
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.header("content-type").starts_with("text/csv"),
        "{}",
        page.header("content-type")
    );
    assert!(page.header("content-disposition").starts_with("attachment"));
    let lines: Vec<&str> = page.text.split_terminator("\r\n").collect();
    assert_eq!(
        lines[0],
        "id,order_id,created,status,price,currency,rate,amount_bch,received_bch,txids"
    );
    assert_eq!(lines.len(), 3, "{}", page.text);
    let (id_a, id_b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    assert_eq!(
        lines[1],
        format!(
            "{id_b},\"shop, \"\"main\"\"\",{},paid,0.00000001,BCH,,0.00000001,0.00000001,{txid}",
            b["created_at"].as_str().unwrap()
        )
    );
    assert_eq!(
        lines[2],
        format!(
            "{id_a},\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",{},new,0.0007,BCH,,0.0007,0,",
            a["created_at"].as_str().unwrap()
        )
    );
    let yesterday = today - chrono::Duration::days(1);
    let empty = dash
        .get(
            &format!("/dashboard/export.csv?from={yesterday}&to={yesterday}"),
            Some(&session),
        )
        .await;
    assert_eq!(empty.text.split_terminator("\r\n").count(), 1, "the header alone");
    for bad in [
        format!("from={today}"),
        "from=2026-13-01&to=2026-12-31".to_owned(),
        "from=2026-1-01&to=2026-12-31".to_owned(),
        format!("from={today}&to={yesterday}"),
    ] {
        let page = dash.get(&format!("/dashboard/export.csv?{bad}"), Some(&session)).await;
        assert_eq!(page.status, 400, "{bad}");
    }
}

#[actix_rt::test]
async fn the_consent_page_makes_a_key_with_exactly_the_permissions_asked_and_posts_it_to_redirect() {
    let dash = Dash::spawn().await;
    let ask = "/api-keys/authorize?permissions=btcpay.store.canviewinvoices&permissions=btcpay.store.cancreateinvoice\
               &applicationName=WooCommerce&strict=true&selectiveStores=true\
               &redirect=https%3A%2F%2Fshop.example%2F%3Fbtcpay-settings-callback";
    // Signed out: to the sign-in page, and back here after it.
    let out = dash.get(ask, None).await;
    assert_eq!(out.status, 303);
    let location = out.header("location");
    assert!(
        location.starts_with("/dashboard/login?next=%2Fapi-keys%2Fauthorize"),
        "{location}"
    );
    let login = dash.get(&location, None).await;
    let next_at = login
        .text
        .find(r#"name="next" value=""#)
        .expect("next kept in the form")
        + r#"name="next" value=""#.len();
    let next = login.text[next_at..].split('"').next().unwrap().replace("&amp;", "&");
    assert_eq!(next, ask);
    let signed = dash
        .post("/dashboard/login", None, &[("api_key", API_KEY), ("next", &next)])
        .await;
    signed.assert_redirect(ask);
    let session = signed.session().unwrap();

    let consent = dash.get(ask, Some(&session)).await;
    assert_eq!(consent.status, 200, "{}", consent.text);
    assert!(consent.text.contains("WooCommerce") && consent.text.contains("https://shop.example"));
    assert!(consent
        .text
        .contains(r#"<li class="mono">btcpay.store.canviewinvoices</li>"#));
    assert!(consent
        .text
        .contains(r#"<li class="mono">btcpay.store.cancreateinvoice</li>"#));
    assert!(!consent.text.contains("<li class=\"mono\">unrestricted"));
    let csrf = consent.csrf();
    let sent = dash
        .post(
            "/api-keys/authorize",
            Some(&session),
            &[
                ("csrf", &csrf),
                ("permissions", "btcpay.store.canviewinvoices"),
                ("permissions", "btcpay.store.cancreateinvoice"),
                ("applicationName", "WooCommerce"),
                ("redirect", "https://shop.example/?btcpay-settings-callback"),
            ],
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert!(
        sent.text
            .contains(r#"<form method="post" action="https://shop.example/?btcpay-settings-callback" id="send">"#),
        "{}",
        sent.text
    );
    let csp = sent.header("content-security-policy");
    assert!(csp.contains("form-action https://shop.example;"), "{csp}");
    let at = sent.text.find(r#"name="apiKey" value=""#).unwrap() + r#"name="apiKey" value=""#.len();
    let key = &sent.text[at..at + 40];
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
    let granted: Vec<&str> = sent
        .text
        .split(r#"name="permissions[]" value=""#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert_eq!(granted.len(), 2, "exactly the permissions asked: {granted:?}");
    let store = granted[0].split(':').nth(1).expect("name:storeId");
    assert!(granted.contains(&format!("btcpay.store.canviewinvoices:{store}").as_str()));
    assert!(granted.contains(&format!("btcpay.store.cancreateinvoice:{store}").as_str()));
    // The key is listed with exactly those permissions, and it cannot sign in.
    let keys = dash.get("/dashboard/keys", Some(&session)).await;
    assert!(keys.text.contains("WooCommerce"));
    assert_eq!(
        dash.post("/dashboard/login", None, &[("api_key", key)]).await.status,
        401
    );

    for bad in [
        "/api-keys/authorize?permissions=btcpay.store.cansteal&redirect=https%3A%2F%2Fshop.example%2F",
        "/api-keys/authorize?permissions=unrestricted&redirect=javascript%3Aalert(1)",
        "/api-keys/authorize?applicationName=x",
    ] {
        assert_eq!(dash.get(bad, Some(&session)).await.status, 400, "{bad}");
    }
}

#[actix_rt::test]
async fn pages_speak_korean_by_accept_language_and_by_the_switch() {
    let dash = Dash::spawn().await;
    let login = dash.get_lang("/dashboard/login", None, "ko-KR,ko;q=0.9,en;q=0.5").await;
    assert!(login.text.contains(r#"<html lang="ko">"#) && login.text.contains("로그인"));
    let english = dash.get_lang("/dashboard/login", None, "en-US").await;
    assert!(english.text.contains(r#"<html lang="en">"#) && english.text.contains("Sign in"));
    let switch = dash.get("/dashboard/lang/ko?next=%2Fdashboard%2Flogin", None).await;
    switch.assert_redirect("/dashboard/login");
    let choice = switch.set_cookies().join(" ");
    assert!(choice.contains("bchpay_lang=ko"), "{choice}");
    let sent = dash
        .client
        .get(format!("{}/dashboard/login", dash.app.base))
        .insert_header(("Cookie", "bchpay_lang=ko"))
        .insert_header(("Accept-Language", "en"))
        .send()
        .await
        .unwrap();
    let page = Dash::read(sent).await;
    assert!(page.text.contains(r#"<html lang="ko">"#), "the switch wins");
    assert_eq!(dash.get("/dashboard/lang/fr", None).await.status, 404);
    dash.get("/dashboard/lang/en?next=https%3A%2F%2Fevil.example", None)
        .await
        .assert_redirect("/dashboard");
}
