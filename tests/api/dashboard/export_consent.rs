//! The CSV export and the key-authorization consent page.

use std::time::Duration;

use super::Dash;
use crate::helpers::*;
use serde_json::json;

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
