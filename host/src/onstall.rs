//! `follow --on-stall CMD`: a command per stall (to capture a hypervisor trace, or page
//! someone), run by `sh -c` on a worker thread one after another, each with a time limit
//! after which its whole process group is killed. Failures are reported, never fatal.

use crate::metrics::State;
use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use xp_core::records::{owned, Kind};

/// The environment a stall command gets: XENPROBE_STALL_<FIELD> for each field of the stall
/// record (upper case), plus the log line number, gap in seconds and the log's path.
pub fn stall_env(r: &owned::Stall, line: usize, log: &str) -> Vec<(String, String)> {
    let mut env = vec![
        ("XENPROBE_STALL_LINE".to_string(), line.to_string()),
        ("XENPROBE_LOG".to_string(), log.to_string()),
        (
            "XENPROBE_STALL_GAP_S".into(),
            format!("{:.6}", r.gap_ns as f64 / 1e9),
        ),
        ("XENPROBE_STALL_KIND".into(), owned::Stall::KIND.into()),
    ];
    let fields = serde_json::to_value(r).unwrap_or_default();
    for (k, v) in fields.as_object().into_iter().flatten() {
        let v = match v {
            Value::String(s) => s.clone(),
            Value::Object(_) | Value::Array(_) | Value::Null => continue,
            other => other.to_string(),
        };
        env.push((format!("XENPROBE_STALL_{}", k.to_uppercase()), v));
    }
    env
}

/// One queued command: the stall's log line and its environment.
type Job = (usize, Vec<(String, String)>);

/// A queue of stall commands and the thread running them.
pub struct Runner {
    tx: Option<Sender<Job>>,
    worker: Option<JoinHandle<()>>,
}

impl Runner {
    pub fn new(cmd: String, limit: Duration, state: Arc<Mutex<State>>) -> Runner {
        let (tx, rx) = mpsc::channel();
        let worker = std::thread::spawn(move || work(&cmd, limit, &rx, &state));
        Runner {
            tx: Some(tx),
            worker: Some(worker),
        }
    }

    pub fn stall(&self, line: usize, env: Vec<(String, String)>) {
        if let Some(tx) = &self.tx {
            let _ = tx.send((line, env));
        }
    }

    /// Wait for the queued commands (each bounded by its limit).
    pub fn finish(mut self) {
        self.tx.take();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

fn work(cmd: &str, limit: Duration, rx: &Receiver<Job>, state: &Mutex<State>) {
    for (line, env) in rx {
        if let Err(why) = run(cmd, limit, &env) {
            eprintln!("warning: --on-stall command for the stall at line {line}: {why}");
            state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .on_stall_failures += 1;
        }
    }
}

/// Run `cmd` once; `Err` says what went wrong.
pub fn run(cmd: &str, limit: Duration, env: &[(String, String)]) -> Result<(), String> {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(cmd)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .process_group(0);
    let mut child = c
        .spawn()
        .map_err(|e| format!("cannot start `sh -c {cmd:?}`: {e}"))?;
    let end = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(st)) if st.success() => return Ok(()),
            Ok(Some(st)) => return Err(format!("`{cmd}` failed ({st})")),
            Ok(None) if Instant::now() >= end => {
                // The whole process group: sh and whatever it started.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{cmd}` still running after {} s (--on-stall-timeout): killed",
                    limit.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for `{cmd}`: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_in_the_environment_failures_and_time_limit() {
        let r = crate::metrics::tests::stall("lost_wakeup", 1_500_000_000);
        let env = stall_env(&r, 7, "/l");
        let ok = "[ \"$XENPROBE_STALL_CLASS\" = lost_wakeup ] && [ \"$XENPROBE_STALL_GAP_S\" = 1.500000 ] && [ $XENPROBE_STALL_LINE = 7 ]";
        run(ok, Duration::from_secs(10), &env).unwrap();
        let e = run("exit 3", Duration::from_secs(10), &env).unwrap_err();
        assert!(e.contains("failed") && e.contains("3"), "{e}");
        let t = Instant::now();
        let e = run("sleep 30; sleep 30", Duration::from_millis(300), &env).unwrap_err();
        assert!(e.contains("killed"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(10));
    }
}
