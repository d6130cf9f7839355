//! `BTCPay-Sig` checked as the WooCommerce plugin checks it (greenfield-php
//! v2.9.0 `Webhook::isIncomingWebhookRequestValid`): `hash_equals('sha256=' .
//! hash_hmac('sha256', $raw, $secret), $header)`, lowercase hex, exact; here
//! with the hmac crate, and with php-cli itself where it is installed.

use std::process::{Command, Stdio};

use crate::helpers::receiver::Delivery;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `'sha256=' . hash_hmac('sha256', $raw, $secret)`.
pub fn expected(secret: &str, raw: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(raw);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Asserts that `delivery` carries a non-empty body and the exact signature
/// of its raw bytes under `secret` (header found in any case, as php does).
#[track_caller]
pub fn assert_signed(delivery: &Delivery, secret: &str) {
    assert!(!delivery.body.is_empty(), "an empty body: the plugin refuses it");
    let header = delivery
        .header("btcpay-sig")
        .unwrap_or_else(|| panic!("no BTCPay-Sig on {:?}", delivery.headers));
    assert_eq!(
        header,
        expected(secret, &delivery.body),
        "BTCPay-Sig of {}",
        String::from_utf8_lossy(&delivery.body)
    );
    assert!(
        delivery
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "content type {:?}",
        delivery.header("content-type")
    );
}

/// Whether `php` runs here.
pub fn php_available() -> bool {
    Command::new("php")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// php-cli's verdict on `raw` signed `header` under `secret`, with the
/// plugin's expression; the body goes through a file, byte for byte.
pub fn php_accepts(secret: &str, header: &str, raw: &[u8]) -> bool {
    let dir = tempfile::tempdir().expect("a temp dir");
    let body = dir.path().join("body.json");
    std::fs::write(&body, raw).expect("write the body");
    let code = r#"$raw = file_get_contents($argv[1]);
$ok = $raw && $argv[3] && hash_equals('sha256=' . hash_hmac('sha256', $raw, $argv[2]), $argv[3]);
echo $ok ? "valid" : "invalid";"#;
    let out = Command::new("php")
        .arg("-r")
        .arg(code)
        .arg(&body)
        .arg(secret)
        .arg(header)
        .output()
        .expect("run php");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && (said == "valid" || said == "invalid"),
        "php said {said:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    said == "valid"
}

#[test]
fn the_signature_is_the_plugins_hmac() {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    assert_eq!(
        expected("Jefe", b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}
