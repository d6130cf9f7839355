//! The Greenfield store id (`meta.greenfield_store_id`): made once, at the
//! first start that needs one, and kept, so that the `name:storeId`
//! permissions a shop was given stay valid across restarts.

use rand::RngCore;

use super::super::error::StoreError;
use super::super::layout::keys::MetaKey;
use super::super::layout::trees::Trees;

/// The kept store id; when there is none (a new store, or one written before
/// the key existed), a new one: 16 random bytes in hex, written and flushed
/// before it is returned.
pub fn get_or_make(db: &sled::Db, trees: &Trees) -> Result<String, StoreError> {
    let key = MetaKey::GreenfieldStoreId.encode();
    if let Some(kept) = trees.meta.get(&key)? {
        return String::from_utf8(kept.to_vec())
            .ok()
            .filter(|id| crate::config::is_store_id(id))
            .ok_or_else(|| StoreError::Corrupt("meta.greenfield_store_id is not a store id".into()));
    }
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let id = hex::encode(bytes);
    trees.meta.insert(&key, id.as_bytes())?;
    db.flush()?;
    log::info!("greenfield: store id {id} made and kept in the store");
    Ok(id)
}
