//! Building the kernel with a clean environment (nested cargo must not
//! inherit xtask's own CARGO*/RUST* settings).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "x86_64-unknown-none";

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A `cargo` command in the workspace root with inherited build settings removed.
pub fn cargo() -> Command {
    // The rustup proxy, not $CARGO: rust-toolchain.toml must pick the toolchain.
    let mut c = Command::new("cargo");
    c.current_dir(root());
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().to_string();
        let keep = matches!(
            k.as_str(),
            "CARGO_HOME" | "CARGO_TARGET_DIR" | "CARGO_TERM_COLOR"
        );
        if !keep
            && (k.starts_with("CARGO_")
                || k.starts_with("RUSTC")
                || k == "CARGO"
                || k == "RUSTFLAGS"
                || k == "RUSTUP_TOOLCHAIN")
        {
            c.env_remove(&k);
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

pub fn show(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().to_string();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Install the kernel's target with rustup if the pinned toolchain lacks it
/// (rustup does not add rust-toolchain.toml's targets to a toolchain that was already
/// installed, as on a fresh CI machine with Rust preinstalled).
pub fn ensure_target() -> Result<()> {
    let out = Command::new("rustup")
        .current_dir(root())
        .args(["target", "list", "--installed"])
        .output();
    let installed = out.map(|o| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .any(|l| l.trim() == TARGET)
    });
    if !installed.unwrap_or(false) {
        run(Command::new("rustup")
            .current_dir(root())
            .args(["target", "add", TARGET]))
        .context("installing the kernel's Rust target")?;
    }
    Ok(())
}

/// Install rustup components (e.g. clippy, rustfmt) the pinned toolchain lacks.
pub fn ensure_components(names: &[&str]) -> Result<()> {
    let out = Command::new("rustup")
        .current_dir(root())
        .args(["component", "list", "--installed"])
        .output();
    let have = out
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
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

/// Build the probe kernel (release) and return the ELF's path.
pub fn kernel() -> Result<PathBuf> {
    ensure_target()?;
    run(cargo().args(["build", "--quiet", "-p", "xenprobe-kernel", "--release", "--target", TARGET]))
        .context("building the kernel (is the x86_64-unknown-none target installed? rustup reads rust-toolchain.toml)")?;
    let elf = target_dir().join(TARGET).join("release/xenprobe");
    if !elf.is_file() {
        bail!(
            "the kernel build succeeded but {} is missing",
            elf.display()
        );
    }
    Ok(elf)
}

/// Size in bytes of the kernel with symbols stripped (what a user ships).
pub fn stripped_size(elf: &Path) -> Result<u64> {
    let out = elf.with_extension("stripped");
    let st = Command::new("strip").arg("-o").arg(&out).arg(elf).status();
    match st {
        Ok(s) if s.success() => Ok(std::fs::metadata(&out)?.len()),
        _ => bail!("`strip` (binutils) is needed to measure the stripped image size"),
    }
}
