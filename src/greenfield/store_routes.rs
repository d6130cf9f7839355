//! The Greenfield routes about the store and the caller (`docs/greenfield.md`
//! §4.1-§4.4): `GET stores`, `GET stores/{storeId}`, `GET
//! stores/{storeId}/payment-methods`, `GET server/info`, `GET
//! api-keys/current`. bchpay shows one store, `greenfield.store_id`.

use actix_web::{web, HttpRequest, HttpResponse};

use super::reply::{check_store, ok, GreenfieldError};
use super::types::{ApiKeyData, ServerInfo, SpeedPolicy, StoreData, StorePaymentMethod, SyncStatus, BCH_CHAIN};
use crate::api_key::Permissions;
use crate::http::auth::presented_key;
use crate::http::{AppState, Authenticated};

/// The Greenfield level bchpay follows (BTCPay v2.4.1's swagger); the plugin
/// compares it with 1.7.6 (decision 3 of issue 14).
pub const GREENFIELD_VERSION: &str = "2.4.1";

/// The one store, as `StoreData`.
pub fn store_data(state: &AppState) -> StoreData {
    let (settings, payments) = (&state.settings.greenfield, &state.settings.payments);
    StoreData {
        id: settings.store_id.clone(),
        name: settings.store_name.clone(),
        default_currency: settings.default_currency.clone(),
        speed_policy: SpeedPolicy::from_confirmations(payments.required_confirmations),
        invoice_expiration: payments.expiry_secs,
        monitoring_expiration: payments.monitoring_secs,
        payment_tolerance: payments.payment_tolerance_percent,
        archived: false,
    }
}

/// `GET stores`: the one store.
pub async fn stores(state: web::Data<AppState>) -> HttpResponse {
    ok(&[store_data(&state)])
}

/// `GET stores/{storeId}`.
pub async fn store(path: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, GreenfieldError> {
    check_store(&state, &path)?;
    Ok(ok(&store_data(&state)))
}

/// `GET stores/{storeId}/payment-methods`: a JSON array with one item and no
/// `paymentMethod` key (§2.3: greenfield-php would read it instead).
/// `?includeConfig=true` asks for the wallet's settings, which BTCPay keeps
/// for `canmodifystoresettings`; bchpay has none to show and answers the same.
pub async fn payment_methods(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    check_store(&state, &path)?;
    Ok(ok(&[StorePaymentMethod {
        enabled: true,
        payment_method_id: BCH_CHAIN.to_owned(),
    }]))
}

/// `GET server/info` (§4.2): `fullySynched` while the wallet link is up.
pub async fn server_info(state: web::Data<AppState>) -> HttpResponse {
    let up = state.wallet.status().state.is_up();
    let sync_status = state
        .tip()
        .map(|tip| SyncStatus {
            payment_method_id: BCH_CHAIN.to_owned(),
            node_information: None,
            chain_height: tip,
            sync_height: Some(tip),
            available: up,
        })
        .into_iter()
        .collect();
    let info = ServerInfo {
        version: GREENFIELD_VERSION.to_owned(),
        onion: String::new(),
        supported_payment_methods: vec![BCH_CHAIN.to_owned()],
        fully_synched: up,
        sync_status,
    };
    // The swagger allows extra fields here: bchpay's own version next to the level.
    let mut body = serde_json::to_value(&info).unwrap_or_default();
    body["bchpayVersion"] = serde_json::Value::from(env!("CARGO_PKG_VERSION"));
    ok(&body)
}

/// Permissions as Greenfield lists them: `NAME:STOREID` for a store
/// permission, `unrestricted` as it is.
pub fn scoped_permissions(permissions: &Permissions, store_id: &str) -> Vec<String> {
    permissions.iter().map(|p| p.scoped(store_id)).collect()
}

/// `GET api-keys/current` (§4.3): the key presented, its label and its
/// permissions, as given. The key is echoed (bchpay keeps only its hash; the
/// caller just sent it) and never logged.
pub async fn current_key(
    req: HttpRequest,
    key: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    let presented = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(presented_key)
        .ok_or(GreenfieldError::Unauthenticated)?;
    Ok(ok(&ApiKeyData {
        api_key: presented.to_owned(),
        label: key.label.clone(),
        permissions: scoped_permissions(&key.permissions, &state.settings.greenfield.store_id),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_key::Permission;

    #[test]
    fn store_permissions_carry_the_store_and_unrestricted_does_not() {
        let plugin = Permissions::of([
            Permission::CanViewInvoices,
            Permission::CanCreateInvoice,
            Permission::CanViewStoreSettings,
            Permission::CanModifyInvoices,
        ]);
        let mut got = scoped_permissions(&plugin, "S1");
        got.sort();
        assert_eq!(
            got,
            [
                "btcpay.store.cancreateinvoice:S1",
                "btcpay.store.canmodifyinvoices:S1",
                "btcpay.store.canviewinvoices:S1",
                "btcpay.store.canviewstoresettings:S1",
            ]
        );
        assert_eq!(scoped_permissions(&Permissions::unrestricted(), "S1"), ["unrestricted"]);
    }
}
