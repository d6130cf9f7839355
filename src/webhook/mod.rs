//! `WebhookDispatcher`: delivers the outbox to the shop.
//!
//! - Each event is POSTed to its URL with the body and headers of api.md,
//!   signed over the exact bytes sent ([`signature`]).
//! - A 2xx within `webhooks.timeout_secs` is delivered; anything else
//!   (refused, timeout, 3xx, 4xx, 5xx) is retried on
//!   `webhooks.retry_schedule_secs`, then marked failed. Every attempt is
//!   recorded with the event, durably, before the next one is planned.
//! - Events of one invoice go out in `sequence` order: only the oldest pending
//!   event of an invoice is ever in flight. Invoices do not wait on each
//!   other; at most [`MAX_IN_FLIGHT`] deliveries run at once.
//! - The queue lives in the store's outbox: on start the dispatcher resumes
//!   from it, so retries outlive restarts and crashes.
//! - Runs on its own arbiter (awc's client is `!Send`).

mod greenfield;
pub mod signature;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, TimeDelta, Utc};

use crate::config::WebhookSettings;
use crate::event::{Attempt, DeliveryState, Event};
use crate::invoice::InvoiceId;
use crate::store::{EventsPending, InvoiceStore, Outcome, RecordAttempt, StoreReader, SubscribeEvents};

/// Deliveries in flight at once, across invoices.
pub const MAX_IN_FLIGHT: usize = 16;
/// How often due deliveries are looked for.
const PUMP_EVERY: Duration = Duration::from_millis(100);
/// How often the outbox is read again in full (a safety net for missed notices).
const RESCAN_EVERY: Duration = Duration::from_secs(30);

/// Delivery counters, for metrics.
#[derive(Debug, Default)]
pub struct WebhookStats {
    /// Attempts answered 2xx.
    pub delivered: AtomicU64,
    /// Attempts that failed and will be retried.
    pub retried: AtomicU64,
    /// Events whose schedule ran out.
    pub failed: AtomicU64,
}

/// A delivery lane: an invoice, and the registered webhook its events go to
/// (`None`: bchpay's own destination). Events of a lane go out in order.
type Lane = (InvoiceId, Option<String>);

/// The dispatcher actor.
pub struct WebhookDispatcher {
    /// Records attempts.
    store: Addr<InvoiceStore>,
    /// Reads events and the outbox.
    reader: StoreReader,
    /// Secret, timeout, schedule.
    settings: WebhookSettings,
    /// The HTTP client, built on this actor's arbiter.
    client: Option<awc::Client>,
    /// Pending event sequences of each lane, oldest first.
    queues: HashMap<Lane, BTreeSet<u64>>,
    /// The oldest pending event of each lane not in flight, soonest due first.
    heads: BTreeSet<(DateTime<Utc>, u64, Lane)>,
    /// Each lane's entry in `heads`.
    head_of: HashMap<Lane, (DateTime<Utc>, u64)>,
    /// Lanes with a delivery in flight (their later events wait).
    busy: HashSet<Lane>,
    /// Counters for metrics.
    stats: Arc<WebhookStats>,
}

impl WebhookDispatcher {
    /// Starts the dispatcher on an arbiter of its own. Call inside an actix `System`.
    pub fn start(
        store: Addr<InvoiceStore>,
        reader: StoreReader,
        settings: WebhookSettings,
    ) -> (Addr<WebhookDispatcher>, Arc<WebhookStats>) {
        let stats = Arc::new(WebhookStats::default());
        let s = stats.clone();
        let addr = WebhookDispatcher::start_in_arbiter(&Arbiter::new().handle(), move |_| WebhookDispatcher {
            store,
            reader,
            settings,
            client: None,
            queues: HashMap::new(),
            heads: BTreeSet::new(),
            head_of: HashMap::new(),
            busy: HashSet::new(),
            stats: s,
        });
        (addr, stats)
    }

    /// Reads the whole outbox into the queues.
    fn rescan(&mut self) {
        let seqs = match self.reader.outbox() {
            Ok(seqs) => seqs,
            Err(e) => {
                log::error!("webhooks: cannot read the outbox: {e}");
                return;
            }
        };
        let queued: std::collections::HashSet<u64> = self.queues.values().flatten().copied().collect();
        for seq in seqs {
            if queued.contains(&seq) {
                continue;
            }
            match self.reader.event_by_seq(seq) {
                Ok(Some(event)) => self.add((event.invoice_id, event.webhook), seq),
                Ok(None) => log::warn!("webhooks: outbox entry {seq} has no event"),
                Err(e) => log::error!("webhooks: cannot read event {seq}: {e}"),
            }
        }
    }

    /// Queues event `seq` of `lane`; it becomes the head if it is the oldest.
    fn add(&mut self, invoice: Lane, seq: u64) {
        if !self.queues.entry(invoice.clone()).or_default().insert(seq) || self.busy.contains(&invoice) {
            return;
        }
        if let Some(&(due, head)) = self.head_of.get(&invoice) {
            if head < seq {
                return;
            }
            self.heads.remove(&(due, head, invoice.clone()));
        }
        self.set_head(invoice, seq, None);
    }

    /// Makes `seq` the invoice's head, due at `due` or at the event's own next attempt.
    fn set_head(&mut self, invoice: Lane, seq: u64, due: Option<DateTime<Utc>>) {
        let due = due.unwrap_or_else(|| match self.reader.event_by_seq(seq) {
            Ok(Some(event)) => event.next_attempt_at.unwrap_or_else(Utc::now),
            _ => Utc::now(),
        });
        self.heads.insert((due, seq, invoice.clone()));
        self.head_of.insert(invoice, (due, seq));
    }

    /// Starts every due delivery the concurrency bound allows.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        let now = Utc::now();
        while self.busy.len() < MAX_IN_FLIGHT {
            let Some((due, seq, invoice)) = self.heads.first().cloned() else {
                break;
            };
            if due > now {
                break;
            }
            self.heads.remove(&(due, seq, invoice.clone()));
            self.head_of.remove(&invoice);
            self.busy.insert(invoice.clone());
            self.deliver(invoice, seq, ctx);
        }
    }

    fn deliver(&mut self, invoice: Lane, seq: u64, ctx: &mut Context<Self>) {
        let event = match self.reader.event_by_seq(seq) {
            Ok(Some(event)) if event.state == DeliveryState::Pending && event.url.is_some() => event,
            Ok(_) => {
                // Delivered or failed meanwhile, or nowhere to go: out of the queue.
                self.done(invoice, seq, None);
                return;
            }
            Err(e) => {
                log::error!("webhooks: cannot read event {seq}: {e}");
                self.done(invoice, seq, Some(Utc::now() + TimeDelta::seconds(5)));
                return;
            }
        };
        let Some(client) = self.client.clone() else {
            self.done(invoice, seq, Some(Utc::now() + TimeDelta::seconds(1)));
            return;
        };
        let (store, settings, stats) = (self.store.clone(), self.settings.clone(), self.stats.clone());
        let reader = self.reader.clone();
        let attempt = async move {
            if event.webhook.is_some() {
                greenfield::attempt(&client, &store, &reader, &settings, &stats, event).await
            } else {
                attempt(&client, &store, &settings, &stats, event).await
            }
        };
        ctx.spawn(attempt.into_actor(self).map(move |outcome, act, ctx| {
            match outcome {
                Some(Outcome::Retry(at)) => act.done(invoice, seq, Some(at)),
                Some(Outcome::Delivered | Outcome::Failed) => act.done(invoice, seq, None),
                // The attempt could not be recorded: try again shortly.
                None => act.done(invoice, seq, Some(Utc::now() + TimeDelta::seconds(5))),
            }
            act.pump(ctx);
        }));
    }

    /// The delivery of `seq` ended: with `retry_at`, it stays the head, due
    /// then; without, it left the outbox and the invoice's next event is the head.
    fn done(&mut self, invoice: Lane, seq: u64, retry_at: Option<DateTime<Utc>>) {
        self.busy.remove(&invoice);
        let Some(queue) = self.queues.get_mut(&invoice) else {
            return;
        };
        if retry_at.is_none() {
            queue.remove(&seq);
        }
        match queue.first().copied() {
            Some(next) if next == seq => self.set_head(invoice, next, retry_at),
            Some(next) => self.set_head(invoice, next, None),
            None => {
                self.queues.remove(&invoice);
            }
        }
    }
}

/// One attempt: POST, then record it durably. `None` if it could not be recorded.
async fn attempt(
    client: &awc::Client,
    store: &Addr<InvoiceStore>,
    settings: &WebhookSettings,
    stats: &WebhookStats,
    mut event: Event,
) -> Option<Outcome> {
    let url = event.url.clone().unwrap_or_default();
    let body = serde_json::to_vec(&event.payload()).unwrap_or_default();
    let now = Utc::now();
    let header = signature::sign(settings.secret.expose().as_bytes(), now.timestamp(), &body);
    let headers = [("Bchpay-Event-Id", event.id.clone()), ("Bchpay-Signature", header)];
    let (status, error) = post_json(client, &url, settings.timeout_secs, headers, body).await;
    let attempt = Attempt {
        at: now,
        status,
        error: error.clone(),
    };
    event.attempts.push(attempt.clone());
    let target = redact(&url);
    let outcome = match &error {
        None => {
            stats.delivered.fetch_add(1, Ordering::Relaxed);
            log::info!(
                "webhook {} {} of invoice {} delivered to {target}",
                event.id,
                event.kind.type_name(),
                event.invoice_id
            );
            Outcome::Delivered
        }
        Some(why) => match event.retry_delay(&settings.retry_schedule_secs) {
            Some(delay) => {
                stats.retried.fetch_add(1, Ordering::Relaxed);
                log::warn!(
                    "webhook {} of invoice {} to {target} failed ({why}); retry {} in {delay}s",
                    event.id,
                    event.invoice_id,
                    event.attempts.len().saturating_sub(event.round_start)
                );
                Outcome::Retry(now + TimeDelta::seconds(i64::try_from(delay).unwrap_or(i64::MAX / 2)))
            }
            None => {
                stats.failed.fetch_add(1, Ordering::Relaxed);
                log::error!(
                    "webhook {} of invoice {} to {target} failed after {} attempts ({why}); marked failed, redeliverable",
                    event.id,
                    event.invoice_id,
                    event.attempts.len()
                );
                Outcome::Failed
            }
        },
    };
    record(store, &event, attempt, outcome).await
}

/// Records an attempt of `event` durably; `None` if it could not be.
async fn record(store: &Addr<InvoiceStore>, event: &Event, attempt: Attempt, outcome: Outcome) -> Option<Outcome> {
    match store
        .send(RecordAttempt {
            seq: event.seq,
            attempt,
            outcome,
        })
        .await
    {
        Ok(Ok(_)) => Some(outcome),
        Ok(Err(e)) => {
            log::error!("webhook {}: attempt not recorded: {e}", event.id);
            None
        }
        Err(e) => {
            log::error!("webhook {}: store unavailable: {e}", event.id);
            None
        }
    }
}

/// A URL for the log: scheme, host and path, without a query that may carry a token.
fn redact(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or("").to_owned()
}

impl Actor for WebhookDispatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.client = Some(awc::Client::builder().disable_redirects().finish());
        self.store.do_send(SubscribeEvents(ctx.address().recipient()));
        self.rescan();
        if !self.queues.is_empty() {
            log::info!(
                "webhooks: resuming {} pending events",
                self.queues.values().map(BTreeSet::len).sum::<usize>()
            );
        }
        ctx.run_interval(PUMP_EVERY, |act, ctx| act.pump(ctx));
        ctx.run_interval(RESCAN_EVERY, |act, _| act.rescan());
    }
}

impl Handler<EventsPending> for WebhookDispatcher {
    type Result = ();

    fn handle(&mut self, msg: EventsPending, ctx: &mut Context<Self>) {
        for (invoice, seq) in msg.0 {
            // The lane is the event's destination: read it (a point read).
            let webhook = match self.reader.event_by_seq(seq) {
                Ok(Some(event)) => event.webhook,
                _ => None,
            };
            self.add((invoice, webhook), seq);
        }
        self.pump(ctx);
    }
}

/// POSTs a JSON `body` with `headers` to `url` on a fresh connection (a
/// kept-alive one to a receiver that restarted meanwhile fails the attempt
/// for nothing): the answer's status, and why the attempt failed (`None`: a
/// 2xx).
pub(crate) async fn post_json<const N: usize>(
    client: &awc::Client,
    url: &str,
    timeout_secs: u64,
    headers: [(&'static str, String); N],
    body: Vec<u8>,
) -> (Option<u16>, Option<String>) {
    let mut request = client
        .post(url)
        .force_close()
        .timeout(Duration::from_secs(timeout_secs))
        .insert_header(("Content-Type", "application/json"));
    for header in headers {
        request = request.insert_header(header);
    }
    match request.send_body(body).await {
        Ok(response) if response.status().is_success() => (Some(response.status().as_u16()), None),
        Ok(response) => (
            Some(response.status().as_u16()),
            Some(format!("HTTP {}", response.status().as_u16())),
        ),
        Err(e) => (None, Some(e.to_string())),
    }
}
