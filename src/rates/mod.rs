//! Fiat rates: the `RateSource` actor fetches quotes from exchanges in the
//! background; [`RatesHandle`] answers "what is the rate of KRW now" from what
//! it holds, never waiting on the network, by the rule of api.md.
//!
//! - [`source`]: the source names, a quote, what is kept per source, the backoff.
//! - [`clients`]: one typed client per source (request and real reply shapes), pure.
//! - [`rule`]: the rate rule (median of fresh quotes, outliers and zeros dropped), pure.
//! - [`book`]: the checked configuration and the shared book of quotes.
//! - `actor`: the `RateSource` actor (timers, HTTP, backoff).

mod actor;
pub mod book;
pub mod clients;
pub mod rule;
pub mod source;

pub use actor::RateSource;
pub use book::{validate, RatesConfig, RatesHandle};
pub use rule::{NoRate, Rate};
pub use source::SourceName;
