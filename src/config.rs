//! Configuration: `config.toml`, then the environment, validated at start.
//!
//! One serde struct per section of api.md's configuration; every key has a
//! default, so an empty file is a working configuration. Secrets live in
//! [`Secret`], whose `Debug` and `Display` print `***`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// A value that must never reach a log line, an error message or a `Debug` output.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }
    /// The secret itself, for the one place that must send or compare it.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether no secret was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where the HTTP server listens and how it is reached from outside.
    pub server: ServerSettings,
    /// The shop's API keys.
    pub api: ApiSettings,
    /// The sled store.
    pub store: StoreSettings,
    /// The wallet daemon.
    pub electron_cash: ElectronCashSettings,
    /// The address pool.
    pub addresses: AddressSettings,
    /// Payment detection and invoice policy.
    pub payments: PaymentSettings,
    /// Webhook delivery.
    pub webhooks: WebhookSettings,
    /// Fiat prices: currencies, exchange sources, the rate rule.
    pub rates: RatesSettings,
    /// The merchant dashboard's sessions.
    pub dashboard: DashboardSettings,
    /// BTCPay Greenfield compatibility: the one store it shows.
    pub greenfield: GreenfieldSettings,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address the HTTP server binds (port 0: any free port).
    pub bind: String,
    /// Base of `checkout_url`, as customers reach the engine.
    pub public_url: String,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            bind: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

/// `[api]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiSettings {
    /// Keys accepted on `/api/v1/...`, each `unrestricted` (the store keeps
    /// the others, made with `bchpay keys create`).
    pub keys: Vec<Secret>,
}

/// The placeholder key that `config.toml` ships with.
pub const PLACEHOLDER_KEY: &str = "change-me";
/// A configured key shorter than this is refused on a public bind.
pub const MIN_PUBLIC_KEY_LEN: usize = 32;

impl ApiSettings {
    /// Whether a key is the placeholder or too short to face a network.
    fn has_weak_key(&self) -> bool {
        self.keys
            .iter()
            .any(|k| k.expose() == PLACEHOLDER_KEY || k.expose().chars().count() < MIN_PUBLIC_KEY_LEN)
    }
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            keys: vec![Secret::new("change-me")],
        }
    }
}

/// `[store]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    /// The sled directory.
    pub path: PathBuf,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            path: PathBuf::from("data/bchpay.db"),
        }
    }
}

/// `[electron_cash]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ElectronCashSettings {
    /// The daemon's JSON-RPC URL (`rpchost`/`rpcport`).
    pub url: String,
    /// The daemon's `rpcuser`.
    pub rpc_user: String,
    /// The daemon's `rpcpassword`; empty when the daemon runs without auth.
    pub rpc_password: Secret,
    /// Wallet file to load when the daemon has none loaded; empty: the one it was started with (`-w`).
    pub wallet: String,
    /// Per-call timeout in seconds.
    pub timeout_secs: u64,
    /// URL at which the daemon reaches `/wallet/notify/<token>`; empty: poll only.
    pub notify_url: String,
}

impl Default for ElectronCashSettings {
    fn default() -> Self {
        ElectronCashSettings {
            url: "http://127.0.0.1:7777".into(),
            rpc_user: "bchrpc".into(),
            rpc_password: Secret::default(),
            wallet: String::new(),
            timeout_secs: 10,
            notify_url: String::new(),
        }
    }
}

impl ElectronCashSettings {
    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

/// `[addresses]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AddressSettings {
    /// Refill the pool when it falls to this many addresses.
    pub pool_low: usize,
    /// Refill up to this many; 0: no pool, every invoice waits on `createnewaddress`.
    pub pool_high: usize,
}

impl Default for AddressSettings {
    fn default() -> Self {
        AddressSettings {
            pool_low: 20,
            pool_high: 100,
        }
    }
}

/// `[payments]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PaymentSettings {
    /// How often the confirmer looks at the wallet.
    pub poll_interval_ms: u64,
    /// Default confirmations before `confirmed` (0: on first sight).
    pub required_confirmations: u32,
    /// How much short of the amount still counts as paid, in percent.
    pub payment_tolerance_percent: u32,
    /// Default lifetime of an invoice.
    pub expiry_secs: u64,
    /// How long after expiry late payments are still seen.
    pub monitoring_secs: u64,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        PaymentSettings {
            poll_interval_ms: 5000,
            required_confirmations: 1,
            payment_tolerance_percent: 0,
            expiry_secs: 900,
            monitoring_secs: 86400,
        }
    }
}

/// `[webhooks]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Default endpoint for invoices without `webhook_url`; empty: none.
    pub url: String,
    /// HMAC key of the signatures.
    pub secret: Secret,
    /// Seconds a delivery may take.
    pub timeout_secs: u64,
    /// Delays between attempts, in seconds.
    pub retry_schedule_secs: Vec<u64>,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            url: String::new(),
            secret: Secret::default(),
            timeout_secs: 10,
            retry_schedule_secs: vec![10, 60, 300, 1800, 7200, 21600, 43200, 86400],
        }
    }
}

/// `[rates]`: what invoices may be priced in, and where rates come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RatesSettings {
    /// ISO 4217 codes invoices may be priced in; empty: BCH only.
    pub currencies: Vec<String>,
    /// Seconds between two fetches of a source.
    pub refresh_secs: u64,
    /// A quote older than this is not used.
    pub max_age_secs: u64,
    /// A quote farther than this from the median of the fresh quotes is not used.
    pub max_deviation_percent: u32,
    /// Fewer usable quotes than this: no rate.
    pub min_sources: usize,
    /// CoinGecko's demo API key (`x-cg-demo-api-key`); `BCHPAY_COINGECKO_API_KEY`.
    pub coingecko_api_key: Secret,
    /// Per currency, the names of its sources.
    pub sources: BTreeMap<String, Vec<String>>,
    /// Base URL per source name.
    pub endpoints: RateEndpoints,
    /// Per currency, the rate of the `fixed` source (a decimal string).
    pub fixed: BTreeMap<String, String>,
}

impl Default for RatesSettings {
    fn default() -> Self {
        let list = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        RatesSettings {
            currencies: list(&["KRW", "USD", "EUR", "JPY"]),
            refresh_secs: 60,
            max_age_secs: 300,
            max_deviation_percent: 5,
            min_sources: 1,
            coingecko_api_key: Secret::default(),
            sources: [
                ("KRW", list(&["upbit", "bithumb"])),
                ("USD", list(&["kraken", "bitstamp", "coinbase"])),
                ("EUR", list(&["kraken", "bitstamp", "coinbase"])),
                ("JPY", list(&["bitbank", "coinbase"])),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            endpoints: RateEndpoints::default(),
            fixed: BTreeMap::new(),
        }
    }
}

/// `[dashboard]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardSettings {
    /// A session unused this long is over (sign in again).
    pub session_idle_secs: u64,
}

impl Default for DashboardSettings {
    fn default() -> Self {
        DashboardSettings {
            session_idle_secs: 1800,
        }
    }
}

/// `[greenfield]`: the one store BTCPay Greenfield clients see (api.md,
/// "BTCPay Greenfield compatibility").
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GreenfieldSettings {
    /// The store id; empty: made once at first start and kept in the store's
    /// meta (the engine fills this field in at start, so it is never empty
    /// past `Application::build`).
    pub store_id: String,
    /// The store's name (`StoreData.name`).
    pub store_name: String,
    /// The currency of a Greenfield invoice created without one.
    pub default_currency: String,
}

impl Default for GreenfieldSettings {
    fn default() -> Self {
        GreenfieldSettings {
            store_id: String::new(),
            store_name: "bchpay".into(),
            default_currency: "USD".into(),
        }
    }
}

/// Whether `id` can be a Greenfield store id: 1 to 64 ASCII letters, digits,
/// `-` or `_` (it is a path segment, and `name:storeId` splits on `:`).
pub fn is_store_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `[rates.endpoints]`: the base URL of each source's API.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateEndpoints {
    /// Upbit.
    pub upbit: String,
    /// Bithumb (Upbit-compatible ticker).
    pub bithumb: String,
    /// Kraken.
    pub kraken: String,
    /// Bitstamp.
    pub bitstamp: String,
    /// Coinbase.
    pub coinbase: String,
    /// bitbank.
    pub bitbank: String,
    /// CoinGecko.
    pub coingecko: String,
}

impl Default for RateEndpoints {
    fn default() -> Self {
        RateEndpoints {
            upbit: "https://api.upbit.com".into(),
            bithumb: "https://api.bithumb.com".into(),
            kraken: "https://api.kraken.com".into(),
            bitstamp: "https://www.bitstamp.net".into(),
            coinbase: "https://api.coinbase.com".into(),
            bitbank: "https://public.bitbank.cc".into(),
            coingecko: "https://api.coingecko.com".into(),
        }
    }
}

impl RateEndpoints {
    /// The base URL of a source by its name (`None` for `fixed` and unknown names).
    pub fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "upbit" => &self.upbit,
            "bithumb" => &self.bithumb,
            "kraken" => &self.kraken,
            "bitstamp" => &self.bitstamp,
            "coinbase" => &self.coinbase,
            "bitbank" => &self.bitbank,
            "coingecko" => &self.coingecko,
            _ => return None,
        })
    }
}

/// A configuration that cannot run, with the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    /// The file is not valid TOML or has a key of the wrong type or name.
    #[error("{path}: {reason}")]
    Parse { path: String, reason: String },
    /// A value that parses but cannot work.
    #[error("{key}: {reason}")]
    Invalid { key: String, reason: String },
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

fn check_http_url(key: &'static str, value: &str, allow_empty: bool) -> Result<(), ConfigError> {
    if value.is_empty() && allow_empty {
        return Ok(());
    }
    let rest = value.strip_prefix("http://").or_else(|| value.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') && !value.contains(char::is_whitespace) => {
            match value.parse::<awc::http::Uri>() {
                Ok(_) => Ok(()),
                Err(_) => Err(invalid(key, "not a URL")),
            }
        }
        _ => Err(invalid(key, "not a URL (http:// or https://)")),
    }
}

impl Settings {
    /// Whether `server.bind` is a loopback address (only this machine reaches it).
    pub fn binds_loopback(&self) -> bool {
        self.server
            .bind
            .parse::<SocketAddr>()
            .is_ok_and(|a| a.ip().is_loopback())
    }

    /// The warning `serve` logs when a weak key is accepted because the bind
    /// is loopback; `None` when every configured key is strong.
    pub fn weak_key_warning(&self) -> Option<String> {
        self.api.has_weak_key().then(|| {
            format!(
                "api.keys holds the placeholder \"{PLACEHOLDER_KEY}\" or a key shorter than {MIN_PUBLIC_KEY_LEN} \
                 characters: accepted only because server.bind ({}) is loopback; bchpay refuses it on any other address",
                self.server.bind
            )
        })
    }

    /// Reads `path` (a missing file is an error), then applies the environment.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let env: HashMap<String, String> = std::env::vars().collect();
        Settings::from_toml(&text, &env).map_err(|e| match e {
            ConfigError::Parse { reason, .. } => ConfigError::Parse {
                path: path.display().to_string(),
                reason,
            },
            other => other,
        })
    }

    /// Parses TOML text, applies the environment variables of api.md, and validates.
    pub fn from_toml(text: &str, env: &HashMap<String, String>) -> Result<Settings, ConfigError> {
        let deserializer = toml::Deserializer::new(text);
        let mut settings: Settings = serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let key = e.path().to_string();
            let reason = e.inner().message().to_owned();
            ConfigError::Parse {
                path: String::new(),
                reason: if key == "." { reason } else { format!("{key}: {reason}") },
            }
        })?;
        settings.apply_env(env);
        settings.validate()?;
        Ok(settings)
    }

    /// Secrets from the environment win over the file.
    pub fn apply_env(&mut self, env: &HashMap<String, String>) {
        if let Some(keys) = env.get("BCHPAY_API_KEYS") {
            self.api.keys = keys
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(Secret::new)
                .collect();
        }
        if let Some(password) = env.get("BCHPAY_RPC_PASSWORD") {
            self.electron_cash.rpc_password = Secret::new(password.clone());
        }
        if let Some(secret) = env.get("BCHPAY_WEBHOOK_SECRET") {
            self.webhooks.secret = Secret::new(secret.clone());
        }
        if let Some(key) = env.get("BCHPAY_COINGECKO_API_KEY") {
            self.rates.coingecko_api_key = Secret::new(key.clone());
        }
    }

    /// Refuses a configuration that cannot run, naming the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.server
            .bind
            .parse::<SocketAddr>()
            .map_err(|_| invalid("server.bind", "not an address such as 127.0.0.1:8080"))?;
        check_http_url("server.public_url", &self.server.public_url, false)?;
        if self.api.keys.iter().any(|k| k.expose().trim().is_empty()) {
            return Err(invalid("api.keys", "a key must not be empty"));
        }
        if self.api.has_weak_key() && !self.binds_loopback() {
            return Err(invalid(
                "api.keys",
                format!(
                    "holds the placeholder \"{PLACEHOLDER_KEY}\" or a key shorter than {MIN_PUBLIC_KEY_LEN} characters \
                     while server.bind ({}) is not a loopback address: anyone who reaches the port could guess it. \
                     Put a long random key there (openssl rand -hex 20), or remove it and make keys with `bchpay keys create`",
                    self.server.bind
                ),
            ));
        }
        if self.dashboard.session_idle_secs == 0 {
            return Err(invalid("dashboard.session_idle_secs", "must be at least 1"));
        }
        if self.store.path.as_os_str().is_empty() {
            return Err(invalid("store.path", "must not be empty"));
        }
        check_http_url("electron_cash.url", &self.electron_cash.url, false)?;
        if self
            .electron_cash
            .url
            .split('/')
            .nth(2)
            .is_some_and(|authority| authority.contains('@'))
        {
            return Err(invalid(
                "electron_cash.url",
                "must not carry credentials: set rpc_user and rpc_password",
            ));
        }
        if self.electron_cash.timeout_secs == 0 || self.electron_cash.timeout_secs > 300 {
            return Err(invalid("electron_cash.timeout_secs", "must be between 1 and 300"));
        }
        check_http_url("electron_cash.notify_url", &self.electron_cash.notify_url, true)?;
        if !self.electron_cash.notify_url.is_empty() {
            let token = self
                .electron_cash
                .notify_url
                .split_once("/wallet/notify/")
                .map(|(_, t)| t.trim_end_matches('/'));
            if !token.is_some_and(|t| {
                t.len() >= 16 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            }) {
                return Err(invalid(
                    "electron_cash.notify_url",
                    "must end in /wallet/notify/<token>, the token at least 16 letters, digits, - or _ (it is the only guard)",
                ));
            }
        }
        if self.addresses.pool_high > 100_000 {
            return Err(invalid("addresses.pool_high", "must be between 0 (no pool) and 100000"));
        }
        if self.addresses.pool_high > 0 && self.addresses.pool_low >= self.addresses.pool_high {
            return Err(invalid("addresses.pool_low", "must be below addresses.pool_high"));
        }
        if !(100..=3_600_000).contains(&self.payments.poll_interval_ms) {
            return Err(invalid("payments.poll_interval_ms", "must be between 100 and 3600000"));
        }
        if self.payments.required_confirmations > 100 {
            return Err(invalid("payments.required_confirmations", "must be between 0 and 100"));
        }
        if self.payments.payment_tolerance_percent > 100 {
            return Err(invalid(
                "payments.payment_tolerance_percent",
                "must be between 0 and 100",
            ));
        }
        if !(60..=604_800).contains(&self.payments.expiry_secs) {
            return Err(invalid("payments.expiry_secs", "must be between 60 and 604800"));
        }
        check_http_url("webhooks.url", &self.webhooks.url, true)?;
        if !self.webhooks.url.is_empty() && self.webhooks.secret.is_empty() {
            return Err(invalid(
                "webhooks.secret",
                "required when webhooks.url is set (BCHPAY_WEBHOOK_SECRET): bchpay never sends unsigned webhooks",
            ));
        }
        if self.webhooks.timeout_secs == 0 || self.webhooks.timeout_secs > 300 {
            return Err(invalid("webhooks.timeout_secs", "must be between 1 and 300"));
        }
        if self.webhooks.retry_schedule_secs.is_empty() {
            return Err(invalid("webhooks.retry_schedule_secs", "must list at least one delay"));
        }
        if !self.greenfield.store_id.is_empty() && !is_store_id(&self.greenfield.store_id) {
            return Err(invalid(
                "greenfield.store_id",
                "must be 1 to 64 letters, digits, - or _ (or empty: made once and kept)",
            ));
        }
        if self.greenfield.store_name.trim().is_empty() {
            return Err(invalid("greenfield.store_name", "must not be empty"));
        }
        let currency = &self.greenfield.default_currency;
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                "greenfield.default_currency",
                "must be a currency code such as USD or BCH",
            ));
        }
        crate::rates::validate(&self.rates).map_err(|(key, reason)| ConfigError::Invalid { key, reason })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, ConfigError> {
        Settings::from_toml(text, &HashMap::new())
    }

    #[test]
    fn an_empty_file_is_the_default_configuration() {
        let s = parse("").unwrap();
        assert_eq!(s.server.bind, "127.0.0.1:8080");
        assert_eq!(s.electron_cash.url, "http://127.0.0.1:7777");
        assert_eq!(s.addresses.pool_high, 100);
        assert_eq!(s.webhooks.retry_schedule_secs.len(), 8);
    }

    #[test]
    fn the_shipped_config_toml_loads_as_it_is() {
        let text = include_str!("../config.toml");
        parse(text).unwrap();
    }

    #[test]
    fn errors_name_the_key() {
        for (text, key) in [
            ("[electron_cash]\nurl = \"localhost:7777\"", "electron_cash.url"),
            ("[server]\nbind = \"nowhere\"", "server.bind"),
            ("[addresses]\npool_low = 100\npool_high = 50", "addresses.pool_low"),
            ("[payments]\nexpiry_secs = 5", "payments.expiry_secs"),
            ("[api]\nkeys = [\"\"]", "api.keys"),
            ("[server]\nbind = \"0.0.0.0:8080\"", "api.keys"),
            (
                "[server]\nbind = \"0.0.0.0:8080\"\n[api]\nkeys = [\"0123456789abcdef0123456789abcde\"]",
                "api.keys",
            ),
            (
                "[server]\nbind = \"[::]:8080\"\n[api]\nkeys = [\"change-me\"]",
                "api.keys",
            ),
            ("[webhooks]\nurl = \"ftp://x\"", "webhooks.url"),
            ("[greenfield]\nstore_id = \"a:b\"", "greenfield.store_id"),
            ("[greenfield]\nstore_id = \"a/b\"", "greenfield.store_id"),
            ("[greenfield]\nstore_name = \" \"", "greenfield.store_name"),
            (
                "[greenfield]\ndefault_currency = \"usd\"",
                "greenfield.default_currency",
            ),
            (
                "[electron_cash]\nnotify_url = \"http://bchpay:8080/wallet/notify/short\"",
                "electron_cash.notify_url",
            ),
            ("[webhooks]\nurl = \"https://shop.example/hook\"", "webhooks.secret"),
            (
                "[electron_cash]\nurl = \"http://u:p@127.0.0.1:7777\"",
                "electron_cash.url",
            ),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.starts_with(key), "{text}: {err}");
        }
        let err = parse("[electron_cash]\ntimeout_secs = \"ten\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("timeout_secs"), "{err}");
        let err = parse("[electron_cash]\nrpc_pasword = \"x\"").unwrap_err().to_string();
        assert!(err.contains("rpc_pasword"), "{err}");
    }

    #[test]
    fn a_weak_key_is_refused_on_a_public_bind_and_only_warned_about_on_loopback() {
        let strong = "0123456789abcdef0123456789abcdef";
        let public = format!("[server]\nbind = \"0.0.0.0:8080\"\n[api]\nkeys = [\"{strong}\"]");
        let s = parse(&public).unwrap();
        assert_eq!(s.weak_key_warning(), None);
        let err = parse("[server]\nbind = \"0.0.0.0:8080\"").unwrap_err().to_string();
        assert!(
            err.starts_with("api.keys:") && err.contains("change-me") && err.contains("0.0.0.0:8080"),
            "{err}"
        );
        // The environment's keys are the ones judged.
        let env: HashMap<String, String> = [("BCHPAY_API_KEYS".to_owned(), "short-key-1".to_owned())].into();
        let err = Settings::from_toml(&public, &env).unwrap_err().to_string();
        assert!(err.starts_with("api.keys:") && !err.contains("short-key-1"), "{err}");
        for loopback in ["127.0.0.1:8080", "[::1]:8080", "127.0.0.2:0"] {
            let s = parse(&format!("[server]\nbind = \"{loopback}\"")).unwrap();
            assert!(
                s.weak_key_warning().is_some_and(|w| w.contains("loopback")),
                "{loopback}"
            );
        }
        // No configured key at all: the store's keys are the only way in.
        assert!(parse("[server]\nbind = \"0.0.0.0:8080\"\n[api]\nkeys = []").is_ok());
    }

    #[test]
    fn environment_secrets_win_over_the_file() {
        let env: HashMap<String, String> = [
            ("BCHPAY_API_KEYS", "key-one-1234, key-two-5678"),
            ("BCHPAY_RPC_PASSWORD", "from-env"),
            ("BCHPAY_WEBHOOK_SECRET", "whsec"),
            ("BCHPAY_COINGECKO_API_KEY", "cg-key"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let s = Settings::from_toml("[electron_cash]\nrpc_password = \"from-file\"", &env).unwrap();
        assert_eq!(s.electron_cash.rpc_password.expose(), "from-env");
        assert_eq!(
            s.api.keys.iter().map(Secret::expose).collect::<Vec<_>>(),
            ["key-one-1234", "key-two-5678"]
        );
        assert_eq!(s.webhooks.secret.expose(), "whsec");
        assert_eq!(s.rates.coingecko_api_key.expose(), "cg-key");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = Settings::from_toml(
            "[api]\nkeys = [\"api-key-visible\"]\n[electron_cash]\nrpc_password = \"hunter22\"\n[webhooks]\nsecret = \"whsec-x\"\n[rates]\ncoingecko_api_key = \"cg-demo-key\"",
            &HashMap::new(),
        )
        .unwrap();
        let debug = format!("{s:?}");
        let rates = crate::rates::RatesConfig::from_settings(&s.rates).unwrap();
        let debug = format!("{debug} {rates:?}");
        for secret in ["api-key-visible", "hunter22", "whsec-x", "cg-demo-key"] {
            assert!(!debug.contains(secret), "{secret} leaked: {debug}");
        }
        assert_eq!(Secret::new("x").to_string(), "***");
    }
}
