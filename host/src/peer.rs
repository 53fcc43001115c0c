//! `xenprobe peer vchan-echo DOMID PATH`: the dom0 end of the vchan probe's echo mode, timed
//! here with CLOCK_MONOTONIC per round trip (it replaced a busybox shell loop timed with
//! `busybox adjtimex` around the whole loop). Runs dom0's `vchan-socket-proxy DOMID PATH -`
//! (libxenvchan, a client we did not write) and sends numbered lines through it; every line
//! must come back intact.

use crate::cli::VchanEcho;
use anyhow::{bail, Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// min, p50, p99, max and mean of `d` in microseconds (exact: the samples sorted).
pub fn summary(d: &mut [Duration]) -> Option<[f64; 5]> {
    if d.is_empty() {
        return None;
    }
    d.sort();
    let us = |x: Duration| x.as_secs_f64() * 1e6;
    let at = |p: f64| us(d[((d.len() as f64 * p).ceil() as usize).clamp(1, d.len()) - 1]);
    let mean = d.iter().map(|x| us(*x)).sum::<f64>() / d.len() as f64;
    Some([us(d[0]), at(0.5), at(0.99), us(d[d.len() - 1]), mean])
}

pub fn vchan_echo(a: VchanEcho) -> Result<i32> {
    let mut proxy = Command::new(&a.proxy)
        .args([a.domid.to_string(), a.path.clone(), "-".into()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {} (xen-utils' libxenvchan client)", a.proxy))?;
    let mut to = proxy.stdin.take().expect("piped");
    let from = proxy.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(from).lines() {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let limit = Duration::from_secs(a.timeout);
    let (mut rtts, mut problem) = (Vec::new(), None);
    for i in 0..a.messages {
        let line = format!("xenprobe vchan echo {i}");
        let t = Instant::now();
        writeln!(to, "{line}")
            .and_then(|()| to.flush())
            .context("writing to vchan-socket-proxy")?;
        match rx.recv_timeout(limit) {
            Ok(Ok(back)) if back == line => rtts.push(t.elapsed()),
            Ok(Ok(back)) => problem = Some(format!("line {i} came back as {back:?}")),
            Ok(Err(e)) => problem = Some(format!("reading line {i}: {e}")),
            Err(_) => problem = Some(format!("line {i} not back after {} s", a.timeout)),
        }
        if problem.is_some() {
            break;
        }
    }
    drop(to);
    let st = proxy.wait().context("waiting for vchan-socket-proxy")?;
    print_result(&mut rtts, a.messages, problem.as_deref(), st)
}

fn print_result(
    rtts: &mut [Duration],
    n: usize,
    problem: Option<&str>,
    st: std::process::ExitStatus,
) -> Result<i32> {
    let ok = rtts.len();
    let how = "22- and 23-byte lines through vchan-socket-proxy's stdin/stdout, each round trip timed with CLOCK_MONOTONIC by xenprobe";
    match summary(rtts) {
        Some([min, p50, p99, max, mean]) => println!(
            "vchan dom0 echo: {ok} of {n} lines back intact; round trip min {min:.1} p50 {p50:.1} p99 {p99:.1} max {max:.1} mean {mean:.1} us (n={ok}; {how})"
        ),
        None => println!("vchan dom0 echo: 0 of {n} lines back intact"),
    }
    println!("vchan-socket-proxy (echo) exited with {st}");
    if let Some(p) = problem {
        bail!("vchan echo through vchan-socket-proxy: {p}");
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_percentiles() {
        let mut d: Vec<Duration> = (1..=100).rev().map(Duration::from_micros).collect();
        let [min, p50, p99, max, mean] = summary(&mut d).unwrap();
        assert_eq!((min, p50, p99, max, mean), (1.0, 50.0, 99.0, 100.0, 50.5));
        assert!(summary(&mut []).is_none());
    }
}
