//! A minimal HTTP/1.1 server for the metrics: GET /metrics answers the exposition, anything
//! else 404 (or 405). One thread per connection, each with read/write time limits.

use crate::exposition;
use crate::metrics::State;
use anyhow::{anyhow, Context, Result};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `HOST:PORT`, or `:PORT` for every interface (as node_exporter takes it).
pub fn parse_addr(addr: &str) -> Result<SocketAddr> {
    let full = if addr.starts_with(':') {
        format!("0.0.0.0{addr}")
    } else {
        addr.to_string()
    };
    let bad = || {
        anyhow!("bad --metrics address '{addr}': expected HOST:PORT, e.g. 127.0.0.1:9756 (or :9756 for every interface)")
    };
    full.to_socket_addrs()
        .map_err(|_| bad())?
        .next()
        .ok_or_else(bad)
}

/// Bind `addr` and serve `state` on a thread; returns the bound address.
pub fn start(addr: &str, state: Arc<Mutex<State>>) -> Result<SocketAddr> {
    let sa = parse_addr(addr)?;
    let l = TcpListener::bind(sa).map_err(|e| match e.kind() {
        ErrorKind::AddrInUse => anyhow!("cannot serve metrics on {sa}: the address is already in use (another `xenprobe follow --metrics` or exporter?): choose another --metrics ADDR"),
        ErrorKind::AddrNotAvailable => anyhow!("cannot serve metrics on {sa}: no such local address: use one of this host's addresses, e.g. 127.0.0.1:PORT"),
        ErrorKind::PermissionDenied => anyhow!("cannot serve metrics on {sa}: permission denied (ports below 1024 need root): choose a port >= 1024"),
        _ => anyhow!("cannot serve metrics on {sa}: {e}"),
    })?;
    let bound = l.local_addr().context("reading the metrics address")?;
    std::thread::spawn(move || {
        for conn in l.incoming().flatten() {
            let st = state.clone();
            std::thread::spawn(move || {
                let _ = handle(conn, &st);
            });
        }
    });
    Ok(bound)
}

/// The request line and headers (up to the blank line, at most 16 KiB).
fn read_head(c: &mut TcpStream) -> std::io::Result<String> {
    let (mut head, mut buf) = (Vec::new(), [0u8; 1024]);
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16384 {
        let n = c.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

fn handle(mut c: TcpStream, state: &Arc<Mutex<State>>) -> std::io::Result<()> {
    c.set_read_timeout(Some(Duration::from_secs(10)))?;
    c.set_write_timeout(Some(Duration::from_secs(10)))?;
    let head = read_head(&mut c)?;
    let mut words = head.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let om = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("accept:") && l.contains("application/openmetrics-text")
    });
    let (status, ctype, body) = respond(method, path, om, state);
    let head_only = method == "HEAD";
    write!(c, "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())?;
    if !head_only {
        c.write_all(body.as_bytes())?;
    }
    c.flush()
}

/// Status line, content type and body for a request: OpenMetrics when the client asks for it
/// (Prometheus does), else the classic text format.
pub fn respond(
    method: &str,
    path: &str,
    openmetrics: bool,
    state: &Arc<Mutex<State>>,
) -> (&'static str, &'static str, String) {
    const TEXT: &str = "text/plain; charset=utf-8";
    if method != "GET" && method != "HEAD" {
        return ("405 Method Not Allowed", TEXT, "only GET /metrics\n".into());
    }
    match path.split('?').next().unwrap_or("") {
        "/metrics" if openmetrics => (
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            exposition::render(state),
        ),
        "/metrics" => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            exposition::classic_text(&exposition::render(state)),
        ),
        "/" => (
            "200 OK",
            TEXT,
            "xenprobe follow: metrics at /metrics\n".into(),
        ),
        _ => (
            "404 Not Found",
            TEXT,
            "not found: metrics are at /metrics\n".into(),
        ),
    }
}
