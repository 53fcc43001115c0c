//! Building the probe kernel: one implementation for `cargo xtask build` and for the build
//! script of the `xenprobe` host binary (which embeds the image).
//!
//! The nested cargo must not inherit the caller's CARGO*/RUST* settings (a build script gets
//! dozens, xtask gets `cargo run`'s): they would select the wrong toolchain, flags or wrappers.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "x86_64-unknown-none";

/// The workspace root (this crate lives in xtask/kbuild).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("xtask/kbuild has two parents")
        .to_path_buf()
}

/// Variables a nested cargo keeps from its caller.
const KEEP: &[&str] = &["CARGO_HOME", "CARGO_TARGET_DIR", "CARGO_TERM_COLOR"];

/// Whether a nested cargo must not see the variable `k`.
pub fn stripped_var(k: &str) -> bool {
    let build = k.starts_with("CARGO")
        || k.starts_with("RUSTC")
        || k.starts_with("RUSTDOC")
        || matches!(k, "RUSTFLAGS" | "RUSTUP_TOOLCHAIN");
    build && !KEEP.contains(&k)
}

/// A `cargo` command in the workspace root with inherited build settings removed.
pub fn cargo() -> Command {
    // The rustup proxy, not $CARGO: rust-toolchain.toml must pick the toolchain.
    let mut c = Command::new("cargo");
    c.current_dir(root());
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if stripped_var(&k) {
            c.env_remove(k.as_ref());
        }
    }
    c
}

/// Print and run a command; fail with its name if it fails.
pub fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", show(cmd));
    let st = cmd
        .status()
        .with_context(|| format!("cannot start {}", show(cmd)))?;
    if !st.success() {
        bail!("`{}` failed ({st})", show(cmd));
    }
    Ok(())
}

/// A command line as a person would type it.
pub fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().to_string();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// The workspace's target directory (`CARGO_TARGET_DIR` or `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The rustup names installed for `what` ("target" or "component").
fn rustup_installed(what: &str) -> String {
    let out = Command::new("rustup")
        .current_dir(root())
        .args([what, "list", "--installed"])
        .output();
    out.map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default()
}

/// Install a Rust target with rustup if the pinned toolchain lacks it (rustup does not add
/// rust-toolchain.toml's targets to a toolchain that was already installed, as on a fresh CI
/// machine with Rust preinstalled).
pub fn ensure_target(target: &str) -> Result<()> {
    if rustup_installed("target")
        .lines()
        .any(|l| l.trim() == target)
    {
        return Ok(());
    }
    run(Command::new("rustup")
        .current_dir(root())
        .args(["target", "add", target]))
    .with_context(|| format!("installing the Rust target {target} (rustup is needed)"))
}

/// Install rustup components (e.g. clippy, rustfmt) the pinned toolchain lacks.
pub fn ensure_components(names: &[&str]) -> Result<()> {
    let have = rustup_installed("component");
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !have.lines().any(|l| l.starts_with(n)))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut cmd = Command::new("rustup");
    cmd.current_dir(root())
        .args(["component", "add"])
        .args(&missing);
    run(&mut cmd).context("installing rustup components")
}

/// Build the probe kernel (release) into `target_dir` and return the ELF's path.
pub fn kernel_in(target_dir: &Path) -> Result<PathBuf> {
    ensure_target(TARGET)?;
    let mut cmd = cargo();
    cmd.args(["build", "--quiet", "-p", "xenprobe-kernel", "--release"])
        .args(["--target", TARGET, "--target-dir"])
        .arg(target_dir);
    run(&mut cmd).context(
        "building the probe kernel (is the x86_64-unknown-none target installed? rustup reads rust-toolchain.toml)",
    )?;
    let elf = target_dir.join(TARGET).join("release/xenprobe");
    if !elf.is_file() {
        bail!(
            "the kernel build succeeded but {} is missing",
            elf.display()
        );
    }
    Ok(elf)
}

/// Build the probe kernel into the workspace's target directory.
pub fn kernel() -> Result<PathBuf> {
    kernel_in(&target_dir())
}

/// Write `elf` without symbols to `out` with binutils' `strip`.
pub fn strip(elf: &Path, out: &Path) -> Result<()> {
    let st = Command::new("strip").arg("-o").arg(out).arg(elf).status();
    match st {
        Ok(s) if s.success() => Ok(()),
        _ => bail!("`strip` (binutils) failed or is missing: install binutils"),
    }
}

/// Size in bytes of the kernel with symbols stripped (what a user ships).
pub fn stripped_size(elf: &Path) -> Result<u64> {
    let out = elf.with_extension("stripped");
    strip(elf, &out)?;
    Ok(std::fs::metadata(&out)?.len())
}

/// The files and directories the kernel image is built from (for `rerun-if-changed`).
pub fn kernel_inputs() -> Vec<PathBuf> {
    let r = root();
    [
        "kernel/src",
        "kernel/core/src",
        "kernel/Cargo.toml",
        "kernel/core/Cargo.toml",
        "kernel/build.rs",
        "boot/head.S",
        "linker.ld",
        "Cargo.lock",
        ".cargo/config.toml",
        "rust-toolchain.toml",
    ]
    .iter()
    .map(|p| r.join(p))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_build_settings_and_keeps_user_ones() {
        for k in [
            "CARGO",
            "CARGO_MANIFEST_DIR",
            "CARGO_ENCODED_RUSTFLAGS",
            "RUSTC",
        ] {
            assert!(stripped_var(k), "{k}");
        }
        for k in [
            "RUSTC_WRAPPER",
            "RUSTDOCFLAGS",
            "RUSTFLAGS",
            "RUSTUP_TOOLCHAIN",
        ] {
            assert!(stripped_var(k), "{k}");
        }
        for k in ["CARGO_HOME", "CARGO_TARGET_DIR", "PATH", "HOME", "OUT_DIR"] {
            assert!(!stripped_var(k), "{k}");
        }
        assert!(root().join("kernel/Cargo.toml").is_file());
    }
}
