//! `xenprobe report` and `xenprobe compare`: the command lines over the report library
//! (`xp_host::report`, which `cargo xtask report` uses too).

use crate::cli::{Compare, Report};
use anyhow::Result;
use xp_host::report;

pub fn report(a: Report) -> Result<i32> {
    let mut run = report::load(&a.input)?;
    if let Some(t) = a.xentrace {
        if !t.is_file() {
            anyhow::bail!(
                "--xentrace {}: no such file (xentrace's output, e.g. `xentrace -D -e 0x00229000 FILE` in dom0)",
                t.display()
            );
        }
        run.xentrace = Some(t);
    }
    report::one(
        &run,
        a.out.as_deref(),
        a.junit.as_deref(),
        a.json.as_deref(),
    )
}

pub fn compare(a: Compare) -> Result<i32> {
    let runs = a
        .inputs
        .iter()
        .map(|p| report::load(p))
        .collect::<Result<Vec<_>>>()?;
    report::comparison(&runs, Some(a.threshold), a.out.as_deref())
}
