use super::*;
use crate::http::checkout::i18n::Lang;

#[test]
fn escape_html_escapes_every_special_character() {
    assert_eq!(
        escape_html(r#"<script>alert("1") & 'x'</script>"#),
        "&lt;script&gt;alert(&quot;1&quot;) &amp; &#39;x&#39;&lt;/script&gt;"
    );
    assert_eq!(escape_html("결제 0.001"), "결제 0.001");
}

#[test]
fn json_for_script_cannot_close_the_script_or_break_a_line() {
    let out = json_for_script(&json!({"d": "</script><!-- & \u{2028}\u{2029}"}));
    for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
        assert!(!out.contains(bad), "{bad:?} in {out}");
    }
    let back: Value = serde_json::from_str(&out).expect("still JSON");
    assert_eq!(back["d"], "</script><!-- & \u{2028}\u{2029}");
}

#[test]
fn qr_svg_is_inline_svg_that_names_no_host() {
    let svg = qr_svg(
        "bitcoincash:qq0000000000000000000000000000000000000000?amount=0.001",
        "QR",
    )
    .expect("fits");
    assert!(
        svg.starts_with("<svg class=\"qr\" role=\"img\" aria-label=\"QR\""),
        "{svg}"
    );
    assert!(svg.ends_with("</svg>"), "{svg}");
    assert!(!svg.contains("<?xml") && !svg.contains("http"), "{svg}");
    assert!(svg.contains("<path"), "{svg}");
}

#[test]
fn a_redirect_url_must_be_http_or_https() {
    assert!(safe_redirect("https://shop.example/back"));
    assert!(safe_redirect("HTTP://shop.example/back"));
    assert!(!safe_redirect("javascript:alert(1)"));
    assert!(!safe_redirect("data:text/html,x"));
    assert!(!safe_redirect("/relative"));
}

#[test]
fn clock_shows_minutes_and_hours() {
    assert_eq!(clock(0), "0:00");
    assert_eq!(clock(59), "0:59");
    assert_eq!(clock(900), "15:00");
    assert_eq!(clock(3600 + 62), "1:01:02");
}

#[test]
fn status_words_cover_every_status_in_both_languages() {
    use InvoiceException::*;
    use InvoiceStatus::*;
    let en = Lang::English.texts();
    let ko = Lang::Korean.texts();
    let words = |t, status, exception, received, confirmations| {
        status_words(t, status, exception, Sats(received), Sats(100_000), confirmations, 2)
    };
    let text = |w: StatusWords| (w.text, w.note);
    assert_eq!(text(words(en, New, None, 0, 0)), ("Waiting for payment".into(), None));
    assert_eq!(
        text(words(en, New, Some(PaidPartial), 40_000, 0)),
        ("Partially paid (0.0004 of 0.001 BCH)".into(), None)
    );
    assert_eq!(
        text(words(en, Paid, None, 100_000, 1)),
        ("Paid, waiting for confirmation (1 of 2)".into(), None)
    );
    assert_eq!(text(words(en, Confirmed, None, 100_000, 5)).0, "Confirmed");
    assert_eq!(
        text(words(en, Expired, Some(PaidPartial), 40_000, 0)),
        (
            "Expired".into(),
            Some("Only part of the amount was paid (0.0004 of 0.001 BCH)".into())
        )
    );
    assert_eq!(text(words(en, Invalid, None, 0, 0)).0, "Invalid");
    assert_eq!(
        text(words(en, Paid, Some(PaidLate), 100_000, 0)).1.as_deref(),
        Some("Paid after the invoice expired")
    );
    assert_eq!(
        text(words(en, Confirmed, Some(PaidOver), 150_000, 3)).1.as_deref(),
        Some("More than the amount was paid (0.0015 BCH)")
    );
    assert_eq!(text(words(ko, New, None, 0, 0)).0, "결제 대기 중");
    assert_eq!(
        text(words(ko, Paid, None, 100_000, 0)).0,
        "결제됨, 확인 대기 중 (2회 중 0회)"
    );
    assert_eq!(text(words(ko, Confirmed, None, 100_000, 2)).0, "결제 확인됨");
}

#[test]
fn accept_language_picks_the_best_supported_language() {
    let cases = [
        (None, Lang::English),
        (Some(""), Lang::English),
        (Some("ko-KR,ko;q=0.9"), Lang::Korean),
        (Some("ko"), Lang::Korean),
        (Some("KO-kr"), Lang::Korean),
        (Some("en-US,en;q=0.9,ko;q=0.8"), Lang::English),
        (Some("en;q=0.5, ko;q=0.8"), Lang::Korean),
        (Some("fr-FR, ko;q=0.3"), Lang::Korean),
        (Some("fr-FR, de"), Lang::English),
        (Some("ko;q=0, en;q=0.1"), Lang::English),
        (Some("ko;q=0"), Lang::English),
        (Some("*"), Lang::English),
        (Some("kok, ko-KR;q=0.2"), Lang::Korean),
        (Some("ko;q=garbage"), Lang::Korean),
    ];
    for (header, want) in cases {
        assert_eq!(Lang::negotiate(header), want, "{header:?}");
    }
}

#[test]
fn every_text_exists_in_both_languages() {
    let en = serde_json::to_value(Lang::English.texts()).unwrap();
    let ko = serde_json::to_value(Lang::Korean.texts()).unwrap();
    for (key, value) in en.as_object().unwrap() {
        let korean = ko[key].as_str().unwrap_or("");
        assert!(
            !korean.is_empty() && value.as_str() != Some(korean),
            "{key}: {korean:?}"
        );
    }
}

#[test]
fn the_policy_allows_exactly_the_inline_style_and_script() {
    let csp = content_security_policy();
    assert!(csp.starts_with("default-src 'none'; "), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(JS.as_bytes()));
    assert!(csp.contains(&format!("script-src 'sha256-{hash}'")), "{csp}");
}

fn priced(currency: &str, price: &str) -> crate::invoice::Invoice {
    use crate::invoice::{FiatPrice, Invoice, InvoiceId, NewInvoice};
    let fiat = (currency != "BCH").then(|| FiatPrice {
        currency: crate::fiat::Currency::parse(currency).unwrap(),
        price: price.parse().unwrap(),
        rate: "612000".parse().unwrap(),
        rate_sources: vec!["upbit".into()],
        rate_at: chrono::Utc::now(),
    });
    let draft = NewInvoice {
        amount_sats: crate::money::Sats(2_450_981),
        fiat,
        order_id: None,
        description: None,
        metadata: json!({}),
        webhook_url: None,
        redirect_url: None,
        expires_in_secs: 900,
        required_confirmations: 1,
    };
    let address = crate::cashaddr::Address::parse("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a").unwrap();
    Invoice::create(InvoiceId::from_bytes([9; 16]), draft, address, chrono::Utc::now())
}

#[test]
fn the_fiat_price_is_shown_beside_the_bch_amount_in_the_page_language() {
    let krw = priced("KRW", "15000");
    let status = json!({});
    let ko = render(&krw, &status, 0, chrono::Utc::now(), Lang::Korean);
    assert!(
        ko.contains(
            "<strong class=\"price\" id=\"price\">15,000원</strong> = <strong id=\"amount\">0.02450981 BCH</strong>"
        ),
        "{ko}"
    );
    let en = render(&krw, &status, 0, chrono::Utc::now(), Lang::English);
    assert!(en.contains(">₩15,000</strong>"), "{en}");
    let usd = render(&priced("USD", "12.34"), &status, 0, chrono::Utc::now(), Lang::English);
    assert!(usd.contains(">$12.34</strong>"), "{usd}");
    let bch = render(&priced("BCH", ""), &status, 0, chrono::Utc::now(), Lang::English);
    assert!(!bch.contains("class=\"price\""), "{bch}");
}
