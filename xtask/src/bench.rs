//! `cargo xtask bench`: the figures of DESIGN.md's targets table, measured in one session of
//! lab runs (each through `run::execute`, the path `cargo xtask run` takes), printed against
//! their targets and written as JSON that `cargo xtask report A B` compares.
//!
//! A figure that cannot be measured here is kept, with `value: null` and a note that says why;
//! no number is ever made up.

use crate::cli::Args;
use crate::lab::Mode;
use crate::report::{targets, Figure};
use crate::run::{self, Outcome, RunOpts};
use anyhow::{Context, Result};
use serde_json::json;
use std::path::{Path, PathBuf};

mod measure;
mod ops;
mod planted;
mod smp;

pub const USAGE: &[&str] = &[
    "--repeat N",
    "--json FILE",
    "--xenstored c|ocaml",
    "--xen-release 4.17|4.20",
    "--out DIR",
    "--only planted|smp",
    "--unarmed-duration S",
];

pub const HELP: &str = "\
  bench [options]    measure DESIGN.md's target figures in the lab; print them against the targets
      --repeat N             lab runs per wall-time figure (default 3; the median is reported)
      --xenstored c|ocaml    which xenstored the domU runs use (default ocaml)
      --xen-release R        which Xen release the lab boots (default 4.17)
      --json FILE            where the figures go (default lab-out/bench/bench.json)
      --out DIR              where the lab runs write their logs (default lab-out/bench)
      --only planted         only issue 12's figures (planted-fault Xen: build time, recall,
                             false positives, boot beside stock, stock runs interleaved)
      --only smp             only issue 11's figures (cross-vCPU wake-up beside loopback,
                             lost wake-ups over 100 000, watchdog detection delay, timer
                             lateness p99 at 1 ms as a domU beside the probe as dom0)
      --unarmed-duration S   guest time of the false-positive run (default 3600)";

/// What the bench runs share.
pub struct Ctx {
    pub kernel: PathBuf,
    pub out: PathBuf,
    pub repeat: usize,
    pub base: RunOpts,
    /// Guest time of the unarmed planted run (false positives), seconds.
    pub unarmed_s: u64,
}

impl Ctx {
    /// One lab run named `name` (its logs go to out/name), reported on one line.
    pub fn run(&self, name: &str, f: impl FnOnce(&mut RunOpts)) -> Result<Outcome> {
        let mut o = RunOpts {
            out_dir: self.out.join(name),
            ..self.base.clone()
        };
        f(&mut o);
        let out = run::execute(&o, &self.kernel, false)?;
        let why = out
            .reason
            .as_deref()
            .map(|r| format!(": {}", r.lines().next().unwrap_or("")))
            .unwrap_or_default();
        eprintln!(
            "[bench] {name}: {} in {:.1} s{why}",
            out.verdict.name(),
            out.lab.wall.as_secs_f64()
        );
        Ok(out)
    }
}

pub fn main(mut a: Args) -> Result<i32> {
    let repeat: usize = a.number("--repeat", "a count >= 1")?.unwrap_or(3).max(1);
    let json = a.value("--json")?.map(PathBuf::from);
    let out = a
        .value("--out")?
        .map_or_else(|| crate::build::root().join("lab-out/bench"), PathBuf::from);
    let xs = a.choice("--xenstored", &["c", "ocaml"])?;
    let release = a.value("--xen-release")?;
    let only = a.choice("--only", &["planted", "smp"])?;
    let unarmed_s: u64 = a
        .number("--unarmed-duration", "seconds >= 10")?
        .unwrap_or(3600)
        .max(10);
    a.finish()?;
    let release = release.map_or(Ok(crate::lab::Release::X417), |r| {
        crate::lab::Release::parse(&r)
    })?;
    let json = json.unwrap_or_else(|| out.join("bench.json"));
    let kernel = crate::build::kernel()?;
    crate::lab::provision(release, false)?;
    let mut base = RunOpts {
        release,
        ..RunOpts::default()
    };
    if xs == Some("c") {
        base.xenstored = crate::lab::Xenstored::C;
    }
    let ctx = Ctx {
        kernel,
        out,
        repeat,
        base,
        unarmed_s,
    };
    let load_before = loadavg();
    let (figs, env) = match only {
        Some("smp") => (smp::figures(&ctx)?, measure::EnvInfo { xen_version: None }),
        Some(_) => planted::only(&ctx)?,
        None => measure::all(&ctx)?,
    };
    let doc = json!({
        "kind": "xenprobe-bench",
        "xen_version": env.xen_version,
        "xen_release": release.name(),
        "sched": format!("{:?}", ctx.base.sched).to_lowercase(),
        "xenstored": format!("{:?}", ctx.base.xenstored).to_lowercase(),
        "host": { "loadavg_before": load_before, "loadavg_after": loadavg(), "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()) },
        "figures": figs,
    });
    println!("{}", targets::table_of(&figs, only.is_some()));
    println!(
        "lab: Xen {} ({}), xenstored {:?}",
        env.xen_version.as_deref().unwrap_or(release.name()),
        release.debian(),
        ctx.base.xenstored
    );
    println!("host load average (1 min) before/after: {load_before} / {} (other QEMU labs on this host slow TCG down)", loadavg());
    write_json(&json, &doc)?;
    Ok(0)
}

fn write_json(path: &Path, doc: &serde_json::Value) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    std::fs::write(path, serde_json::to_string_pretty(doc)?)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!(
        "wrote {} (compare two with `cargo xtask report A.json B.json`)",
        path.display()
    );
    Ok(())
}

/// The host's 1-minute load average, as text.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(String::from))
        .unwrap_or_else(|| "?".into())
}

/// Median of some values (upper median for an even count).
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// A figure that could not be measured, and why.
pub fn missing(name: &str, unit: &str, method: &str, why: &str) -> Figure {
    Figure {
        value: None,
        samples: None,
        note: Some(format!("not measured: {why}")),
        ..Figure::new(name.into(), 0.0, unit, None, method)
    }
}

/// Whether the run is the dom0 kind.
pub fn dom0(o: &mut RunOpts) {
    o.mode = Mode::Dom0;
}
