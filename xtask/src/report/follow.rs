//! `report --follow LOG`: tail a growing console log (a xenconsoled log, an `xl console`
//! capture being written by `tee`) and print each stall, summary, failed check and error the
//! moment its line is complete. Ends at the result line (exit code = verdict), at a crash
//! record (6), or on Ctrl-C. A log that shrinks (rotated, recreated) is read again from the top.

use super::figures::human;
use super::timefmt;
use crate::results::{self, field};
use anyhow::{bail, Result};
use serde_json::Value;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

pub fn main(path: &Path) -> Result<i32> {
    eprintln!("following {} (Ctrl-C to stop)", path.display());
    follow(
        path,
        &mut std::io::stdout(),
        Duration::from_millis(200),
        None,
    )
}

/// Follow `path`, polling every `poll`, until the run ends or `deadline` passes (an error).
pub fn follow(
    path: &Path,
    out: &mut dyn Write,
    poll: Duration,
    deadline: Option<Instant>,
) -> Result<i32> {
    let (mut pos, mut lineno, mut partial) = (0u64, 0usize, Vec::<u8>::new());
    let mut state = State::default();
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            bail!("{}: no result line before the deadline", path.display());
        }
        let Ok(mut f) = std::fs::File::open(path) else {
            std::thread::sleep(poll);
            continue;
        };
        let len = f.metadata()?.len();
        if len < pos {
            writeln!(
                out,
                "-- {} shrank: reading it again from the top",
                path.display()
            )?;
            (pos, lineno) = (0, 0);
            partial.clear();
        }
        f.seek(SeekFrom::Start(pos))?;
        let mut buf = Vec::new();
        pos += f.read_to_end(&mut buf)? as u64;
        partial.extend_from_slice(&buf);
        while let Some(nl) = partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = partial.drain(..=nl).collect();
            lineno += 1;
            let text = String::from_utf8_lossy(&line[..line.len() - 1]);
            if let Some(code) = state.line(lineno, &text, out)? {
                out.flush()?;
                return Ok(code);
            }
        }
        out.flush()?;
        if buf.is_empty() {
            std::thread::sleep(poll);
        }
    }
}

#[derive(Default)]
struct State {
    records: usize,
    /// Time since the stall probe started, summed over its summaries.
    summary_s: f64,
}

impl State {
    /// Handle one complete line; `Some(exit code)` when the run is over.
    fn line(&mut self, n: usize, text: &str, out: &mut dyn Write) -> Result<Option<i32>> {
        let p = results::parse_console(text);
        for (_, why) in p.bad.iter().chain(&p.notes) {
            writeln!(out, "warning: line {n}: {why}")?;
        }
        for r in &p.records {
            if let Some(code) = self.record(r, out)? {
                return Ok(Some(code));
            }
        }
        Ok(p.result.map(|o| {
            let _ = writeln!(out, "Test result: {} (exit {})", o.name(), o.exit_code());
            o.exit_code()
        }))
    }

    fn record(&mut self, r: &Value, out: &mut dyn Write) -> Result<Option<i32>> {
        let ns = |k: &str| human(r[k].as_f64().unwrap_or(0.0), "ns");
        match r["kind"].as_str().unwrap_or("") {
            "start" => {
                if self.records > 0 {
                    writeln!(out, "-- a new run starts")?;
                }
                *self = State::default();
                writeln!(
                    out,
                    "run: xenprobe {} ({}) cmdline {:?}",
                    field(r, "version"),
                    field(r, "mode"),
                    field(r, "cmdline")
                )?;
            }
            "stall" => {
                let wall = r["start_wall_ns"].as_u64().unwrap_or(0);
                let when = if wall > 0 {
                    format!("{} UTC", timefmt::hms_ms(wall))
                } else {
                    format!("system {}", ns("start_ns"))
                };
                writeln!(
                    out,
                    "STALL {when}  {:>9}  {}: {} (running {}, runnable {}, blocked {}, offline {})",
                    ns("gap_ns"),
                    field(r, "class"),
                    field(r, "reason"),
                    ns("running_ns"),
                    ns("runnable_ns"),
                    ns("blocked_ns"),
                    ns("offline_ns")
                )?;
            }
            "summary" => {
                self.summary_s += r["elapsed_ns"].as_f64().unwrap_or(0.0) / 1e9;
                writeln!(
                    out,
                    "summary at {:.0} s: {} beats, interval p50 {} p99 {} max {}, steal {}",
                    self.summary_s,
                    field(r, "beats"),
                    ns("interval_p50_ns"),
                    ns("interval_p99_ns"),
                    ns("interval_max_ns"),
                    human(r["steal_ppm"].as_f64().unwrap_or(0.0), "ppm")
                )?;
            }
            "check" if r["verdict"] != "pass" => writeln!(
                out,
                "{} {}.{}: expected {}, observed {}",
                field(r, "verdict").to_uppercase(),
                field(r, "probe"),
                field(r, "name"),
                field(r, "expected"),
                field(r, "observed")
            )?,
            "error" => writeln!(out, "ERROR {}", field(r, "msg"))?,
            "probe_end" => writeln!(
                out,
                "probe {}: {} ({})",
                field(r, "probe"),
                field(r, "result"),
                ns("elapsed_ns")
            )?,
            "crash" => {
                writeln!(out, "CRASH {}", super::text::compact(r, &["kind"]))?;
                return Ok(Some(6));
            }
            _ => {}
        }
        self.records += 1;
        Ok(None)
    }
}
