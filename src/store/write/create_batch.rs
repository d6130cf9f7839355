//! A batch of invoice creations in ONE multi-tree transaction: the invoices,
//! their address, order and status index entries, the creation log, the
//! watch list, the pool removals and the counters.
//!
//! Why a batch: sled 0.34 seals its I/O buffer on every transaction, so a
//! transaction per request costs a buffer write per request; per batch, one.

use std::collections::HashMap;

use chrono::Utc;
use sled::transaction::{ConflictableTransactionError, Transactional, TransactionalTree};

use super::super::counts::{bump, Counts};
use super::super::error::StoreError;
use super::super::layout::keys::{MetaKey, StatusKey};
use super::super::layout::log::ChunkedLog;
use super::super::layout::trees::Trees;
use super::super::layout::values;
use super::super::lookup;
use super::super::messages::{CreateInvoice, Created, OrderRule};
use super::abort;
use super::address_picker::AddressPicker;
use super::pool::add_to_pool;
use crate::invoice::{Invoice, InvoiceId, InvoiceStatus, NewInvoice};

/// The most creations written in one transaction (a sled transaction must fit
/// in one of its I/O buffers, 8 MiB by default: a created invoice writes ~1 KiB).
pub const MAX_BATCH: usize = 1024;

/// An invoice to write and the requests it answers: (request index, created).
struct Planned {
    /// The new invoice.
    invoice: Invoice,
    /// Its own request first (`true`), then repeats of its order in the batch.
    replies: Vec<(usize, bool)>,
    /// Whether it takes over an order id that points at another invoice
    /// ([`OrderRule::NewUnlessLiveAndSame`]).
    takes_order: bool,
}

/// An order seen before this request.
enum Repeat {
    /// Planned earlier in this batch (its index in the plan).
    InBatch(usize),
    /// Already stored.
    Stored(Box<Invoice>),
}

/// The batch being planned.
struct Plan {
    /// The answer of each request, once known.
    answers: Vec<Option<Result<Created, StoreError>>>,
    /// Invoices to write.
    planned: Vec<Planned>,
    /// Order id → index in `planned`.
    orders: HashMap<String, usize>,
    /// Hands out the addresses.
    picker: AddressPicker,
    /// Fresh addresses of repeated orders: pooled, not lost.
    to_pool: Vec<crate::cashaddr::Address>,
}

/// Writes a batch of creations; one answer per request, in order. The new
/// invoices are in the answers with `created: true`.
pub fn create_batch(trees: &Trees, counts: &Counts, requests: Vec<CreateInvoice>) -> Vec<Result<Created, StoreError>> {
    let mut plan = Plan {
        answers: (0..requests.len()).map(|_| None).collect(),
        planned: Vec::new(),
        orders: HashMap::new(),
        picker: AddressPicker::default(),
        to_pool: Vec::new(),
    };
    for (i, request) in requests.into_iter().enumerate() {
        plan.add(trees, i, request);
    }
    plan.finish(trees, counts)
}

impl Plan {
    /// Plans request `i`.
    fn add(
        &mut self,
        trees: &Trees,
        i: usize,
        CreateInvoice {
            draft,
            fresh_address,
            order_rule,
        }: CreateInvoice,
    ) {
        // An existing order needs no address: checked before taking one, so that a
        // retried request neither empties the pool nor fails on an empty one.
        let mut takes_order = false;
        match self.repeat_of(trees, &draft) {
            Ok(None) => {}
            Ok(Some(repeat))
                if order_rule == OrderRule::NewUnlessLiveAndSame && !self.is_live_and_same(&repeat, &draft) =>
            {
                takes_order = true;
            }
            Ok(Some(repeat)) => {
                self.to_pool.extend(fresh_address);
                self.answer_repeat(i, repeat, &draft);
                return;
            }
            Err(e) => {
                self.answers[i] = Some(Err(e));
                return;
            }
        }
        match self.picker.pick(trees, fresh_address) {
            Ok(address) => {
                let invoice = Invoice::create(InvoiceId::generate(), draft, address, Utc::now());
                if let Some(order_id) = &invoice.order_id {
                    self.orders.insert(order_id.clone(), self.planned.len());
                }
                self.planned.push(Planned {
                    invoice,
                    replies: vec![(i, true)],
                    takes_order,
                });
            }
            Err(e) => self.answers[i] = Some(Err(e)),
        }
    }

    /// The earlier invoice of this draft's order, if any.
    fn repeat_of(&self, trees: &Trees, draft: &NewInvoice) -> Result<Option<Repeat>, StoreError> {
        let Some(order_id) = &draft.order_id else {
            return Ok(None);
        };
        if let Some(&k) = self.orders.get(order_id) {
            return Ok(Some(Repeat::InBatch(k)));
        }
        Ok(lookup::invoice_by_order(trees, order_id)?.map(|i| Repeat::Stored(Box::new(i))))
    }

    /// Whether the earlier invoice of the order is one Greenfield hands back:
    /// new, paid or confirmed, with the same terms.
    fn is_live_and_same(&self, repeat: &Repeat, draft: &NewInvoice) -> bool {
        let invoice = match repeat {
            Repeat::InBatch(k) => &self.planned[*k].invoice,
            Repeat::Stored(invoice) => invoice,
        };
        let live = matches!(
            invoice.status,
            InvoiceStatus::New | InvoiceStatus::Paid | InvoiceStatus::Confirmed
        );
        live && invoice.same_terms(draft)
    }

    /// Answers a repeated order: the same invoice if it asks the same
    /// (amount, or fiat price and currency: [`Invoice::same_terms`]).
    fn answer_repeat(&mut self, i: usize, repeat: Repeat, draft: &NewInvoice) {
        match repeat {
            Repeat::InBatch(k) if self.planned[k].invoice.same_terms(draft) => self.planned[k].replies.push((i, false)),
            Repeat::Stored(invoice) if invoice.same_terms(draft) => {
                self.answers[i] = Some(Ok(Created {
                    invoice: *invoice,
                    created: false,
                }))
            }
            _ => self.answers[i] = Some(Err(StoreError::OrderConflict)),
        }
    }

    /// Writes the plan and gives every request its answer.
    fn finish(mut self, trees: &Trees, counts: &Counts) -> Vec<Result<Created, StoreError>> {
        Counts::adjust(&counts.pool, -(self.picker.dropped as isize));
        if !self.to_pool.is_empty() {
            if let Err(e) = add_to_pool(trees, counts, std::mem::take(&mut self.to_pool)) {
                log::error!("could not pool the fresh addresses of repeated orders: {e}");
            }
        }
        let written = if self.planned.is_empty() {
            Ok(())
        } else {
            write_created(trees, counts, &self.planned)
        };
        for Planned { invoice, replies, .. } in self.planned {
            for (i, created) in replies {
                self.answers[i] = Some(written.clone().map(|()| Created {
                    invoice: invoice.clone(),
                    created,
                }));
            }
        }
        self.answers
            .into_iter()
            .map(|a| a.unwrap_or_else(|| Err(StoreError::Corrupt("a creation was left unanswered".into()))))
            .collect()
    }
}

/// The one transaction of a batch.
fn write_created(trees: &Trees, counts: &Counts, planned: &[Planned]) -> Result<(), StoreError> {
    let first = lookup::counter(trees, MetaKey::InvoiceCount)?;
    let mut records = Vec::with_capacity(planned.len());
    let mut by_status: Vec<(InvoiceStatus, i64)> = Vec::new();
    for (k, p) in planned.iter().enumerate() {
        let position = first + k as u64;
        records.push((position, values::encode_invoice(position, &p.invoice)?));
        match by_status.iter_mut().find(|(s, _)| *s == p.invoice.status) {
            Some((_, n)) => *n += 1,
            None => by_status.push((p.invoice.status, 1)),
        }
    }
    let ids = planned.iter().map(|p| p.invoice.id.as_str().to_owned());
    let log_chunks = trees.created_log().plan_append(first, ids)?;
    let t = trees;
    let took = (
        &t.invoices,
        &t.by_address,
        &t.by_order,
        &t.by_time,
        &t.by_status,
        &t.watch,
        &t.pool,
        &t.meta,
    )
        .transaction(
            |(invoices, by_address, by_order, by_time, by_status_tree, watch, pool, meta)| {
                let mut took_from_pool = 0isize;
                for (p, (position, record)) in planned.iter().zip(&records) {
                    let indexes = (by_address, by_order, by_status_tree, watch);
                    insert_invoice(p, *position, record, invoices, indexes)?;
                    if pool.remove(p.invoice.address.as_str().as_bytes())?.is_some() {
                        took_from_pool += 1;
                    }
                }
                ChunkedLog::write_in(by_time, &log_chunks)?;
                bump(meta, MetaKey::InvoiceCount, planned.len() as i64)?;
                for (status, n) in &by_status {
                    bump(meta, MetaKey::Status(*status), *n)?;
                }
                Ok(took_from_pool)
            },
        )?;
    Counts::adjust(&counts.pool, -took);
    Ok(())
}

/// One new invoice and its index entries, inside the batch's transaction.
fn insert_invoice(
    Planned {
        invoice, takes_order, ..
    }: &Planned,
    position: u64,
    record: &[u8],
    invoices: &TransactionalTree,
    (by_address, by_order, by_status, watch): (
        &TransactionalTree,
        &TransactionalTree,
        &TransactionalTree,
        &TransactionalTree,
    ),
) -> Result<(), ConflictableTransactionError<StoreError>> {
    let id = invoice.id.as_str().as_bytes();
    if let Some(order_id) = &invoice.order_id {
        if by_order.insert(order_id.as_bytes(), id)?.is_some() && !takes_order {
            return abort(StoreError::Corrupt(format!("order {order_id} got an invoice twice")));
        }
    }
    if by_address.insert(invoice.address.as_str().as_bytes(), id)?.is_some() {
        return abort(StoreError::Corrupt(format!(
            "address {} handed out twice",
            invoice.address
        )));
    }
    invoices.insert(id, record)?;
    let key = StatusKey {
        status: invoice.status,
        position,
    };
    by_status.insert(&key.encode(), id)?;
    watch.insert(id, &[])?;
    Ok(())
}
