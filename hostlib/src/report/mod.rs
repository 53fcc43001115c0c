//! Reports: summaries people read and files tools parse, from a probe console log (lab serial
//! log, xenconsoled log, `xl console` capture) or a `run --json` / `bench` file. `xenprobe
//! report` / `xenprobe compare` and `cargo xtask report` are thin command lines over this.
//!
//! * one input: the summary (text.rs); `--out DIR` adds index.html with SVG plots (html.rs,
//!   plot*.rs), junit.xml (junit.rs) and results.json (export.rs); exit code = the run's verdict.
//! * several inputs: figures side by side with ratios to the first, regressions flagged
//!   (compare.rs); exit 0, or 5 when something regressed or a check got worse.
//!
//! Input files are read by input.rs and parsed by load.rs on top of `crate::results` (the
//! parser `cargo xtask run` uses); Xen's trace of a stall comes from `crate::xtrace`.

mod compare;
mod compare_out;
mod export;
mod figures;
mod html;
mod input;
mod junit;
mod load;
mod plot;
mod plot_hist;
mod plot_log;
mod plot_stall;
pub mod targets;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_output;
#[cfg(test)]
mod tests_render;
mod text;
pub mod timefmt;

pub use figures::{human, samples_in, Figure};
pub use input::load;
pub use load::{from_log, Run};
pub use text::render as render_text;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// `compare A B [C...]`: the table (and with `out` the files of compare_out.rs); exit 5 when
/// a figure regressed by more than `threshold` percent (default 10) or a check got worse.
pub fn comparison(runs: &[Run], threshold: Option<f64>, out: Option<&Path>) -> Result<i32> {
    let t = threshold.unwrap_or(10.0);
    if !(t.is_finite() && t >= 0.0) {
        bail!("bad value '{t}' for --threshold (expected a percentage >= 0)");
    }
    if runs.len() < 2 {
        bail!("a comparison needs two runs or more (got {})", runs.len());
    }
    let (table, regressed) = compare::render(runs, t / 100.0);
    print!("{table}");
    if let Some(dir) = out {
        compare_out::write(runs, &table, dir)?;
    }
    Ok(if regressed { 5 } else { 0 })
}

/// `report LOG`: the summary, and the files asked for; exit code = the run's verdict.
pub fn one(
    run: &Run,
    out: Option<&Path>,
    junit: Option<&Path>,
    json: Option<&Path>,
) -> Result<i32> {
    if run.is_bench() && (out.is_some() || junit.is_some()) {
        bail!(
            "{}: a bench file has figures, no checks or plots: compare two with `xenprobe compare A B` (`cargo xtask report A B`)",
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
        eprintln!("open {}", dir.join("index.html").display());
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
    Ok(written)
}

pub(crate) fn write(path: &Path, body: &str) -> Result<()> {
    std::fs::write(path, body).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
