//! Building the kernel: the shared implementation in xtask/kbuild (crate xp-kbuild), which the
//! `xenprobe` host binary's build script uses too.

use anyhow::Result;
use std::path::PathBuf;
pub use xp_kbuild::{cargo, ensure_components, root, run, stripped_size, TARGET};

/// Set by `cargo xtask test` for the child xtasks that run its lab scenarios: the probe
/// kernel and the static host binary it built once before starting them, so that a child
/// does not run cargo and rustup again for each run (about 0.5 s of CPU time each).
pub const CHILD_KERNEL: &str = "XENPROBE_XTASK_CHILD_KERNEL";
pub const CHILD_HOST_BIN: &str = "XENPROBE_XTASK_CHILD_HOST_BIN";

/// A file the parent `cargo xtask test` built (`var` names it), if this is one of its children.
pub fn prebuilt(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_file())
}

/// Build the probe kernel (or take the one the parent `cargo xtask test` built).
pub fn kernel() -> Result<PathBuf> {
    prebuilt(CHILD_KERNEL).map_or_else(xp_kbuild::kernel, Ok)
}

/// Install the kernel's target with rustup if the pinned toolchain lacks it (rustup does not
/// add rust-toolchain.toml's targets to a toolchain that was already installed, as on a fresh
/// CI machine with Rust preinstalled).
pub fn ensure_target() -> Result<()> {
    xp_kbuild::ensure_target(TARGET)
}
