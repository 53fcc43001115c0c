//! The QEMU process of a run: started with its serial console on a pipe (and, in DomU mode, its
//! stdin on a pipe: the console input that releases a saved or restored lab), followed line by
//! line until the monitor knows the outcome, and ended.

use super::host::{self, render};
use super::monitor::Monitor;
use anyhow::{Context, Result};
use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

/// QEMU, killed (and reaped) when dropped.
pub struct Qemu {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Drop for Qemu {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Qemu {
    /// Starts `cmd` (printed first); `console_input`: keep its stdin (the serial line's input).
    pub fn start(cmd: &mut Command, console_input: bool) -> Result<Qemu> {
        eprintln!("[lab] $ {}", render(cmd));
        let stdin = if console_input {
            Stdio::piped()
        } else {
            Stdio::null()
        };
        let mut child = cmd
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start QEMU")?;
        let stdin = child.stdin.take();
        Ok(Qemu { child, stdin })
    }

    /// The serial line's input (once).
    pub fn take_input(&mut self) -> Option<ChildStdin> {
        self.stdin.take()
    }
}

/// Types a line on the lab's serial console (it reaches dom0's console through Xen).
pub fn type_line(input: &mut ChildStdin, line: &str) -> Result<()> {
    input.write_all(format!("{line}\n").as_bytes())?;
    input.flush()?;
    Ok(())
}

#[derive(PartialEq, Eq)]
pub enum End {
    /// QEMU closed its output (it exited).
    Eof,
    /// The monitor knows the outcome.
    Stop,
    HardTimeout,
}

pub enum Event {
    Serial(Instant, String),
    Stderr(String),
    Eof,
}

/// QEMU, under util-linux's `setpriv --pdeathsig KILL` when available, so that it dies with
/// xtask even when xtask is killed outright (Ctrl-C reaches it anyway: same process group).
pub fn qemu_command() -> Command {
    if host::which("setpriv").is_none() {
        return Command::new("qemu-system-x86_64");
    }
    let mut c = Command::new("setpriv");
    c.args(["--pdeathsig", "KILL", "--", "qemu-system-x86_64"]);
    c
}

/// Reader threads: QEMU's stdout (serial) is written raw to `log` (after the lab's `head`
/// lines) and split into lines; its stderr is forwarded whole. With `echo_since`, each line is
/// echoed to stderr with its time.
pub fn spawn_readers(
    child: &mut Qemu,
    log: &Path,
    head: &[String],
    echo_since: Option<Instant>,
) -> Result<Receiver<Event>> {
    let (tx, rx) = mpsc::channel();
    let out = child.child.stdout.take().context("no QEMU stdout")?;
    let mut log = fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    head.iter().try_for_each(|l| writeln!(log, "{l}"))?;
    let txo = tx.clone();
    thread::spawn(move || pump_serial(out, log, txo, echo_since));
    let mut err = child.child.stderr.take().context("no QEMU stderr")?;
    thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        let _ = tx.send(Event::Stderr(s));
    });
    Ok(rx)
}

fn pump_serial(mut out: impl Read, mut log: impl Write, tx: Sender<Event>, echo: Option<Instant>) {
    let (mut buf, mut line) = ([0u8; 4096], Vec::new());
    while let Ok(n @ 1..) = out.read(&mut buf) {
        // Logged before the lines are sent: serial.log holds every line the monitor saw.
        let _ = log.write_all(&buf[..n]);
        for &b in &buf[..n] {
            if b == b'\n' {
                send_line(&tx, &mut line, echo);
            } else {
                line.push(b);
            }
        }
    }
    if !line.is_empty() {
        send_line(&tx, &mut line, echo);
    }
    let _ = tx.send(Event::Eof);
}

fn send_line(tx: &Sender<Event>, line: &mut Vec<u8>, echo: Option<Instant>) {
    let s = String::from_utf8_lossy(line).into_owned();
    line.clear();
    if let Some(t0) = echo {
        eprintln!(
            "  {:6.2} | {}",
            t0.elapsed().as_secs_f64(),
            s.trim_end_matches('\r')
        );
    }
    let _ = tx.send(Event::Serial(Instant::now(), s));
}

/// Feeds lines to the monitor until QEMU's output ends, the outcome is known, or the hard
/// timeout. Returns why it stopped and QEMU's stderr so far.
pub fn follow(
    mon: &mut Monitor,
    rx: &Receiver<Event>,
    start: Instant,
    limit: &dyn Fn(&Monitor) -> Duration,
    on_probe: &mut dyn FnMut(&str),
    on_ready: &mut dyn FnMut(&mut Monitor),
) -> (End, String) {
    let mut stderr = String::new();
    loop {
        if mon.take_ready() {
            on_ready(mon);
        }
        let hard = limit(mon);
        let now = start.elapsed();
        let until = mon.stop_at.map_or(hard, |s| s.min(hard));
        if now >= until {
            let end = if mon.stop_at.is_some_and(|s| s <= hard) {
                End::Stop
            } else {
                End::HardTimeout
            };
            return (end, stderr);
        }
        match rx.recv_timeout(until - now) {
            Ok(Event::Serial(t, l)) => mon.line(t.saturating_duration_since(start), &l, on_probe),
            Ok(Event::Stderr(s)) => stderr.push_str(&s),
            Ok(Event::Eof) | Err(RecvTimeoutError::Disconnected) => {
                // Collect QEMU's stderr (its thread ends with the process).
                if let Ok(Event::Stderr(s)) = rx.recv_timeout(Duration::from_millis(500)) {
                    stderr.push_str(&s);
                }
                return (End::Eof, stderr);
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

/// Ends QEMU (kill if still running) and reports its exit status if it exited by itself.
/// After EOF on its output QEMU is exiting: wait (up to 3 s) for its status.
pub fn finish_qemu(qemu: &mut Qemu, mon: &mut Monitor, start: Instant, eof: bool) -> Option<i32> {
    let patience = if eof { 300 } else { 0 };
    let mut exited = qemu.child.try_wait().ok().flatten();
    for _ in 0..patience {
        if exited.is_some() {
            break;
        }
        thread::sleep(Duration::from_millis(10));
        exited = qemu.child.try_wait().ok().flatten();
    }
    match exited.and_then(|s| s.code()) {
        Some(code) => {
            mon.qemu_exited(start.elapsed(), code);
            Some(code)
        }
        None => {
            let _ = qemu.child.kill();
            let _ = qemu.child.wait();
            None
        }
    }
}
