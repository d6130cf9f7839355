//! `/metrics`: the Prometheus text format, rendered from what the actors
//! already count. Names carry the `bchpay_` prefix, units, and `_total` on
//! counters.

use std::fmt::Write;
use std::time::Duration;

use crate::electron_cash::stats::LATENCY_BUCKETS;
use crate::http::AppState;

/// One metric's header lines.
fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The whole exposition.
pub fn render(state: &AppState) -> String {
    let mut out = String::with_capacity(4096);
    let reader = &state.reader;

    header(&mut out, "bchpay_invoices", "gauge", "Invoices by status.");
    for (status, n) in reader.status_counts().unwrap_or_default() {
        let _ = writeln!(out, "bchpay_invoices{{status=\"{}\"}} {n}", status.as_str());
    }
    header(
        &mut out,
        "bchpay_invoices_created_total",
        "counter",
        "Invoices created since the store was made.",
    );
    let _ = writeln!(
        out,
        "bchpay_invoices_created_total {}",
        reader.invoice_count().unwrap_or(0)
    );

    let rpc = state.wallet.rpc_stats().snapshot();
    header(
        &mut out,
        "bchpay_rpc_calls_total",
        "counter",
        "Wallet daemon calls by method.",
    );
    for (method, m) in &rpc {
        let _ = writeln!(out, "bchpay_rpc_calls_total{{method=\"{method}\"}} {}", m.calls);
    }
    header(
        &mut out,
        "bchpay_rpc_errors_total",
        "counter",
        "Failed wallet daemon calls by method and kind.",
    );
    for (method, m) in &rpc {
        for (kind, n) in &m.errors {
            let _ = writeln!(
                out,
                "bchpay_rpc_errors_total{{method=\"{method}\",kind=\"{kind}\"}} {n}"
            );
        }
    }
    header(
        &mut out,
        "bchpay_rpc_latency_seconds",
        "histogram",
        "Wallet daemon call latency.",
    );
    for (method, m) in &rpc {
        let mut cumulative = 0;
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            cumulative += m.buckets[i];
            let _ = writeln!(
                out,
                "bchpay_rpc_latency_seconds_bucket{{method=\"{method}\",le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += m.buckets[LATENCY_BUCKETS.len()];
        let _ = writeln!(
            out,
            "bchpay_rpc_latency_seconds_bucket{{method=\"{method}\",le=\"+Inf\"}} {cumulative}"
        );
        let _ = writeln!(
            out,
            "bchpay_rpc_latency_seconds_sum{{method=\"{method}\"}} {}",
            m.seconds
        );
        let _ = writeln!(
            out,
            "bchpay_rpc_latency_seconds_count{{method=\"{method}\"}} {}",
            m.calls
        );
    }

    let link = state.wallet.status();
    header(
        &mut out,
        "bchpay_wallet_link_up",
        "gauge",
        "1 when the wallet link is up.",
    );
    let _ = writeln!(out, "bchpay_wallet_link_up {}", u8::from(link.state.is_up()));
    header(
        &mut out,
        "bchpay_wallet_link_state",
        "gauge",
        "The wallet link state, one-hot.",
    );
    for name in ["up", "down", "unauthorized"] {
        let _ = writeln!(
            out,
            "bchpay_wallet_link_state{{state=\"{name}\"}} {}",
            u8::from(link.state.name() == name)
        );
    }

    header(
        &mut out,
        "bchpay_address_pool_available",
        "gauge",
        "Fresh addresses made in advance.",
    );
    let _ = writeln!(out, "bchpay_address_pool_available {}", reader.pool_len());
    header(
        &mut out,
        "bchpay_address_pool_low_watermark",
        "gauge",
        "The configured addresses.pool_low: below it the pool is refilled.",
    );
    let _ = writeln!(
        out,
        "bchpay_address_pool_low_watermark {}",
        state.settings.addresses.pool_low
    );
    header(
        &mut out,
        "bchpay_outbox_depth",
        "gauge",
        "Webhook events waiting for delivery.",
    );
    let _ = writeln!(out, "bchpay_outbox_depth {}", reader.outbox_len());

    let w = &state.webhook_stats;
    header(
        &mut out,
        "bchpay_webhook_deliveries_total",
        "counter",
        "Webhook delivery attempts by outcome.",
    );
    for (outcome, n) in [
        ("delivered", &w.delivered),
        ("retried", &w.retried),
        ("failed", &w.failed),
    ] {
        let n = n.load(std::sync::atomic::Ordering::Relaxed);
        let _ = writeln!(out, "bchpay_webhook_deliveries_total{{outcome=\"{outcome}\"}} {n}");
    }

    let tick = state.confirmer.last_tick();
    header(
        &mut out,
        "bchpay_confirmer_tick_duration_seconds",
        "gauge",
        "Duration of the last confirmer tick.",
    );
    let _ = writeln!(
        out,
        "bchpay_confirmer_tick_duration_seconds {}",
        tick.duration.as_secs_f64()
    );
    header(
        &mut out,
        "bchpay_confirmer_poll_interval_seconds",
        "gauge",
        "The configured payments.poll_interval_ms, in seconds: the time between ticks.",
    );
    let _ = writeln!(
        out,
        "bchpay_confirmer_poll_interval_seconds {}",
        Duration::from_millis(state.settings.payments.poll_interval_ms).as_secs_f64()
    );
    header(
        &mut out,
        "bchpay_confirmer_tick_round_trips",
        "gauge",
        "Wallet round trips of the last confirmer tick.",
    );
    let _ = writeln!(out, "bchpay_confirmer_tick_round_trips {}", tick.round_trips);
    header(
        &mut out,
        "bchpay_chain_tip_height",
        "gauge",
        "The chain tip the confirmer last saw (0: unknown).",
    );
    let _ = writeln!(out, "bchpay_chain_tip_height {}", state.tip().unwrap_or(0));

    header(
        &mut out,
        "bchpay_rate_fetches_total",
        "counter",
        "Exchange rate fetches by source and outcome (ok, error, rate_limited).",
    );
    for (source, outcome, n) in state.rates.fetch_counts() {
        let _ = writeln!(
            out,
            "bchpay_rate_fetches_total{{source=\"{source}\",outcome=\"{outcome}\"}} {n}"
        );
    }
    header(
        &mut out,
        "bchpay_rate_age_seconds",
        "gauge",
        "Age of the newest quote in each currency's rate now (+Inf: no rate).",
    );
    let ages = state.rates.ages(chrono::Utc::now());
    for (currency, age) in &ages {
        match age {
            Some(age) => {
                let _ = writeln!(out, "bchpay_rate_age_seconds{{currency=\"{currency}\"}} {age}");
            }
            None => {
                let _ = writeln!(out, "bchpay_rate_age_seconds{{currency=\"{currency}\"}} +Inf");
            }
        }
    }
    header(
        &mut out,
        "bchpay_rate_available",
        "gauge",
        "Whether each priced currency has a rate now (1) or fiat invoices in it are refused (0).",
    );
    for (currency, age) in &ages {
        let _ = writeln!(
            out,
            "bchpay_rate_available{{currency=\"{currency}\"}} {}",
            u8::from(age.is_some())
        );
    }
    header(
        &mut out,
        "bchpay_store_up",
        "gauge",
        "Whether the store's writer can write (0 while writes fail: a full disk, an I/O error).",
    );
    let _ = writeln!(out, "bchpay_store_up {}", u8::from(state.store_health.down().is_none()));
    out
}
