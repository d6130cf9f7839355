//! `wrk` as the load generator of a bench, when it is on `PATH`
//! (`apt-get install wrk`): an outside tool that is not the bottleneck, so a
//! bench can show its own generator's figures beside an independent one.
//!
//! [`run`] writes a small Lua script (the method, headers and body; each
//! request's body made unique by a per-thread counter where it holds
//! [`SEQ`]), runs `wrk --latency`, and [`parse`] reads its report: requests,
//! req/s, the latency distribution (p50, p99), max, socket errors and non-2xx
//! answers.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Where a request body template takes each request's unique number.
pub const SEQ: &str = "{seq}";

/// How to drive a server with wrk.
#[derive(Debug, Clone)]
pub struct WrkLoad {
    /// Where the server listens (loopback).
    pub addr: SocketAddr,
    /// wrk's `-t`: its threads.
    pub threads: usize,
    /// wrk's `-c`: connections, spread over its threads.
    pub connections: usize,
    /// wrk's `-d`: the run's length (whole seconds).
    pub duration: Duration,
    /// `POST`, `GET`, ...
    pub method: &'static str,
    /// Path and query.
    pub path: String,
    /// Request headers (`Host` and `Content-Length` are wrk's).
    pub headers: Vec<(&'static str, String)>,
    /// The body; [`SEQ`] in it becomes a number unique within the run.
    pub body: String,
    /// Prefixed to the unique number, to keep it unique across runs.
    pub run_tag: String,
}

/// What wrk reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WrkReport {
    /// Responses completed in the run (any status).
    pub requests: u64,
    /// wrk's `Requests/sec`.
    pub per_second: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Slowest request.
    pub max: Duration,
    /// Responses with a status outside 2xx/3xx.
    pub non_2xx: u64,
    /// Socket errors: connect, read, write, timeout, added up.
    pub socket_errors: u64,
}

impl WrkReport {
    /// Non-2xx answers and socket errors.
    pub fn errors(&self) -> u64 {
        self.non_2xx + self.socket_errors
    }
}

/// Whether `wrk` can be run.
pub fn available() -> bool {
    // `wrk -v` prints its version and exits non-zero: that it ran is enough.
    Command::new("wrk").arg("-v").output().is_ok()
}

/// The Lua script of a load: every request made by `request()`, its body
/// with [`SEQ`] replaced by `<run_tag>-<thread>-<counter>`.
pub fn script(load: &WrkLoad) -> String {
    let lua_str = |s: &str| format!("{s:?}"); // a Rust-escaped string is a valid Lua string for ASCII
    let mut headers = String::new();
    for (name, value) in &load.headers {
        headers.push_str(&format!("wrk.headers[{}] = {}\n", lua_str(name), lua_str(value)));
    }
    let (before, after) = load.body.split_once(SEQ).unwrap_or((&load.body, ""));
    let has_seq = load.body.contains(SEQ);
    format!(
        r#"-- written by bchpay bench
wrk.method = {method}
wrk.path = {path}
{headers}local next_thread = 0
function setup(thread)
  thread:set("tid", next_thread)
  next_thread = next_thread + 1
end
local counter = 0
local before, after, tag = {before}, {after}, {tag}
function request()
  counter = counter + 1
  if {has_seq} then
    return wrk.format(nil, nil, nil, before .. tag .. "-" .. tid .. "-" .. counter .. after)
  end
  return wrk.format(nil, nil, nil, before)
end
"#,
        method = lua_str(load.method),
        path = lua_str(&load.path),
        before = lua_str(before),
        after = lua_str(after),
        tag = lua_str(&load.run_tag),
    )
}

/// Runs wrk on `load` (its script written into `dir`) and parses its report.
pub fn run(load: &WrkLoad, dir: &Path) -> io::Result<WrkReport> {
    let script_path = dir.join(format!("wrk-{}.lua", load.run_tag));
    std::fs::write(&script_path, script(load))?;
    let output = Command::new("wrk")
        .arg(format!("-t{}", load.threads.max(1)))
        .arg(format!("-c{}", load.connections.max(1)))
        .arg(format!("-d{}s", load.duration.as_secs().max(1)))
        .arg("--latency")
        .arg("-s")
        .arg(&script_path)
        .arg(format!("http://{}{}", load.addr, load.path))
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "wrk failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    parse(&stdout).ok_or_else(|| io::Error::other(format!("wrk's report could not be read:\n{stdout}")))
}

/// Reads wrk's `--latency` report; `None` if a figure it always prints is missing.
pub fn parse(out: &str) -> Option<WrkReport> {
    let mut report = WrkReport::default();
    let (mut requests, mut per_second, mut p50, mut p99) = (None, None, None, None);
    let mut in_distribution = false;
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Latency", _avg, _stdev, max, ..] => report.max = duration(max)?,
            ["Latency", "Distribution", ..] => in_distribution = true,
            ["50%", d] if in_distribution => p50 = duration(d),
            ["99%", d] if in_distribution => p99 = duration(d),
            [n, "requests", "in", ..] => requests = n.parse().ok(),
            ["Requests/sec:", r] => per_second = r.parse().ok(),
            ["Non-2xx", "or", "3xx", "responses:", n] => report.non_2xx = n.parse().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                report.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum()
            }
            _ => {}
        }
    }
    report.requests = requests?;
    report.per_second = per_second?;
    report.p50 = p50?;
    report.p99 = p99?;
    Some(report)
}

/// A wrk duration: `635.91us`, `1.20ms`, `2.00s`, `1.50m`.
fn duration(s: &str) -> Option<Duration> {
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = s.split_at(split);
    let value: f64 = number.parse().ok()?;
    let micros = match unit {
        "us" => value,
        "ms" => value * 1e3,
        "s" => value * 1e6,
        "m" => value * 60e6,
        "h" => value * 3600e6,
        _ => return None,
    };
    Some(Duration::from_nanos((micros * 1e3).round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = "Running 5s test @ http://127.0.0.1:40000/api/v1/invoices
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    2.03ms  31.40ms   80.12%
    Req/Sec     6.30k   412.11     7.01k    71.00%
  Latency Distribution
     50%    4.80ms
     75%    5.90ms
     90%    7.10ms
     99%   12.34ms
  62714 requests in 5.00s, 21.95MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  12542.13
Transfer/sec:      4.39MB
";

    #[test]
    fn a_latency_report_is_read() {
        let r = parse(OUT).unwrap();
        assert_eq!(r.requests, 62714);
        assert_eq!(r.per_second, 12542.13);
        assert_eq!(r.p50, Duration::from_micros(4800));
        assert_eq!(r.p99, Duration::from_micros(12340));
        assert_eq!(r.max, Duration::from_micros(31400));
        assert_eq!(r.non_2xx, 7);
        assert_eq!(r.socket_errors, 5);
        assert_eq!(r.errors(), 12);
    }

    #[test]
    fn a_clean_run_has_no_errors_and_small_units_are_read() {
        let out = OUT
            .replace("  Socket errors: connect 0, read 2, write 0, timeout 3\n", "")
            .replace("  Non-2xx or 3xx responses: 7\n", "")
            .replace("    4.80ms", "  635.91us")
            .replace("31.40ms", "1.02s");
        let r = parse(&out).unwrap();
        assert_eq!(r.errors(), 0);
        assert_eq!(r.p50, Duration::from_nanos(635_910));
        assert_eq!(r.max, Duration::from_millis(1020));
    }

    #[test]
    fn a_report_without_its_figures_is_refused() {
        assert_eq!(parse("unable to connect to 127.0.0.1:1 Connection refused\n"), None);
        let no_distribution = OUT.replace("     99%   12.34ms\n", "");
        assert_eq!(parse(&no_distribution), None);
    }

    #[test]
    fn the_script_makes_each_body_unique() {
        let load = WrkLoad {
            addr: "127.0.0.1:9".parse().unwrap(),
            threads: 2,
            connections: 64,
            duration: Duration::from_secs(1),
            method: "POST",
            path: "/api/v1/invoices".into(),
            headers: vec![("Authorization", "Bearer k".into())],
            body: r#"{"order_id":"bench-{seq}"}"#.into(),
            run_tag: "w1".into(),
        };
        let lua = script(&load);
        assert!(lua.contains(r#"wrk.method = "POST""#), "{lua}");
        assert!(lua.contains(r#"wrk.headers["Authorization"] = "Bearer k""#), "{lua}");
        assert!(
            lua.contains(r#"local before, after, tag = "{\"order_id\":\"bench-", "\"}", "w1""#),
            "{lua}"
        );
    }
}
