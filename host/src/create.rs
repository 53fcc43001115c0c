//! `xenprobe create`: write the embedded probe image and its xl config, run `xl create -c`,
//! show the console (human lines; @xp records too with --raw), keep all of it in a log, and
//! exit with the run's verdict.
//!
//! The domain is kept when it powers off (xlcfg::config_kept_on_poweroff): xl's console
//! client ends as soon as the domain is destroyed, before it has read what xenconsoled still
//! had for it, and on Xen 4.20 that lost the result line. So after the result line (or a
//! crash record) `create` waits until xl lists the domain as shut down, reads what is left,
//! and then destroys it (a crashed one is kept for inspection and only the console closed).

use crate::cli::Create;
use crate::{image, xlconfig};
use anyhow::{bail, Context, Result};
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use xp_core::outcome::Outcome;
use xp_core::records::Record;
use xp_host::console::{self, Line};
use xp_host::xlcfg;

/// How long a domain that printed its result may take to shut down before it is destroyed.
const SHUTDOWN_PATIENCE: Duration = Duration::from_secs(10);
/// How long the console client may take to end after the domain is destroyed.
const CLOSE_PATIENCE: Duration = Duration::from_secs(10);

/// Why reading the console stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// xl's console client ended.
    Closed,
    /// The deadline passed.
    Deadline,
    /// The run's last line: the result line or a crash record.
    Ended,
}

/// What the console said so far.
#[derive(Debug, Default)]
pub struct Stream {
    pub raw: bool,
    pub result: Option<Outcome>,
    pub lines: usize,
    pub crashed: bool,
}

impl Stream {
    /// One console line: what the terminal shows of it, if anything.
    pub fn line<'a>(&mut self, text: &'a str) -> Option<&'a str> {
        self.lines += 1;
        let l = console::classify(text);
        match l {
            Line::Result(o) => self.result = Some(o),
            Line::Record(j) if matches!(Record::parse(j), Ok(Record::Crash(_))) => {
                self.crashed = true
            }
            _ => {}
        }
        console::shown(&l, self.raw).then(|| text.trim_end_matches('\r'))
    }

    /// The exit code: the result line's, or 6 (CRASH) without one.
    pub fn exit_code(&self) -> i32 {
        self.result.map_or(6, Outcome::exit_code)
    }
}

pub fn main(a: Create) -> Result<i32> {
    let version = env!("CARGO_PKG_VERSION");
    let image_path = a.dir.join(format!("xenprobe-probe-{version}.elf"));
    let cfg_path = a.dir.join(format!("{}.cfg", a.domain.name));
    let kernel = image_path.display().to_string();
    let cfg =
        xlcfg::config_kept_on_poweroff(&xlconfig::cfg(&a.domain, kernel), "`xenprobe create`")?;
    if a.print_config {
        print!("{cfg}");
        eprintln!("(kernel= is where `xenprobe create` writes the image; `xenprobe xl-config` writes both files)");
        return Ok(0);
    }
    let hint = "run as root in dom0, or give a writable --dir";
    image::write(&image_path).context(hint)?;
    std::fs::write(&cfg_path, &cfg)
        .with_context(|| format!("writing {} ({hint})", cfg_path.display()))?;
    let log_path = a
        .log
        .clone()
        .unwrap_or_else(|| a.dir.join(format!("{}.log", a.domain.name)));
    let mut log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating the console log {}", log_path.display()))?;
    xl_info(&a.xl, &mut log);
    let code = run_xl(&a, &cfg_path, &mut log)?;
    eprintln!(
        "console log: {} (`xenprobe report {}` for the summary)",
        log_path.display(),
        log_path.display()
    );
    Ok(code)
}

/// `xl info` first in the log: it names Xen's version and scheduler for `report`.
fn xl_info(xl: &str, log: &mut std::fs::File) {
    match Command::new(xl).arg("info").stderr(Stdio::null()).output() {
        Ok(o) if o.status.success() => {
            let _ = log.write_all(&o.stdout);
        }
        _ => eprintln!(
            "warning: `{xl} info` failed: the log will not name Xen's version and scheduler"
        ),
    }
}

fn run_xl(a: &Create, cfg: &Path, log: &mut std::fs::File) -> Result<i32> {
    let mut cmd = Command::new(&a.xl);
    cmd.args(["create", "-c"]).arg(cfg);
    // xl's console client ends at end of input: give it a pipe we never write to.
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = cmd.spawn().with_context(|| {
        format!("cannot run `{}` (is this dom0 of a Xen host with the Xen tools installed? --xl PATH names another xl)", a.xl)
    })?;
    let _stdin = child.stdin.take();
    let lines = reader(child.stdout.take().expect("piped"));
    let deadline = a.timeout.map(|s| Instant::now() + Duration::from_secs(s));
    let mut s = Stream {
        raw: a.raw,
        ..Stream::default()
    };
    let mut c = Console {
        lines: &lines,
        s: &mut s,
        log,
    };
    let stop = c.pump(deadline, true)?;
    match stop {
        Stop::Ended => c.after_end(a, &mut child)?,
        Stop::Deadline => {
            eprintln!(
                "xenprobe: the probe ran longer than --timeout {} s: destroying {}",
                a.timeout.unwrap_or(0),
                a.domain.name
            );
            xl_destroy(a);
            c.pump(Some(Instant::now() + CLOSE_PATIENCE), false)?;
        }
        Stop::Closed => {}
    }
    let st = child.wait().context("waiting for xl")?;
    verdict(&s, st, a, stop == Stop::Deadline)
}

fn xl_destroy(a: &Create) {
    let _ = Command::new(&a.xl)
        .args(["destroy", &a.domain.name])
        .status();
}

/// Whether `xl list NAME` shows the domain shut down or crashed (`s` or `c` in its state).
pub fn listed_as_shut_down(xl_list: &str) -> bool {
    let state = xl_list
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(4));
    state.is_some_and(|st| st.contains(['s', 'c']))
}

/// Whether the domain has shut down (or is gone).
fn shut_down(a: &Create) -> bool {
    let out = Command::new(&a.xl)
        .args(["list", &a.domain.name])
        .stderr(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => listed_as_shut_down(&String::from_utf8_lossy(&o.stdout)),
        _ => true,
    }
}

/// The console of a run: xl's lines, what they said, and the log they go to.
struct Console<'a> {
    lines: &'a mpsc::Receiver<Vec<u8>>,
    s: &'a mut Stream,
    log: &'a mut std::fs::File,
}

impl Console<'_> {
    /// After the last line: waits for the domain to shut down while reading what is left,
    /// then destroys it (or, crashed, keeps it and ends the console client) and reads to the
    /// console's end.
    fn after_end(&mut self, a: &Create, child: &mut std::process::Child) -> Result<()> {
        let until = Instant::now() + SHUTDOWN_PATIENCE;
        while !shut_down(a) && Instant::now() < until {
            let tick = Some(Instant::now() + Duration::from_millis(100));
            if self.pump(tick, false)? == Stop::Closed {
                return Ok(());
            }
        }
        // What xenconsoled still had for the pty when the domain stopped.
        if self.pump(Some(Instant::now() + Duration::from_millis(300)), false)? == Stop::Closed {
            return Ok(());
        }
        if self.s.result.is_some() {
            xl_destroy(a);
        } else {
            let _ = child.kill();
        }
        self.pump(Some(Instant::now() + CLOSE_PATIENCE), false)
            .map(|_| ())
    }

    /// Shows and logs lines until the console ends, `deadline` passes, or (with `to_end`)
    /// the run's last line is in.
    fn pump(&mut self, deadline: Option<Instant>, to_end: bool) -> Result<Stop> {
        let mut out = std::io::stdout();
        loop {
            if to_end && (self.s.result.is_some() || self.s.crashed) {
                return Ok(Stop::Ended);
            }
            let wait = deadline.map_or(Duration::from_secs(3600), |d| {
                d.saturating_duration_since(Instant::now())
            });
            let bytes = match self.lines.recv_timeout(wait) {
                Ok(b) => b,
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(Stop::Closed),
                Err(mpsc::RecvTimeoutError::Timeout) if deadline.is_some() => {
                    return Ok(Stop::Deadline)
                }
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
            };
            self.log
                .write_all(&bytes)
                .context("writing the console log")?;
            let text = String::from_utf8_lossy(&bytes);
            if let Some(shown) = self.s.line(text.trim_end_matches('\n')) {
                writeln!(out, "{shown}")?;
                out.flush()?;
            }
        }
    }
}

/// Lines of `out`, read on a thread.
fn reader(out: impl std::io::Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut r = std::io::BufReader::new(out);
        loop {
            let mut buf = Vec::new();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(buf).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

fn verdict(s: &Stream, st: std::process::ExitStatus, a: &Create, timed_out: bool) -> Result<i32> {
    if s.lines == 0 && !st.success() {
        bail!(
            "`{} create -c` failed ({st}) before the probe printed anything: see xl's message above \
             (a domain named {} may exist already: `xl list`; are you root in dom0?)",
            a.xl, a.domain.name
        );
    }
    if s.result.is_some() {
        return Ok(s.exit_code());
    }
    let why = if timed_out {
        format!("the probe hit --timeout {} s", a.timeout.unwrap_or(0))
    } else if s.crashed {
        format!("the probe crashed (see the crash lines above; on_crash=preserve keeps the domain: `xl destroy {}`)", a.domain.name)
    } else {
        "the console ended without a `Test result:` line: the probe crashed or hung".into()
    };
    eprintln!("xenprobe: verdict CRASH: {why}");
    Ok(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_human_lines_and_keeps_the_verdict() {
        let mut s = Stream::default();
        assert_eq!(s.line("xenprobe 0.1.0\r"), Some("xenprobe 0.1.0"));
        assert_eq!(s.line("@xp {\"kind\":\"start\"}"), None);
        assert_eq!(s.exit_code(), 6);
        assert_eq!(s.line("Test result: FAILURE"), Some("Test result: FAILURE"));
        assert_eq!(s.exit_code(), 5);
        let mut raw = Stream {
            raw: true,
            ..Stream::default()
        };
        let crash = "@xp {\"kind\":\"crash\",\"reason\":\"panic\"}";
        assert_eq!(raw.line(crash), Some(crash));
        assert!(raw.crashed);
    }

    #[test]
    fn reads_the_state_column_of_xl_list() {
        let head = "Name                                        ID   Mem VCPUs\tState\tTime(s)\n";
        let row = |st: &str| {
            format!("{head}xp-host                                      2     4     1     {st}       0.5\n")
        };
        assert!(listed_as_shut_down(&row("---s--")));
        assert!(listed_as_shut_down(&row("----c-")));
        assert!(!listed_as_shut_down(&row("r-----")));
        assert!(!listed_as_shut_down(&row("-b----")));
        assert!(!listed_as_shut_down(head));
    }
}
