//! Table and property tests of prices, rates and the conversion.

use proptest::prelude::*;

use super::*;

fn cur(code: &str) -> Currency {
    Currency::parse(code).unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

#[test]
fn minor_units_come_from_the_iso_table() {
    for (code, minor) in [("KRW", 0), ("JPY", 0), ("USD", 2), ("EUR", 2), ("KWD", 3)] {
        assert_eq!(cur(code).minor_units(), minor, "{code}");
    }
    for bad in ["krw", "BCH", "XAU", "XXX", "US", "USDT", ""] {
        assert!(Currency::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn prices_are_plain_decimals_within_the_minor_units() {
    assert_eq!(parse_price("15000", cur("KRW")), Ok(dec("15000")));
    assert_eq!(parse_price("12.34", cur("USD")), Ok(dec("12.34")));
    assert_eq!(parse_price("12.3", cur("USD")), Ok(dec("12.3")));
    assert_eq!(parse_price("12.30", cur("USD")).unwrap().to_string(), "12.30");
    assert_eq!(parse_price("12.30", cur("USD")), Ok(dec("12.3")), "equal by value");
    assert_eq!(parse_price("0.125", cur("KWD")), Ok(dec("0.125")));
    for (text, code) in [
        ("15000.5", "KRW"),
        ("15000.0", "KRW"),
        ("1500.5", "JPY"),
        ("12.345", "USD"),
        ("0.1234", "KWD"),
    ] {
        assert!(
            matches!(parse_price(text, cur(code)), Err(PriceError::TooManyDecimals { .. })),
            "{text} {code}"
        );
    }
    for text in ["", "-1", "+1", "1e3", " 1", "1 ", "1.", ".5", "1,000", "0x10", "١٢"] {
        assert_eq!(parse_price(text, cur("USD")), Err(PriceError::NotDecimal), "{text:?}");
    }
    assert_eq!(parse_price("0", cur("KRW")), Err(PriceError::NotPositive));
    assert_eq!(parse_price("0.00", cur("USD")), Err(PriceError::NotPositive));
    assert_eq!(parse_price("1000000000000000", cur("KRW")), Err(PriceError::TooLarge));
}

#[test]
fn rates_are_read_exactly_from_numbers_and_strings() {
    assert_eq!(parse_rate("612345.5"), Some(dec("612345.5")));
    assert_eq!(parse_rate("465.30000"), Some(dec("465.3")));
    assert_eq!(parse_rate("6.1E+5"), Some(dec("610000")));
    assert_eq!(parse_rate("0.1"), Some(dec("0.1")));
    assert_eq!(parse_rate("abc"), None);
    assert_eq!(parse_rate("0.0000000000001"), None);
}

#[test]
fn conversion_rounds_up_to_the_next_satoshi() {
    // 15,000 KRW at 612,345.5 KRW/BCH = 2,449,597.49… sats.
    assert_eq!(sats_for(dec("15000"), dec("612345.5")), Ok(Sats(2_449_598)));
    assert_eq!(sats_for(dec("12.34"), dec("400")), Ok(Sats(3_085_000)));
    assert_eq!(sats_for(dec("1"), dec("3")), Ok(Sats(33_333_334)));
    assert_eq!(sats_for(dec("0.01"), dec("100000000000")), Ok(Sats(1)));
    assert_eq!(
        sats_for(dec("999999999999999"), dec("0.001")),
        Err(PriceError::MoreThanSupply)
    );
    assert_eq!(sats_for(dec("1"), Decimal::ZERO), Err(PriceError::MoreThanSupply));
}

#[test]
fn prices_are_shown_in_the_way_of_the_language() {
    assert_eq!(format_price(dec("15000"), cur("KRW"), true), "15,000원");
    assert_eq!(format_price(dec("15000"), cur("KRW"), false), "₩15,000");
    assert_eq!(format_price(dec("12.34"), cur("USD"), false), "$12.34");
    assert_eq!(format_price(dec("1234567.5"), cur("USD"), true), "$1,234,567.50");
    assert_eq!(format_price(dec("999"), cur("JPY"), false), "¥999");
    assert_eq!(format_price(dec("0.125"), cur("KWD"), false), "0.125 KWD");
}

fn decimal(max_mantissa: u64, max_scale: u32) -> impl Strategy<Value = Decimal> {
    (1..=max_mantissa, 0..=max_scale).prop_map(|(m, s)| Decimal::new(m as i64, s))
}

proptest! {
    /// amount × rate is never below the price, and never above it by more than one satoshi's worth.
    #[test]
    fn the_bch_amount_covers_the_price_by_at_most_one_satoshi(
        price in decimal(1_000_000_000_000, 3),
        rate in decimal(1_000_000_000_000_000, 8),
    ) {
        if let Ok(Sats(sats)) = sats_for(price, rate) {
            let paid = Decimal::from(sats) * rate;
            let owed = price * Decimal::from(100_000_000u64);
            prop_assert!(paid >= owed, "{sats} sats × {rate} < {price}");
            prop_assert!(paid - rate < owed, "{sats} sats × {rate} over {price} by a satoshi or more");
        }
    }

    /// A price with more decimals than the currency has is always refused.
    #[test]
    fn zero_decimal_currencies_refuse_any_fraction(integer in 1u64..10_000_000, fraction in 1u32..10) {
        let text = format!("{integer}.{fraction}");
        for code in ["KRW", "JPY"] {
            prop_assert!(parse_price(&text, cur(code)).is_err());
        }
    }
}
