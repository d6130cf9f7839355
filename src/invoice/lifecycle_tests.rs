use chrono::TimeZone;
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::cashaddr::Address;
use crate::invoice::{InvoiceId, NewInvoice};

const POLICY: Policy = Policy {
    tolerance_percent: 0,
    monitoring_secs: 3600,
};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

/// A new invoice for 10,000 sat created at t(0), expiring at t(900).
fn invoice(required_confirmations: u32) -> Invoice {
    let draft = NewInvoice {
        amount_sats: Sats(10_000),
        fiat: None,
        order_id: None,
        description: None,
        metadata: json!({}),
        webhook_url: None,
        redirect_url: None,
        expires_in_secs: 900,
        required_confirmations,
    };
    let address = Address::parse("bchreg:qrt5k6j4v6acljaym985h7xl49a2y8aufunmwusnen").unwrap();
    Invoice::create(InvoiceId::from_bytes([7; 16]), draft, address, t(0))
}

fn pay(txid: &str, sats: u64, height: i64) -> Payment {
    Payment {
        txid: txid.into(),
        amount_sats: Sats(sats),
        height,
        outputs: vec![crate::invoice::PaymentOutput {
            vout: 0,
            amount_sats: Sats(sats),
        }],
        seen_at: t(0),
        settled: false,
    }
}

fn see(inv: &Invoice, payments: &[Payment], tip: u64, now: i64) -> Transition {
    apply(
        inv,
        &Observation {
            payments: payments.to_vec(),
            tip,
            now: t(now),
        },
        &POLICY,
    )
}

use EventKind as E;
use InvoiceStatus as S;

#[test]
fn the_lifecycle_table() {
    // (case, required confirmations, steps of (payments, tip, now), final status, exception, events of the last step)
    type Step = (Vec<Payment>, u64, i64);
    type Case = (&'static str, u32, Vec<Step>, S, Option<InvoiceException>, Vec<E>);
    let cases: Vec<Case> = vec![
        ("nothing yet", 1, vec![(vec![], 100, 10)], S::New, None, vec![]),
        (
            "full payment in the mempool",
            1,
            vec![(vec![pay("a", 10_000, 0)], 100, 10)],
            S::Paid,
            None,
            vec![E::PaymentReceived, E::Paid],
        ),
        (
            "mined once: confirmed",
            1,
            vec![
                (vec![pay("a", 10_000, 0)], 100, 10),
                (vec![pay("a", 10_000, 101)], 101, 20),
            ],
            S::Confirmed,
            None,
            vec![E::PaymentSettled, E::Confirmed],
        ),
        (
            "two confirmations needed, one seen",
            2,
            vec![(vec![pay("a", 10_000, 101)], 101, 10)],
            S::Paid,
            None,
            vec![E::PaymentReceived, E::Paid],
        ),
        (
            "two confirmations reached",
            2,
            vec![
                (vec![pay("a", 10_000, 101)], 101, 10),
                (vec![pay("a", 10_000, 101)], 102, 20),
            ],
            S::Confirmed,
            None,
            vec![E::PaymentSettled, E::Confirmed],
        ),
        (
            "0-conf: paid and confirmed at first sight",
            0,
            vec![(vec![pay("a", 10_000, 0)], 100, 10)],
            S::Confirmed,
            None,
            vec![E::PaymentReceived, E::PaymentSettled, E::Paid, E::Confirmed],
        ),
        (
            "unconfirmed parent (-1) is unconfirmed",
            1,
            vec![(vec![pay("a", 10_000, -1)], 100, 10)],
            S::Paid,
            None,
            vec![E::PaymentReceived, E::Paid],
        ),
        (
            "partial payment stays new",
            1,
            vec![(vec![pay("a", 4_000, 0)], 100, 10)],
            S::New,
            Some(InvoiceException::PaidPartial),
            vec![E::PaymentReceived],
        ),
        (
            "two partials add up",
            1,
            vec![
                (vec![pay("a", 4_000, 0)], 100, 10),
                (vec![pay("a", 4_000, 0), pay("b", 6_000, 0)], 100, 20),
            ],
            S::Paid,
            None,
            vec![E::PaymentReceived, E::Paid],
        ),
        (
            "over-payment",
            1,
            vec![(vec![pay("a", 12_000, 0)], 100, 10)],
            S::Paid,
            Some(InvoiceException::PaidOver),
            vec![E::PaymentReceived, E::Paid],
        ),
        (
            "expiry with nothing paid",
            1,
            vec![(vec![], 100, 900)],
            S::Expired,
            None,
            vec![E::Expired],
        ),
        (
            "expiry keeps a partial payment",
            1,
            vec![
                (vec![pay("a", 4_000, 0)], 100, 10),
                (vec![pay("a", 4_000, 0)], 100, 901),
            ],
            S::Expired,
            Some(InvoiceException::PaidPartial),
            vec![E::Expired],
        ),
        (
            "late payment in the window",
            1,
            vec![(vec![], 100, 900), (vec![pay("a", 10_000, 0)], 100, 1000)],
            S::Paid,
            Some(InvoiceException::PaidLate),
            vec![E::PaymentReceived, E::Paid],
        ),
        (
            "late payment confirms and keeps its mark",
            1,
            vec![
                (vec![], 100, 900),
                (vec![pay("a", 10_000, 0)], 100, 1000),
                (vec![pay("a", 10_000, 101)], 101, 1100),
            ],
            S::Confirmed,
            Some(InvoiceException::PaidLate),
            vec![E::PaymentSettled, E::Confirmed],
        ),
        (
            "payment vanishes before expiry: new again",
            1,
            vec![(vec![pay("a", 10_000, 0)], 100, 10), (vec![], 100, 20)],
            S::New,
            None,
            vec![],
        ),
        (
            "payment vanishes after expiry: invalid",
            1,
            vec![(vec![pay("a", 10_000, 0)], 100, 10), (vec![], 100, 1000)],
            S::Invalid,
            None,
            vec![E::Invalid],
        ),
        (
            "a payment seen before expiry is not late when mined after",
            1,
            vec![
                (vec![pay("a", 10_000, 0)], 100, 10),
                (vec![pay("a", 10_000, 101)], 101, 2000),
            ],
            S::Confirmed,
            None,
            vec![E::PaymentSettled, E::Confirmed],
        ),
        (
            "reorg moves the payment to another height",
            2,
            vec![
                (vec![pay("a", 10_000, 101)], 101, 10),
                (vec![pay("a", 10_000, 0)], 100, 20),
                (vec![pay("a", 10_000, 102)], 102, 30),
            ],
            S::Paid,
            None,
            vec![],
        ),
        (
            "confirmed is final even if the payment vanishes",
            1,
            vec![(vec![pay("a", 10_000, 101)], 101, 10), (vec![], 101, 20)],
            S::Confirmed,
            None,
            vec![],
        ),
        (
            "a new payment after invalid is paid late",
            1,
            vec![
                (vec![pay("a", 10_000, 0)], 100, 10),
                (vec![], 100, 1000),
                (vec![pay("b", 10_000, 0)], 100, 1100),
            ],
            S::Paid,
            Some(InvoiceException::PaidLate),
            vec![E::PaymentReceived, E::Paid],
        ),
        (
            "two new payments: one received each, in txid order",
            1,
            vec![(vec![pay("b", 6_000, 0), pay("a", 4_000, 0)], 100, 10)],
            S::Paid,
            None,
            vec![E::PaymentReceived, E::PaymentReceived, E::Paid],
        ),
        (
            "each payment settles once, when it has its confirmations",
            2,
            vec![
                (vec![pay("a", 4_000, 101), pay("b", 6_000, 0)], 101, 10),
                (vec![pay("a", 4_000, 101), pay("b", 6_000, 102)], 102, 20),
                (vec![pay("a", 4_000, 101), pay("b", 6_000, 102)], 103, 30),
            ],
            S::Confirmed,
            None,
            vec![E::PaymentSettled, E::Confirmed],
        ),
        (
            "an extra payment to a confirmed invoice is received and settles",
            1,
            vec![
                (vec![pay("a", 10_000, 101)], 101, 10),
                (vec![pay("a", 10_000, 101), pay("b", 1, 102)], 102, 20),
            ],
            S::Confirmed,
            Some(InvoiceException::PaidOver),
            vec![E::PaymentReceived, E::PaymentSettled],
        ),
    ];
    for (name, confirmations, steps, status, exception, events) in cases {
        let mut inv = invoice(confirmations);
        let mut last = Vec::new();
        for (payments, tip, now) in steps {
            let tr = see(&inv, &payments, tip, now);
            inv = tr.invoice;
            last = tr.events;
        }
        assert_eq!(inv.status, status, "{name}");
        assert_eq!(inv.exception, exception, "{name}");
        assert_eq!(last, events, "{name}");
    }
}

#[test]
fn tolerance_counts_a_short_payment_as_paid() {
    let policy = Policy {
        tolerance_percent: 2,
        monitoring_secs: 0,
    };
    let inv = invoice(1);
    let obs = |sats| Observation {
        payments: vec![pay("a", sats, 0)],
        tip: 100,
        now: t(10),
    };
    assert_eq!(apply(&inv, &obs(9_800), &policy).invoice.status, S::Paid);
    assert_eq!(apply(&inv, &obs(9_799), &policy).invoice.status, S::New);
    assert!(counts_as_paid(Sats(u64::MAX), Sats(u64::MAX), 0));
}

#[test]
fn paid_and_confirmed_times_are_recorded() {
    let inv = invoice(1);
    let paid = see(&inv, &[pay("a", 10_000, 0)], 100, 10).invoice;
    assert_eq!(paid.paid_at, Some(t(10)));
    let confirmed = see(&paid, &[pay("a", 10_000, 101)], 101, 20).invoice;
    assert_eq!((confirmed.paid_at, confirmed.confirmed_at), (Some(t(10)), Some(t(20))));
    let back = see(&paid, &[], 100, 30).invoice;
    assert_eq!(back.paid_at, None);
}

#[test]
fn watching_ends_at_confirmation_or_after_the_monitoring_window() {
    let inv = invoice(1);
    assert!(still_watched(&inv, t(10), &POLICY));
    let expired = see(&inv, &[], 100, 900).invoice;
    assert!(still_watched(&expired, t(900 + 3599), &POLICY));
    assert!(!still_watched(&expired, t(900 + 3600), &POLICY));
    let confirmed = see(&inv, &[pay("a", 10_000, 101)], 101, 10).invoice;
    assert!(
        still_watched(&confirmed, t(20), &POLICY),
        "an extra payment is still recorded"
    );
    assert!(!still_watched(&confirmed, t(900 + 3600), &POLICY));
    let extra = see(&confirmed, &[pay("a", 10_000, 101), pay("b", 500, 0)], 101, 30).invoice;
    assert_eq!(
        (extra.status, extra.received_sats(), extra.exception),
        (S::Confirmed, Sats(10_500), Some(InvoiceException::PaidOver))
    );
}

fn payments() -> impl Strategy<Value = Vec<Payment>> {
    proptest::collection::vec((0u8..6, 1u64..8_000, -1i64..105), 0..6).prop_map(|v| {
        v.into_iter()
            .map(|(id, sats, h)| pay(&format!("tx{id}"), sats, if h > 100 { h } else { h.min(0) }))
            .collect()
    })
}

proptest! {
    #[test]
    fn confirmed_never_changes(first in payments(), later in payments(), tip in 100u64..110, now in 0i64..5000) {
        let confirmed = see(&invoice(1), &[pay("z", 10_000, 101)], 101, 5).invoice;
        let after = see(&confirmed, &later, tip, now).invoice;
        prop_assert_eq!(after.status, S::Confirmed);
        let _ = first;
    }

    #[test]
    fn received_is_the_sum_of_the_payments_seen(ps in payments(), tip in 100u64..110, now in 0i64..5000) {
        let after = see(&invoice(1), &ps, tip, now).invoice;
        let mut unique = ps.clone();
        unique.sort_by(|a, b| a.txid.cmp(&b.txid));
        unique.dedup_by(|a, b| a.txid == b.txid);
        prop_assert_eq!(after.received_sats().0, unique.iter().map(|p| p.amount_sats.0).sum::<u64>());
    }

    #[test]
    fn the_status_does_not_depend_on_the_order_payments_were_seen(
        ps in payments(), seed in any::<u64>(), tip in 100u64..110, now in 0i64..2000
    ) {
        let mut unique = ps.clone();
        unique.sort_by(|a, b| a.txid.cmp(&b.txid));
        unique.dedup_by(|a, b| a.txid == b.txid);
        let mut shuffled = unique.clone();
        // A deterministic shuffle from the seed.
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = (seed.rotate_left(i as u32) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        let one_by_one = |order: &[Payment]| {
            let mut inv = invoice(1);
            for k in 1..=order.len() {
                inv = see(&inv, &order[..k], tip, now).invoice;
            }
            see(&inv, order, tip, now).invoice
        };
        let a = one_by_one(&unique);
        let b = one_by_one(&shuffled);
        let all_at_once = see(&invoice(1), &unique, tip, now).invoice;
        prop_assert_eq!((a.status, a.exception), (b.status, b.exception));
        prop_assert_eq!((a.status, a.exception), (all_at_once.status, all_at_once.exception));
    }
}

#[test]
fn a_stored_payment_keeps_its_first_seen_time_and_gets_its_outputs_once_read() {
    let mut inv = invoice(1);
    let mut migrated = pay("a", 10_000, 0);
    migrated.outputs.clear();
    migrated.seen_at = t(5);
    inv.payments = vec![migrated];
    let mut later = pay("a", 10_000, 101);
    later.seen_at = t(50);
    later.outputs[0].vout = 3;

    let next = see(&inv, &[later.clone()], 101, 60).invoice;

    assert_eq!(next.payments[0].seen_at, t(5));
    assert_eq!(next.payments[0].outputs, later.outputs);
    assert_eq!(next.payments[0].per_output(), vec![("a-3".to_owned(), Sats(10_000))]);
    let mut unread = later.clone();
    unread.outputs.clear();
    let again = see(&next, &[unread], 101, 70).invoice;
    assert_eq!(
        again.payments[0].outputs, later.outputs,
        "known outputs are not forgotten"
    );
}

#[test]
fn marks_follow_btcpays_rules() {
    // (case, invoice before: steps to apply, marks already made, mark asked, allowed)
    let new = invoice(1);
    let paid = see(&new, &[pay("a", 10_000, 0)], 100, 10).invoice;
    let confirmed = see(&paid, &[pay("a", 10_000, 101)], 101, 20).invoice;
    let expired = see(&new, &[], 100, 900).invoice;
    let invalid = see(&paid, &[], 100, 1000).invoice;
    let marked_invalid = mark(&new, Mark::Invalid, t(5)).unwrap().invoice;
    let marked_settled = mark(&new, Mark::Settled, t(5)).unwrap().invoice;
    let cases: Vec<(&str, &Invoice, Mark, bool)> = vec![
        ("new -> invalid", &new, Mark::Invalid, true),
        ("new -> settled", &new, Mark::Settled, true),
        ("paid (Processing) -> invalid", &paid, Mark::Invalid, true),
        ("paid (Processing) -> settled", &paid, Mark::Settled, true),
        ("expired -> invalid", &expired, Mark::Invalid, true),
        ("expired -> settled", &expired, Mark::Settled, true),
        ("invalid -> invalid", &invalid, Mark::Invalid, false),
        ("invalid -> settled", &invalid, Mark::Settled, true),
        ("confirmed -> invalid", &confirmed, Mark::Invalid, false),
        ("confirmed -> settled", &confirmed, Mark::Settled, false),
        ("marked invalid -> invalid", &marked_invalid, Mark::Invalid, false),
        ("marked invalid -> settled", &marked_invalid, Mark::Settled, true),
        ("marked settled -> invalid", &marked_settled, Mark::Invalid, true),
        ("marked settled -> settled", &marked_settled, Mark::Settled, false),
    ];
    for (name, inv, m, allowed) in cases {
        assert_eq!(can_mark(inv, m), allowed, "{name}");
        match mark(inv, m, t(50)) {
            Ok(tr) => {
                assert!(allowed, "{name}");
                assert!(tr.invoice.marked, "{name}");
                let (status, kind) = match m {
                    Mark::Settled => (S::Confirmed, E::MarkedSettled),
                    Mark::Invalid => (S::Invalid, E::MarkedInvalid),
                };
                assert_eq!((tr.invoice.status, tr.kinds()), (status, vec![kind]), "{name}");
            }
            Err(MarkRefused) => assert!(!allowed, "{name}"),
        }
    }
    assert_eq!(available_marks(&new), vec![Mark::Settled, Mark::Invalid]);
    assert_eq!(available_marks(&confirmed), vec![]);
    assert_eq!(
        mark(&new, Mark::Settled, t(50)).unwrap().invoice.confirmed_at,
        Some(t(50))
    );
}

#[test]
fn a_marked_invoice_keeps_its_status_but_records_payments() {
    let marked = mark(&invoice(1), Mark::Invalid, t(5)).unwrap().invoice;
    let tr = see(&marked, &[pay("a", 10_000, 101)], 101, 20);
    assert_eq!(tr.invoice.status, S::Invalid);
    assert_eq!(tr.invoice.payments.len(), 1);
    assert_eq!(tr.kinds(), vec![E::PaymentReceived, E::PaymentSettled]);
}
