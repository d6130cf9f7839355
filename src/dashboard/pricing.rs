//! What the pages and the CSV show as an invoice's price: the invoice's own
//! price, currency and locked rate (api.md "Prices in fiat"); an invoice made
//! in BCH is priced in BCH, its price its amount, with no rate.

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
        price: invoice
            .price
            .map_or_else(|| invoice.amount_sats.to_bch_string(), |p| p.to_string()),
        currency: invoice.currency.clone(),
        rate: invoice.rate.map(|r| r.to_string()),
    }
}
