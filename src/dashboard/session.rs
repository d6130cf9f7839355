//! Server-side sessions: a random id in an `HttpOnly; SameSite=Strict` cookie
//! (`Secure` behind https), an idle timeout, and the session's CSRF token.
//!
//! The table is keyed by the SHA-256 of the id, so that neither a lookup's
//! timing nor a dump of the table gives a usable id.

use std::collections::HashMap;
use std::future::{ready, Ready};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::page::DashError;
use crate::http::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "bchpay_session";
/// The most sessions kept at once; the least recently used goes first.
const MAX_SESSIONS: usize = 10_000;

/// What a page knows about the signed-in merchant. Its `Debug` hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// The token every state-changing form of this session carries (field `csrf`).
    pub csrf: String,
    /// The id of the key that signed in (revoking it ends the session).
    pub key_id: String,
    /// The label of the key that signed in.
    pub key_label: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("csrf", &"***")
            .field("key_id", &self.key_id)
            .field("key_label", &self.key_label)
            .finish()
    }
}

/// One live session.
struct Entry {
    /// What pages see.
    session: Session,
    /// When it was last used.
    last_seen: Instant,
}

/// What a cookie's id names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A live session (now touched).
    Live(Session),
    /// A session that went unused past the idle timeout (now gone).
    Expired,
    /// Nothing (never made, signed out, or forgotten).
    Unknown,
}

/// Every live session of this engine.
pub struct Sessions {
    /// By the hash of their id.
    table: Mutex<HashMap<[u8; 32], Entry>>,
    /// How long an unused session lasts.
    idle: Duration,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

fn digest(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    /// Sessions that end after `idle` unused.
    pub fn new(idle: Duration) -> Sessions {
        Sessions {
            table: Mutex::default(),
            idle,
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Opens a session for the key `key_id` labelled `key_label`; the id for the cookie.
    pub fn open(&self, key_id: &str, key_label: &str, now: Instant) -> String {
        let id = random_hex(32);
        let mut table = self.table();
        table.retain(|_, e| now.duration_since(e.last_seen) < self.idle);
        if table.len() >= MAX_SESSIONS {
            if let Some(oldest) = table.iter().min_by_key(|(_, e)| e.last_seen).map(|(k, _)| *k) {
                table.remove(&oldest);
            }
        }
        table.insert(
            digest(&id),
            Entry {
                session: Session {
                    csrf: random_hex(32),
                    key_id: key_id.to_owned(),
                    key_label: key_label.to_owned(),
                },
                last_seen: now,
            },
        );
        id
    }

    /// The session of cookie id `id` at `now`, touched if live.
    pub fn find(&self, id: &str, now: Instant) -> Lookup {
        let key = digest(id);
        let mut table = self.table();
        match table.get_mut(&key) {
            Some(e) if now.duration_since(e.last_seen) < self.idle => {
                e.last_seen = now;
                Lookup::Live(e.session.clone())
            }
            Some(_) => {
                table.remove(&key);
                Lookup::Expired
            }
            None => Lookup::Unknown,
        }
    }

    /// Ends the session of cookie id `id`.
    pub fn close(&self, id: &str) {
        self.table().remove(&digest(id));
    }

    /// Ends every session opened with the key `key_id` (it was revoked).
    pub fn close_key(&self, key_id: &str) -> usize {
        let mut table = self.table();
        let before = table.len();
        table.retain(|_, e| e.session.key_id != key_id);
        before - table.len()
    }
}

/// The session cookie carrying `value` (empty with `max_age` 0 to delete it).
pub fn cookie(value: &str, secure: bool) -> Cookie<'static> {
    let mut c = Cookie::build(COOKIE, value.to_owned())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish();
    if value.is_empty() {
        c.make_removal();
    }
    c
}

/// Whether two tokens are equal, looking at every byte whatever the answer.
pub fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A request of a signed-in merchant: take it as an argument of every page
/// handler. Signed out (or expired), the handler is not called: `303` to the sign-in page.
pub struct Signed {
    /// The session.
    pub session: Session,
    /// The cookie's id (to end it).
    pub id: String,
}

impl Signed {
    /// Refuses a form whose `csrf` field is not this session's token (`403`).
    pub fn check_csrf(&self, given: Option<&str>) -> Result<(), DashError> {
        match given {
            Some(token) if same_token(token, &self.session.csrf) => Ok(()),
            _ => Err(DashError::Csrf),
        }
    }
}

impl FromRequest for Signed {
    type Error = DashError;
    type Future = Ready<Result<Signed, DashError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(DashError::Internal));
        };
        let next = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .filter(|_| req.method() == actix_web::http::Method::GET);
        let Some(id) = req.cookie(COOKIE).map(|c| c.value().to_owned()) else {
            return ready(Err(DashError::SignedOut { expired: false, next }));
        };
        ready(match state.dashboard.sessions.find(&id, Instant::now()) {
            Lookup::Live(session) => Ok(Signed { session, id }),
            Lookup::Expired => Err(DashError::SignedOut { expired: true, next }),
            Lookup::Unknown => Err(DashError::SignedOut { expired: false, next }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lives_while_used_and_ends_after_the_idle_time() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let id = sessions.open("api.keys", "api.keys", t0);
        assert_eq!(id.len(), 64);
        let Lookup::Live(s) = sessions.find(&id, t0 + Duration::from_secs(50)) else {
            panic!("live")
        };
        assert_eq!(s.csrf.len(), 64);
        assert_ne!(s.csrf, id);
        assert!(!format!("{s:?}").contains(&s.csrf), "the token stays out of Debug");
        // Used at 50 s: still live at 100 s, gone at 111 s.
        assert!(matches!(
            sessions.find(&id, t0 + Duration::from_secs(100)),
            Lookup::Live(_)
        ));
        assert_eq!(sessions.find(&id, t0 + Duration::from_secs(161)), Lookup::Expired);
        assert_eq!(sessions.find(&id, t0 + Duration::from_secs(162)), Lookup::Unknown);
        assert_eq!(sessions.find("nonsense", t0), Lookup::Unknown);
    }

    #[test]
    fn a_closed_session_or_one_of_a_revoked_key_is_unknown_and_ids_differ() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let now = Instant::now();
        let (a, b) = (sessions.open("k1", "x", now), sessions.open("k1", "x", now));
        let c = sessions.open("k2", "y", now);
        assert_ne!(a, b);
        sessions.close(&a);
        assert_eq!(sessions.find(&a, now), Lookup::Unknown);
        assert!(matches!(sessions.find(&b, now), Lookup::Live(_)));
        assert_eq!(sessions.close_key("k1"), 1);
        assert_eq!(sessions.find(&b, now), Lookup::Unknown);
        assert!(matches!(sessions.find(&c, now), Lookup::Live(_)));
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_when_asked() {
        let c = cookie("abc", true).to_string();
        for part in ["bchpay_session=abc", "HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!cookie("abc", false).to_string().contains("Secure"));
        assert!(same_token("t1", "t1") && !same_token("t1", "t2") && !same_token("", "t1"));
    }
}
