//! Lab scenarios run side by side: each run is a child `cargo xtask test` for one scenario
//! on one release, with its output in `lab-out/test/<release>/<scenario>.log`. Lab runs are
//! independent (own output directory, input and export disks; saved labs are locked while
//! written) and the guest's clock is QEMU's instruction counter (`-icount ... sleep=off`), so
//! what a scenario measures does not depend on what runs beside it; wall time does.
//! The planted-fault Xen (minutes to build on a fresh machine) builds beside the other runs;
//! the scenarios that boot it run last and wait for it.

use crate::lab::Release;
use crate::scenario::Scenario;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// One scenario on one release.
pub type Run<'a> = (Release, &'a Scenario);

/// Runs `runs` with at most `jobs` at once; returns (passed, failures).
pub fn run(runs: &[Run], jobs: usize, out_root: &Path) -> Result<(usize, Vec<String>)> {
    let built = prepare(runs)?;
    let (plain, planted): (Vec<Run>, Vec<Run>) = runs
        .iter()
        .partition(|(_, s)| !crate::xenbuild::needs_planted(s));
    let order: Vec<Run> = plain.into_iter().chain(planted.iter().copied()).collect();
    let exe = std::env::current_exe().context("finding the xtask binary")?;
    let next = AtomicUsize::new(0);
    let done = Mutex::new((0usize, Vec::new()));
    let build = Build::new();
    std::thread::scope(|s| {
        if !planted.is_empty() {
            s.spawn(|| build_planted(&build));
        }
        for _ in 0..jobs.min(order.len()) {
            s.spawn(|| worker(&order, &next, &done, &build, (&exe, &built), out_root));
        }
    });
    Ok(done.into_inner().unwrap_or_else(|e| e.into_inner()))
}

/// What children would otherwise race on or each do again, done once here first: the
/// releases' provisioning (apt, downloads), the probe kernel and the static host binary for
/// dom0 (handed to the children: `build::CHILD_KERNEL`, `build::CHILD_HOST_BIN`).
fn prepare(runs: &[Run]) -> Result<Built> {
    let host_bin = crate::dist::for_lab(crate::lab::Mode::DomU)?;
    let kernel = crate::build::kernel()?;
    let mut releases: Vec<Release> = runs.iter().map(|(r, _)| *r).collect();
    releases.dedup();
    for r in releases {
        crate::lab::provision(r, false)?;
    }
    Ok(Built { kernel, host_bin })
}

/// The parent's builds, for its children.
struct Built {
    kernel: PathBuf,
    host_bin: Option<PathBuf>,
}

/// The planted Xen's build, done by one thread while the workers run other scenarios: Ok or
/// the error's text, once it is over (`OnceLock::wait` blocks the workers that need it).
type Build = OnceLock<Result<(), String>>;

fn build_planted(build: &Build) {
    let r = crate::xenbuild::ensure(false)
        .map(|_| ())
        .map_err(|e| format!("{e:#}"));
    let _ = build.set(r);
}

type Tally = Mutex<(usize, Vec<String>)>;

fn worker(
    runs: &[Run],
    next: &AtomicUsize,
    done: &Tally,
    build: &Build,
    (exe, built): (&Path, &Built),
    out: &Path,
) {
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
        let log = out.join(r).join(format!("{}.log", s.name));
        let t = Instant::now();
        let outcome = match crate::xenbuild::needs_planted(s) {
            true => build
                .wait()
                .clone()
                .map_err(|e| anyhow::anyhow!("the planted-fault Xen did not build: {e}")),
            false => Ok(()),
        };
        let outcome = outcome.and_then(|()| child((exe, built), *release, &s.name, &log));
        tally(done, s, r, t.elapsed().as_secs_f64(), outcome, &log);
    }
}

/// Counts one run's outcome and says it (with the end of its log when it failed).
fn tally(done: &Tally, s: &Scenario, r: &str, secs: f64, outcome: Result<()>, log: &Path) {
    let mut tally = done.lock().unwrap_or_else(|e| e.into_inner());
    match outcome {
        Ok(()) => {
            eprintln!("PASS {} on {r} ({secs:.1} s)", s.name);
            tally.0 += 1;
        }
        Err(e) => {
            eprintln!("FAIL {} on {r} ({secs:.1} s): {e:#}", s.name);
            show_tail(log);
            tally
                .1
                .push(format!("lab scenario {} on Xen {r}: {e:#}", s.name));
        }
    }
}

/// Runs one scenario in a child xtask, its output into `log`.
fn child((exe, built): (&Path, &Built), release: Release, name: &str, log: &PathBuf) -> Result<()> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let mut cmd = Command::new(exe);
    cmd.env(crate::build::CHILD_KERNEL, &built.kernel);
    if let Some(b) = &built.host_bin {
        cmd.env(crate::build::CHILD_HOST_BIN, b);
    }
    let status = cmd
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
