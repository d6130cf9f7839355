//! A blocking HTTP/1.1 client over a plain `TcpStream`, for tests that must
//! send exactly the bytes they mean (a body shorter than its `Content-Length`,
//! an oversized header) or that run outside an actix runtime (proptest).
//! Every read and write has a deadline, so a server that hangs fails the test
//! instead of hanging it.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;

/// What came back.
#[derive(Debug)]
pub struct RawReply {
    /// The status code.
    pub status: u16,
    /// The headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
}

impl RawReply {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `host:port` of a base URL `http://host:port`.
pub fn authority(base: &str) -> &str {
    base.trim_start_matches("http://").trim_end_matches('/')
}

/// A request: `method path`, the headers given (plus `Host` and `Connection: close`),
/// and `body` with its `Content-Length` when there is one.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if let Some(body) = body {
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
    } else {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Writes `bytes` to the server at `base` and reads one response, all within
/// `deadline`. A write that fails because the server already answered and
/// closed is not an error: the answer is read all the same.
pub fn exchange(base: &str, bytes: &[u8], deadline: Duration) -> std::io::Result<RawReply> {
    let start = Instant::now();
    let mut stream = TcpStream::connect(authority(base))?;
    stream.set_write_timeout(Some(deadline))?;
    stream.set_nodelay(true)?;
    if let Err(e) = stream.write_all(bytes) {
        if !matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset) {
            return Err(e);
        }
    }
    read_reply(&mut stream, start, deadline)
}

/// Reads one response from `stream`, failing with `TimedOut` past `deadline` from `start`.
pub fn read_reply(stream: &mut TcpStream, start: Instant, deadline: Duration) -> std::io::Result<RawReply> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut head_end = None;
    loop {
        if let Some(end) = head_end {
            if let Some(reply) = complete(&buf, end)? {
                return Ok(reply);
            }
        }
        let left = deadline.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(std::io::Error::new(
                ErrorKind::TimedOut,
                format!("no whole response within {deadline:?}; got {} bytes", buf.len()),
            ));
        }
        stream.set_read_timeout(Some(left))?;
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return match head_end {
                Some(end) => Ok(parse(&buf[..end], buf[end..].to_vec())),
                None => Err(std::io::Error::new(
                    ErrorKind::UnexpectedEof,
                    format!("connection closed after {} bytes, before a response head", buf.len()),
                )),
            };
        }
        buf.extend_from_slice(&chunk[..n]);
        if head_end.is_none() {
            head_end = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
        }
    }
}

/// The response in `buf` (head ending at `end`) if its body is all there.
fn complete(buf: &[u8], end: usize) -> std::io::Result<Option<RawReply>> {
    let head = parse(&buf[..end], Vec::new());
    let rest = &buf[end..];
    if head.header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        return Ok(dechunk(rest).map(|body| RawReply { body, ..head }));
    }
    match head
        .header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        Some(len) if rest.len() >= len => Ok(Some(RawReply {
            body: rest[..len].to_vec(),
            ..head
        })),
        _ => Ok(None),
    }
}

/// A whole chunked body, or `None` while it is incomplete.
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        if rest.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

fn parse(head: &[u8], body: Vec<u8>) -> RawReply {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    RawReply { status, headers, body }
}
