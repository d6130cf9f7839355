//! What the pages and the CSV show as an invoice's price.
//!
//! ======================================================================
//! SPOT for issue 12 (branch `rates`): invoices gain `price`, `currency`,
//! `rate`. Until then every invoice is priced in BCH, as api.md says of an
//! invoice made in BCH (`currency: "BCH"`, `price` = `amount`, `rate`
//! null). At merge, read the invoice's own fields here; the invoice table,
//! the invoice page and the CSV all go through [`price`].
//! ======================================================================

use crate::invoice::Invoice;

/// An invoice's price as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    /// The price, a decimal string in `currency`.
    pub price: String,
    /// ISO 4217 code, or `BCH`.
    pub currency: String,
    /// Fiat per 1 BCH locked at creation; `None` for a BCH invoice.
    pub rate: Option<String>,
}

/// The price of `invoice`.
pub fn price(invoice: &Invoice) -> Price {
    Price {
        price: invoice.amount_sats.to_bch_string(),
        currency: "BCH".to_owned(),
        rate: None,
    }
}
