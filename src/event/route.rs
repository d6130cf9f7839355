//! Where an event goes: one pure rule, outside the store, which the store is
//! handed at start and asks when it writes a transition's events (and again
//! when one is redelivered by hand).
//!
//! Today an event goes to its invoice's `webhook_url`, else to the configured
//! `webhooks.url`, and nowhere without a secret to sign with. The rule answers
//! a list of [`Destination`]s so that more kinds join it without touching the
//! store's writes: the Greenfield webhooks registered in the store (each with
//! its own secret and event filter) become `Destination::Registered` entries,
//! chosen here by their filter.

use chrono::{DateTime, Utc};

use super::registered::{self, RegisteredWebhook};
use super::Event;
use crate::invoice::lifecycle::{Emitted, EventKind};
use crate::invoice::Invoice;

/// Somewhere an event is delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A URL, signed with the configured webhook secret (bchpay's own body).
    Url(String),
    /// A registered Greenfield webhook (its id and URL): Greenfield body,
    /// signed `BTCPay-Sig` with its own secret.
    Registered {
        /// The webhook's id.
        id: String,
        /// Its URL.
        url: String,
    },
}

/// The configuration's part of the rule and of the event's snapshot.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    /// Base of `checkout_url` in the invoice snapshot an event carries.
    pub public_url: String,
    /// Where events of invoices without a `webhook_url` go.
    pub default_url: Option<String>,
    /// Whether a webhook secret is configured (without one nothing is sent unsigned).
    pub can_sign: bool,
}

impl Routes {
    /// The rule for this configuration; an empty `default_url` is none.
    pub fn new(public_url: &str, default_url: Option<String>, can_sign: bool) -> Routes {
        Routes {
            public_url: public_url.to_owned(),
            default_url: default_url.filter(|u| !u.is_empty()),
            can_sign,
        }
    }

    /// The events of a transition of `invoice` (already applied), numbered
    /// from `first_seq` (global) and after the invoice's `earlier` events, in
    /// the order emitted; for each: bchpay's own destination for api.md's
    /// kinds (kept as `no_endpoint` when there is none), then every
    /// `registered` webhook that wants it (one event per output for the
    /// per-payment kinds). A Greenfield-only kind nobody wants is not kept.
    #[allow(clippy::too_many_arguments)]
    pub fn events(
        &self,
        invoice: &Invoice,
        emitted: &[Emitted],
        registered: &[RegisteredWebhook],
        first_seq: u64,
        earlier: u64,
        tip: u64,
        now: DateTime<Utc>,
    ) -> Vec<Event> {
        let snapshot = invoice.to_api(&self.public_url, Some(tip));
        let mut events: Vec<Event> = Vec::with_capacity(emitted.len());
        let make = |events: &Vec<Event>, kind, url| {
            let n = events.len() as u64;
            Event::new(
                first_seq + n,
                kind,
                invoice.id.clone(),
                earlier + n + 1,
                snapshot.clone(),
                url,
                now,
            )
        };
        for e in emitted {
            let targets = destinations(invoice, e.kind, self, registered);
            let own = targets.iter().any(|t| matches!(t, Destination::Url(_)));
            if e.kind.is_own() && !own {
                events.push(make(&events, e.kind, None));
            }
            for target in targets {
                match target {
                    Destination::Url(url) => events.push(make(&events, e.kind, Some(url))),
                    Destination::Registered { id, url } => {
                        let Some(hook) = registered.iter().find(|h| h.id == id) else {
                            continue;
                        };
                        let payments = match &e.txid {
                            Some(txid) => registered::payment_items(invoice, txid).into_iter().map(Some).collect(),
                            None => vec![None],
                        };
                        for payment in payments {
                            let Some(facts) = registered::facts(e.kind, invoice, payment) else {
                                continue;
                            };
                            let body = registered::stored_body(&hook.store_id, invoice, now, &facts);
                            let event = make(&events, e.kind, Some(url.clone())).for_webhook(&id, body);
                            events.push(event);
                        }
                    }
                }
            }
        }
        events
    }

    /// Where an event of `invoice` goes when redelivered by hand (the
    /// configuration may have changed since it was kept as `no_endpoint`).
    pub fn redelivery_url(&self, invoice: &Invoice, kind: EventKind) -> Option<String> {
        destinations(invoice, kind, self, &[])
            .into_iter()
            .find_map(|d| match d {
                Destination::Url(u) => Some(u),
                Destination::Registered { .. } => None,
            })
    }
}

/// The rule: where an event of `kind` about `invoice` goes: bchpay's own
/// destination (api.md's kinds, with a secret to sign with), then every
/// registered webhook that wants it.
pub fn destinations(
    invoice: &Invoice,
    kind: EventKind,
    routes: &Routes,
    registered: &[RegisteredWebhook],
) -> Vec<Destination> {
    let own = (routes.can_sign && kind.is_own())
        .then(|| invoice.webhook_url.clone().or_else(|| routes.default_url.clone()))
        .flatten()
        .map(Destination::Url);
    own.into_iter()
        .chain(
            registered
                .iter()
                .filter(|h| h.wants(kind))
                .map(|h| Destination::Registered {
                    id: h.id.clone(),
                    url: h.url.clone(),
                }),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoice::InvoiceId;

    fn invoice(webhook_url: Option<&str>) -> Invoice {
        let draft = crate::invoice::NewInvoice {
            amount_sats: crate::money::Sats(1_000),
            fiat: None,
            order_id: None,
            description: None,
            metadata: serde_json::json!({}),
            webhook_url: webhook_url.map(str::to_owned),
            redirect_url: None,
            expires_in_secs: 900,
            required_confirmations: 1,
        };
        let address = crate::cashaddr::Address::parse("bchreg:qp000v3t6elz6e3d58nakg8eeuayn087jvzvl7emj2")
            .unwrap_or_else(|e| panic!("{e}"));
        Invoice::create(InvoiceId::from_bytes([4; 16]), draft, address, Utc::now())
    }

    #[test]
    fn the_invoice_url_wins_then_the_default_and_nothing_without_a_secret() {
        let routes = Routes::new("http://shop", Some("http://default/".into()), true);
        let own = invoice(Some("http://own/"));
        assert_eq!(
            destinations(&own, EventKind::Paid, &routes, &[]),
            vec![Destination::Url("http://own/".into())]
        );
        assert_eq!(
            destinations(&invoice(None), EventKind::Paid, &routes, &[]),
            vec![Destination::Url("http://default/".into())]
        );
        assert!(destinations(
            &invoice(None),
            EventKind::Paid,
            &Routes::new("", Some(String::new()), true),
            &[]
        )
        .is_empty());
        let unsigned = Routes::new("http://shop", Some("http://default/".into()), false);
        assert!(destinations(&own, EventKind::Paid, &unsigned, &[]).is_empty());
    }

    #[test]
    fn events_are_numbered_after_the_earlier_ones_and_carry_the_api_view() {
        let routes = Routes::new("http://shop", None, true);
        let inv = invoice(None);
        let events = routes.events(
            &inv,
            &[
                crate::invoice::lifecycle::Emitted::payment(EventKind::PaymentReceived, "t"),
                crate::invoice::lifecycle::Emitted::invoice(EventKind::Paid),
            ],
            &[],
            7,
            2,
            100,
            Utc::now(),
        );
        assert_eq!(
            events.iter().map(|e| (e.seq, e.sequence)).collect::<Vec<_>>(),
            [(7, 3), (8, 4)]
        );
        assert!(events
            .iter()
            .all(|e| e.state == crate::event::DeliveryState::NoEndpoint));
        assert_eq!(events[0].invoice["checkout_url"], format!("http://shop/i/{}", inv.id));
    }
}
