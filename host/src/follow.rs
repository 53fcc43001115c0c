//! `xenprobe follow LOG`: tail a growing console log and print each stall, summary, failed
//! check and error as its line completes; keep the metrics state current (`--metrics`) and run
//! `--on-stall`. A bad line is skipped with a warning naming it, never fatal. Ends at the
//! result line (exit code = verdict) or a crash record (6); with --metrics it keeps serving.

use crate::cli::Follow;
use crate::follow_print::Printer;
use crate::metrics::State;
use crate::onstall::{self, Runner};
use crate::serve;
use anyhow::{Context, Result};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xp_core::outcome::RESULT_PREFIX;
use xp_core::records::Record;
use xp_host::console::{self, Line};
use xp_host::tail::{Event, Tail};

/// Follows one log: what it has seen, where it prints.
pub struct Follower<'a> {
    pub state: Arc<Mutex<State>>,
    pub on_stall: Option<&'a Runner>,
    pub raw: bool,
    pub log: String,
    pub lines: usize,
    pub records: usize,
    warned_not_probe: bool,
    printer: Printer,
}

impl<'a> Follower<'a> {
    pub fn new(
        log: String,
        state: Arc<Mutex<State>>,
        on_stall: Option<&'a Runner>,
        raw: bool,
    ) -> Self {
        Follower {
            state,
            on_stall,
            raw,
            log,
            lines: 0,
            records: 0,
            warned_not_probe: false,
            printer: Printer::default(),
        }
    }

    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One complete line; `Some(exit code)` when the run is over.
    pub fn line(
        &mut self,
        n: usize,
        raw: &str,
        utf8: bool,
        out: &mut dyn Write,
    ) -> Result<Option<i32>> {
        self.lines += 1;
        self.st().last_line = Some(Instant::now());
        if !utf8 {
            writeln!(
                out,
                "warning: line {n}: not valid UTF-8 (undecodable bytes replaced)"
            )?;
        }
        let Some(text) = console::probe_text(raw) else {
            return Ok(None);
        };
        let l = console::classify(text);
        if self.raw {
            writeln!(out, "{text}")?;
        }
        match l {
            Line::Record(json) => self.record(n, json, out),
            Line::Result(o) => {
                self.st().result(o.name());
                writeln!(out, "Test result: {} (exit {})", o.name(), o.exit_code())?;
                Ok(Some(o.exit_code()))
            }
            Line::Human(h) if h.contains("@xp {") => self.skip(
                n,
                "an @xp record after other text (interleaved output?)",
                out,
            ),
            Line::Human(h) if h.starts_with(RESULT_PREFIX) => {
                let word = &h[RESULT_PREFIX.len()..];
                let why = format!(
                    "not a result line: {word:?} (accepted: SUCCESS, SKIP, ERROR, FAILURE)"
                );
                self.skip(n, &why, out)
            }
            Line::Human(_) => Ok(None),
        }
    }

    fn skip(&mut self, n: usize, why: &str, out: &mut dyn Write) -> Result<Option<i32>> {
        self.st().skipped_lines += 1;
        writeln!(out, "warning: skipped line {n}: {why}")?;
        Ok(None)
    }

    fn record(&mut self, n: usize, json: &str, out: &mut dyn Write) -> Result<Option<i32>> {
        let r = match Record::parse(json) {
            Ok(r) => r,
            Err(e) => {
                let why = format!("unparseable @xp record ({e}): a garbled or cut line");
                return self.skip(n, &why, out);
            }
        };
        self.records += 1;
        self.st().record(&r, Instant::now());
        if let (Record::Stall(s), Some(run)) = (&r, self.on_stall) {
            run.stall(n, onstall::stall_env(s, n, &self.log));
        }
        self.printer.record(n, &r, out)
    }

    /// Called when a poll found nothing new: warn once about a log with no record at all.
    pub fn idle(&mut self, out: &mut dyn Write) -> Result<()> {
        if self.lines > 0 && self.records == 0 && !self.warned_not_probe {
            self.warned_not_probe = true;
            writeln!(out, "warning: {}: {} lines and no @xp record so far: is this a xenprobe console log (a xenconsoled guest log, an `xl console` capture)? Still following.", self.log, self.lines)?;
        }
        Ok(())
    }
}

pub fn main(a: Follow) -> Result<i32> {
    let state = Arc::new(Mutex::new(State::default()));
    let served = match &a.metrics {
        Some(addr) => Some(serve::start(addr, state.clone())?),
        None => None,
    };
    if let Some(b) = served {
        eprintln!("serving metrics on http://{b}/metrics");
    }
    let runner = a
        .on_stall
        .clone()
        .map(|c| Runner::new(c, Duration::from_secs(a.on_stall_timeout), state.clone()));
    eprintln!("following {} (Ctrl-C to stop)", a.log.display());
    let mut fo = Follower::new(a.log.display().to_string(), state, runner.as_ref(), a.raw);
    let code = run(&a, &mut fo)?;
    drop(fo);
    if let Some(r) = runner {
        r.finish();
    }
    if let Some(b) = served {
        eprintln!("the run is over (exit code {code}); still serving its final metrics on http://{b}/metrics until stopped (Ctrl-C)");
        loop {
            std::thread::park();
        }
    }
    Ok(code)
}

fn run(a: &Follow, fo: &mut Follower) -> Result<i32> {
    let mut tail = Tail::new(&a.log);
    let mut out = std::io::stdout();
    let mut waiting = false;
    loop {
        let polled = tail
            .poll()
            .with_context(|| format!("reading {}", a.log.display()))?;
        let Some(events) = polled else {
            if !waiting {
                eprintln!("waiting for {} to appear", a.log.display());
                waiting = true;
            }
            std::thread::sleep(Duration::from_millis(200));
            continue;
        };
        let idle = events.is_empty();
        for e in events {
            let code = match e {
                Event::Shrank => {
                    writeln!(
                        out,
                        "-- {} shrank: reading it again from the top",
                        a.log.display()
                    )?;
                    None
                }
                Event::Line(n, text, utf8) => fo.line(n, &text, utf8, &mut out)?,
            };
            if let Some(c) = code {
                out.flush()?;
                return Ok(c);
            }
        }
        out.flush()?;
        if idle {
            fo.idle(&mut out)?;
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
