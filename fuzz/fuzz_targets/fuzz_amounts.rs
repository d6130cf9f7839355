//! Both amount parsers on any text: never a panic; what they accept is in
//! range and reads back the same through the formatters.
#![no_main]

use bchpay::money::{format_fixed_bch, format_python_decimal, parse_api_bch, parse_daemon_bch, MAX_SATS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sats) = parse_api_bch(text) {
        assert!((1..=MAX_SATS).contains(&sats.0), "{text:?} -> {sats:?}");
        assert_eq!(parse_api_bch(&sats.to_bch_string()), Ok(sats));
        assert_eq!(parse_daemon_bch(text), Ok(sats.0 as i64), "{text:?}");
    }
    if let Ok(sats) = parse_daemon_bch(text) {
        assert_eq!(parse_daemon_bch(&format_python_decimal(sats)), Ok(sats), "{text:?}");
        assert_eq!(parse_daemon_bch(&format_fixed_bch(sats, true)), Ok(sats), "{text:?}");
    }
});
