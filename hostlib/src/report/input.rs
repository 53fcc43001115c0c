//! Reading a report's input file: JSON (a run or a bench) or a console log, with an error
//! that names the file and says what to give instead when it is missing, empty, a directory,
//! or holds no trace of the probe.

use super::load::{from_json, from_log, Run};
use anyhow::{bail, Context, Result};
use std::path::Path;

/// What to give `report` instead, for errors about its input.
const GIVE: &str = "give it a probe console log (the log `xenprobe create` writes, \
    xenconsoled's guest log, an `xl console` capture, a lab serial.log) or a `run --json` file";

/// Read a file: JSON (run or bench) if it starts with `{`, a console log otherwise. A file
/// that is missing, empty, or holds no trace of the probe is an error saying what to give.
pub fn load(path: &Path) -> Result<Run> {
    let bytes = read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    let source = path.display().to_string();
    let mut run = if text.trim_start().starts_with('{') {
        from_json(source, &text)?
    } else {
        probe_log(source, &text)?
    };
    run.xentrace = crate::xtrace::beside(path);
    if std::str::from_utf8(&bytes).is_err() {
        run.warnings.insert(
            0,
            "the file is not valid UTF-8: undecodable bytes were replaced".into(),
        );
    }
    Ok(run)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    let name = path.display();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("{name}: no such file: {GIVE}")
        }
        Err(_) if path.is_dir() => bail!("{name} is a directory: {GIVE}"),
        Err(e) => return Err(e).with_context(|| format!("reading {name}")),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        bail!("{name} is empty: {GIVE}");
    }
    Ok(bytes)
}

/// A console log that is one: some `@xp` record, the result line, or at least the probe's
/// first line (`xenprobe VERSION (MODE) cmdline: ...`, a crash before any record).
fn probe_log(source: String, text: &str) -> Result<Run> {
    let run = from_log(source, text);
    let banner = text.lines().any(|l| {
        let l = crate::console::strip_carriers(l);
        l.starts_with("xenprobe ") && l.contains(") cmdline: ")
    });
    if run.records.is_empty() && !banner && !text.contains(xp_core::outcome::RESULT_PREFIX) {
        bail!(
            "{}: not a xenprobe console log (none of its {} lines is the probe's first line, \
             an @xp record or a `Test result:` line): {GIVE}",
            run.source,
            text.lines().count()
        );
    }
    Ok(run)
}
