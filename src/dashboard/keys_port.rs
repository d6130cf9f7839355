//! The one seam between the dashboard and API keys: "may this key sign in?"
//! and the key operations (create, list, revoke), over the same keys as the
//! `/api/v1/api-keys` routes: configured keys (`unrestricted`) and the store's
//! hashed keys, written through the store actor.

use std::sync::Arc;

use actix::Addr;
use chrono::{DateTime, Utc};

pub use crate::api_key::Permission;
use crate::api_key::{check_new, ApiKeyRecord, KeyId, Permissions};
use crate::config::{Secret, Settings};
use crate::http::auth::authenticate;
use crate::store::{CreateApiKey, InvoiceStore, RevokeApiKey, StoreError, StoreReader};

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
    /// A label or permission set that a key cannot have.
    #[error("{0}")]
    Invalid(String),
    /// The keys could not be read or written.
    #[error("keys unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for KeysError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => KeysError::NotFound,
            other => KeysError::Unavailable(other.to_string()),
        }
    }
}

/// The keys the dashboard works with. Cheap to clone.
#[derive(Clone)]
pub struct KeysPort {
    /// `api.keys`: `unrestricted` by the contract.
    configured: Arc<Vec<Secret>>,
    /// The store's keys, read.
    reader: StoreReader,
    /// The store's writer, for creating and revoking.
    store: Addr<InvoiceStore>,
    /// The store id Greenfield clients read in scoped permissions
    /// (`greenfield.store_id`, filled in at start from the store's meta).
    store_id: Arc<String>,
}

impl KeysPort {
    /// The port over the configuration's keys and the store's.
    pub fn new(settings: &Settings, store: Addr<InvoiceStore>, reader: StoreReader) -> KeysPort {
        KeysPort {
            configured: Arc::new(settings.api.keys.clone()),
            reader,
            store,
            store_id: Arc::new(settings.greenfield.store_id.clone()),
        }
    }

    /// The key a session is opened with, if it is valid and `unrestricted`:
    /// its id (revoking it ends the session) and label.
    pub async fn sign_in(&self, key: &str) -> Result<Option<(String, String)>, KeysError> {
        let (configured, reader, key) = (self.configured.clone(), self.reader.clone(), key.to_owned());
        let found = actix_web::web::block(move || authenticate(&key, &configured, &reader))
            .await
            .map_err(|e| KeysError::Unavailable(e.to_string()))??;
        Ok(found
            .filter(|k| k.permissions.grants(Permission::Unrestricted))
            .map(|k| (k.id, k.label)))
    }

    /// Makes a key with `label` and exactly `permissions`.
    pub async fn create(&self, label: &str, permissions: &[Permission]) -> Result<NewKey, KeysError> {
        let permissions = Permissions::of(permissions.iter().copied());
        check_new(label, &permissions).map_err(|(_, why)| KeysError::Invalid(why))?;
        let (key, record) = ApiKeyRecord::generate(label.to_owned(), permissions, Utc::now());
        let created = self
            .store
            .send(CreateApiKey(record))
            .await
            .map_err(|e| KeysError::Unavailable(e.to_string()))??;
        Ok(NewKey {
            info: info_of(&created),
            key,
        })
    }

    /// Every key, those of the configuration first (without the key itself).
    pub async fn list(&self) -> Result<Vec<KeyInfo>, KeysError> {
        let mut all: Vec<KeyInfo> = (1..=self.configured.len())
            .map(|n| KeyInfo {
                id: format!("config-{n}"),
                label: "api.keys".to_owned(),
                permissions: vec![Permission::Unrestricted],
                created_at: None,
                from_config: true,
            })
            .collect();
        let reader = self.reader.clone();
        let stored = actix_web::web::block(move || reader.api_keys())
            .await
            .map_err(|e| KeysError::Unavailable(e.to_string()))??;
        all.extend(stored.iter().map(info_of));
        Ok(all)
    }

    /// Revokes the key `id`; it stops working at once.
    pub async fn revoke(&self, id: &str) -> Result<(), KeysError> {
        let id = KeyId::parse(id).map_err(|_| KeysError::NotFound)?;
        self.store
            .send(RevokeApiKey(id))
            .await
            .map_err(|e| KeysError::Unavailable(e.to_string()))??;
        Ok(())
    }

    /// The store id of Greenfield (`greenfield.store_id`), for `name:storeId` permissions.
    pub fn store_id(&self) -> String {
        self.store_id.as_str().to_owned()
    }
}

/// How a stored key is listed.
fn info_of(record: &ApiKeyRecord) -> KeyInfo {
    KeyInfo {
        id: record.id.to_string(),
        label: record.label.clone(),
        permissions: record.permissions.iter().collect(),
        created_at: Some(record.created_at),
        from_config: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn configured_and_stored_unrestricted_keys_sign_in_and_others_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(dir.path()).unwrap();
        let (addr, reader) = crate::store::start(store);
        let mut s = Settings::default();
        s.api.keys = vec![Secret::new("configured-key-0001")];
        let port = KeysPort::new(&s, addr, reader);
        assert!(port.sign_in("configured-key-0001").await.unwrap().is_some());
        assert!(port.sign_in("configured-key-000").await.unwrap().is_none());
        let full = port.create("admin", &[Permission::Unrestricted]).await.unwrap();
        let narrow = port.create("shop", &[Permission::CanViewInvoices]).await.unwrap();
        assert_eq!(full.key.expose().len(), 40);
        assert_eq!(
            port.sign_in(full.key.expose()).await.unwrap(),
            Some((full.info.id.clone(), "admin".to_owned()))
        );
        assert_eq!(port.sign_in(narrow.key.expose()).await.unwrap(), None);
        port.revoke(&full.info.id).await.unwrap();
        assert_eq!(port.sign_in(full.key.expose()).await.unwrap(), None);
        assert_eq!(port.revoke(&full.info.id).await, Err(KeysError::NotFound));
        assert_eq!(port.revoke("config-1").await, Err(KeysError::NotFound));
        let listed = port.list().await.unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed[0].from_config && !listed[1].from_config);
    }

    #[test]
    fn permissions_read_their_greenfield_names_in_any_case() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse_any_case(p.as_str()), Some(p));
        }
        assert_eq!(
            Permission::parse_any_case("BTCPay.Store.CanViewInvoices"),
            Some(Permission::CanViewInvoices)
        );
        assert_eq!(Permission::parse_any_case("btcpay.store.canviewinvoice"), None);
    }
}
