//! The permissions an API key can hold, with BTCPay Greenfield's names, and
//! the one rule that says whether a set of them grants what a route needs.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// One permission (api.md, "API keys and permissions").
///
/// Only `unrestricted` implies others: a key holds exactly the permissions it
/// was given. (BTCPay also lets `canmodifystoresettings` imply the invoice
/// permissions; api.md does not, so neither does bchpay.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Permission {
    /// `btcpay.store.canviewinvoices`: read and list invoices and events, rates.
    CanViewInvoices,
    /// `btcpay.store.cancreateinvoice`: create invoices.
    CanCreateInvoice,
    /// `btcpay.store.canmodifyinvoices`: change an invoice's status by hand.
    CanModifyInvoices,
    /// `btcpay.store.canviewstoresettings`: read the store and wallet settings.
    CanViewStoreSettings,
    /// `btcpay.store.canmodifystoresettings`: change them.
    CanModifyStoreSettings,
    /// `btcpay.store.webhooks.canmodifywebhooks`: redeliver and manage webhooks.
    CanModifyWebhooks,
    /// `unrestricted`: every permission, the admin routes and the API keys.
    Unrestricted,
}

/// A text that is not a permission's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission {0:?}; known: {names}", names = Permission::names().join(", "))]
pub struct UnknownPermission(pub String);

impl Permission {
    /// Every permission, in a fixed order.
    pub const ALL: [Permission; 7] = [
        Permission::CanViewInvoices,
        Permission::CanCreateInvoice,
        Permission::CanModifyInvoices,
        Permission::CanViewStoreSettings,
        Permission::CanModifyStoreSettings,
        Permission::CanModifyWebhooks,
        Permission::Unrestricted,
    ];

    /// Greenfield's name of the permission.
    pub const fn as_str(self) -> &'static str {
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

    /// Reads a permission's name (exactly as written, lowercase).
    pub fn parse(name: &str) -> Result<Permission, UnknownPermission> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == name)
            .ok_or_else(|| UnknownPermission(name.to_owned()))
    }

    /// Reads a permission's name in any case, as BTCPay's authorize page does
    /// (what the WooCommerce plugin's setup wizard asks for).
    pub fn parse_any_case(name: &str) -> Option<Permission> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(name))
    }

    /// Whether it is scoped to a store (Greenfield writes those `name:storeId`).
    pub fn is_store_permission(self) -> bool {
        self != Permission::Unrestricted
    }

    /// As Greenfield lists it for `store_id`: `NAME:STOREID` for a store
    /// permission, `unrestricted` as it is.
    pub fn scoped(self, store_id: &str) -> String {
        if self.is_store_permission() {
            format!("{}:{store_id}", self.as_str())
        } else {
            self.as_str().to_owned()
        }
    }

    /// The names of every permission.
    pub fn names() -> Vec<&'static str> {
        Permission::ALL.iter().map(|p| p.as_str()).collect()
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Permission {
    type Error = UnknownPermission;
    fn try_from(name: String) -> Result<Self, Self::Error> {
        Permission::parse(&name)
    }
}

impl From<Permission> for &'static str {
    fn from(p: Permission) -> Self {
        p.as_str()
    }
}

/// The permissions of one key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Permissions(BTreeSet<Permission>);

impl Permissions {
    /// Exactly these permissions.
    pub fn of(permissions: impl IntoIterator<Item = Permission>) -> Permissions {
        Permissions(permissions.into_iter().collect())
    }

    /// Every permission (the keys of `api.keys`).
    pub fn unrestricted() -> Permissions {
        Permissions::of([Permission::Unrestricted])
    }

    /// Reads a comma-separated list (`bchpay keys create --permissions`).
    pub fn parse_list(text: &str) -> Result<Permissions, UnknownPermission> {
        text.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Permission::parse)
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Permissions)
    }

    /// Whether these permissions allow what `needed` guards: holding it, or `unrestricted`.
    pub fn grants(&self, needed: Permission) -> bool {
        self.0.contains(&needed) || self.0.contains(&Permission::Unrestricted)
    }

    /// The permissions, in order.
    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0.iter().copied()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Their names.
    pub fn names(&self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_and_nothing_else_does() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Ok(p));
            let json = serde_json::to_string(&p).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
            assert_eq!(serde_json::from_str::<Permission>(&json).ok(), Some(p));
        }
        for bad in [
            "",
            "Unrestricted",
            "btcpay.store.canviewinvoices ",
            "canviewinvoices",
            "btcpay.store.cancreateinvoices",
        ] {
            assert!(Permission::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Permission>("\"admin\"").is_err());
    }

    #[test]
    fn a_key_grants_what_it_holds_and_unrestricted_grants_everything() {
        let shop = Permissions::of([Permission::CanCreateInvoice, Permission::CanViewInvoices]);
        assert!(shop.grants(Permission::CanCreateInvoice));
        assert!(shop.grants(Permission::CanViewInvoices));
        for other in [
            Permission::CanModifyInvoices,
            Permission::CanModifyWebhooks,
            Permission::CanViewStoreSettings,
            Permission::CanModifyStoreSettings,
            Permission::Unrestricted,
        ] {
            assert!(!shop.grants(other), "{other}");
        }
        let all_but_unrestricted =
            Permissions::of(Permission::ALL.into_iter().filter(|p| *p != Permission::Unrestricted));
        assert!(!all_but_unrestricted.grants(Permission::Unrestricted));
        for p in Permission::ALL {
            assert!(Permissions::unrestricted().grants(p));
        }
        assert!(!Permissions::default().grants(Permission::CanViewInvoices));
    }

    #[test]
    fn a_list_is_read_with_its_unknown_name_named() {
        let p = Permissions::parse_list("btcpay.store.cancreateinvoice, btcpay.store.canviewinvoices,,")
            .unwrap_or_default();
        assert_eq!(
            p.names(),
            ["btcpay.store.canviewinvoices", "btcpay.store.cancreateinvoice"]
        );
        let err = Permissions::parse_list("btcpay.store.canviewinvoices,admin").unwrap_err();
        assert_eq!(err.0, "admin");
        assert!(err.to_string().contains("unrestricted"), "{err}");
    }
}
