//! Progress of a long `cargo xtask run`: every few seconds, on stderr, the elapsed time, which
//! probe runs (n of m), how many records it printed and the last one. Only when stderr is a
//! terminal and `CI` is not set: logs and CI get the lab's stage lines and nothing more.

use crate::results::field;
use std::io::IsTerminal;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
    pub fn new(cmdline: &str) -> Status {
        let probes = cmdline
            .split_whitespace()
            .find_map(|t| t.strip_prefix("probes="))
            .map_or(1, |p| p.split(',').filter(|s| !s.is_empty()).count());
        Status {
            probes_total: probes,
            ..Status::default()
        }
    }

    pub fn line(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix("--- probe ") {
            let name = rest.split(':').next().unwrap_or("").to_string();
            if self.probe.as_ref() != Some(&name) {
                self.probes_started += 1;
                self.probe = Some(name);
            }
        }
        let Some(json) = line.strip_prefix(xp_core::outcome::RECORD_PREFIX) else {
            return;
        };
        let Ok(r) = serde_json::from_str::<serde_json::Value>(json) else {
            return;
        };
        self.records += 1;
        if r["kind"] == "check" && r["verdict"] != "pass" {
            self.not_passed += 1;
        }
        let name = [field(&r, "name"), field(&r, "key"), field(&r, "class")]
            .into_iter()
            .find(|s| !s.is_empty());
        let what = [Some(field(&r, "probe")), name]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty());
        let what: Vec<String> = what.collect();
        self.last = Some(
            format!("{} {}", field(&r, "kind"), what.join("."))
                .trim_end()
                .to_string(),
        );
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
    pub fn start(cmdline: &str, every: Duration) -> Progress {
        let status = Arc::new(Mutex::new(Status::new(cmdline)));
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
        let mut s = Status::new("probes=timer,stall duration=60");
        assert_eq!(
            s.render(Duration::from_secs(3)),
            "[run 3s] lab still booting (stages above)"
        );
        s.line("--- probe timer: singleshot timer lateness");
        s.line("@xp {\"kind\":\"stats\",\"probe\":\"timer\",\"name\":\"lateness_1ms\"}");
        s.line("--- probe timer: SUCCESS (5472530 us)");
        s.line("--- probe stall: stuck-vCPU detector");
        s.line("@xp {\"kind\":\"check\",\"probe\":\"stall\",\"name\":\"x\",\"verdict\":\"fail\"}");
        s.line("@xp {\"kind\":\"stall\",\"probe\":\"stall\",\"class\":\"preempted\"}");
        s.line("@xp {garbled");
        assert_eq!(
            s.render(Duration::from_secs(40)),
            "[run 40s] probe 2/2 stall: 3 records, last: stall stall.preempted; 1 checks not passed"
        );
    }
}
