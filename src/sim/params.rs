//! The daemon's commands as Python functions: their parameter names, which
//! are required, and the `TypeError` text Python gives when a call does not
//! bind (the daemon sends it back as -32602 "Invalid parameters: …").

use serde_json::Value;

/// A command's Python signature.
#[derive(Debug, Clone, Copy)]
pub struct Signature {
    /// The qualified name Python prints (`Commands.getbalance`).
    pub qualname: &'static str,
    /// Parameter names in order, `self` left out.
    pub params: &'static [&'static str],
    /// How many leading parameters have no default.
    pub required: usize,
    /// Whether it needs a loaded wallet (`@command('w')`).
    pub needs_wallet: bool,
}

const fn sig(
    qualname: &'static str,
    params: &'static [&'static str],
    required: usize,
    needs_wallet: bool,
) -> Signature {
    Signature {
        qualname,
        params,
        required,
        needs_wallet,
    }
}

const ADDRESS: &[&str] = &["address"];
const LISTADDRESSES: &[&str] = &["receiving", "change", "labels", "frozen", "unused", "funded", "balance"];
const HISTORY: &[&str] = &["year", "show_addresses", "show_fiat", "use_net", "timeout"];

/// The signature of a method the simulator serves, `None` if unknown.
pub fn signature(method: &str) -> Option<Signature> {
    Some(match method {
        "version" => sig("Commands.version", &[], 0, false),
        "getinfo" => sig("Daemon.getinfo", &[], 0, false),
        "list_wallets" => sig("Daemon.list_wallets", &[], 0, false),
        "load_wallet" => sig("Daemon.load_wallet", &[], 0, false),
        "daemon" => sig("Daemon.run_daemon", &["config_options"], 1, false),
        "getfeerate" => sig("Commands.getfeerate", &[], 0, false),
        "is_synchronized" => sig("Commands.is_synchronized", &[], 0, true),
        "getbalance" => sig("Commands.getbalance", &[], 0, true),
        "createnewaddress" => sig("Commands.createnewaddress", &[], 0, true),
        "getunusedaddress" => sig("Commands.getunusedaddress", &[], 0, true),
        "listaddresses" => sig("Commands.listaddresses", LISTADDRESSES, 0, true),
        "validateaddress" => sig("Commands.validateaddress", ADDRESS, 1, false),
        "ismine" => sig("Commands.ismine", ADDRESS, 1, true),
        "addressconvert" => sig("Commands.addressconvert", ADDRESS, 1, false),
        "getaddresshistory" => sig("Commands.getaddresshistory", ADDRESS, 1, false),
        "getaddressbalance" => sig("Commands.getaddressbalance", ADDRESS, 1, false),
        "getaddressunspent" => sig("Commands.getaddressunspent", ADDRESS, 1, false),
        "listunspent" => sig("Commands.listunspent", &[], 0, true),
        "history" => sig("Commands.history", HISTORY, 0, true),
        "gettransaction" => sig("Commands.gettransaction", &["txid"], 1, false),
        "deserialize" => sig("Commands.deserialize", &["tx"], 1, false),
        "notify" => sig("Commands.notify", &["address", "URL"], 2, false),
        _ => return None,
    })
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn quoted_list(names: &[&str]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        2 => format!("{} and {}", q[0], q[1]),
        _ => format!("{}, and {}", q[..q.len() - 1].join(", "), q[q.len() - 1]),
    }
}

/// Binds JSON-RPC params (array, object or absent) to the signature: one
/// slot per parameter, `None` where the default applies. The error is
/// Python's `TypeError` text.
pub fn bind(sig: &Signature, params: Option<&Value>) -> Result<Vec<Option<Value>>, String> {
    let name = sig.qualname;
    let mut slots: Vec<Option<Value>> = vec![None; sig.params.len()];
    match params {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            if items.len() > sig.params.len() {
                let given = items.len() + 1;
                let takes = if sig.required == sig.params.len() {
                    format!("takes {}", plural(sig.params.len() + 1, "positional argument"))
                } else {
                    format!(
                        "takes from {} to {} positional arguments",
                        sig.required + 1,
                        sig.params.len() + 1
                    )
                };
                return Err(format!("{name}() {takes} but {given} were given"));
            }
            for (slot, item) in slots.iter_mut().zip(items) {
                *slot = Some(item.clone());
            }
        }
        Some(Value::Object(map)) => {
            for (key, value) in map {
                match sig.params.iter().position(|p| p == key) {
                    Some(i) => slots[i] = Some(value.clone()),
                    None => return Err(format!("{name}() got an unexpected keyword argument '{key}'")),
                }
            }
        }
        Some(_) => return Err(format!("{name}() argument after * must be an iterable, not a scalar")),
    }
    let missing: Vec<&str> = sig.params[..sig.required]
        .iter()
        .zip(&slots)
        .filter(|(_, s)| s.is_none())
        .map(|(p, _)| *p)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{name}() missing {}: {}",
            plural(missing.len(), "required positional argument"),
            quoted_list(&missing)
        ));
    }
    Ok(slots)
}

/// Python truthiness of a JSON value.
pub fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(method: &str, params: Value) -> String {
        let sig = signature(method).expect("known");
        bind(&sig, Some(&params)).expect_err("must not bind")
    }

    #[test]
    fn too_many_positional_arguments_count_self_as_python_does() {
        assert_eq!(
            err("getbalance", json!([1, 2])),
            "Commands.getbalance() takes 1 positional argument but 3 were given"
        );
        assert_eq!(
            err("getaddresshistory", json!(["a", "b"])),
            "Commands.getaddresshistory() takes 2 positional arguments but 3 were given"
        );
        assert_eq!(
            err("history", json!([0, 1, 2, 3, 4, 5])),
            "Commands.history() takes from 1 to 6 positional arguments but 7 were given"
        );
    }

    #[test]
    fn missing_and_unexpected_arguments_read_as_python_does() {
        assert_eq!(
            err("notify", json!([])),
            "Commands.notify() missing 2 required positional arguments: 'address' and 'URL'"
        );
        assert_eq!(
            err("gettransaction", json!({})),
            "Commands.gettransaction() missing 1 required positional argument: 'txid'"
        );
        assert_eq!(
            err("getbalance", json!({"x": 1})),
            "Commands.getbalance() got an unexpected keyword argument 'x'"
        );
    }

    #[test]
    fn named_and_positional_params_bind_to_the_same_slots() {
        let sig = signature("history").expect("known");
        let named = bind(&sig, Some(&json!({"show_addresses": true}))).expect("binds");
        let positional = bind(&sig, Some(&json!([null, true]))).expect("binds");
        assert_eq!(named[1], Some(json!(true)));
        assert_eq!(positional[1], Some(json!(true)));
        assert!(bind(&sig, None).expect("binds").iter().all(Option::is_none));
        assert!(truthy(Some(&json!(1))) && !truthy(Some(&json!(""))) && !truthy(None));
    }
}
