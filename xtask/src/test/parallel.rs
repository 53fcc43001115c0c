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
pub fn run(runs: &[Run], jobs: usize, out: &Path, kernel: &Path) -> Result<(usize, Vec<String>)> {
    let children = prepare(runs, kernel)?;
    let (plain, planted): (Vec<Run>, Vec<Run>) = runs
        .iter()
        .partition(|(_, s)| !crate::xenbuild::needs_planted(s));
    let order: Vec<Run> = plain.into_iter().chain(planted.iter().copied()).collect();
    let next = AtomicUsize::new(0);
    let done = Mutex::new((0usize, Vec::new()));
    let build = Build::new();
    std::thread::scope(|s| {
        if !planted.is_empty() {
            s.spawn(|| build_planted(&build));
        }
        for _ in 0..jobs.min(order.len()) {
            s.spawn(|| worker(&order, &next, &done, &build, &children, out));
        }
    });
    Ok(done.into_inner().unwrap_or_else(|e| e.into_inner()))
}

/// What children would otherwise race on or each do again, done once here first: the
/// releases' provisioning (apt, downloads), the probe kernel and the static host binary for
/// dom0 (the kernel is the caller's; both are handed to the children).
fn prepare(runs: &[Run], kernel: &Path) -> Result<Children> {
    let host_bin = crate::dist::for_lab(crate::lab::Mode::DomU)?;
    let mut releases: Vec<Release> = runs.iter().map(|(r, _)| *r).collect();
    releases.dedup();
    for r in releases {
        crate::lab::provision(r, false)?;
    }
    Ok(Children {
        exe: std::env::current_exe().context("finding the xtask binary")?,
        kernel: kernel.to_path_buf(),
        host_bin,
    })
}

/// How a child xtask is started: this binary, with the parent's builds
/// (`build::CHILD_KERNEL`, `build::CHILD_HOST_BIN`) so that it builds nothing again.
struct Children {
    exe: PathBuf,
    kernel: PathBuf,
    host_bin: Option<PathBuf>,
}

impl Children {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.env(crate::build::CHILD_KERNEL, &self.kernel);
        if let Some(b) = &self.host_bin {
            cmd.env(crate::build::CHILD_HOST_BIN, b);
        }
        cmd
    }
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

fn worker(runs: &[Run], next: &AtomicUsize, done: &Tally, build: &Build, c: &Children, out: &Path) {
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
        let outcome = outcome.and_then(|()| child(c, *release, &s.name, &log));
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
            show_tail(log, 30);
            tally
                .1
                .push(format!("lab scenario {} on Xen {r}: {e:#}", s.name));
        }
    }
}

/// Runs one scenario in a child xtask, its output into `log`.
fn child(c: &Children, release: Release, name: &str, log: &Path) -> Result<()> {
    let mut cmd = c.command();
    cmd.args(["test", "--lab-only", "--jobs", "1", "--scenario", name])
        .args(["--xen-release", release.name()]);
    let status = spawn_logged(cmd, log)?
        .wait()
        .with_context(|| format!("waiting for {}", c.exe.display()))?;
    if status.success() {
        return Ok(());
    }
    anyhow::bail!("{status}; full output in {}", log.display())
}

/// Set in every child xtask's environment: the parent checked the disk (test.rs) already.
pub(super) const CHILD: &str = "XENPROBE_XTASK_CHILD";

/// Starts a child xtask with no input and its output (both streams) into `log`.
pub(super) fn spawn_logged(mut cmd: Command, log: &Path) -> Result<std::process::Child> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    cmd.env(CHILD, "1")
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .spawn()
        .with_context(|| format!("starting {}", cmd.get_program().to_string_lossy()))
}

/// The last `n` lines of a failed child's output (its problems, the probe's last lines).
pub(super) fn show_tail(log: &Path, n: usize) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    for l in &lines[lines.len().saturating_sub(n)..] {
        eprintln!("  {l}");
    }
}
