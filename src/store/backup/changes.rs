//! [`Changes`]: every write made to the store while a dump runs, kept as the
//! latest value (or removal) of each key, per tree.
//!
//! sled tells a subscriber (`Tree::watch_prefix`) of every insert and
//! removal, transactions included, in the order they are applied. Its
//! channel holds 1,024 events and a write waits while it is full, so a
//! thread drains the subscribers all along. [`Changes::cut`] runs inside the
//! store's writer between two writes: it takes what is left, and what it
//! hands back, laid over the dump, is the store as of that instant.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::super::error::StoreError;

/// The latest value of each key changed in one tree (`None`: removed).
pub type Latest = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// How long the drainer rests when there was nothing to take.
const REST: Duration = Duration::from_millis(1);

/// The subscribers and what they told so far.
struct Inner {
    /// One per tree, with the tree's name; empty once cut.
    subscribers: Vec<(&'static str, sled::Subscriber)>,
    /// What each tree's subscriber told, by tree name.
    latest: BTreeMap<&'static str, Latest>,
    /// Events taken (for the summary).
    events: u64,
}

impl Inner {
    /// Takes every event ready now, without waiting; how many.
    fn drain(&mut self) -> u64 {
        use futures_util::FutureExt;
        let mut taken = 0;
        for (name, subscriber) in &mut self.subscribers {
            // The subscriber's `Future`, polled once: `next_timeout` would stall
            // for good on the event of a write that turned out a no-op (sled
            // 0.34 reports it as "disconnected" and keeps it); the `Future`
            // skips it. `None`: nothing ready; `Some(None)`: the tree closed,
            // which cannot happen while the dump holds the trees.
            while let Some(Some(event)) = subscriber.now_or_never() {
                let latest = self.latest.entry(name).or_default();
                match event {
                    sled::Event::Insert { key, value } => latest.insert(key.to_vec(), Some(value.to_vec())),
                    sled::Event::Remove { key } => latest.insert(key.to_vec(), None),
                };
                taken += 1;
            }
        }
        self.events += taken;
        taken
    }
}

/// What changed since [`Changes::watch`], drained by a thread of its own.
pub struct Changes {
    /// Shared with the drainer.
    inner: Arc<Mutex<Inner>>,
    /// Tells the drainer to stop.
    stop: Arc<AtomicBool>,
}

/// What [`Changes::cut`] hands back.
pub struct Cut {
    /// Per tree name, the latest value of each changed key.
    pub latest: BTreeMap<&'static str, Latest>,
    /// Events seen in all (a key written twice counts twice).
    pub events: u64,
}

impl Changes {
    /// Subscribes to every tree of `trees` and starts draining.
    pub fn watch(trees: &[(&'static str, &sled::Tree)]) -> std::io::Result<Changes> {
        let inner = Arc::new(Mutex::new(Inner {
            subscribers: trees.iter().map(|(name, t)| (*name, t.watch_prefix(vec![]))).collect(),
            latest: BTreeMap::new(),
            events: 0,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (drained, stopped) = (inner.clone(), stop.clone());
        std::thread::Builder::new()
            .name("backup-changes".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    let taken = match drained.lock() {
                        Ok(mut inner) => inner.drain(),
                        Err(_) => return,
                    };
                    if taken == 0 {
                        std::thread::sleep(REST);
                    }
                }
            })?;
        Ok(Changes { inner, stop })
    }

    /// Takes what is left and stops watching. Call it between two writes
    /// (inside the writer): then nothing is half applied, and every event of
    /// every write done is already in the subscribers' channels.
    pub fn cut(&self) -> Result<Cut, StoreError> {
        self.stop.store(true, Ordering::Relaxed);
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| StoreError::WriterFailed("the backup's change watcher failed".into()))?;
        inner.drain();
        inner.subscribers.clear();
        Ok(Cut {
            latest: std::mem::take(&mut inner.latest),
            events: inner.events,
        })
    }
}

impl Drop for Changes {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Ok(mut inner) = self.inner.lock() {
            inner.subscribers.clear();
        }
    }
}
