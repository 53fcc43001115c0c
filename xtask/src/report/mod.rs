//! `cargo xtask report`: summaries people read and files tools parse, from a probe console log
//! (lab serial log, xenconsoled log, `xl console` capture) or a `run --json` / `bench` file.
//!
//! * one input: the summary (text.rs); `--out DIR` adds index.html with SVG plots (html.rs,
//!   plot*.rs), junit.xml (junit.rs) and results.json (export.rs); exit code = the run's verdict.
//! * several inputs: figures side by side with ratios to the first, regressions flagged
//!   (compare.rs); exit 0, or 5 when something regressed or a check got worse.
//! * `--follow LOG`: prints stalls, summaries and problems as a growing log gets them (follow.rs).
//!
//! Inputs are read by load.rs on top of `crate::results` (the same parser `run` uses).

mod compare;
mod export;
mod figures;
mod follow;
mod html;
mod junit;
mod load;
mod plot;
mod plot_hist;
mod plot_stall;
pub mod progress;
pub mod targets;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_output;
#[cfg(test)]
mod tests_render;
mod text;
mod timefmt;

pub use figures::{samples_in, Figure};
#[cfg(test)]
pub use load::from_log;
pub use load::{load, Run};
pub use text::render as render_text;

use crate::cli::Args;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

pub const USAGE: &[&str] = &[
    "LOG_OR_JSON...",
    "--out DIR",
    "--junit FILE",
    "--json FILE",
    "--threshold PERCENT",
    "--follow",
    "--xentrace FILE",
];

pub const HELP: &str = "\
  report LOG_OR_JSON... [options]
                     summary of a probe console log (lab serial.log, xenconsoled log, xl console
                     capture) or of a `run --json` / `bench --json` file; exit code = its verdict
      --out DIR              also write DIR/index.html (summary + SVG plots), junit.xml, results.json
      --junit FILE           JUnit XML: a testsuite per probe, a testcase per check
      --json FILE            the report as JSON (verdict, environment, checks, figures, stalls)
      report A B [C...]      figures side by side with ratios to A, regressions flagged (exit 5)
      --threshold PERCENT    what counts as a regression in a comparison (default 10)
      --follow LOG           follow a growing log: print each stall and summary as it arrives
      --xentrace FILE        Xen's trace of the run (xentrace output): each stall gets the guest
                             vCPUs' events around it (default: export/xentrace.bin beside the log)";

pub fn main(mut a: Args) -> Result<i32> {
    let follow = a.flag("--follow");
    let out = a.value("--out")?.map(PathBuf::from);
    let junit = a.value("--junit")?.map(PathBuf::from);
    let json = a.value("--json")?.map(PathBuf::from);
    let threshold = a.number::<f64>("--threshold", "a percentage, e.g. 10")?;
    let xentrace = a.value("--xentrace")?.map(PathBuf::from);
    let inputs = a.positionals();
    a.finish()?;
    if inputs.is_empty() {
        bail!(
            "`cargo xtask report` needs a console log or a JSON file (accepted: {})",
            USAGE.join(" ")
        );
    }
    if follow {
        if inputs.len() != 1 || out.is_some() || junit.is_some() || json.is_some() {
            bail!("--follow takes exactly one log and no output options");
        }
        return follow::main(Path::new(&inputs[0]));
    }
    let mut runs = inputs
        .iter()
        .map(|i| load(Path::new(i)))
        .collect::<Result<Vec<_>>>()?;
    if let Some(t) = xentrace {
        runs[0].xentrace = Some(t);
    }
    if runs.len() > 1 {
        if out.is_some() || junit.is_some() || json.is_some() {
            bail!("--out, --junit and --json describe one run; a comparison prints a table only");
        }
        return comparison(&runs, threshold);
    }
    one(&runs[0], out.as_deref(), junit.as_deref(), json.as_deref())
}

/// `report A B [C...]`: the table, and exit 5 when something regressed.
fn comparison(runs: &[Run], threshold: Option<f64>) -> Result<i32> {
    let t = threshold.unwrap_or(10.0);
    if !(t.is_finite() && t >= 0.0) {
        bail!("bad value '{t}' for --threshold (expected a percentage >= 0)");
    }
    let (table, regressed) = compare::render(runs, t / 100.0);
    print!("{table}");
    Ok(if regressed { 5 } else { 0 })
}

/// `report LOG`: the summary, and the files asked for; exit code = the run's verdict.
fn one(run: &Run, out: Option<&Path>, junit: Option<&Path>, json: Option<&Path>) -> Result<i32> {
    if run.is_bench() && (out.is_some() || junit.is_some()) {
        bail!(
            "{}: a bench file has figures, no checks or plots: compare two with `report A B`",
            run.source
        );
    }
    if run.is_bench() {
        print!("{}", targets::table(&run.bench));
    } else {
        print!("{}", text::render(run));
    }
    if let Some(p) = junit {
        write(p, &junit::render(run))?;
    }
    if let Some(p) = json {
        write(p, &serde_json::to_string_pretty(&export::to_json(run))?)?;
    }
    if let Some(dir) = out {
        write_dir(run, dir)?;
    }
    Ok(if run.is_bench() {
        0
    } else {
        run.verdict.exit_code()
    })
}

/// index.html, the SVG plots, junit.xml and results.json into `dir`.
pub fn write_dir(run: &Run, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let plots = plot::write_all(run, dir)?;
    let mut written = plots.iter().map(|p| dir.join(&p.file)).collect::<Vec<_>>();
    for (name, body) in [
        ("index.html", html::render(run, &plots)),
        ("junit.xml", junit::render(run)),
        (
            "results.json",
            serde_json::to_string_pretty(&export::to_json(run))?,
        ),
        ("summary.txt", text::render(run)),
    ] {
        write(&dir.join(name), &body)?;
        written.push(dir.join(name));
    }
    eprintln!("open {}", dir.join("index.html").display());
    Ok(written)
}

fn write(path: &Path, body: &str) -> Result<()> {
    std::fs::write(path, body).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
