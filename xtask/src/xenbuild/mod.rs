//! The planted-fault hypervisor: Debian's source package of the lab's Xen 4.17, patched with
//! `boot/lab/xen-patches/*.patch`, configured with the `.config` Debian ships beside its binary,
//! hypervisor only, built once into the lab cache.
//!
//! Cache layout (`<cache>/xen-planted/`): `apt/` (a private apt configuration with deb-src
//! lines: the host's sources are left alone), `dl/` (source package and binary package),
//! `src/` (the unpacked, patched tree), `xen` (the multiboot image the lab boots with `--xen`),
//! `stamp` (what it was built from: source version + patch and config digests; a change
//! rebuilds), `build.log`, `build-seconds`.
//!
//! Every step is printed before it runs; a failing step is named with the command to run by
//! hand (in `src/` or `dl/`) and the tail of its output.

mod source;
mod steps;

use crate::cli::Args;
use anyhow::{Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A progress line of the Xen build on stderr.
pub fn progress(msg: &str) {
    eprintln!("[xen-build] {msg}");
}

pub const USAGE: &[&str] = &["--force"];
pub const HELP: &str = "  xen-build [--force] the planted-fault Xen 4.17 (boot/lab/xen-patches), built into the lab cache";

/// The Xen release the patches are written against, and its Debian suite.
pub const RELEASE: &str = "4.17";
pub const SUITE: &str = "bookworm";

/// The planted build, ready to boot.
#[derive(Debug, Clone)]
pub struct Built {
    pub xen: PathBuf,
    /// Debian source version it was built from.
    pub version: String,
    /// Wall time of the last (re)build, seconds; None if never measured.
    pub build_seconds: Option<f64>,
}

pub fn main(mut a: Args) -> Result<i32> {
    let force = a.flag("--force");
    a.finish()?;
    let b = ensure(force)?;
    println!(
        "{} (xen {}, planted faults: boot/lab/xen-patches)",
        b.xen.display(),
        b.version
    );
    if let Some(s) = b.build_seconds {
        println!("last build: {s:.0} s");
    }
    Ok(0)
}

pub fn dir() -> Result<PathBuf> {
    Ok(crate::lab::cache_dir()?.join("xen-planted"))
}

/// What scenarios write to boot the planted build: `xen = "{cache}/xen-planted/xen"`.
pub const SCENARIO_XEN: &str = "{cache}/xen-planted/xen";

/// Builds the planted Xen first when a scenario boots it (a build failure fails the scenario
/// with the step and the command to run by hand).
pub fn prepare(s: &crate::scenario::Scenario) -> Result<()> {
    if needs_planted(s) {
        ensure(false)?;
    }
    Ok(())
}

/// Whether scenario `s` boots the planted build.
pub fn needs_planted(s: &crate::scenario::Scenario) -> bool {
    s.xen.as_deref() == Some(SCENARIO_XEN)
}

/// The patches, in order (sorted by name).
pub fn patches() -> Result<Vec<PathBuf>> {
    let d = crate::build::root().join("boot/lab/xen-patches");
    let mut v: Vec<PathBuf> = fs::read_dir(&d)
        .with_context(|| format!("reading {}", d.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "patch"))
        .collect();
    v.sort();
    Ok(v)
}

/// Returns the planted build, building it first if it is missing or out of date.
/// Two builds at once (a test run and a `cargo xtask xen-build`) would unpack and make in the
/// same tree: the second waits on `<cache>/xen-planted.lock`, then finds the first one's build.
pub fn ensure(force: bool) -> Result<Built> {
    let d = dir()?;
    let top = d.parent().unwrap_or(&d);
    fs::create_dir_all(top).with_context(|| format!("creating {}", top.display()))?;
    let lock = crate::lab::CacheLock::open(&top.join("xen-planted.lock"))?;
    lock.exclusive("another planted-fault Xen build")?;
    let src = source::resolve(&d).context("Xen build: finding the source package")?;
    let key = stamp_key(&src)?;
    let xen = d.join("xen");
    if !force && xen.is_file() && fs::read_to_string(d.join("stamp")).ok().as_deref() == Some(&key)
    {
        return Ok(built(&d, &src.version));
    }
    progress(&format!(
        "building the planted-fault Xen {} (hypervisor only; takes minutes)",
        src.version
    ));
    let t0 = Instant::now();
    steps::build(&d, &src)?;
    let secs = t0.elapsed().as_secs_f64();
    fs::write(d.join("build-seconds"), format!("{secs:.1}\n"))?;
    fs::write(d.join("stamp"), &key)?;
    progress(&format!(
        "planted-fault Xen built in {secs:.0} s: {}",
        xen.display()
    ));
    Ok(built(&d, &src.version))
}

fn built(d: &Path, version: &str) -> Built {
    let secs = fs::read_to_string(d.join("build-seconds")).ok();
    Built {
        xen: d.join("xen"),
        version: version.to_string(),
        build_seconds: secs.and_then(|s| s.trim().parse().ok()),
    }
}

/// What the build depends on: source version, patches, config (FNV-1a digests).
fn stamp_key(src: &source::Source) -> Result<String> {
    let mut s = format!(
        "xen={}\nconfig={:016x}\n",
        src.version,
        fnv1a(src.config.as_bytes())
    );
    for p in patches()? {
        let body = fs::read(&p).with_context(|| format!("reading {}", p.display()))?;
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        s.push_str(&format!("patch {name}={:016x}\n", fnv1a(&body)));
    }
    Ok(s)
}

/// FNV-1a, 64 bit: a stable digest for change detection (not for security).
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn fnv1a_known_values() {
        assert_eq!(super::fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn the_patches_exist_and_touch_the_hypervisor_only() {
        let p = super::patches().unwrap();
        assert!(!p.is_empty());
        for f in p {
            let body = std::fs::read_to_string(&f).unwrap();
            for l in body.lines().filter(|l| l.starts_with("+++ ")) {
                assert!(l.starts_with("+++ b/xen/"), "{}: {l}", f.display());
            }
        }
    }
}
