//! `bchpay keys create|list|revoke`: on a stopped engine's store (opened
//! directly: sled locks a running engine's directory) or on a running engine
//! through `/api/v1/api-keys` (with an `unrestricted` key). `create` prints
//! the key alone on its last line; nothing else ever shows it.

use chrono::Utc;
use serde_json::{json, Value};

use crate::api_key::{self, ApiKeyRecord, KeyId, Permissions};
use crate::config::Secret;
use crate::inspect::{table, Source};
use crate::store::{Store, StoreError};

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeysCommand {
    /// Make a key.
    Create {
        /// Its label.
        label: String,
        /// Its permissions.
        permissions: Permissions,
    },
    /// Every key, without the keys.
    List,
    /// Forget a key.
    Revoke(KeyId),
}

/// Runs one command; the text to print (or JSON with `json`), or a message for the terminal.
pub async fn run(source: &Source, command: &KeysCommand, json: bool) -> Result<String, String> {
    if let KeysCommand::Create { label, permissions } = command {
        if json {
            return Err("--json: create prints the key alone on its last line; --json is for list and revoke".into());
        }
        api_key::check_new(label, permissions).map_err(|(field, message)| format!("--{field}: {message}"))?;
    }
    let (answer, made) = match source {
        Source::Store(dir) => on_store(dir, command)?,
        Source::Api { url, key } => (on_api(url, key, command).await?, None),
    };
    Ok(render(command, &answer, made.as_ref(), json))
}

/// The same command on a stopped store: the answer as the API gives it, and
/// for `create` the key (the API's answer carries it in `key`).
fn on_store(dir: &std::path::Path, command: &KeysCommand) -> Result<(Value, Option<Secret>), String> {
    let locked = |e: StoreError| match e {
        StoreError::Locked(_) => {
            format!("{e}\n(a running engine holds it: use `bchpay keys --url http://HOST:PORT --api-key KEY …`)")
        }
        other => other.to_string(),
    };
    match command {
        KeysCommand::Create { label, permissions } => {
            // A first key may come before the engine's first start: make the store then.
            let store = Store::open(dir).map_err(locked)?;
            let (key, record) = ApiKeyRecord::generate(label.clone(), permissions.clone(), Utc::now());
            let created = store.create_api_key(&record).map_err(|e| e.to_string())?;
            Ok((created.to_api(), Some(key)))
        }
        KeysCommand::List => {
            let store = Store::open_existing(dir).map_err(locked)?;
            let keys = store.reader().api_keys().map_err(|e| e.to_string())?;
            Ok((
                json!({"api_keys": keys.iter().map(ApiKeyRecord::to_api).collect::<Vec<_>>()}),
                None,
            ))
        }
        KeysCommand::Revoke(id) => {
            let store = Store::open_existing(dir).map_err(locked)?;
            match store.revoke_api_key(id) {
                Ok(revoked) => Ok((revoked.to_api(), None)),
                Err(StoreError::NotFound) => Err(format!("no API key {id} in {}", dir.display())),
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

/// The same command through a running engine's API.
async fn on_api(url: &str, key: &Secret, command: &KeysCommand) -> Result<Value, String> {
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .finish();
    let base = format!("{}/api/v1/api-keys", url.trim_end_matches('/'));
    let sent = match command {
        KeysCommand::Create { label, permissions } => {
            client
                .post(&base)
                .bearer_auth(key.expose())
                .send_json(&json!({"label": label, "permissions": permissions.names()}))
                .await
        }
        KeysCommand::List => client.get(&base).bearer_auth(key.expose()).send().await,
        KeysCommand::Revoke(id) => {
            client
                .delete(format!("{base}/{id}"))
                .bearer_auth(key.expose())
                .send()
                .await
        }
    };
    let mut response = sent.map_err(|e| format!("cannot reach {url}: {e}"))?;
    let body = response
        .body()
        .limit(16 * 1024 * 1024)
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| format!("the engine answered no JSON: {e}"))?;
    if response.status().is_success() {
        Ok(value)
    } else {
        Err(format!(
            "the engine answered {}: {}",
            response.status().as_u16(),
            value["error"]["message"].as_str().unwrap_or("no message")
        ))
    }
}

/// What to print.
fn render(command: &KeysCommand, answer: &Value, made: Option<&Secret>, json: bool) -> String {
    let key = made
        .map(|k| k.expose().to_owned())
        .or_else(|| answer["key"].as_str().map(str::to_owned));
    let text = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    let permissions = |v: &Value| {
        v["permissions"]
            .as_array()
            .map(|p| p.iter().map(text).collect::<Vec<_>>().join(","))
            .unwrap_or_default()
    };
    match command {
        KeysCommand::Create { .. } => {
            let key = key.unwrap_or_default();
            format!(
                "created API key {} ({:?}) with permissions {}\n\
                 the key is shown this once (bchpay keeps only its SHA-256); give it to the shop now:\n{key}\n",
                text(&answer["id"]),
                text(&answer["label"]),
                permissions(answer),
            )
        }
        KeysCommand::List if json => format!("{}\n", serde_json::to_string_pretty(answer).unwrap_or_default()),
        KeysCommand::List => {
            let rows: Vec<Vec<String>> = answer["api_keys"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|k| {
                    vec![
                        text(&k["id"]),
                        text(&k["label"]),
                        permissions(k),
                        text(&k["created_at"]),
                        text(&k["last_used_at"]),
                    ]
                })
                .collect();
            table(&["id", "label", "permissions", "created", "last used"], &rows)
        }
        KeysCommand::Revoke(_) if json => format!("{}\n", serde_json::to_string_pretty(answer).unwrap_or_default()),
        KeysCommand::Revoke(id) => format!(
            "revoked API key {id} ({:?}): it opens nothing from now on\n",
            text(&answer["label"])
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`run`] again while the store is still held by the previous call's
    /// sled, which lets go of its lock from a background thread (the CLI
    /// itself rightly refuses a held store at once); at most 5 s.
    async fn run_when_free(source: &Source, command: &KeysCommand, json: bool) -> Result<String, String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match run(source, command, json).await {
                Err(e) if e.contains("in use by another process") && std::time::Instant::now() < deadline => {
                    actix_rt::time::sleep(std::time::Duration::from_millis(20)).await
                }
                other => return other,
            }
        }
    }

    #[actix_rt::test]
    async fn create_list_and_revoke_on_a_stopped_store() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let source = Source::Store(dir.path().join("store"));
        let permissions =
            Permissions::parse_list("btcpay.store.cancreateinvoice,btcpay.store.canviewinvoices").unwrap_or_default();
        let create = KeysCommand::Create {
            label: "web shop".into(),
            permissions,
        };
        let out = run_when_free(&source, &create, false)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let key = out.lines().last().unwrap_or_default().to_owned();
        assert_eq!(key.len(), 40, "{out}");
        let listed = run_when_free(&source, &KeysCommand::List, true)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!listed.contains(&key), "{listed}");
        let listed: Value = serde_json::from_str(&listed).unwrap_or_default();
        let id = listed["api_keys"][0]["id"].as_str().unwrap_or_default().to_owned();
        assert_eq!(listed["api_keys"][0]["label"], "web shop");
        let id = KeyId::parse(&id).unwrap_or_else(|e| panic!("{e}"));
        let out = run_when_free(&source, &KeysCommand::Revoke(id.clone()), false).await;
        assert!(out.is_ok_and(|o| o.contains(id.as_str())));
        let again = run_when_free(&source, &KeysCommand::Revoke(id), false).await;
        assert!(again.is_err_and(|e| e.contains("no API key")));
        let bad = KeysCommand::Create {
            label: String::new(),
            permissions: Permissions::unrestricted(),
        };
        assert!(run_when_free(&source, &bad, false)
            .await
            .is_err_and(|e| e.starts_with("--label")));
        assert!(run_when_free(&source, &create, true)
            .await
            .is_err_and(|e| e.starts_with("--json")));
    }
}
