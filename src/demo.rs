//! `bchpay demo`: the engine, the simulated wallet, simulated exchanges
//! (Upbit- and Kraken-shaped, for KRW and USD prices) and a webhook receiver
//! that prints what it receives, all on loopback (no internet needed), with a
//! walk-through of commands to paste.

use std::path::PathBuf;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};

use crate::config::{Secret, Settings};
use crate::sim::exchange::ExchangeSim;
use crate::sim::{Sim, SimConfig};
use crate::startup::Application;
use crate::webhook::signature;

/// The demo's API key (printed: it is a demo).
pub const DEMO_KEY: &str = "demo-key";
/// The demo's webhook secret (printed: it is a demo).
pub const DEMO_SECRET: &str = "demo-webhook-secret";

/// What `bchpay demo` takes.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where the engine listens.
    pub bind: String,
    /// A store directory to keep; `None`: a temporary one, removed at exit.
    pub store: Option<PathBuf>,
}

/// Runs the demo until Ctrl-C.
pub async fn run(options: DemoOptions) -> std::io::Result<()> {
    let sim = Sim::start(SimConfig::default()).await?;
    let exchanges = ExchangeSim::start().await?;
    let receiver = HttpServer::new(|| App::new().default_service(web::to(receive)))
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")?;
    let receiver_port = receiver.addrs().first().map(|a| a.port()).unwrap_or(0);
    let receiver = receiver.run();
    let receiver_handle = receiver.handle();
    actix_web::rt::spawn(receiver);

    let temp = match &options.store {
        Some(_) => None,
        None => Some(tempdir()?),
    };
    let mut settings = Settings::default();
    settings.server.bind = options.bind.clone();
    settings.server.public_url = format!("http://{}", options.bind);
    settings.electron_cash.url = sim.url();
    settings.store.path = options.store.clone().or_else(|| temp.clone()).unwrap_or_default();
    settings.api.keys = vec![Secret::new(DEMO_KEY)];
    settings.payments.poll_interval_ms = 1000;
    settings.webhooks.url = format!("http://127.0.0.1:{receiver_port}/webhook");
    settings.webhooks.secret = Secret::new(DEMO_SECRET);
    settings.webhooks.retry_schedule_secs = vec![2, 5, 10];
    configure_rates(&mut settings, &exchanges);
    let result = serve(settings, &sim, &exchanges, receiver_port).await;
    exchanges.stop().await;
    receiver_handle.stop(false).await;
    if let Some(dir) = temp {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

/// Prices in KRW from the simulated Upbit and in USD from the simulated
/// Kraken, refreshed every 5 s, so that a control shows within seconds.
fn configure_rates(settings: &mut Settings, exchanges: &ExchangeSim) {
    let rates = &mut settings.rates;
    rates.currencies = vec!["KRW".into(), "USD".into()];
    rates.sources = [("KRW", "upbit"), ("USD", "kraken")]
        .into_iter()
        .map(|(c, s)| (c.to_owned(), vec![s.to_owned()]))
        .collect();
    rates.refresh_secs = 5;
    rates.max_age_secs = 30;
    rates.endpoints.upbit = exchanges.base("upbit");
    rates.endpoints.kraken = exchanges.base("kraken");
}

/// Builds the engine, waits until step 1 of the walk-through works (the
/// wallet link up, addresses in the pool, a KRW rate), prints it, and serves.
async fn serve(settings: Settings, sim: &Sim, exchanges: &ExchangeSim, receiver_port: u16) -> std::io::Result<()> {
    let app = Application::build(settings.clone()).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let (wallet, reader, rates) = (app.wallet().clone(), app.reader(), app.rates().clone());
    let krw = crate::fiat::Currency::parse("KRW").map_err(std::io::Error::other)?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !(wallet.status().state.is_up() && reader.pool_len() > 0 && rates.rate(krw, chrono::Utc::now()).is_ok())
        && std::time::Instant::now() < deadline
    {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    println!(
        "{}",
        walkthrough(&base, &sim.url(), &exchanges.url(), receiver_port, &settings.store.path)
    );
    app.run_until_stopped().await
}

fn tempdir() -> std::io::Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("bchpay-demo-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The numbered steps printed at start.
pub fn walkthrough(base: &str, sim: &str, exchanges: &str, receiver_port: u16, store: &std::path::Path) -> String {
    let store = store.display();
    format!(
        r#"
bchpay demo
  engine            {base}   (API key: {DEMO_KEY})
  dashboard         {base}/dashboard   (sign in with the key: {DEMO_KEY})
  simulated wallet  {sim}   (Electron Cash JSON-RPC, commands under /sim/)
  exchanges         {exchanges}   (Upbit KRW at /upbit, Kraken USD at /kraken; controls at /sim/exchange)
  webhook receiver  http://127.0.0.1:{receiver_port}/webhook   (secret: {DEMO_SECRET}; prints below)
  store             {store}

Try, in another terminal:

1. Create an invoice for 15,000 won (priced at the simulated Upbit's rate; "amount": "0.0007" prices in BCH,
   "price": "12.34", "currency": "USD" in dollars):
   INVOICE=$(curl -s -X POST {base}/api/v1/invoices -H 'Authorization: Bearer {DEMO_KEY}' \
     -H 'Content-Type: application/json' -d '{{"price": "15000", "currency": "KRW", "order_id": "demo-1", "description": "Demo order"}}')
   echo "$INVOICE"
   ID=$(echo "$INVOICE" | sed -E 's/.*"id":"([^"]+)".*/\1/'); ADDRESS=$(echo "$INVOICE" | sed -E 's/.*"address":"([^"]+)".*/\1/')
   SATS=$(echo "$INVOICE" | sed -E 's/.*"amount_sats":([0-9]+).*/\1/')
   The rates and their sources: curl -s {base}/api/v1/rates -H 'Authorization: Bearer {DEMO_KEY}'
   Make Upbit fail (down, stale, zero, html, rate_limited; ok again):
   curl -s -X POST {exchanges}/sim/exchange/upbit -H 'Content-Type: application/json' -d '{{"mode": "down"}}'

2. Open the checkout page in a browser:
   echo {base}/i/$ID

3. Pay it from the simulated wallet:
   curl -s -X POST {sim}/sim/pay -H 'Content-Type: application/json' -d "{{\"address\": \"$ADDRESS\", \"amount_sats\": $SATS}}"

4. Mine a block, so that the payment confirms:
   curl -s -X POST {sim}/sim/mine -H 'Content-Type: application/json' -d '{{"blocks": 1}}'

5. See the status, the webhooks printed below, and the store:
   curl -s {base}/i/$ID/status
   curl -s {base}/api/v1/events?invoice_id=$ID -H 'Authorization: Bearer {DEMO_KEY}'
   bchpay inspect --url {base} --api-key {DEMO_KEY} invoices

6. Or see it all in the dashboard: open {base}/dashboard and sign in with {DEMO_KEY}

Ctrl-C stops everything.
"#
    )
}

/// The built-in receiver: prints each webhook and whether its signature holds.
async fn receive(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let header = req
        .headers()
        .get("Bchpay-Signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let now = chrono::Utc::now().timestamp();
    let verdict = match signature::verify(DEMO_SECRET.as_bytes(), header, &body, now, 300) {
        Ok(()) => "signature ok".to_owned(),
        Err(e) => format!("signature REFUSED: {e}"),
    };
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    println!(
        "webhook received: {} #{} for {} (status {}), {verdict}",
        event["type"].as_str().unwrap_or("?"),
        event["sequence"],
        event["invoice"]["id"].as_str().unwrap_or("?"),
        event["invoice"]["status"].as_str().unwrap_or("?"),
    );
    HttpResponse::Ok().finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walkthrough_numbers_its_steps_and_names_every_endpoint() {
        let text = walkthrough(
            "http://127.0.0.1:8080",
            "http://127.0.0.1:7777",
            "http://127.0.0.1:7778",
            9999,
            std::path::Path::new("/tmp/x"),
        );
        for step in ["1. ", "2. ", "3. ", "4. ", "5. ", "6. "] {
            assert!(text.contains(step), "{step}");
        }
        assert!(text.contains("/sim/pay") && text.contains("/sim/mine") && text.contains("bchpay inspect"));
        assert!(text.contains("http://127.0.0.1:9999/webhook"));
        assert!(text.contains("\"currency\": \"KRW\"") && text.contains("/sim/exchange/upbit"));
        assert!(text.contains("dashboard         http://127.0.0.1:8080/dashboard   (sign in with the key: demo-key)"));
    }
}
