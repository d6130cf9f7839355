//! Money: integer satoshis and the exact decimal parsers and formatters.
//!
//! A float never touches an amount. Two kinds of text come in:
//! - the shop's API amounts (`parse_api_bch`): strict plain decimals;
//! - the wallet daemon's amounts (`parse_daemon_bch`), which arrive in the three
//!   formats of electron-cash-rpc.md: Python `Decimal` strings (`"1E-8"`),
//!   signed fixed point (`"+0.0007"`, `"0."`) and integer satoshis.
//!
//! The formatters are their inverses; the simulated daemon uses the daemon
//! formats, the API uses [`Sats::to_bch_string`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// Satoshis in one BCH.
pub const COIN: u64 = 100_000_000;
/// The most satoshis that can ever exist (21 million BCH).
pub const MAX_SATS: u64 = 21_000_000 * COIN;

/// An amount in satoshis. The only money type inside bchpay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sats(pub u64);

impl Sats {
    /// Zero satoshis.
    pub const ZERO: Sats = Sats(0);

    /// The amount as a BCH decimal string without trailing zeros: `"0.0007"`, `"1"`, `"0"`.
    pub fn to_bch_string(self) -> String {
        let whole = self.0 / COIN;
        let frac = self.0 % COIN;
        if frac == 0 {
            return whole.to_string();
        }
        let digits = format!("{frac:08}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }

    /// Adds, or `None` on overflow.
    pub fn checked_add(self, other: Sats) -> Option<Sats> {
        self.0.checked_add(other.0).map(Sats)
    }
}

impl fmt::Display for Sats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sat", self.0)
    }
}

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Empty, or a character that does not belong in a plain decimal.
    #[error("amount must be a plain decimal number of BCH such as \"0.0007\"")]
    NotDecimal,
    /// More than eight decimals: smaller than a satoshi.
    #[error("amount must have at most 8 decimals")]
    TooPrecise,
    /// Zero or below.
    #[error("amount must be greater than zero")]
    NotPositive,
    /// More than 21 million BCH (or past what the integers hold).
    #[error("amount must be at most 21000000 BCH")]
    TooLarge,
}

/// Parses a shop's BCH amount: a plain decimal such as `"0.0007"` or `"12"`.
///
/// Refused: signs, exponents, spaces, a leading or trailing dot, more than 8
/// decimals, zero, and more than 21 million BCH.
pub fn parse_api_bch(text: &str) -> Result<Sats, AmountError> {
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let plain_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !plain_digits(whole) || frac.is_some_and(|f| !plain_digits(f)) {
        return Err(AmountError::NotDecimal);
    }
    let frac = frac.unwrap_or("");
    if frac.len() > 8 {
        return Err(AmountError::TooPrecise);
    }
    // Leading zeros are harmless; strip them so long inputs cannot overflow early.
    let whole = whole.trim_start_matches('0');
    if whole.len() > 8 {
        return Err(AmountError::TooLarge);
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| AmountError::NotDecimal)?
    };
    let frac_sats: u64 = format!("{frac:0<8}").parse().map_err(|_| AmountError::NotDecimal)?;
    let sats = whole
        .checked_mul(COIN)
        .and_then(|w| w.checked_add(frac_sats))
        .ok_or(AmountError::TooLarge)?;
    if sats == 0 {
        return Err(AmountError::NotPositive);
    }
    if sats > MAX_SATS {
        return Err(AmountError::TooLarge);
    }
    Ok(Sats(sats))
}

/// Why a daemon amount could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DaemonAmountError {
    /// Not a decimal number in any of the daemon's formats.
    #[error("not a decimal amount: {0:?}")]
    Malformed(String),
    /// A fraction of a satoshi.
    #[error("amount {0:?} is not a whole number of satoshis")]
    SubSatoshi(String),
    /// Past what an `i64` of satoshis holds.
    #[error("amount {0:?} is out of range")]
    OutOfRange(String),
}

/// Parses a BCH amount as the daemon writes it, into signed satoshis.
///
/// Accepts Python `Decimal` strings (`"0"`, `"0.0007"`, `"1E-8"`, `"1.5e+2"`),
/// signed fixed point (`"+0.0007"`, `"-0.100003"`, `"0."`, `"1."`) and a leading
/// dot (`".5"`). Exact: a fraction of a satoshi is an error, never rounded.
pub fn parse_daemon_bch(text: &str) -> Result<i64, DaemonAmountError> {
    let malformed = || DaemonAmountError::Malformed(text.to_owned());
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'+') => (false, &text[1..]),
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => {
            let exp_text = &rest[i + 1..];
            let digits = exp_text.strip_prefix(['+', '-']).unwrap_or(exp_text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 6 {
                return Err(malformed());
            }
            let exp: i64 = exp_text.parse().map_err(|_| malformed())?;
            (&rest[..i], exp)
        }
        None => (rest, 0),
    };
    let (whole, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && frac.is_empty() {
        return Err(malformed());
    }
    if !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    // value = digits × 10^(exponent − frac.len()); satoshis = value × 10^8.
    let digits = format!("{whole}{frac}");
    let digits = digits.trim_start_matches('0');
    let scale = exponent - frac.len() as i64 + 8;
    let sats: i128 = if digits.is_empty() {
        0
    } else if scale >= 0 {
        if digits.len() as i64 + scale > 20 {
            return Err(DaemonAmountError::OutOfRange(text.to_owned()));
        }
        let base: i128 = digits.parse().map_err(|_| malformed())?;
        base * 10i128.pow(scale as u32)
    } else {
        let cut = (-scale) as usize;
        if cut >= digits.len() {
            return Err(DaemonAmountError::SubSatoshi(text.to_owned()));
        }
        let (keep, dropped) = digits.split_at(digits.len() - cut);
        if dropped.bytes().any(|b| b != b'0') {
            return Err(DaemonAmountError::SubSatoshi(text.to_owned()));
        }
        if keep.len() > 20 {
            return Err(DaemonAmountError::OutOfRange(text.to_owned()));
        }
        keep.parse().map_err(|_| malformed())?
    };
    let sats = if negative { -sats } else { sats };
    i64::try_from(sats).map_err(|_| DaemonAmountError::OutOfRange(text.to_owned()))
}

/// Formats satoshis as Python's `str(Decimal(sats) / COIN)` does, the format of
/// `getbalance`, `getaddressbalance` and `listunspent`: `"0"`, `"50"`,
/// `"0.0007"`, `"1E-8"`, `"1.1E-7"`, `"0.000001"`.
pub fn format_python_decimal(sats: i64) -> String {
    if sats == 0 {
        return "0".to_owned();
    }
    let sign = if sats < 0 { "-" } else { "" };
    let mut coefficient = sats.unsigned_abs();
    let mut exponent: i64 = -8;
    while exponent < 0 && coefficient.is_multiple_of(10) {
        coefficient /= 10;
        exponent += 1;
    }
    let digits = coefficient.to_string();
    let adjusted = exponent + digits.len() as i64 - 1;
    if adjusted >= -6 {
        // Plain notation (exponent is ≤ 0 here).
        let point = digits.len() as i64 + exponent;
        let body = if exponent == 0 {
            digits
        } else if point > 0 {
            format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
        } else {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        };
        format!("{sign}{body}")
    } else {
        let (head, tail) = digits.split_at(1);
        let dot = if tail.is_empty() {
            String::new()
        } else {
            format!(".{tail}")
        };
        format!("{sign}{head}{dot}E{adjusted}")
    }
}

/// Formats satoshis as Electron Cash's `format_satoshis` does for `history`
/// and `listaddresses`: fixed point, trailing zeros dropped but the dot kept
/// (`"0."`, `"1."`), and with `signed` a `+` on positive amounts
/// (`"+0.0007"`, `"-0.100003"`).
pub fn format_fixed_bch(sats: i64, signed: bool) -> String {
    let sign = if sats < 0 {
        "-"
    } else if signed && sats > 0 {
        "+"
    } else {
        ""
    };
    let abs = sats.unsigned_abs();
    let frac = format!("{:08}", abs % COIN);
    format!("{sign}{}.{}", abs / COIN, frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn api_parser_accepts_plain_decimals() {
        assert_eq!(parse_api_bch("0.0007"), Ok(Sats(70_000)));
        assert_eq!(parse_api_bch("1"), Ok(Sats(COIN)));
        assert_eq!(parse_api_bch("0.00000001"), Ok(Sats(1)));
        assert_eq!(parse_api_bch("21000000"), Ok(Sats(MAX_SATS)));
        assert_eq!(parse_api_bch("007.5"), Ok(Sats(750_000_000)));
    }

    #[test]
    fn api_parser_refuses_everything_else() {
        for (text, err) in [
            ("0", AmountError::NotPositive),
            ("0.00000000", AmountError::NotPositive),
            ("-1", AmountError::NotDecimal),
            ("+1", AmountError::NotDecimal),
            ("1e-3", AmountError::NotDecimal),
            ("1E3", AmountError::NotDecimal),
            ("0.000000001", AmountError::TooPrecise),
            (" 1", AmountError::NotDecimal),
            ("1 ", AmountError::NotDecimal),
            ("1.", AmountError::NotDecimal),
            (".5", AmountError::NotDecimal),
            ("", AmountError::NotDecimal),
            ("1,5", AmountError::NotDecimal),
            ("NaN", AmountError::NotDecimal),
            ("21000000.00000001", AmountError::TooLarge),
            ("21000001", AmountError::TooLarge),
            ("99999999999999999999999", AmountError::TooLarge),
            ("١", AmountError::NotDecimal),
        ] {
            assert_eq!(parse_api_bch(text), Err(err), "{text:?}");
        }
    }

    #[test]
    fn bch_string_drops_trailing_zeros() {
        assert_eq!(Sats(70_000).to_bch_string(), "0.0007");
        assert_eq!(Sats(COIN).to_bch_string(), "1");
        assert_eq!(Sats(0).to_bch_string(), "0");
        assert_eq!(Sats(1).to_bch_string(), "0.00000001");
        assert_eq!(Sats(MAX_SATS).to_bch_string(), "21000000");
    }

    #[test]
    fn daemon_parser_reads_every_example_of_the_rpc_page() {
        for (text, sats) in [
            ("0", 0),
            ("50", 5_000_000_000),
            ("0.0007", 70_000),
            ("1E-8", 1),
            ("1E-7", 10),
            ("+0.0007", 70_000),
            ("-0.100003", -10_000_300),
            ("0.", 0),
            ("1.", COIN as i64),
            ("0.65070711", 65_070_711),
            ("50.0001356", 5_000_013_560),
            ("0.0000452", 4_520),
            ("+0.00012345", 12_345),
            ("0.00001011", 1_011),
            ("50.65166616", 5_065_166_616),
            ("0.2", 20_000_000),
            ("0E-8", 0),
            ("1.5E+2", 15_000_000_000),
            ("1e-8", 1),
            (".5", 50_000_000),
            ("-0", 0),
        ] {
            assert_eq!(parse_daemon_bch(text), Ok(sats), "{text:?}");
        }
    }

    #[test]
    fn daemon_parser_refuses_garbage_and_fractions_of_a_satoshi() {
        for text in [
            "", "+", ".", "E5", "1E", "1E+", "abc", "1.2.3", "0x10", " 1", "1 ", "--1", "1E-8.5", "inf", "NaN",
        ] {
            assert!(
                matches!(parse_daemon_bch(text), Err(DaemonAmountError::Malformed(_))),
                "{text:?}"
            );
        }
        assert!(matches!(
            parse_daemon_bch("1E-9"),
            Err(DaemonAmountError::SubSatoshi(_))
        ));
        assert!(matches!(
            parse_daemon_bch("0.000000015"),
            Err(DaemonAmountError::SubSatoshi(_))
        ));
        assert!(matches!(
            parse_daemon_bch("1E+999999"),
            Err(DaemonAmountError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_daemon_bch("1E99"),
            Err(DaemonAmountError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_daemon_bch("99999999999999999999"),
            Err(DaemonAmountError::OutOfRange(_))
        ));
        // Trailing zeros past the eighth decimal are still exact.
        assert_eq!(parse_daemon_bch("0.000000010000"), Ok(1));
    }

    #[test]
    fn python_decimal_format_matches_the_recorded_strings() {
        assert_eq!(format_python_decimal(0), "0");
        assert_eq!(format_python_decimal(5_000_000_000), "50");
        assert_eq!(format_python_decimal(70_000), "0.0007");
        assert_eq!(format_python_decimal(1), "1E-8");
        assert_eq!(format_python_decimal(10), "1E-7");
        assert_eq!(format_python_decimal(11), "1.1E-7");
        assert_eq!(format_python_decimal(100), "0.000001");
        assert_eq!(format_python_decimal(1_011), "0.00001011");
        assert_eq!(format_python_decimal(5_000_013_560), "50.0001356");
        assert_eq!(format_python_decimal(-10), "-1E-7");
    }

    #[test]
    fn fixed_format_matches_the_recorded_strings() {
        assert_eq!(format_fixed_bch(70_000, true), "+0.0007");
        assert_eq!(format_fixed_bch(-10_000_300, true), "-0.100003");
        assert_eq!(format_fixed_bch(0, true), "0.");
        assert_eq!(format_fixed_bch(COIN as i64, false), "1.");
        assert_eq!(format_fixed_bch(4_520, false), "0.0000452");
    }

    proptest! {
        #[test]
        fn python_decimal_round_trips(sats in -(MAX_SATS as i64)..=(MAX_SATS as i64)) {
            prop_assert_eq!(parse_daemon_bch(&format_python_decimal(sats)), Ok(sats));
        }

        #[test]
        fn fixed_point_round_trips(sats in -(MAX_SATS as i64)..=(MAX_SATS as i64), signed: bool) {
            prop_assert_eq!(parse_daemon_bch(&format_fixed_bch(sats, signed)), Ok(sats));
        }

        #[test]
        fn integer_satoshis_round_trip_through_the_e_minus_8_form(sats in 0..=MAX_SATS) {
            prop_assert_eq!(parse_daemon_bch(&format!("{sats}E-8")), Ok(sats as i64));
        }

        #[test]
        fn api_format_round_trips(sats in 1..=MAX_SATS) {
            prop_assert_eq!(parse_api_bch(&Sats(sats).to_bch_string()), Ok(Sats(sats)));
        }

        #[test]
        fn daemon_parser_never_panics(text in "\\PC{0,40}") {
            let _ = parse_daemon_bch(&text);
            let _ = parse_api_bch(&text);
        }
    }
}
