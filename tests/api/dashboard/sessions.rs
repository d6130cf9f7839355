//! Signing in and out, wrong keys slowed down, idle expiry, CSRF refusals, languages.

use std::time::Duration;

use super::Dash;
use crate::helpers::receiver::Receiver;
use crate::helpers::*;
use serde_json::json;

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
