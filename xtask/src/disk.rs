//! Free-space check before `cargo xtask test`. A full suite from a fresh clone and an empty lab
//! cache writes about 2 GiB of builds (target/) and 2 GiB of lab cache (measured: 1.9 and
//! 1.7 GiB at their peak); a disk that fills half-way fails with "No space left on device" in
//! whichever step hit it. This check refuses at the start instead, naming the filesystem, what
//! is free and what the run still has to write (what is already there counts as written).

use anyhow::{bail, Context, Result};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const GIB: u64 = 1 << 30;
/// What a full run leaves in each place, with room to spare (see the module comment).
pub const TARGET_FULL: u64 = 3 * GIB;
pub const CACHE_FULL: u64 = 3 * GIB;

/// A place the run writes to, how much it holds now and how much it will hold.
pub struct Place {
    pub what: &'static str,
    pub path: PathBuf,
    pub full: u64,
}

impl Place {
    /// What is left to write here: what it will hold less what it holds now.
    pub fn need(&self) -> u64 {
        self.full.saturating_sub(held(&self.path))
    }
}

/// Refuses when a filesystem lacks room for what the places on it still have to take.
pub fn preflight(places: &[Place]) -> Result<()> {
    let mut by_fs: Vec<(u64, Vec<&Place>)> = Vec::new();
    for p in places {
        let dev = fs::metadata(existing(&p.path))?.dev();
        match by_fs.iter_mut().find(|(d, _)| *d == dev) {
            Some((_, v)) => v.push(p),
            None => by_fs.push((dev, vec![p])),
        }
    }
    for (_, on_fs) in by_fs {
        let need: u64 = on_fs.iter().map(|p| p.need()).sum();
        let free = free_bytes(existing(&on_fs[0].path))?;
        let names: Vec<String> = on_fs.iter().map(|p| describe(p)).collect();
        if let Some(msg) = shortage(free, need, &names.join(" and ")) {
            bail!("{msg}");
        }
    }
    Ok(())
}

/// The refusal, when `free` bytes are fewer than the `need` of `what`.
pub fn shortage(free: u64, need: u64, what: &str) -> Option<String> {
    let gib = |b: u64| b as f64 / GIB as f64;
    (free < need).then(|| {
        format!(
            "not enough disk space: {:.1} GiB free on the filesystem of {what}, and this run \
             still writes about {:.1} GiB there. Free some space (or set XENPROBE_CACHE to a \
             directory on a larger disk) and run again.",
            gib(free),
            gib(need)
        )
    })
}

fn describe(p: &Place) -> String {
    format!("{} ({})", p.what, p.path.display())
}

/// The path itself, or its nearest ancestor that exists (a cache not yet made).
fn existing(p: &Path) -> &Path {
    p.ancestors().find(|a| a.exists()).unwrap_or(Path::new("/"))
}

/// Bytes the tree under `p` occupies on disk (0 when absent; symbolic links not followed).
fn held(p: &Path) -> u64 {
    let Ok(md) = fs::symlink_metadata(p) else {
        return 0;
    };
    let own = md.blocks() * 512;
    if !md.is_dir() {
        return own;
    }
    let kids = fs::read_dir(p).into_iter().flatten().flatten();
    own + kids.map(|e| held(&e.path())).sum::<u64>()
}

/// Free bytes for an unprivileged writer on the filesystem holding `p`, as df reports them.
fn free_bytes(p: &Path) -> Result<u64> {
    let out = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(p)
        .output()
        .context("running df to read free disk space")?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        bail!("df {} failed: {}", p.display(), why.trim());
    }
    parse_df(&String::from_utf8_lossy(&out.stdout))
        .with_context(|| format!("reading df's free space for {}", p.display()))
}

/// The number in `df --output=avail`'s output (a header line, then the value).
pub fn parse_df(out: &str) -> Result<u64> {
    let line = out.lines().nth(1).context("df printed no value line")?;
    line.trim()
        .parse()
        .with_context(|| format!("df printed {line:?} where a byte count belongs"))
}
