//! The one seam between the dashboard and API keys: "may this key sign in?"
//! and the key operations (create, list, revoke), plus the store id that
//! Greenfield clients expect in scoped permissions.
//!
//! ======================================================================
//! STAND-IN until issue 13 (branch `keys`) lands: keys made here live in
//! memory only (gone at restart) and are not accepted by the `/api/v1`
//! routes. At merge, replace the body of [`KeysPort`] (this file only) with
//! calls to the keys actor: hashed keys in the store, their permissions, and
//! the Greenfield store id. Nothing else in the dashboard knows how keys are
//! kept.
//! ======================================================================

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::{Secret, Settings};
use crate::http::key_matches;

/// A permission, with Greenfield's names (api.md, "API keys and permissions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// `btcpay.store.canviewinvoices`
    CanViewInvoices,
    /// `btcpay.store.cancreateinvoice`
    CanCreateInvoice,
    /// `btcpay.store.canmodifyinvoices`
    CanModifyInvoices,
    /// `btcpay.store.canviewstoresettings`
    CanViewStoreSettings,
    /// `btcpay.store.canmodifystoresettings`
    CanModifyStoreSettings,
    /// `btcpay.store.webhooks.canmodifywebhooks`
    CanModifyWebhooks,
    /// `unrestricted`: all of them.
    Unrestricted,
}

impl Permission {
    /// Every permission, in the order the pages list them.
    pub const ALL: [Permission; 7] = [
        Permission::CanViewInvoices,
        Permission::CanCreateInvoice,
        Permission::CanModifyInvoices,
        Permission::CanViewStoreSettings,
        Permission::CanModifyStoreSettings,
        Permission::CanModifyWebhooks,
        Permission::Unrestricted,
    ];

    /// Greenfield's name.
    pub fn name(self) -> &'static str {
        match self {
            Permission::CanViewInvoices => "btcpay.store.canviewinvoices",
            Permission::CanCreateInvoice => "btcpay.store.cancreateinvoice",
            Permission::CanModifyInvoices => "btcpay.store.canmodifyinvoices",
            Permission::CanViewStoreSettings => "btcpay.store.canviewstoresettings",
            Permission::CanModifyStoreSettings => "btcpay.store.canmodifystoresettings",
            Permission::CanModifyWebhooks => "btcpay.store.webhooks.canmodifywebhooks",
            Permission::Unrestricted => "unrestricted",
        }
    }

    /// Reads Greenfield's name (case-insensitively, as BTCPay does).
    pub fn parse(text: &str) -> Option<Permission> {
        Permission::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(text))
    }

    /// Whether it is scoped to a store (Greenfield writes those `name:storeId`).
    pub fn is_store_permission(self) -> bool {
        self != Permission::Unrestricted
    }
}

/// A key as the pages list it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Stable id, for revoking.
    pub id: String,
    /// What the merchant called it.
    pub label: String,
    /// What it may do.
    pub permissions: Vec<Permission>,
    /// When it was made; `None` for keys of the configuration.
    pub created_at: Option<DateTime<Utc>>,
    /// A key of `api.keys`: `unrestricted`, and changed only in the configuration.
    pub from_config: bool,
}

/// A key just made: the only time the key itself is seen.
pub struct NewKey {
    /// Its listing.
    pub info: KeyInfo,
    /// The key (40 lowercase hex characters).
    pub key: Secret,
}

/// Why a key operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeysError {
    /// No key with that id (or one of the configuration, which cannot be revoked here).
    #[error("no such key")]
    NotFound,
    /// The keys could not be read or written.
    #[error("keys unavailable: {0}")]
    Unavailable(String),
}

/// One stored key of the stand-in.
struct Stored {
    /// SHA-256 of the key.
    hash: [u8; 32],
    /// Its listing.
    info: KeyInfo,
}

/// The keys the dashboard works with. Cheap to clone.
#[derive(Clone)]
pub struct KeysPort {
    /// `api.keys`: `unrestricted` by the contract.
    configured: Arc<Vec<Secret>>,
    /// STAND-IN: keys made through the dashboard, in memory.
    made: Arc<Mutex<Vec<Stored>>>,
    /// STAND-IN: the store id Greenfield clients read (made once per process).
    store_id: Arc<String>,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

impl KeysPort {
    /// The port over the configuration's keys.
    pub fn new(settings: &Settings) -> KeysPort {
        KeysPort {
            configured: Arc::new(settings.api.keys.clone()),
            made: Arc::default(),
            store_id: Arc::new(random_hex(16)),
        }
    }

    fn made(&self) -> Result<std::sync::MutexGuard<'_, Vec<Stored>>, KeysError> {
        self.made
            .lock()
            .map_err(|_| KeysError::Unavailable("key list lock poisoned".into()))
    }

    /// The key a session is opened with, if it is valid and `unrestricted`:
    /// its id (revoking it ends the session) and label.
    pub async fn sign_in(&self, key: &str) -> Result<Option<(String, String)>, KeysError> {
        if key_matches(key, &self.configured) {
            return Ok(Some(("api.keys".to_owned(), "api.keys".to_owned())));
        }
        let hash: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let made = self.made()?;
        Ok(made
            .iter()
            .find(|k| k.hash == hash && k.info.permissions.contains(&Permission::Unrestricted))
            .map(|k| (k.info.id.clone(), k.info.label.clone())))
    }

    /// Makes a key with `label` and exactly `permissions`.
    pub async fn create(&self, label: &str, permissions: &[Permission]) -> Result<NewKey, KeysError> {
        let key = random_hex(20);
        let mut permissions = permissions.to_vec();
        permissions.sort();
        permissions.dedup();
        let info = KeyInfo {
            id: format!("key_{}", random_hex(8)),
            label: label.to_owned(),
            permissions,
            created_at: Some(Utc::now()),
            from_config: false,
        };
        self.made()?.push(Stored {
            hash: Sha256::digest(key.as_bytes()).into(),
            info: info.clone(),
        });
        Ok(NewKey {
            info,
            key: Secret::new(key),
        })
    }

    /// Every key, those of the configuration first (without the key itself).
    pub async fn list(&self) -> Result<Vec<KeyInfo>, KeysError> {
        let mut all: Vec<KeyInfo> = (1..=self.configured.len())
            .map(|n| KeyInfo {
                id: format!("api.keys[{n}]"),
                label: "api.keys".to_owned(),
                permissions: vec![Permission::Unrestricted],
                created_at: None,
                from_config: true,
            })
            .collect();
        all.extend(self.made()?.iter().map(|k| k.info.clone()));
        Ok(all)
    }

    /// Revokes the key `id`; it stops working at once.
    pub async fn revoke(&self, id: &str) -> Result<(), KeysError> {
        let mut made = self.made()?;
        let before = made.len();
        made.retain(|k| k.info.id != id);
        if made.len() == before {
            return Err(KeysError::NotFound);
        }
        Ok(())
    }

    /// The store id of Greenfield (`greenfield.store_id`), for `name:storeId` permissions.
    pub fn store_id(&self) -> String {
        self.store_id.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port() -> KeysPort {
        let mut s = Settings::default();
        s.api.keys = vec![Secret::new("configured-key-0001")];
        KeysPort::new(&s)
    }

    #[actix_rt::test]
    async fn configured_and_unrestricted_keys_sign_in_and_others_do_not() {
        let port = port();
        assert!(port.sign_in("configured-key-0001").await.unwrap().is_some());
        assert!(port.sign_in("configured-key-000").await.unwrap().is_none());
        let full = port.create("admin", &[Permission::Unrestricted]).await.unwrap();
        let narrow = port.create("shop", &[Permission::CanViewInvoices]).await.unwrap();
        assert_eq!(full.key.expose().len(), 40);
        assert!(full
            .key
            .expose()
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(
            port.sign_in(full.key.expose()).await.unwrap(),
            Some((full.info.id.clone(), "admin".to_owned()))
        );
        assert_eq!(port.sign_in(narrow.key.expose()).await.unwrap(), None);
        port.revoke(&full.info.id).await.unwrap();
        assert_eq!(port.sign_in(full.key.expose()).await.unwrap(), None);
        assert_eq!(port.revoke(&full.info.id).await, Err(KeysError::NotFound));
        assert_eq!(port.revoke("api.keys[1]").await, Err(KeysError::NotFound));
        let listed = port.list().await.unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed[0].from_config && !listed[1].from_config);
    }

    #[test]
    fn permissions_read_their_greenfield_names() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.name()), Some(p));
        }
        assert_eq!(
            Permission::parse("BTCPay.Store.CanViewInvoices"),
            Some(Permission::CanViewInvoices)
        );
        assert_eq!(Permission::parse("btcpay.store.canviewinvoice"), None);
    }
}
