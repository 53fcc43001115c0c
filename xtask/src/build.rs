//! Building the kernel: the shared implementation in xtask/kbuild (crate xp-kbuild), which the
//! `xenprobe` host binary's build script uses too.

use anyhow::Result;
pub use xp_kbuild::{cargo, ensure_components, kernel, root, run, stripped_size, TARGET};

/// Install the kernel's target with rustup if the pinned toolchain lacks it (rustup does not
/// add rust-toolchain.toml's targets to a toolchain that was already installed, as on a fresh
/// CI machine with Rust preinstalled).
pub fn ensure_target() -> Result<()> {
    xp_kbuild::ensure_target(TARGET)
}
