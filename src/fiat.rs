//! Fiat money, exact: ISO 4217 currencies with their minor units, prices as
//! decimal strings, and the one conversion `amount_sats = ceil(price × 1e8 / rate)`.
//! Pure, no I/O; a float never touches a price or a rate.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::money::{Sats, MAX_SATS};

/// Satoshis in one BCH.
const SATS_PER_BCH: u128 = 100_000_000;
/// The most digits a price may have before its decimal point (a quadrillion).
const MAX_PRICE_INTEGER_DIGITS: usize = 15;
/// The most decimals of a usable rate (exchanges give at most a few).
pub const MAX_RATE_SCALE: u32 = 12;

/// An ISO 4217 currency that has minor units (so not gold, test codes or BCH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

/// Why a code is not a currency prices can be given in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an ISO 4217 currency code with minor units, such as \"KRW\" or \"USD\"")]
pub struct UnknownCurrency(pub String);

impl Currency {
    /// Reads an upper-case ISO 4217 code (`"KRW"`); lower case is refused, as api.md says.
    pub fn parse(code: &str) -> Result<Currency, UnknownCurrency> {
        let unknown = || UnknownCurrency(code.to_owned());
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(unknown());
        }
        let currency = iso_currency::Currency::from_code(code).ok_or_else(unknown)?;
        currency.exponent().ok_or_else(unknown)?;
        Ok(Currency(currency))
    }

    /// The code, `"KRW"`.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Its minor units (ISO 4217 exponent): KRW 0, USD 2, KWD 3.
    pub fn minor_units(self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(0))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a price cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    /// Not a plain positive decimal such as `"15000"` or `"12.34"`.
    #[error("price must be a decimal string such as \"15000\" or \"12.34\"")]
    NotDecimal,
    /// Zero.
    #[error("price must be greater than zero")]
    NotPositive,
    /// More decimals than the currency has minor units.
    #[error("{currency} has {minor} decimals: price may have at most {minor}")]
    TooManyDecimals {
        /// The currency.
        currency: &'static str,
        /// Its minor units.
        minor: u32,
    },
    /// More than a quadrillion.
    #[error("price is too large")]
    TooLarge,
    /// At this rate, worth more BCH than there will ever be.
    #[error("at the current rate this price is more than 21,000,000 BCH")]
    MoreThanSupply,
}

/// Reads a price in `currency`: a plain decimal (digits, at most one `.`
/// followed by digits; no sign, exponent or spaces), > 0, with at most the
/// currency's minor units (trailing zeros beyond them are refused too: the
/// shop meant something else), at most 15 integer digits.
pub fn parse_price(text: &str, currency: Currency) -> Result<Decimal, PriceError> {
    let (integer, fraction) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(integer) || fraction.is_some_and(|f| !digits(f)) {
        return Err(PriceError::NotDecimal);
    }
    let minor = currency.minor_units();
    if fraction.map_or(0, str::len) > minor as usize {
        return Err(PriceError::TooManyDecimals {
            currency: currency.code(),
            minor,
        });
    }
    if integer.trim_start_matches('0').len() > MAX_PRICE_INTEGER_DIGITS {
        return Err(PriceError::TooLarge);
    }
    let price = Decimal::from_str_exact(text).map_err(|_| PriceError::NotDecimal)?;
    if price <= Decimal::ZERO {
        return Err(PriceError::NotPositive);
    }
    // Kept as written ("12.30" stays "12.30"); compared by value.
    Ok(price)
}

/// Reads a rate as an exchange or the configuration writes it (`"612345.5"`,
/// `612345.50`, `6.1E+5`): exact, normalized, > 0 not checked here (the rate
/// rule drops ≤ 0), at most [`MAX_RATE_SCALE`] decimals and 18 integer digits.
pub fn parse_rate(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let value = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()?
    } else {
        Decimal::from_str_exact(text).ok()?
    };
    let value = value.normalize();
    if value.scale() > MAX_RATE_SCALE || value.abs() >= Decimal::from(1_000_000_000_000_000_000u64) {
        return None;
    }
    Some(value)
}

/// `ceil(price × 100,000,000 / rate)` satoshis, in integers: the customer
/// never pays less than the price, and never more than one satoshi's worth
/// over it. `rate` is fiat per BCH and must be > 0.
pub fn sats_for(price: Decimal, rate: Decimal) -> Result<Sats, PriceError> {
    if price <= Decimal::ZERO {
        return Err(PriceError::NotPositive);
    }
    if rate <= Decimal::ZERO {
        return Err(PriceError::MoreThanSupply);
    }
    // price = p / 10^sp, rate = r / 10^sr:
    // sats = ceil(p × 10^8 × 10^sr / (r × 10^sp)).
    let (p, sp) = (price.mantissa().unsigned_abs(), price.scale());
    let (r, sr) = (rate.mantissa().unsigned_abs(), rate.scale());
    let numerator = p
        .checked_mul(SATS_PER_BCH)
        .and_then(|n| n.checked_mul(10u128.checked_pow(sr)?))
        .ok_or(PriceError::TooLarge)?;
    let denominator = r.checked_mul(10u128.checked_pow(sp).ok_or(PriceError::TooLarge)?);
    let denominator = denominator.ok_or(PriceError::TooLarge)?;
    let sats = numerator.div_ceil(denominator);
    match u64::try_from(sats) {
        Ok(sats) if (1..=MAX_SATS).contains(&sats) => Ok(Sats(sats)),
        _ => Err(PriceError::MoreThanSupply),
    }
}

/// Whether a text is a currency code we show as BCH (`"BCH"`).
pub fn is_bch(code: &str) -> bool {
    code == "BCH"
}

/// A price for people: `15,000원` in Korean for won, `₩15,000` in English,
/// `$12.34`, `€12.34`, `¥1,500`, else `12.34 CHF`; grouped by thousands,
/// with the currency's minor units.
pub fn format_price(price: Decimal, currency: Currency, korean: bool) -> String {
    let minor = currency.minor_units();
    let rounded = price.round_dp(minor);
    let text = format!("{rounded:.prec$}", prec = minor as usize);
    let (integer, fraction) = match text.split_once('.') {
        Some((i, f)) => (i.to_owned(), Some(f.to_owned())),
        None => (text.clone(), None),
    };
    let mut grouped = String::new();
    for (i, c) in integer.chars().enumerate() {
        if i > 0 && (integer.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if let Some(f) = fraction {
        grouped.push('.');
        grouped.push_str(&f);
    }
    match (currency.code(), korean) {
        ("KRW", true) => format!("{grouped}원"),
        ("KRW", false) => format!("₩{grouped}"),
        ("USD", _) => format!("${grouped}"),
        ("EUR", _) => format!("€{grouped}"),
        ("JPY", _) => format!("¥{grouped}"),
        ("GBP", _) => format!("£{grouped}"),
        (code, _) => format!("{grouped} {code}"),
    }
}

impl FromStr for Currency {
    type Err = UnknownCurrency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

#[cfg(test)]
mod tests;
