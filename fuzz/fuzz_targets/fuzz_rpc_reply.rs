//! The wallet daemon's replies: the JSON-RPC envelope and every typed result.
//! The first two bytes pick the HTTP status class and the call id; the rest is
//! the body. Never a panic; the error kind follows the status.
#![no_main]

use bchpay::electron_cash::rpc::{
    parse_reply, CreateNewAddress, Deserialize_, GetAddressHistory, GetInfo, GetTransaction, History,
    HistoryWithAddresses, ListUnspent, ListWallets, LoadWallet, LoadWalletPath, Method, Notify, RpcError,
    ValidateAddress, Version,
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn every_method(result: &Value) {
    let _ = Version::parse(result.clone());
    let _ = LoadWallet::parse(result.clone());
    let _ = ListWallets::parse(result.clone());
    let _ = GetInfo::parse(result.clone());
    let _ = LoadWalletPath::parse(result.clone());
    let _ = CreateNewAddress::parse(result.clone());
    let _ = ValidateAddress::parse(result.clone());
    let _ = GetAddressHistory::parse(result.clone());
    let _ = ListUnspent::parse(result.clone());
    let _ = History::parse(result.clone());
    let _ = HistoryWithAddresses::parse(result.clone());
    let _ = GetTransaction::parse(result.clone());
    let _ = Deserialize_::parse(result.clone());
    let _ = Notify::parse(result.clone());
}

fuzz_target!(|data: &[u8]| {
    let (status, id, body) = match data {
        [s, i, rest @ ..] => {
            let status = [200u16, 200, 200, 200, 401, 403, 404, 500][(*s % 8) as usize];
            (status, u64::from(*i), rest)
        }
        _ => return,
    };
    match parse_reply(status, body, id) {
        Ok(result) => {
            assert_eq!(status, 200);
            every_method(&result);
        }
        Err(RpcError::Unauthorized) => assert!(matches!(status, 401 | 403)),
        Err(RpcError::Unavailable(_)) => assert!((500..=599).contains(&status)),
        Err(_) => {}
    }
    // The body itself as a result, so that the typed readers see every shape.
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        every_method(&value);
    }
});
