//! `bchpay inspect stats --check` through a running engine: the admin API
//! checks the store's invariants when asked (`?check=true`), and only then.
//! (The stopped-store path runs after every round of the drill.)

use crate::helpers::TestApp;
use crate::helpers::{self};
use serde_json::json;

#[actix_rt::test]
async fn admin_stats_checks_the_invariants_only_when_asked() {
    let app = TestApp::spawn().await;
    for n in 0..3 {
        app.create_ok(&json!({"amount_sats": 1000 + n})).await;
    }

    let checked = app.get("/api/v1/admin/stats?check=true").await;
    let plain = app.get("/api/v1/admin/stats").await;
    let bad = app.get("/api/v1/admin/stats?check=maybe").await;

    assert_eq!(checked.status, 200, "{}", checked.body);
    assert_eq!(checked.body["invariants_broken"], json!([]));
    assert_eq!(checked.body["invoices"], 3);
    assert_eq!(plain.body["invariants_broken"], serde_json::Value::Null);
    helpers::assert_error(&bad, 400, "invalid_query", Some("check"));
}
