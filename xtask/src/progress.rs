//! Progress of a long `cargo xtask run`: every few seconds, on stderr, the elapsed time, which
//! probe runs (n of m), how many records it printed and the last one. Only when stderr is a
//! terminal and `CI` is not set: logs and CI get the lab's stage lines and nothing more.

use std::io::IsTerminal;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use xp_core::records::Record;

/// What the heartbeat says; fed with each probe console line.
#[derive(Debug, Default)]
pub struct Status {
    pub probes_total: usize,
    pub probes_started: usize,
    pub probe: Option<String>,
    pub records: usize,
    pub not_passed: usize,
    pub last: Option<String>,
}

impl Status {
    /// One probe console line; only `@xp` records count.
    pub fn line(&mut self, line: &str) {
        let Some(json) = line.strip_prefix(xp_core::outcome::RECORD_PREFIX) else {
            return;
        };
        let Ok(r) = Record::parse(json) else {
            return;
        };
        self.records += 1;
        match &r {
            Record::ProbeStart(p) => {
                self.probes_started = p.index as usize;
                self.probes_total = p.of as usize;
                self.probe = Some(p.probe.clone());
            }
            Record::Check(c) if !c.verdict.passed() => self.not_passed += 1,
            _ => {}
        }
        self.last = Some(last(&r));
    }

    pub fn render(&self, elapsed: Duration) -> String {
        let t = elapsed.as_secs();
        let Some(p) = &self.probe else {
            return format!("[run {t}s] lab still booting (stages above)");
        };
        let last = self.last.as_deref().unwrap_or("none yet");
        format!(
            "[run {t}s] probe {}/{} {p}: {} records, last: {last}; {} checks not passed",
            self.probes_started, self.probes_total, self.records, self.not_passed
        )
    }
}

/// A record in a few words: its kind and what it is about (`check timer.no_early`).
fn last(r: &Record) -> String {
    let name = match r {
        Record::Check(c) => Some(&c.name),
        Record::Metric(m) => Some(&m.name),
        Record::Stats(s) => Some(&s.name),
        Record::Histogram(h) => Some(&h.name),
        Record::Info(i) => Some(&i.key),
        Record::Stall(s) => Some(&s.class),
        _ => None,
    };
    let what: Vec<&str> = [r.probe(), name.map(String::as_str)]
        .into_iter()
        .flatten()
        .collect();
    format!("{} {}", r.kind(), what.join("."))
        .trim_end()
        .to_string()
}

/// The heartbeat thread; stops when dropped.
pub struct Progress {
    status: Arc<Mutex<Status>>,
    stop: Option<(Sender<()>, JoinHandle<()>)>,
}

/// Whether a heartbeat belongs on this terminal: stderr is a TTY and this is not CI.
pub fn wanted() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    std::io::stderr().is_terminal() && !ci
}

impl Progress {
    /// Starts a heartbeat every `every` if [`wanted`]; otherwise only tracks the status.
    pub fn start(every: Duration) -> Progress {
        let status = Arc::new(Mutex::new(Status::default()));
        if !wanted() {
            return Progress { status, stop: None };
        }
        let (tx, rx) = mpsc::channel::<()>();
        let st = Arc::clone(&status);
        let t0 = Instant::now();
        let handle = std::thread::spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                if let Ok(s) = st.lock() {
                    eprintln!("{}", s.render(t0.elapsed()));
                }
            }
        });
        Progress {
            status,
            stop: Some((tx, handle)),
        }
    }

    pub fn line(&self, line: &str) {
        if let Ok(mut s) = self.status.lock() {
            s.line(line);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some((tx, h)) = self.stop.take() {
            drop(tx);
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_probes_and_records() {
        let mut s = Status::default();
        assert_eq!(
            s.render(Duration::from_secs(3)),
            "[run 3s] lab still booting (stages above)"
        );
        s.line("--- probe timer: singleshot timer lateness");
        s.line(r#"@xp {"kind":"probe_start","probe":"timer","about":"a","index":1,"of":2}"#);
        s.line(r#"@xp {"kind":"metric","probe":"timer","name":"overhead","value":1,"unit":"ns","method":"m"}"#);
        s.line("--- probe stall: stuck-vCPU detector");
        s.line(r#"@xp {"kind":"probe_start","probe":"stall","about":"b","index":2,"of":2}"#);
        s.line(r#"@xp {"kind":"check","probe":"stall","name":"x","verdict":"fail","expected":"1","observed":"2"}"#);
        s.line(r#"@xp {"kind":"error","probe":"stall","msg":"m"}"#);
        s.line("@xp {garbled");
        assert_eq!(
            s.render(Duration::from_secs(40)),
            "[run 40s] probe 2/2 stall: 5 records, last: error stall; 1 checks not passed"
        );
    }
}
