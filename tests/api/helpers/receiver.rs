//! A real webhook receiver on a loopback port, scripted by the test.
//!
//! - Its port is bound at once but nothing listens until [`Receiver::start`]:
//!   meanwhile connections are refused, as from a shop that is down, and the
//!   URL is already known (so it can go into a configuration or an invoice).
//!   [`Receiver::stop`] goes back to that state on the same port.
//! - Each request is answered with the next status of a script, then with a
//!   status that stands once the script is spent ([`Receiver::answer`],
//!   [`Receiver::answer_always`]).
//! - Every request is recorded as it arrived: the raw body bytes, the
//!   headers, the arrival time and the status it got.
//!
//! Include it with `#[path = "common/receiver.rs"] mod receiver;`.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;
use tokio::net::TcpSocket;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// When it arrived (monotonic, to measure gaps).
    pub at: Instant,
    /// When it arrived (wall clock, to compare with a signature's `t`).
    pub wall: SystemTime,
    /// The request path.
    pub path: String,
    /// Every header, names lowercase, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body exactly as received.
    pub body: Vec<u8>,
    /// The status the receiver answered.
    pub answered: u16,
}

impl Delivery {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body's `id` (the event id).
    pub fn event_id(&self) -> String {
        self.json()["id"].as_str().unwrap_or("").to_owned()
    }

    /// The body's `invoice.id`.
    pub fn invoice_id(&self) -> String {
        self.json()["invoice"]["id"].as_str().unwrap_or("").to_owned()
    }

    /// The body's `type`.
    pub fn kind(&self) -> String {
        self.json()["type"].as_str().unwrap_or("").to_owned()
    }

    /// The body's `sequence`.
    pub fn sequence(&self) -> u64 {
        self.json()["sequence"].as_u64().unwrap_or(0)
    }
}

/// What the handler and the test share.
#[derive(Debug)]
struct Script {
    /// Statuses for the next requests, in order.
    next: VecDeque<u16>,
    /// The status once `next` is empty.
    otherwise: u16,
    /// Every request so far, in arrival order.
    log: Vec<Delivery>,
}

fn lock(m: &Mutex<Script>) -> MutexGuard<'_, Script> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether the receiver serves now.
enum State {
    /// Bound, not listening: connections are refused.
    Down(TcpSocket),
    /// Serving.
    Up(ServerHandle),
}

/// A scripted HTTP receiver on `127.0.0.1`.
pub struct Receiver {
    /// The port, fixed for the receiver's life.
    addr: SocketAddr,
    /// Down (the bound socket) or up (the server).
    state: Mutex<Option<State>>,
    /// Answers to give and requests seen.
    script: Arc<Mutex<Script>>,
}

/// A socket bound to `addr` (port 0: any) that does not listen yet.
fn bound(addr: SocketAddr) -> TcpSocket {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket.bind(addr).expect("bind the receiver's port");
    socket
}

impl Receiver {
    /// A receiver that is down: its port is reserved, connections are refused.
    /// It answers `200` once started, unless scripted otherwise.
    pub fn down() -> Receiver {
        let socket = bound(SocketAddr::from(([127, 0, 0, 1], 0)));
        let addr = socket.local_addr().expect("the receiver's address");
        Receiver {
            addr,
            state: Mutex::new(Some(State::Down(socket))),
            script: Arc::new(Mutex::new(Script {
                next: VecDeque::new(),
                otherwise: 200,
                log: Vec::new(),
            })),
        }
    }

    /// A receiver that serves at once. Call inside an actix `System`.
    pub fn up() -> Receiver {
        let receiver = Receiver::down();
        receiver.start();
        receiver
    }

    /// `http://127.0.0.1:PORT/hooks/bchpay`.
    pub fn url(&self) -> String {
        format!("http://{}/hooks/bchpay", self.addr)
    }

    /// Starts serving on the reserved port (no-op when up). Call inside an actix `System`.
    pub fn start(&self) {
        let mut state = self.state.lock().unwrap();
        let socket = match state.take() {
            Some(State::Down(socket)) => socket,
            other => {
                *state = other;
                return;
            }
        };
        let listener = socket
            .listen(1024)
            .and_then(|l| l.into_std())
            .expect("listen on the receiver's port");
        let script = self.script.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(script.clone()))
                .app_data(web::PayloadConfig::new(4 * 1024 * 1024))
                .default_service(web::to(handle))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)
        .expect("serve on the receiver's port")
        .run();
        *state = Some(State::Up(server.handle()));
        actix_rt::spawn(server);
    }

    /// Stops serving; the port stays reserved and refuses connections.
    pub async fn stop(&self) {
        let handle = {
            let mut state = self.state.lock().unwrap();
            match state.take() {
                Some(State::Up(handle)) => handle,
                other => {
                    *state = other;
                    return;
                }
            }
        };
        handle.stop(false).await;
        *self.state.lock().unwrap() = Some(State::Down(bound(self.addr)));
    }

    /// Answers the next requests with `statuses`, in order (after any already queued).
    pub fn answer(&self, statuses: &[u16]) {
        lock(&self.script).next.extend(statuses.iter().copied());
    }

    /// Answers `status` once the queued statuses are spent.
    pub fn answer_always(&self, status: u16) {
        lock(&self.script).otherwise = status;
    }

    /// Every request so far, in arrival order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.script).log.clone()
    }

    /// How many requests arrived.
    pub fn count(&self) -> usize {
        lock(&self.script).log.len()
    }

    /// The requests whose body carries event id `id`, in arrival order.
    pub fn of_event(&self, id: &str) -> Vec<Delivery> {
        self.deliveries().into_iter().filter(|d| d.event_id() == id).collect()
    }

    /// The requests about invoice `id`, in arrival order.
    pub fn of_invoice(&self, id: &str) -> Vec<Delivery> {
        self.deliveries().into_iter().filter(|d| d.invoice_id() == id).collect()
    }

    /// Waits until `check` holds for the requests so far, or panics at the
    /// deadline with what arrived.
    pub async fn wait(&self, what: &str, deadline: Duration, check: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
        let check = &check;
        super::eventually(what, deadline, || async move {
            let seen = self.deliveries();
            if check(&seen) {
                return Ok(seen);
            }
            let summary: Vec<String> = seen
                .iter()
                .map(|d| format!("{} #{} {} -> {}", d.kind(), d.sequence(), d.event_id(), d.answered))
                .collect();
            Err(format!("the receiver got {summary:#?}"))
        })
        .await
    }
}

/// Records the request, answers the next scripted status.
async fn handle(req: HttpRequest, body: web::Bytes, script: web::Data<Arc<Mutex<Script>>>) -> HttpResponse {
    let (at, wall) = (Instant::now(), SystemTime::now());
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut script = lock(&script);
    let answered = script.next.pop_front().unwrap_or(script.otherwise);
    script.log.push(Delivery {
        at,
        wall,
        path: req.path().to_owned(),
        headers,
        body: body.to_vec(),
        answered,
    });
    HttpResponse::build(StatusCode::from_u16(answered).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)).finish()
}
