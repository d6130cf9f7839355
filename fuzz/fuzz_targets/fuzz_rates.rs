//! The fiat price parser, the rate parser and every exchange client on any
//! bytes: never a panic; an accepted price converts to a satoshi amount that
//! covers it by at most one satoshi's worth.
#![no_main]

use bchpay::fiat::{parse_price, parse_rate, sats_for, Currency};
use bchpay::rates::clients::{read, requests};
use bchpay::rates::SourceName;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for source in SourceName::ALL {
        for request in requests(
            source,
            &[Currency::parse("KRW").unwrap(), Currency::parse("JPY").unwrap()],
            "",
        ) {
            for status in [200, 404, 429] {
                let _ = read(source, &request, status, None, data);
            }
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (price, rate) = text.split_once('|').unwrap_or((text, "612345.5"));
    let Some(rate) = parse_rate(rate).filter(|r| !r.is_sign_negative() && !r.is_zero()) else {
        return;
    };
    for code in ["KRW", "USD", "KWD"] {
        if let Ok(p) = parse_price(price, Currency::parse(code).unwrap()) {
            if let Ok(sats) = sats_for(p, rate) {
                let paid = rust_decimal::Decimal::from(sats.0) * rate;
                let owed = p * rust_decimal::Decimal::from(100_000_000u64);
                assert!(paid >= owed && paid - rate < owed, "{price:?} at {rate}: {sats:?}");
            }
        }
    }
});
