//! A closed-loop HTTP/1.1 load generator: `connections` keep-alive connections,
//! each sending its next request as soon as the last one is answered, for a
//! warm-up and then a measured window; every latency of the window is kept.
//!
//! It runs on one thread of its own (a single-threaded runtime), so that on a
//! small machine it takes one core's share at most, and speaks just enough
//! HTTP/1.1 over a raw socket (request written in one go, response read by
//! `Content-Length`) to cost a few system calls per request: a full client
//! such as awc would take a larger share of the cores it measures.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_rt::net::TcpStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The largest response header block read.
const MAX_HEAD: usize = 16 * 1024;

/// One request, as the closure given to [`run`] builds it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: &'static str,
    /// Path and query (`/api/v1/invoices`).
    pub path: String,
    /// Extra headers (`Host` and `Content-Length` are added).
    pub headers: Vec<(&'static str, String)>,
    /// The body (may be empty).
    pub body: Vec<u8>,
}

impl Request {
    /// The bytes on the wire.
    fn encode(&self, host: &SocketAddr) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.body.len());
        out.extend_from_slice(format!("{} {} HTTP/1.1\r\nHost: {host}\r\n", self.method, self.path).as_bytes());
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes());
        out.extend_from_slice(&self.body);
        out
    }
}

/// How to load a server.
#[derive(Debug, Clone)]
pub struct Load {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// Concurrent connections, each with one request in flight.
    pub connections: usize,
    /// Time under load before the measurement starts (nothing recorded).
    pub warm_up: Duration,
    /// The measured window.
    pub duration: Duration,
}

/// What one run saw in its measured window.
#[derive(Debug, Clone)]
pub struct Report {
    /// Latencies of the successful requests started and answered in the window, sorted.
    latencies: Vec<Duration>,
    /// Requests in the window answered with a status other than 2xx, or failed.
    pub errors: u64,
    /// The first error seen, to say what went wrong.
    pub first_error: Option<String>,
    /// The length of the measured window.
    pub window: Duration,
}

impl Report {
    /// Successful requests in the window.
    pub fn requests(&self) -> usize {
        self.latencies.len()
    }

    /// Successful requests per second.
    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.window.as_secs_f64()
    }

    /// The latency below which a fraction `q` (0..=1) of the requests were answered.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = (q * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    /// The median latency.
    pub fn p50(&self) -> Duration {
        self.quantile(0.50)
    }

    /// The 99th percentile latency.
    pub fn p99(&self) -> Duration {
        self.quantile(0.99)
    }

    /// The slowest request.
    pub fn max(&self) -> Duration {
        self.latencies.last().copied().unwrap_or_default()
    }
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    /// Latencies of its successful requests in the window.
    latencies: Vec<Duration>,
    /// Its failures in the window.
    errors: u64,
    /// Its first failure.
    first_error: Option<String>,
}

/// Loads `load.addr` with the requests `make` builds (given a sequence number,
/// unique across connections), and reports the measured window. Blocks the
/// calling thread; the load runs on a thread of its own.
///
/// Requests still in flight when the window closes are dropped, not counted,
/// so a slow server does not stretch the run. A failed connection is reopened.
pub fn run<F>(load: Load, make: F) -> io::Result<Report>
where
    F: Fn(u64) -> Request + Send + Sync + 'static,
{
    let thread = std::thread::Builder::new()
        .name("bench-load".into())
        .spawn(move || actix_rt::Runtime::new()?.block_on(drive(load, make)))?;
    thread
        .join()
        .map_err(|_| io::Error::other("the load generator thread panicked"))?
}

async fn drive<F: Fn(u64) -> Request>(load: Load, make: F) -> io::Result<Report> {
    let start = Instant::now() + load.warm_up;
    let end = start + load.duration;
    let connections =
        (0..load.connections as u64).map(|i| connection(load.addr, i, load.connections as u64, start, end, &make));
    let mut report = Report {
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
        window: load.duration,
    };
    for tally in futures_util::future::join_all(connections).await {
        report.latencies.extend(tally.latencies);
        report.errors += tally.errors;
        if report.first_error.is_none() {
            report.first_error = tally.first_error;
        }
    }
    report.latencies.sort_unstable();
    Ok(report)
}

/// One connection's loop: request `index`, `index + stride`, ... until `end`.
async fn connection<F: Fn(u64) -> Request>(
    addr: SocketAddr,
    index: u64,
    stride: u64,
    start: Instant,
    end: Instant,
    make: &F,
) -> Tally {
    let mut tally = Tally::default();
    let mut stream: Option<TcpStream> = None;
    let mut buf = Vec::with_capacity(4096);
    let mut seq = index;
    let deadline = tokio::time::Instant::from_std(end);
    loop {
        let sent = Instant::now();
        if sent >= end {
            return tally;
        }
        let wire = make(seq).encode(&addr);
        seq += stride;
        let exchange = async {
            let s = match stream.take() {
                Some(s) => s,
                None => {
                    let s = TcpStream::connect(addr).await?;
                    s.set_nodelay(true)?;
                    s
                }
            };
            exchange(s, &wire, &mut buf).await
        };
        let outcome = match tokio::time::timeout_at(deadline, exchange).await {
            Ok(outcome) => outcome,
            // The window closed with this request in flight: not counted.
            Err(_) => return tally,
        };
        let done = Instant::now();
        let measured = sent >= start && done <= end;
        match outcome {
            Ok((s, status)) => {
                stream = s;
                if !measured {
                } else if (200..300).contains(&status) {
                    tally.latencies.push(done - sent);
                } else {
                    tally.errors += 1;
                    tally
                        .first_error
                        .get_or_insert_with(|| format!("HTTP {status}: {}", String::from_utf8_lossy(&buf)));
                }
            }
            Err(e) => {
                if measured {
                    tally.errors += 1;
                    tally.first_error.get_or_insert_with(|| e.to_string());
                }
                // Do not spin on a server that refuses connections.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Writes one request and reads its response into `buf` (the body); returns
/// the stream if it may be reused, and the status.
async fn exchange(mut stream: TcpStream, wire: &[u8], buf: &mut Vec<u8>) -> io::Result<(Option<TcpStream>, u16)> {
    stream.write_all(wire).await?;
    buf.clear();
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::other("response header too large"));
        }
        read_more(&mut stream, buf).await?;
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| io::Error::other("response header is not UTF-8"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| io::Error::other("malformed status line"))?;
    let mut length = None;
    let mut keep_alive = true;
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| io::Error::other("malformed Content-Length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(io::Error::other(
                "chunked responses are not supported by the load generator",
            ));
        } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            keep_alive = false;
        }
    }
    let length = length.unwrap_or(0);
    while buf.len() < head_end + length {
        read_more(&mut stream, buf).await?;
    }
    buf.drain(..head_end);
    buf.truncate(length);
    Ok((keep_alive.then_some(stream), status))
}

/// Appends what the socket has; end of stream is an error (a response was due).
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    buf.reserve(4096);
    if stream.read_buf(buf).await? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed mid-response",
        ));
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A latency in milliseconds, as the benches print them (`9.23 ms`).
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Prints a table of runs: a row each, named in a first column headed `first`
/// (req/s, requests, p50, p99, max, errors), and each run's first error.
pub fn print_table(first: &str, rows: &[(&str, &Report)]) {
    println!(
        "{:<24} {:>9} {:>10} {:>10} {:>10} {:>10} {:>7}",
        first, "req/s", "requests", "p50", "p99", "max", "errors"
    );
    for (name, r) in rows {
        println!(
            "{:<24} {:>9.0} {:>10} {:>10} {:>10} {:>10} {:>7}",
            name,
            r.per_second(),
            r.requests(),
            ms(r.p50()),
            ms(r.p99()),
            ms(r.max()),
            r.errors
        );
        if let Some(e) = &r.first_error {
            println!("  {name}: first error: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(ms: &[u64]) -> Report {
        let mut latencies: Vec<Duration> = ms.iter().map(|&m| Duration::from_millis(m)).collect();
        latencies.sort_unstable();
        Report {
            latencies,
            errors: 0,
            first_error: None,
            window: Duration::from_secs(2),
        }
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let r = report(&(1..=100).collect::<Vec<_>>());
        assert_eq!(r.p50(), Duration::from_millis(50));
        assert_eq!(r.p99(), Duration::from_millis(99));
        assert_eq!(r.max(), Duration::from_millis(100));
        assert_eq!(r.per_second(), 50.0);
        assert_eq!(report(&[]).p99(), Duration::ZERO);
        assert_eq!(report(&[7]).p50(), Duration::from_millis(7));
    }

    #[test]
    fn a_request_is_encoded_with_host_and_length() {
        let r = Request {
            method: "POST",
            path: "/x".into(),
            headers: vec![("Authorization", "Bearer k".into())],
            body: b"{}".to_vec(),
        };
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(
            String::from_utf8(r.encode(&addr)).unwrap(),
            "POST /x HTTP/1.1\r\nHost: 127.0.0.1:9\r\nAuthorization: Bearer k\r\nContent-Length: 2\r\n\r\n{}"
        );
    }
}
