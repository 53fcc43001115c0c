//! `cargo xtask report`: the developer's command line over the report library
//! (`xp_host::report`, which `xenprobe report` and `xenprobe compare` use too).

pub use xp_host::report::*;

use crate::cli::Args;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

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
      report A B [C...]      figures side by side with ratios to A, regressions flagged (exit 5);
                             --out DIR: DIR/index.html with the table and each run's report
      --threshold PERCENT    what counts as a regression in a comparison (default 10)
      --follow LOG           follow a growing log: print each stall and summary as it arrives
                             (builds and runs `xenprobe follow LOG`; its exit code)
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
        return follow_log(&inputs[0]);
    }
    let mut runs = inputs
        .iter()
        .map(|i| load(Path::new(i)))
        .collect::<Result<Vec<_>>>()?;
    if let Some(t) = xentrace {
        runs[0].xentrace = Some(t);
    }
    if runs.len() > 1 {
        if junit.is_some() || json.is_some() {
            bail!("--junit and --json describe one run; a comparison writes its table (--out DIR: the table and each run's report)");
        }
        return comparison(&runs, threshold, out.as_deref());
    }
    one(&runs[0], out.as_deref(), junit.as_deref(), json.as_deref())
}

/// `--follow LOG`: the host binary's `xenprobe follow LOG` (one implementation), built first,
/// its output on this terminal; its exit code (the run's verdict).
fn follow_log(log: &str) -> Result<i32> {
    crate::build::run(crate::build::cargo().args(["build", "--quiet", "-p", "xenprobe"]))?;
    let bin = xp_kbuild::target_dir().join("debug/xenprobe");
    let status = Command::new(&bin)
        .args(["follow", log])
        .status()
        .with_context(|| format!("running {}", bin.display()))?;
    // Ended by a signal (Ctrl-C): no verdict; 130 as a shell says for SIGINT.
    Ok(status.code().unwrap_or(130))
}
