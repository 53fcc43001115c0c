//! A minimal QMP client (QEMU's JSON monitor on a unix socket): enough to stop the lab, save
//! its state with `migrate` to a file, resume it, and see that a restored lab runs.

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

pub struct Qmp {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Qmp {
    /// Connects (QEMU creates the socket shortly after it starts) and leaves negotiation mode.
    pub fn connect(path: &Path, patience: Duration) -> Result<Qmp> {
        let t0 = Instant::now();
        let stream = loop {
            match UnixStream::connect(path) {
                Ok(s) => break s,
                Err(e) if t0.elapsed() > patience => {
                    bail!("QMP socket {}: {e}", path.display())
                }
                Err(_) => thread::sleep(Duration::from_millis(20)),
            }
        };
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        let mut q = Qmp {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        };
        q.read_message().context("reading QMP's greeting")?;
        q.execute("qmp_capabilities", json!({}))?;
        Ok(q)
    }

    fn read_message(&mut self) -> Result<Value> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            bail!("QEMU closed its QMP socket");
        }
        serde_json::from_str(&line).with_context(|| format!("QMP sent {line:?}"))
    }

    /// Runs a command and returns its `return` value (events that arrive meanwhile are skipped).
    pub fn execute(&mut self, cmd: &str, args: Value) -> Result<Value> {
        let msg = json!({ "execute": cmd, "arguments": args });
        writeln!(self.writer, "{msg}")?;
        loop {
            let m = self.read_message()?;
            if let Some(r) = m.get("return") {
                return Ok(r.clone());
            }
            if let Some(e) = m.get("error") {
                bail!("QMP {cmd}: {}", e["desc"].as_str().unwrap_or("error"));
            }
        }
    }

    /// Waits until `query-status` says the guest runs (after an incoming migration).
    pub fn wait_running(&mut self, patience: Duration) -> Result<()> {
        let t0 = Instant::now();
        loop {
            let s = self.execute("query-status", json!({}))?;
            match s["status"].as_str().unwrap_or("") {
                "running" => return Ok(()),
                // The state was saved stopped: the restored machine waits for `cont`.
                "paused" => {
                    self.execute("cont", json!({}))?;
                }
                "inmigrate" | "prelaunch" if t0.elapsed() < patience => {}
                other => bail!("the restored lab is '{other}', not running"),
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Saves the stopped machine's state into `file` (a migration stream), then resumes it.
    pub fn save_state(&mut self, file: &Path) -> Result<()> {
        self.execute("stop", json!({}))?;
        let uri = format!("exec:cat > '{}'", file.display());
        self.execute("migrate", json!({ "uri": uri }))?;
        let t0 = Instant::now();
        let status = loop {
            let m = self.execute("query-migrate", json!({}))?;
            match m["status"].as_str().unwrap_or("") {
                "completed" => break Ok(()),
                "failed" | "cancelled" => {
                    break Err(anyhow::anyhow!(
                        "migration {}: {}",
                        m["status"],
                        m["error-desc"].as_str().unwrap_or("no reason given")
                    ))
                }
                _ if t0.elapsed() > Duration::from_secs(120) => {
                    break Err(anyhow::anyhow!("saving the state took over 120 s"))
                }
                _ => thread::sleep(Duration::from_millis(20)),
            }
        };
        self.execute("cont", json!({}))?;
        status
    }
}
