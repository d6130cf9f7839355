//! Slowing down repeated failed sign-ins from one address: four failures in
//! a row are free, then each further failure locks the address out, for
//! twice as long as the one before (1 s, 2 s, 4 s, … at most 5 min). While locked out
//! no key is even looked at, the right one included. A success forgets the
//! address. Pure: the caller gives the time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The failure that starts the lock-outs.
const FREE_FAILURES: u32 = 5;
/// The longest lock-out.
const MAX_LOCK: Duration = Duration::from_secs(300);
/// An address that has not failed for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// The most addresses remembered (the oldest are forgotten first).
const MAX_ADDRESSES: usize = 10_000;

/// What one address did.
#[derive(Debug, Clone, Copy)]
struct Record {
    /// Failures in a row.
    failures: u32,
    /// The last one.
    last: Instant,
    /// No attempt is looked at before this.
    locked_until: Option<Instant>,
}

/// Failed sign-ins by address.
#[derive(Default)]
pub struct Throttle {
    /// By client address.
    table: Mutex<HashMap<IpAddr, Record>>,
}

impl Throttle {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Record>> {
        self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `Err(wait)` while `ip` is locked out at `now`.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        match self.table().get(&ip).and_then(|r| r.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Records a failure of `ip` at `now`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut table = self.table();
        table.retain(|_, r| now.duration_since(r.last) < FORGET_AFTER);
        if table.len() >= MAX_ADDRESSES && !table.contains_key(&ip) {
            if let Some(oldest) = table.iter().min_by_key(|(_, r)| r.last).map(|(k, _)| *k) {
                table.remove(&oldest);
            }
        }
        let record = table.entry(ip).or_insert(Record {
            failures: 0,
            last: now,
            locked_until: None,
        });
        record.failures += 1;
        record.last = now;
        if let Some(over) = record.failures.checked_sub(FREE_FAILURES) {
            let lock = Duration::from_secs(1u64 << over.min(9)).min(MAX_LOCK);
            record.locked_until = Some(now + lock);
        }
    }

    /// Forgets `ip` after a successful sign-in.
    pub fn succeeded(&self, ip: IpAddr) {
        self.table().remove(&ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_failures_are_free_then_each_locks_out_twice_as_long() {
        let t = Throttle::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let t0 = Instant::now();
        for i in 0..4 {
            t.failed(ip, t0 + Duration::from_millis(i));
            assert_eq!(t.check(ip, t0 + Duration::from_millis(i)), Ok(()));
        }
        t.failed(ip, t0);
        assert_eq!(t.check(ip, t0), Err(Duration::from_secs(1)));
        assert_eq!(t.check(other, t0), Ok(()), "another address is not slowed");
        assert_eq!(t.check(ip, t0 + Duration::from_secs(1)), Ok(()));
        t.failed(ip, t0 + Duration::from_secs(1));
        assert_eq!(t.check(ip, t0 + Duration::from_secs(1)), Err(Duration::from_secs(2)));
        for _ in 0..20 {
            t.failed(ip, t0 + Duration::from_secs(2));
        }
        assert_eq!(t.check(ip, t0 + Duration::from_secs(2)), Err(MAX_LOCK));
        t.succeeded(ip);
        assert_eq!(t.check(ip, t0 + Duration::from_secs(2)), Ok(()));
    }

    #[test]
    fn an_address_quiet_for_an_hour_starts_afresh() {
        let t = Throttle::default();
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..5 {
            t.failed(ip, t0);
        }
        let later = t0 + FORGET_AFTER + Duration::from_secs(1);
        t.failed(ip, later);
        assert_eq!(t.check(ip, later), Ok(()), "the old failures were forgotten");
    }
}
