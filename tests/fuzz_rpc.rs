//! Property tests of everything that reads the wallet daemon's words (issue 7,
//! item 2): the JSON-RPC envelope (`parse_reply`), every typed
//! `Method::parse`, the cashaddr reader behind them, and both amount parsers.
//! Inputs are the recorded replies of `tests/fixtures/electron-cash-replies.json`
//! mutated in their structure (values replaced, removed, retyped, strings
//! edited a character at a time so that addresses stay near-valid) and in
//! their bytes, plus random JSON and random bytes. The daemon is outside
//! bchpay's trust boundary: whatever it says, the answer is a value or a typed
//! `RpcError`, never a panic, and the error kind follows the HTTP status.

use bchpay::cashaddr::Address;
use bchpay::electron_cash::rpc::{
    parse_reply, CreateNewAddress, Deserialize_, GetAddressHistory, GetInfo, GetTransaction, History,
    HistoryWithAddresses, ListUnspent, ListWallets, LoadWallet, LoadWalletPath, Method, Notify, RpcError,
    ValidateAddress, Version,
};
use bchpay::money::{format_fixed_bch, format_python_decimal, parse_api_bch, parse_daemon_bch, Sats, MAX_SATS};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};

/// The recorded exchanges of electron-cash-rpc.md.
const FIXTURES: &str = include_str!("fixtures/electron-cash-replies.json");

/// One recorded reply: HTTP status, body, and the id of its call.
#[derive(Debug, Clone)]
struct Recorded {
    status: u16,
    body: Value,
    id: u64,
}

fn recorded() -> Vec<Recorded> {
    let all: Vec<Value> = serde_json::from_str(FIXTURES).expect("the fixtures are JSON");
    all.iter()
        .map(|e| Recorded {
            status: e["http_status"].as_u64().expect("http_status") as u16,
            // A body that was not JSON is recorded as a string; keep it a JSON string.
            body: e["response"].clone(),
            id: e["request"]
                .as_str()
                .and_then(|r| serde_json::from_str::<Value>(r).ok())
                .and_then(|r| r["id"].as_u64())
                .unwrap_or(0),
        })
        .collect()
}

/// The bytes of a recorded body as the daemon sent them.
fn body_bytes(body: &Value) -> Vec<u8> {
    match body {
        Value::String(s) => s.clone().into_bytes(),
        v => v.to_string().into_bytes(),
    }
}

// ---------------------------------------------------------------- generators

/// Amount-like text in every format the daemon has, and then some.
fn amount_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[-+]?[0-9]{0,25}(\\.[0-9]{0,25})?([eE][-+]?[0-9]{0,8})?",
        "[-+.eE0-9]{0,30}",
        "\\PC{0,20}",
        Just("1E-8".to_owned()),
        Just("-0.100003".to_owned()),
        Just("92233720368.54775807".to_owned()),
        Just("92233720368.54775808".to_owned()),
        Just("-92233720368.54775808".to_owned()),
        Just("1e999999".to_owned()),
        Just("1e-999999".to_owned()),
        Just("0e999999".to_owned()),
        Just(format!("0.{}1", "0".repeat(10_000))),
        Just(format!("{}.", "9".repeat(10_000))),
    ]
}

/// Random JSON, a few levels deep, with amount-like and address-like leaves.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        any::<String>().prop_map(Value::String),
        amount_text().prop_map(Value::String),
        Just(json!("qrt5k6j4v6acljaym985h7xl49a2y8aufunmwusnen")),
        Just(json!("bchreg:qrt5k6j4v6acljaym985h7xl49a2y8aufunmwusnen")),
        Just(json!("bitcoincash:")),
        Just(json!(":")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One change to a reply's structure, at a node chosen by index.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(Index, Value),
    Remove(Index),
    Retype(Index),
    EditChar(Index, Index, char),
    Truncate(Index, Index),
    Amount(Index, String),
    AddMember(Index, String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "result",
            "error",
            "id",
            "code",
            "message",
            "jsonrpc",
            "address",
            "value",
            "height",
            "outputs",
            "tx_hash",
            "txid",
            "hex",
            "prevout_n",
            "output_addresses",
            "fee",
            "balance",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{0,10}",
    ];
    prop_oneof![
        (any::<Index>(), any_json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        any::<Index>().prop_map(Mutation::Remove),
        any::<Index>().prop_map(Mutation::Retype),
        (any::<Index>(), any::<Index>(), any::<char>()).prop_map(|(i, j, c)| Mutation::EditChar(i, j, c)),
        (any::<Index>(), any::<Index>()).prop_map(|(i, j)| Mutation::Truncate(i, j)),
        (any::<Index>(), amount_text()).prop_map(|(i, a)| Mutation::Amount(i, a)),
        (any::<Index>(), key, any_json()).prop_map(|(i, k, v)| Mutation::AddMember(i, k, v)),
    ]
}

/// JSON pointers of every node of `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                pointers(child, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn mutate(root: &mut Value, m: &Mutation) {
    let mut all = Vec::new();
    pointers(root, String::new(), &mut all);
    let pick = |i: &Index| all[i.index(all.len())].clone();
    match m {
        Mutation::Replace(i, v) => {
            if let Some(node) = root.pointer_mut(&pick(i)) {
                *node = v.clone();
            }
        }
        Mutation::Remove(i) => {
            let at = pick(i);
            let Some((parent, last)) = at.rsplit_once('/') else {
                return;
            };
            match root.pointer_mut(parent) {
                Some(Value::Object(o)) => {
                    o.remove(&last.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(a)) => {
                    if let Ok(n) = last.parse::<usize>() {
                        if n < a.len() {
                            a.remove(n);
                        }
                    }
                }
                _ => {}
            }
        }
        Mutation::Retype(i) => {
            if let Some(node) = root.pointer_mut(&pick(i)) {
                *node = match node.take() {
                    Value::String(s) => s.parse::<f64>().map(|f| json!(f)).unwrap_or(json!([s])),
                    Value::Number(n) => Value::String(n.to_string()),
                    Value::Bool(b) => json!(b as u8),
                    Value::Null => json!(""),
                    Value::Array(a) => json!({"0": a}),
                    Value::Object(o) => Value::Array(o.into_iter().map(|(_, v)| v).collect()),
                };
            }
        }
        Mutation::EditChar(i, j, c) => {
            if let Some(Value::String(s)) = root.pointer_mut(&pick(i)) {
                let mut chars: Vec<char> = s.chars().collect();
                if !chars.is_empty() {
                    let at = j.index(chars.len());
                    chars[at] = *c;
                    *s = chars.into_iter().collect();
                }
            }
        }
        Mutation::Truncate(i, j) => {
            if let Some(Value::String(s)) = root.pointer_mut(&pick(i)) {
                let keep = j.index(s.chars().count() + 1);
                *s = s.chars().take(keep).collect();
            }
        }
        Mutation::Amount(i, a) => {
            if let Some(node) = root.pointer_mut(&pick(i)) {
                *node = Value::String(a.clone());
            }
        }
        Mutation::AddMember(i, k, v) => {
            if let Some(Value::Object(o)) = root.pointer_mut(&pick(i)) {
                o.insert(k.clone(), v.clone());
            }
        }
    }
}

/// One change to the bytes on the wire.
#[derive(Debug, Clone)]
enum ByteMutation {
    Truncate(Index),
    Flip(Index, u8),
    Insert(Index, Vec<u8>),
}

fn byte_mutation() -> impl Strategy<Value = ByteMutation> {
    prop_oneof![
        any::<Index>().prop_map(ByteMutation::Truncate),
        (any::<Index>(), 1u8..=255).prop_map(|(i, x)| ByteMutation::Flip(i, x)),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..6)).prop_map(|(i, b)| ByteMutation::Insert(i, b)),
    ]
}

fn mutate_bytes(bytes: &mut Vec<u8>, m: &ByteMutation) {
    match m {
        ByteMutation::Truncate(i) => bytes.truncate(i.index(bytes.len() + 1)),
        ByteMutation::Flip(i, x) if !bytes.is_empty() => {
            let at = i.index(bytes.len());
            bytes[at] ^= x;
        }
        ByteMutation::Flip(..) => {}
        ByteMutation::Insert(i, b) => {
            let at = i.index(bytes.len() + 1);
            bytes.splice(at..at, b.iter().copied());
        }
    }
}

/// A reply: (HTTP status, body, id of the call it answers).
fn reply() -> impl Strategy<Value = (u16, Vec<u8>, u64)> {
    let status = prop_oneof![
        8 => Just(200u16),
        1 => prop::sample::select(vec![401u16, 403, 404, 500, 502, 503, 204, 302]),
        1 => any::<u16>(),
    ];
    let mutated = (
        prop::sample::select(recorded()),
        prop::collection::vec(mutation(), 0..4),
        prop_oneof![3 => Just(Vec::new()), 1 => prop::collection::vec(byte_mutation(), 1..3)],
        status.clone(),
        prop_oneof![4 => Just(None), 1 => any::<u64>().prop_map(Some)],
    )
        .prop_map(|(r, muts, bytes, status, id)| {
            let mut body = r.body.clone();
            for m in &muts {
                mutate(&mut body, m);
            }
            let mut wire = body_bytes(&body);
            for m in &bytes {
                mutate_bytes(&mut wire, m);
            }
            // Mostly the recorded status, so that the body is read.
            let status = if status == 200 { r.status } else { status };
            (status, wire, id.unwrap_or(r.id))
        });
    prop_oneof![
        6 => mutated,
        1 => (status.clone(), any_json(), any::<u64>()).prop_map(|(s, v, id)| (s, v.to_string().into_bytes(), id)),
        1 => (status.clone(), any_json(), any::<u64>())
            .prop_map(|(s, v, id)| (s, json!({"id": id, "result": v, "error": null}).to_string().into_bytes(), id)),
        1 => (status, prop::collection::vec(any::<u8>(), 0..300), any::<u64>()),
    ]
}

// ---------------------------------------------------------------- properties

/// Every typed reader of a `result`: each must give a value or an `RpcError`.
/// Returns how many read it as their type.
fn parse_with_every_method(result: &Value) -> Result<usize, TestCaseError> {
    fn one<M: Method>(result: &Value, ok: &mut usize) -> Result<(), TestCaseError> {
        match M::parse(result.clone()) {
            Ok(_) => *ok += 1,
            Err(RpcError::Protocol(message)) => {
                prop_assert!(message.starts_with(M::NAME), "{}: message {message:?}", M::NAME)
            }
            Err(other) => {
                return Err(TestCaseError::fail(format!(
                    "{}: a result can only be a protocol error, not {other:?}",
                    M::NAME
                )))
            }
        }
        Ok(())
    }
    let mut ok = 0;
    one::<Version>(result, &mut ok)?;
    one::<LoadWallet>(result, &mut ok)?;
    one::<ListWallets>(result, &mut ok)?;
    one::<GetInfo>(result, &mut ok)?;
    one::<LoadWalletPath>(result, &mut ok)?;
    one::<CreateNewAddress>(result, &mut ok)?;
    one::<ValidateAddress>(result, &mut ok)?;
    one::<GetAddressHistory>(result, &mut ok)?;
    one::<ListUnspent>(result, &mut ok)?;
    one::<History>(result, &mut ok)?;
    one::<HistoryWithAddresses>(result, &mut ok)?;
    one::<GetTransaction>(result, &mut ok)?;
    one::<Deserialize_>(result, &mut ok)?;
    one::<Notify>(result, &mut ok)?;
    // What the typed readers hand on is sound: addresses read back as themselves.
    if let Ok(a) = CreateNewAddress::parse(result.clone()) {
        prop_assert_eq!(Address::parse(a.as_str()), Ok(a.clone()));
    }
    if let Ok(coins) = ListUnspent::parse(result.clone()) {
        for c in coins {
            prop_assert!(c.value.0 <= i64::MAX as u64);
        }
    }
    Ok(ok)
}

fn check_reply(status: u16, body: &[u8], id: u64) -> Result<(), TestCaseError> {
    let shown = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    match parse_reply(status, body, id) {
        Ok(result) => {
            prop_assert_eq!(status, 200, "a {} read as a result: {}", status, shown);
            let reply: Value = serde_json::from_slice(body).expect("a result comes from JSON");
            prop_assert_eq!(reply["id"].as_u64(), Some(id), "a result for another call: {}", shown);
            parse_with_every_method(&result)?;
        }
        Err(RpcError::Unauthorized) => prop_assert!(matches!(status, 401 | 403), "{status}: {shown}"),
        Err(RpcError::Unavailable(_)) => prop_assert!((500..=599).contains(&status), "{status}: {shown}"),
        Err(RpcError::NoWallet) => prop_assert_eq!(status, 200),
        Err(RpcError::Daemon { message, .. }) => {
            prop_assert_eq!(status, 200);
            prop_assert!(
                message.chars().count() <= 300,
                "a daemon message is kept short: {}",
                message.len()
            );
        }
        Err(RpcError::Protocol(_)) => prop_assert!(status == 200 || !matches!(status, 401 | 403 | 500..=599)),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_reply_is_a_value_or_a_typed_error((status, body, id) in reply()) {
        check_reply(status, &body, id)?;
    }

    #[test]
    fn any_result_is_read_or_refused_by_every_method(
        result in prop_oneof![
            2 => (prop::sample::select(recorded()), prop::collection::vec(mutation(), 0..4)).prop_map(|(r, muts)| {
                let mut result = r.body.get("result").cloned().unwrap_or(Value::Null);
                for m in &muts {
                    mutate(&mut result, m);
                }
                result
            }),
            1 => any_json(),
        ]
    ) {
        parse_with_every_method(&result)?;
    }

    #[test]
    fn the_shops_amount_parser_never_panics_and_keeps_its_range(text in amount_text()) {
        if let Ok(sats) = parse_api_bch(&text) {
            prop_assert!((1..=MAX_SATS).contains(&sats.0), "{text:?} → {sats:?}");
            prop_assert!(text.bytes().all(|b| b.is_ascii_digit() || b == b'.'), "{text:?} accepted");
            prop_assert_eq!(parse_api_bch(&sats.to_bch_string()), Ok(sats));
            // The daemon's parser reads every plain decimal the same way.
            prop_assert_eq!(parse_daemon_bch(&text), Ok(sats.0 as i64), "{:?}", text);
        }
    }

    #[test]
    fn the_daemons_amount_parser_never_panics_and_reads_its_own_formats(text in amount_text()) {
        if let Ok(sats) = parse_daemon_bch(&text) {
            prop_assert_eq!(parse_daemon_bch(&format_python_decimal(sats)), Ok(sats), "{:?}", text);
            prop_assert_eq!(parse_daemon_bch(&format_fixed_bch(sats, true)), Ok(sats), "{:?}", text);
            if sats > 0 && sats as u64 <= MAX_SATS {
                prop_assert_eq!(parse_api_bch(&Sats(sats as u64).to_bch_string()), Ok(Sats(sats as u64)));
            }
        }
    }

    #[test]
    fn both_amount_parsers_take_any_text(text in any::<String>()) {
        let _ = parse_api_bch(&text);
        let _ = parse_daemon_bch(&text);
    }

    #[test]
    fn addresses_of_any_text_parse_or_fail(text in prop_oneof![
        any::<String>(),
        (any::<Index>(), any::<char>()).prop_map(|(i, c)| {
            let mut chars: Vec<char> = "bchreg:qrt5k6j4v6acljaym985h7xl49a2y8aufunmwusnen".chars().collect();
            let at = i.index(chars.len());
            chars[at] = c;
            chars.into_iter().collect()
        }),
    ]) {
        if let Ok(a) = Address::parse(&text) {
            prop_assert_eq!(Address::parse(a.as_str()), Ok(a.clone()));
        }
    }
}

/// Every recorded reply still reads as recorded (the mutations start from real replies).
#[test]
fn every_recorded_reply_is_a_value_or_a_typed_error() {
    let all = recorded();
    assert!(all.len() >= 30, "the fixtures hold the recorded exchanges");
    let mut results = 0;
    for r in &all {
        check_reply(r.status, &body_bytes(&r.body), r.id).unwrap_or_else(|e| panic!("{r:?}: {e}"));
        if let Ok(result) = parse_reply(r.status, &body_bytes(&r.body), r.id) {
            results += 1;
            let typed = parse_with_every_method(&result).unwrap_or_else(|e| panic!("{r:?}: {e}"));
            assert!(typed >= 1 || result.is_object(), "{r:?}: no method reads it");
        }
    }
    assert!(results >= 25, "{results} results");
}
