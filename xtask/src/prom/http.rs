//! Just enough HTTP for the Prometheus test: GET over a loopback TCP connection (HTTP/1.0, so
//! the body ends with the connection) and Prometheus's instant-query API.

use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The body of `GET path` from `addr`; an error unless the status is 200.
pub fn get(addr: &str, path: &str) -> Result<String> {
    let mut c = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    c.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        c,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept: */*\r\n\r\n"
    )?;
    let mut resp = Vec::new();
    c.read_to_end(&mut resp)?;
    let resp = String::from_utf8_lossy(&resp).to_string();
    let Some((head, body)) = resp.split_once("\r\n\r\n") else {
        bail!("{addr}{path}: no HTTP response");
    };
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        bail!("{addr}{path}: {}", head.lines().next().unwrap_or(""));
    }
    Ok(body.to_string())
}

/// Percent-encoding of a query parameter.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of an instant query with one result; `None` when it has none yet.
pub fn query(api: &str, q: &str) -> Result<Option<f64>> {
    let body = get(api, &format!("/api/v1/query?query={}", encode(q)))?;
    let v: serde_json::Value =
        serde_json::from_str(&body).context("Prometheus answered no JSON")?;
    if v["status"] != "success" {
        bail!("query {q}: {}", v["error"]);
    }
    let r = &v["data"]["result"];
    match r.as_array().map(Vec::len) {
        Some(0) => Ok(None),
        Some(1) => Ok(r[0]["value"][1].as_str().and_then(|s| s.parse().ok())),
        _ => bail!("query {q}: more than one series: {r}"),
    }
}
