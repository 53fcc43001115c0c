//! Lab scenarios run side by side: each run is a child `cargo xtask test` for one scenario
//! on one release, with its output in `lab-out/test/<release>/<scenario>.log`. Lab runs are
//! independent (own output directory, input and export disks; saved labs are locked while
//! written) and the guest's clock is QEMU's instruction counter (`-icount ... sleep=off`), so
//! what a scenario measures does not depend on what runs beside it; wall time does.

use crate::lab::Release;
use crate::scenario::Scenario;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// One scenario on one release.
pub type Run<'a> = (Release, &'a Scenario);

/// Runs `runs` with at most `jobs` at once; returns (passed, failures).
pub fn run(runs: &[Run], jobs: usize, out_root: &Path) -> Result<(usize, Vec<String>)> {
    prepare(runs)?;
    let exe = std::env::current_exe().context("finding the xtask binary")?;
    let next = AtomicUsize::new(0);
    let done = Mutex::new((0usize, Vec::new()));
    std::thread::scope(|s| {
        for _ in 0..jobs.min(runs.len()) {
            s.spawn(|| worker(runs, &next, &done, &exe, out_root));
        }
    });
    Ok(done.into_inner().unwrap_or_else(|e| e.into_inner()))
}

/// What children would otherwise race on or each do again: the releases' provisioning (apt,
/// downloads), the static host binary for dom0 and the planted Xen build, done once here first.
fn prepare(runs: &[Run]) -> Result<()> {
    crate::dist::for_lab(crate::lab::Mode::DomU)?;
    let mut releases: Vec<Release> = runs.iter().map(|(r, _)| *r).collect();
    releases.dedup();
    for r in releases {
        crate::lab::provision(r, false)?;
    }
    runs.iter()
        .try_for_each(|(_, s)| crate::xenbuild::prepare(s))
}

type Tally = Mutex<(usize, Vec<String>)>;

fn worker(runs: &[Run], next: &AtomicUsize, done: &Tally, exe: &Path, out_root: &Path) {
    loop {
        let i = next.fetch_add(1, Ordering::SeqCst);
        let Some((release, s)) = runs.get(i) else {
            return;
        };
        let r = release.name();
        eprintln!(
            "[{}/{}] start {} on Xen {r}: {}",
            i + 1,
            runs.len(),
            s.name,
            s.about
        );
        let log = out_root.join(r).join(format!("{}.log", s.name));
        let t = Instant::now();
        let outcome = child(exe, *release, &s.name, &log);
        let secs = t.elapsed().as_secs_f64();
        let mut tally = done.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok(()) => {
                eprintln!("PASS {} on {r} ({secs:.1} s)", s.name);
                tally.0 += 1;
            }
            Err(e) => {
                eprintln!("FAIL {} on {r} ({secs:.1} s): {e:#}", s.name);
                show_tail(&log);
                tally
                    .1
                    .push(format!("lab scenario {} on Xen {r}: {e:#}", s.name));
            }
        }
    }
}

/// Runs one scenario in a child xtask, its output into `log`.
fn child(exe: &Path, release: Release, name: &str, log: &PathBuf) -> Result<()> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let status = Command::new(exe)
        .args(["test", "--lab-only", "--jobs", "1", "--scenario", name])
        .args(["--xen-release", release.name()])
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .with_context(|| format!("starting {}", exe.display()))?;
    if status.success() {
        return Ok(());
    }
    anyhow::bail!("{status}; full output in {}", log.display())
}

/// The end of a failed run's output: its problems and the probe's last lines.
fn show_tail(log: &Path) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    for l in &lines[lines.len().saturating_sub(30)..] {
        eprintln!("  {l}");
    }
}
