//! `cargo xtask test`: everything the project checks — host unit and property
//! tests, lints, the kernel build, and every lab scenario in tests/lab/.

use crate::build::{self, cargo};
use crate::cli::Args;
use crate::lab::Release;
use crate::scenario;
use anyhow::Result;
use std::time::Instant;

/// `cargo xtask test --help`.
pub const HELP: &str = "\
  test [options]     host tests, lints, and every lab scenario in tests/lab/ on both releases
      --host-only            rustfmt, clippy, host tests, Prometheus and browser tests only
      --lab-only             lab scenarios only
      --no-lint              skip rustfmt and clippy
      --filter SUBSTRING     scenarios whose name contains SUBSTRING
      --scenario NAME        exactly one scenario
      --xen-release 4.17|4.20  only that release's runs
      --jobs N               lab runs side by side (default one per CPU)";

pub const USAGE: &[&str] = &[
    "--host-only",
    "--lab-only",
    "--no-lint",
    "--filter SUBSTRING",
    "--scenario NAME",
    "--xen-release 4.17|4.20",
    "--jobs N",
];

mod beside;
mod parallel;

/// Which lab runs: scenarios whose name contains `filter` or is `exact`, on `release`.
struct Select {
    filter: Option<String>,
    exact: Option<String>,
    release: Option<Release>,
    jobs: usize,
}

pub fn main(mut a: Args) -> Result<i32> {
    let host_only = a.flag("--host-only");
    let lab_only = a.flag("--lab-only");
    let no_lint = a.flag("--no-lint");
    let sel = Select {
        filter: a.value("--filter")?,
        exact: a.value("--scenario")?,
        release: a
            .value("--xen-release")?
            .map(|r| Release::parse(&r))
            .transpose()?,
        jobs: jobs(&mut a)?,
    };
    a.finish()?;
    disk_preflight(host_only)?;
    let t0 = Instant::now();
    let (mut passed, mut failed) = (0usize, Vec::<String>::new());
    // Both halves with lab runs side by side: the host checks go beside them, in a child.
    let beside = !lab_only && !host_only && sel.jobs > 1;
    let host = match beside {
        true => Some(beside::start(no_lint, &build::root().join("lab-out/test"))?),
        false => None,
    };
    if !lab_only && !beside {
        for (name, res) in host_steps(no_lint) {
            match res {
                Ok(()) => passed += 1,
                Err(e) => failed.push(format!("{name}: {e:#}")),
            }
        }
    }
    let lab = (!host_only).then(|| lab(&sel));
    // The host checks are waited for even when the lab could not start (their verdict stands).
    for (p, f) in [
        host.map(beside::HostChecks::finish).transpose()?,
        lab.transpose()?,
    ]
    .into_iter()
    .flatten()
    {
        passed += p;
        failed.extend(f);
    }
    eprintln!(
        "\n== cargo xtask test: {:.0} s ==",
        t0.elapsed().as_secs_f64()
    );
    for f in &failed {
        eprintln!("FAILED {f}");
    }
    println!("xtask: {passed} passed, {} failed", failed.len());
    Ok(if failed.is_empty() { 0 } else { 1 })
}

/// Refuses a run the disk has no room for, before anything is built (disk.rs); once, in the
/// parent (a child would walk the build directory and the cache again, once per scenario).
fn disk_preflight(host_only: bool) -> Result<()> {
    use crate::disk::{Place, CACHE_FULL, TARGET_FULL};
    if std::env::var_os(parallel::CHILD).is_some() {
        return Ok(());
    }
    let mut places = vec![Place {
        what: "the build directory",
        path: xp_kbuild::target_dir(),
        full: TARGET_FULL,
    }];
    if !host_only {
        let path = crate::lab::cache_dir()?;
        places.push(Place {
            what: "the lab cache",
            path,
            full: CACHE_FULL,
        });
    }
    crate::disk::preflight(&places)
}

fn host_steps(no_lint: bool) -> Vec<(&'static str, Result<()>)> {
    let crates = ["xp-core", "xtask", "xp-kbuild", "xp-host", "xenprobe"];
    let mut test = cargo();
    test.arg("test");
    for c in crates {
        test.args(["-p", c]);
    }
    let mut steps = vec![
        ("host tests", build::run(&mut test)),
        ("prometheus scrape of follow --metrics", crate::prom::test()),
        ("HTML report in headless Chromium", crate::browser::test()),
    ];
    if !no_lint {
        if let Err(e) = build::ensure_components(&["clippy", "rustfmt"]) {
            steps.push(("lint tools", Err(e)));
            return steps;
        }
        steps.push((
            "rustfmt",
            build::run(cargo().args(["fmt", "--all", "--check"])),
        ));
        steps.push((
            "clippy (host)",
            build::run(cargo().args(["clippy", "--all-targets", "--"]).args(LINTS)),
        ));
        let kernel = [
            "clippy",
            "-p",
            "xenprobe-kernel",
            "--release",
            "--target",
            build::TARGET,
            "--",
        ];
        let clippy =
            build::ensure_target().and_then(|()| build::run(cargo().args(kernel).args(LINTS)));
        steps.push(("clippy (kernel)", clippy));
    }
    steps
}

/// Clippy's verdict for every crate: warnings are errors, and no function is longer than
/// clippy.toml's `too-many-lines-threshold` (60 lines of code).
const LINTS: [&str; 4] = ["-D", "warnings", "-W", "clippy::too_many_lines"];

/// `--jobs N`: lab runs at once (default: one per CPU).
fn jobs(a: &mut Args) -> Result<usize> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    match a.number::<usize>("--jobs", "a number of lab runs at once, 1 or more")? {
        Some(0) => anyhow::bail!("bad value '0' for --jobs (expected 1 or more)"),
        Some(n) => Ok(n),
        None => Ok(cpus),
    }
}

/// The selected scenarios, each on each of its releases, grouped by release.
fn plan<'a>(all: &'a [scenario::Scenario], sel: &Select) -> Result<Vec<parallel::Run<'a>>> {
    let mut runs = Vec::new();
    let picked = all.iter().filter(|s| {
        sel.filter.as_deref().is_none_or(|f| s.name.contains(f))
            && sel.exact.as_deref().is_none_or(|n| s.name == n)
    });
    for s in picked {
        let releases = s.releases()?.into_iter();
        runs.extend(
            releases
                .filter(|r| sel.release.is_none_or(|o| o == *r))
                .map(|r| (r, s)),
        );
    }
    if runs.is_empty() && sel.exact.is_some() {
        anyhow::bail!(
            "no lab scenario named '{}' on the chosen release (tests/lab/*.toml)",
            sel.exact.as_deref().unwrap_or_default()
        );
    }
    runs.sort_by_key(|(r, _)| *r);
    Ok(runs)
}

/// Run the lab scenarios, each on each of its releases; returns (passed, failures).
fn lab(sel: &Select) -> Result<(usize, Vec<String>)> {
    let kernel = build::kernel()?;
    let all = scenario::load_all(&build::root().join("tests/lab"))?;
    let runs = plan(&all, sel)?;
    let out_root = build::root().join("lab-out/test");
    if sel.jobs > 1 && runs.len() > 1 {
        eprintln!("\n{} lab runs, {} at once (--jobs)", runs.len(), sel.jobs);
        return parallel::run(&runs, sel.jobs, &out_root, &kernel);
    }
    let (mut passed, mut failed) = (0, Vec::new());
    for (i, (release, s)) in runs.iter().enumerate() {
        eprintln!(
            "\n[{}/{}] lab scenario {} on Xen {}: {}",
            i + 1,
            runs.len(),
            s.name,
            release.name(),
            s.about
        );
        match one(s, *release, &kernel, &out_root)? {
            None => passed += 1,
            Some(f) => failed.push(f),
        }
    }
    Ok((passed, failed))
}

/// One scenario on one release, in this process: None when it passed, else the failure.
fn one(
    s: &scenario::Scenario,
    release: Release,
    kernel: &std::path::Path,
    out_root: &std::path::Path,
) -> Result<Option<String>> {
    let r = release.name();
    let mut opts = s.opts(&out_root.join(r))?;
    opts.release = release;
    let t = Instant::now();
    let result =
        crate::xenbuild::prepare(s).and_then(|()| crate::run::execute(&opts, kernel, false));
    let problems = match &result {
        Ok(out) => s.mismatches(out),
        Err(e) => vec![format!("lab run error: {e:#}")],
    };
    let secs = t.elapsed().as_secs_f64();
    if problems.is_empty() {
        eprintln!("PASS {} on {r} ({secs:.1} s)", s.name);
        return Ok(None);
    }
    eprintln!("FAIL {} on {r} ({secs:.1} s)", s.name);
    explain(&problems, &result);
    Ok(Some(format!(
        "lab scenario {} on Xen {r}: {}",
        s.name,
        problems.join("; ")
    )))
}

fn explain(problems: &[String], result: &Result<crate::run::Outcome>) {
    for p in problems {
        eprintln!("  - {p}");
    }
    let Ok(out) = result else {
        return;
    };
    let tail = out.lab.probe_lines.len().saturating_sub(15);
    eprintln!(
        "  probe console (last lines; full serial log {}):",
        out.lab.serial_log.display()
    );
    for l in &out.lab.probe_lines[tail..] {
        eprintln!("  | {l}");
    }
    if let Some(f) = &out.lab.failure {
        eprintln!("  lab: {f}");
    }
}
