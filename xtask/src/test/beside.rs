//! The host checks (tests, Prometheus and Chromium tests, rustfmt, clippy) beside the lab
//! runs: a child `cargo xtask test --host-only` whose output goes to `lab-out/test/host.log`,
//! like a lab run's. Both halves are CPU-bound and each leaves a core idle at times (the
//! compiler's serial steps, a run waiting for the planted build), so side by side they
//! finish sooner than one after the other; the guest clock of a lab run is QEMU's
//! instruction counter, so what a scenario measures does not change.

use anyhow::{Context, Result};
use std::path::Path;
use std::process::{Child, Command};
use std::time::Instant;

/// The running child, waited for by a thread that says PASS or FAIL as soon as it ends.
pub struct HostChecks(std::thread::JoinHandle<Result<(usize, Vec<String>)>>);

/// Starts `cargo xtask test --host-only` (with `--no-lint` if asked) beside the lab runs.
pub fn start(no_lint: bool, out_root: &Path) -> Result<HostChecks> {
    let log = out_root.join("host.log");
    let mut cmd = Command::new(std::env::current_exe().context("finding the xtask binary")?);
    cmd.args(["test", "--host-only"]);
    if no_lint {
        cmd.arg("--no-lint");
    }
    let child = super::parallel::spawn_logged(cmd, &log)?;
    eprintln!(
        "host checks (tests, Prometheus, Chromium, rustfmt, clippy) run beside the lab runs; \
         their output: {}",
        log.display()
    );
    let t0 = Instant::now();
    Ok(HostChecks(std::thread::spawn(move || {
        wait(child, &log, t0)
    })))
}

impl HostChecks {
    /// Waits for the child; returns (steps passed, failures) as its last lines say them.
    pub fn finish(self) -> Result<(usize, Vec<String>)> {
        self.0
            .join()
            .map_err(|_| anyhow::anyhow!("the thread waiting for the host checks panicked"))?
    }
}

/// Waits for the child and says how it went (with the end of its output when it failed).
fn wait(mut child: Child, log: &Path, t0: Instant) -> Result<(usize, Vec<String>)> {
    let status = child.wait().context("waiting for the host checks")?;
    let secs = t0.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let (passed, mut failed) = tally(&text);
    if status.success() && failed.is_empty() {
        eprintln!("PASS host checks: {passed} steps ({secs:.0} s)");
        return Ok((passed, failed));
    }
    if failed.is_empty() {
        failed.push(format!("host checks: {status}"));
    }
    eprintln!(
        "FAIL host checks ({secs:.0} s); full output in {}",
        log.display()
    );
    super::parallel::show_tail(log, 40);
    Ok((passed, failed))
}

/// The child's own summary: `xtask: N passed, M failed` and one `FAILED ...` line per failure.
fn tally(text: &str) -> (usize, Vec<String>) {
    let passed = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("xtask: "))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let failed = text
        .lines()
        .filter_map(|l| l.strip_prefix("FAILED "))
        .map(String::from)
        .collect();
    (passed, failed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_childs_summary_is_counted() {
        let out = "== cargo xtask test: 90 s ==\nFAILED clippy (host): exit status: 101\n\
                   xtask: 5 passed, 1 failed\n";
        let (p, f) = super::tally(out);
        assert_eq!(p, 5);
        assert_eq!(f, ["clippy (host): exit status: 101"]);
        assert_eq!(super::tally("killed\n"), (0, vec![]));
    }
}
