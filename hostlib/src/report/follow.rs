//! `report --follow LOG`: tail a growing console log (a xenconsoled log, an `xl console`
//! capture being written by `tee`) and print each stall, summary, failed check and error the
//! moment its line is complete. Ends at the result line (exit code = verdict), at a crash
//! record (6), or on Ctrl-C. A log that shrinks (rotated, recreated) is read again from the top.

use super::figures::human;
use super::timefmt;
use crate::results;
use anyhow::{bail, Result};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};
use xp_core::records::{owned, Record};

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

/// A stall as one line: when (UTC, or Xen system time), how long, its class and why, and the
/// runstate over the gap.
fn stall_line(r: &owned::Stall) -> String {
    let ns = |v: u64| human(v as f64, "ns");
    let when = match r.start_wall_ns {
        0 => format!("system {}", ns(r.start_ns)),
        w => format!("{} UTC", timefmt::hms_ms(w)),
    };
    format!(
        "STALL {when}  {:>9}  {}: {} (running {}, runnable {}, blocked {}, offline {})",
        ns(r.gap_ns),
        r.class,
        r.reason,
        ns(r.running_ns),
        ns(r.runnable_ns),
        ns(r.blocked_ns),
        ns(r.offline_ns)
    )
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

    fn record(&mut self, r: &Record, out: &mut dyn Write) -> Result<Option<i32>> {
        let ns = |v: u64| human(v as f64, "ns");
        match r {
            Record::Start(r) => {
                if self.records > 0 {
                    writeln!(out, "-- a new run starts")?;
                }
                *self = State::default();
                let (v, m, c) = (&r.version, &r.mode, &r.cmdline);
                writeln!(out, "run: xenprobe {v} ({m}) cmdline \"{c}\"")?;
            }
            Record::Stall(r) => writeln!(out, "{}", stall_line(r))?,
            Record::Summary(r) => {
                self.summary_s += r.elapsed_ns as f64 / 1e9;
                writeln!(
                    out,
                    "summary at {:.0} s: {} beats, interval p50 {} p99 {} max {}, steal {}",
                    self.summary_s,
                    r.beats,
                    ns(r.interval_p50_ns),
                    ns(r.interval_p99_ns),
                    ns(r.interval_max_ns),
                    human(r.steal_ppm as f64, "ppm")
                )?;
            }
            Record::Check(c) if !c.verdict.passed() => writeln!(
                out,
                "{} {}.{}: expected {}, observed {}",
                c.verdict.to_string().to_uppercase(),
                c.probe,
                c.name,
                c.expected,
                c.observed
            )?,
            Record::Error(e) => writeln!(out, "ERROR {}", e.msg)?,
            Record::ProbeEnd(e) => writeln!(
                out,
                "probe {}: {} ({})",
                e.probe,
                e.result.name(),
                ns(e.elapsed_ns)
            )?,
            Record::Crash(c) => {
                writeln!(out, "CRASH {}", c.describe())?;
                return Ok(Some(6));
            }
            _ => {}
        }
        self.records += 1;
        Ok(None)
    }
}
