//! The daemon's methods over the simulated chain, with the result shapes and
//! amount formats of `electron-cash-rpc.md`.

use serde_json::{json, Value};

use super::address::{self, Dest};
use super::params::{self, truthy};
use super::rpc::RpcError;
use super::tx::Transaction;
use super::Sim;
use crate::money::{format_fixed_bch, format_python_decimal};

const VERSION: &str = "4.4.5";

fn wallet_not_loaded() -> RpcError {
    RpcError::server(
        "commands.py",
        119,
        "func_wrapper",
        "BaseException: Wallet not loaded. Use 'electron-cash daemon load_wallet'",
    )
}

fn no_such_transaction() -> RpcError {
    RpcError::server(
        "network.py",
        1837,
        "synchronous_get",
        "electroncash.util.ServerError: {'code': 2, 'message': \"daemon error: DaemonError({'code': -5, \
         'message': 'No such mempool or blockchain transaction. Use gettransaction for wallet transactions.'})\"}",
    )
}

fn text(arg: &Option<Value>) -> String {
    match arg {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Reads an address argument as `Address.from_string` does.
fn address_arg(sim: &Sim, arg: &Option<Value>) -> Result<Dest, RpcError> {
    let raw = text(arg);
    address::parse(&raw, &sim.inner.config.network).ok_or_else(|| {
        RpcError::server(
            "address.py",
            444,
            "from_string",
            &format!("electroncash.address.AddressError: invalid address: {raw}"),
        )
    })
}

/// Calls `method` with JSON-RPC `params`.
pub fn call(sim: &Sim, method: &str, params: Option<&Value>) -> Result<Value, RpcError> {
    let Some(sig) = params::signature(method) else {
        return Err(RpcError {
            code: -32601,
            message: format!("Method {method} not supported."),
        });
    };
    let args = params::bind(&sig, params).map_err(|m| RpcError {
        code: -32602,
        message: format!("Invalid parameters: {m}"),
    })?;
    if sig.needs_wallet && !sim.wallet_loaded() {
        return Err(wallet_not_loaded());
    }
    let prefix = sim.inner.config.network.clone();
    let arg = |i: usize| args.get(i).cloned().flatten();
    match method {
        "version" => Ok(json!(VERSION)),
        "getinfo" => Ok(getinfo(sim)),
        "getfeerate" => Ok(json!(1000)),
        "is_synchronized" => Ok(json!(true)),
        "list_wallets" => Ok(if sim.wallet_loaded() {
            json!([{"path": sim.inner.config.wallet_path, "synchronized": true}])
        } else {
            json!([])
        }),
        "load_wallet" => {
            sim.load_wallet();
            Ok(json!(true))
        }
        "daemon" => daemon(sim, &arg(0)),
        "getbalance" => {
            let (c, u) = sim.chain().wallet_balance();
            let mut out = json!({"confirmed": format_python_decimal(c)});
            if u != 0 {
                out["unconfirmed"] = json!(format_python_decimal(u));
            }
            Ok(out)
        }
        "createnewaddress" => Ok(json!(sim.new_address())),
        "getunusedaddress" => match sim.chain().first_unused() {
            Some(d) => Ok(json!(d.short(&prefix))),
            None => Err(RpcError::server(
                "commands.py",
                760,
                "getunusedaddress",
                "AttributeError: 'NoneType' object has no attribute 'to_ui_string'",
            )),
        },
        "listaddresses" => Ok(listaddresses(sim, &args)),
        "validateaddress" => Ok(json!(address::parse(&text(&arg(0)), &prefix).is_some())),
        "ismine" => {
            let dest = address_arg(sim, &arg(0))?;
            Ok(json!(sim.chain().wallet_index.contains_key(&dest)))
        }
        "addressconvert" => {
            let raw = text(&arg(0));
            let dest = address::parse(&raw, &prefix).ok_or_else(|| {
                RpcError::server(
                    "commands.py",
                    168,
                    "addressconvert",
                    &format!("electroncash.address.AddressError: Invalid address: {raw}"),
                )
            })?;
            Ok(json!({"cashaddr": dest.cashaddr(&prefix), "legacy": dest.legacy(&prefix)}))
        }
        "getaddresshistory" => {
            let dest = address_arg(sim, &arg(0))?;
            let rows: Vec<Value> = sim
                .chain()
                .address_history(&dest)
                .into_iter()
                .map(|(txid, height, fee)| match fee {
                    Some(fee) => json!({"tx_hash": txid, "height": height, "fee": fee}),
                    None => json!({"tx_hash": txid, "height": height}),
                })
                .collect();
            Ok(Value::Array(rows))
        }
        "getaddressbalance" => {
            let dest = address_arg(sim, &arg(0))?;
            let (c, u) = sim.chain().address_balance(&dest);
            Ok(json!({"confirmed": format_python_decimal(c), "unconfirmed": format_python_decimal(u)}))
        }
        "getaddressunspent" => {
            let dest = address_arg(sim, &arg(0))?;
            let coins = sim.chain().address_unspent(&dest);
            Ok(coins
                .into_iter()
                .map(|c| json!({"tx_hash": c.txid, "tx_pos": c.n, "height": c.height, "value": c.value}))
                .collect())
        }
        "listunspent" => {
            let coins = sim.chain().wallet_unspent();
            Ok(coins
                .into_iter()
                .map(|c| {
                    json!({
                        "address": c.dest.short(&prefix),
                        "value": format_python_decimal(c.value as i64),
                        "prevout_n": c.n,
                        "prevout_hash": c.txid,
                        "height": c.height,
                        "coinbase": false,
                        "is_frozen_coin": false,
                        "slp_token": null,
                        "token_data": null,
                    })
                })
                .collect())
        }
        "history" => history(sim, &args),
        "gettransaction" => {
            let txid = text(&arg(0));
            match sim.chain().txs.get(&txid) {
                Some(e) => Ok(json!({"hex": e.hex, "complete": true, "final": true})),
                None => Err(no_such_transaction()),
            }
        }
        "deserialize" => {
            let raw = match arg(0) {
                Some(Value::Object(o)) => o.get("hex").and_then(Value::as_str).unwrap_or_default().to_owned(),
                other => text(&other),
            };
            let tx = Transaction::from_hex(&raw).map_err(|e| {
                RpcError::server(
                    "transaction.py",
                    690,
                    "deserialize",
                    &format!("electroncash.bitcoin.SerializationError: {e}"),
                )
            })?;
            Ok(super::tx::deserialize_json(&tx, &prefix))
        }
        "notify" => {
            let address = text(&arg(0));
            let dest = address_arg(sim, &arg(0))?;
            let url = text(&arg(1));
            let first = sim.chain().subscribe(dest, &address, &url);
            log::info!("sim: notify {address} -> {url}");
            sim.send_posts(vec![first]);
            Ok(json!(true))
        }
        _ => Err(RpcError {
            code: -32601,
            message: format!("Method {method} not supported."),
        }),
    }
}

fn getinfo(sim: &Sim) -> Value {
    let config = &sim.inner.config;
    let tip = sim.tip();
    let path = std::path::Path::new(&config.wallet_path)
        .parent()
        .and_then(|p| p.parent())
        .map_or_else(|| "/".to_owned(), |p| p.display().to_string());
    let mut wallets = serde_json::Map::new();
    if sim.wallet_loaded() {
        wallets.insert(config.wallet_path.clone(), json!(true));
    }
    json!({
        "path": path,
        "server": "127.0.0.1",
        "blockchain_height": tip,
        "server_height": tip,
        "spv_nodes": 1,
        "connected": true,
        "auto_connect": false,
        "version": VERSION,
        "default_wallet": config.wallet_path,
        "wallets": wallets,
        "fee_per_kb": 1000,
    })
}

/// `daemon` with a `subcommand`: load_wallet (true even for a wrong path;
/// only the configured wallet loads), close_wallet, status.
fn daemon(sim: &Sim, options: &Option<Value>) -> Result<Value, RpcError> {
    let empty = serde_json::Map::new();
    let options = options.as_ref().and_then(Value::as_object).unwrap_or(&empty);
    let path = options.get("wallet_path").and_then(Value::as_str);
    let ours = path.is_none_or(|p| p == sim.inner.config.wallet_path);
    match options.get("subcommand").and_then(Value::as_str) {
        Some("load_wallet") => {
            if ours {
                sim.load_wallet();
            }
            Ok(json!(true))
        }
        Some("close_wallet") => {
            let was = ours && sim.inner.loaded.swap(false, std::sync::atomic::Ordering::SeqCst);
            Ok(json!(was))
        }
        Some("status") => Ok(getinfo(sim)),
        None | Some("start") => Ok(json!("Daemon already running")),
        Some(other) => Err(RpcError::server(
            "daemon.py",
            400,
            "run_daemon",
            &format!("BaseException: subcommand {other} is not supported by the simulator"),
        )),
    }
}

fn listaddresses(sim: &Sim, args: &[Option<Value>]) -> Value {
    let flag = |i: usize| truthy(args.get(i).and_then(Option::as_ref));
    let (receiving, change, labels, frozen, unused, funded, balance) =
        (flag(0), flag(1), flag(2), flag(3), flag(4), flag(5), flag(6));
    let _ = receiving; // every simulated address is a receiving address
    let chain = sim.chain();
    if change || frozen {
        return json!([]);
    }
    let mut out = Vec::new();
    for dest in &chain.wallet {
        if unused && chain.is_used(dest) {
            continue;
        }
        let bal = if balance || funded {
            chain.wallet_address_balance(dest)
        } else {
            0
        };
        if funded && bal == 0 {
            continue;
        }
        let addr = dest.short(&chain.prefix);
        if !labels && !balance {
            out.push(json!(addr));
            continue;
        }
        let mut item = vec![json!(addr)];
        if balance {
            item.push(json!(format_fixed_bch(bal, false)));
        }
        if labels {
            item.push(json!("''"));
        }
        out.push(Value::Array(item));
    }
    Value::Array(out)
}

fn history(sim: &Sim, args: &[Option<Value>]) -> Result<Value, RpcError> {
    let year = match args.first().cloned().flatten() {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse::<i64>().map_err(|_| {
            RpcError::server(
                "commands.py",
                523,
                "history",
                &format!("ValueError: invalid literal for int() with base 10: '{s}'"),
            )
        })?,
        Some(Value::Bool(b)) => i64::from(b),
        Some(_) => 0,
    };
    let show_addresses = truthy(args.get(1).and_then(Option::as_ref));
    let chain = sim.chain();
    let tip = chain.tip() as i64;
    let rows = chain.wallet_history();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows.into_iter().rev() {
        let date = row.time.and_then(|t| chrono::DateTime::from_timestamp(t, 0));
        if year != 0 && date.is_none_or(|d| chrono::Datelike::year(&d) as i64 != year) {
            continue;
        }
        let mut item = json!({
            "txid": row.txid,
            "height": row.height,
            "confirmations": if row.height > 0 { tip - row.height + 1 } else { 0 },
            "timestamp": row.time.unwrap_or(0),
            "date": date.map_or_else(|| "unconfirmed".to_owned(), |d| d.format("%Y-%m-%d %H:%M").to_string()),
            "label": "",
            "value": format_fixed_bch(row.value, true),
            "fee": format_fixed_bch(row.fee as i64, false),
            "balance": format_fixed_bch(row.balance, false),
        });
        if show_addresses {
            let short = |d: &Dest| json!(d.short(&chain.prefix));
            item["input_addresses"] = Value::Array(row.input_addresses.iter().map(short).collect());
            item["output_addresses"] = Value::Array(row.output_addresses.iter().map(short).collect());
        }
        out.push(item);
    }
    Ok(Value::Array(out))
}
