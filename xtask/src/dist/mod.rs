//! `cargo xtask dist`: the `xenprobe` host binary as one static file for any x86-64 dom0
//! (musl, the probe image embedded): target/x86_64-unknown-linux-musl/release/xenprobe.
//! The lab's dom0 runs this same file.

use crate::build::{self, cargo};
use anyhow::{ensure, Context, Result};
use std::path::{Path, PathBuf};

mod deb;
#[cfg(test)]
mod deb_tests;

pub const MUSL: &str = "x86_64-unknown-linux-musl";

pub const HELP: &str = "\
  dist [--deb]       build the static xenprobe host binary (musl, probe image embedded) for any
                     x86-64 dom0: target/x86_64-unknown-linux-musl/release/xenprobe
      --deb                  also package it: target/dist/xenprobe_<version>_amd64.deb
                             (/usr/bin/xenprobe, bash completion, README)";

pub const USAGE: &[&str] = &["--deb"];

pub fn main(mut a: crate::cli::Args) -> Result<i32> {
    let want_deb = a.flag("--deb");
    a.finish()?;
    let bin = static_binary()?;
    let size = std::fs::metadata(&bin)?.len();
    println!("{} ({size} bytes, static; install: copy it to dom0's PATH, or `cargo install --path host`)", bin.display());
    if want_deb {
        println!("{} (install: dpkg -i)", package(&bin)?.display());
    }
    Ok(0)
}

/// The Debian package of the static binary `bin`; returns its path.
fn package(bin: &Path) -> Result<PathBuf> {
    let completion = std::process::Command::new(bin)
        .args(["completions", "bash"])
        .output()
        .with_context(|| format!("running {} completions bash", bin.display()))?;
    ensure!(
        completion.status.success(),
        "{} completions bash failed",
        bin.display()
    );
    let readme = std::fs::read(build::root().join("README.md")).context("reading README.md")?;
    let binary = std::fs::read(bin).with_context(|| format!("reading {}", bin.display()))?;
    let version = env!("CARGO_PKG_VERSION");
    let dir = xp_kbuild::target_dir().join("dist");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let out = dir.join(format!("xenprobe_{version}_amd64.deb"));
    let pkg = deb::Pkg {
        version,
        binary: &binary,
        completion: &completion.stdout,
        readme: &readme,
    };
    deb::write(&pkg, &out)?;
    Ok(out)
}

/// Build the kernel, then the static host binary embedding it; returns its path.
pub fn static_binary() -> Result<PathBuf> {
    let kernel = build::kernel()?;
    xp_kbuild::ensure_target(MUSL)?;
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--quiet",
        "-p",
        "xenprobe",
        "--release",
        "--target",
        MUSL,
    ])
    .env("XENPROBE_KERNEL", &kernel);
    build::run(&mut cmd).context("building the static xenprobe binary")?;
    let bin = xp_kbuild::target_dir().join(MUSL).join("release/xenprobe");
    ensure_static(&bin)?;
    Ok(bin)
}

/// The static binary for a lab run's dom0 (DomU mode: a Linux dom0 runs it), built once per
/// xtask process.
pub fn for_lab(mode: crate::lab::Mode) -> Result<Option<PathBuf>> {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    if mode != crate::lab::Mode::DomU {
        return Ok(None);
    }
    if let Some(b) = BIN.get() {
        return Ok(Some(b.clone()));
    }
    if let Some(b) = build::prebuilt(build::CHILD_HOST_BIN) {
        return Ok(Some(BIN.get_or_init(|| b).clone()));
    }
    let b = static_binary().context("the lab's dom0 runs the static xenprobe binary")?;
    Ok(Some(BIN.get_or_init(|| b).clone()))
}

/// A static executable has no PT_INTERP program header (no dynamic loader to find).
fn ensure_static(bin: &Path) -> Result<()> {
    let b = std::fs::read(bin).with_context(|| format!("reading {}", bin.display()))?;
    ensure!(
        b.len() > 64 && &b[..4] == b"\x7fELF" && b[4] == 2,
        "{}: not a 64-bit ELF",
        bin.display()
    );
    let u = |o: usize, n: usize| {
        b[o..o + n]
            .iter()
            .rev()
            .fold(0u64, |a, &x| a << 8 | u64::from(x))
    };
    let (phoff, phentsize, phnum) = (
        u(0x20, 8) as usize,
        u(0x36, 2) as usize,
        u(0x38, 2) as usize,
    );
    ensure!(
        phoff + phentsize * phnum <= b.len(),
        "{}: program headers out of the file",
        bin.display()
    );
    let interp = (0..phnum).any(|i| u(phoff + i * phentsize, 4) == 3);
    ensure!(
        !interp,
        "{}: has a dynamic loader (PT_INTERP): not static",
        bin.display()
    );
    Ok(())
}
