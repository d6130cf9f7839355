//! The tree list, once: [`Trees`] (a handle per tree, cheap to clone) and
//! [`TREES`] (their names) are both made from the one list below.

use super::super::error::StoreError;
use super::log::ChunkedLog;

/// Declares the trees: the struct with one field per tree and the list of names.
macro_rules! trees {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
        /// A handle on every tree of the layout (each a cheap clone).
        #[derive(Clone)]
        pub struct Trees {
            $($(#[doc = $doc])* pub $name: sled::Tree,)*
        }

        /// Every tree's name, in the order declared.
        pub const TREES: &[&str] = &[$(stringify!($name),)*];

        impl Trees {
            /// Opens (or creates) every tree of the layout.
            pub fn open(db: &sled::Db) -> Result<Trees, StoreError> {
                Ok(Trees {
                    $($name: db.open_tree(stringify!($name))?,)*
                })
            }

            /// Every tree with its name.
            pub fn all(&self) -> Vec<(&'static str, &sled::Tree)> {
                vec![$((stringify!($name), &self.$name),)*]
            }
        }
    };
}

trees! {
    /// Invoice id → stored invoice.
    invoices,
    /// Address → invoice id: the ledger of handed-out addresses.
    by_address,
    /// Order id → invoice id.
    by_order,
    /// Chunked log of invoice ids in the order created.
    by_time,
    /// Status tag ‖ position → invoice id.
    by_status,
    /// Invoice id → () while watched.
    watch,
    /// Address → () not yet handed out.
    pool,
    /// Invoice id → its events.
    events,
    /// Chunked log of event references, by sequence.
    event_log,
    /// Event sequence → () while pending.
    outbox,
    /// State tag ‖ sequence → () for events that are not pending.
    by_event_state,
    /// Schema version, counters.
    meta,
    /// SHA-256 of an API key → its record (the key itself is never kept).
    api_keys,
    /// Registered (Greenfield) webhook id → its record (`layout/webhooks.rs`).
    webhooks,
}

impl Trees {
    /// The creation log.
    pub fn created_log(&self) -> ChunkedLog {
        ChunkedLog::new(self.by_time.clone())
    }

    /// The event log.
    pub fn event_log(&self) -> ChunkedLog {
        ChunkedLog::new(self.event_log.clone())
    }

    /// True when no tree but `meta` holds anything.
    pub fn is_empty(&self) -> bool {
        self.all()
            .iter()
            .filter(|(name, _)| *name != "meta")
            .all(|(_, t)| t.is_empty())
    }
}
