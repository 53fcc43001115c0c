//! Embeds the probe image: builds the kernel for x86_64-unknown-none with the same code as
//! `cargo xtask build` (crate xp-kbuild: nested cargo without our CARGO*/RUST* environment),
//! into a target directory of its own (the outer cargo holds a lock on ours), strips it, and
//! leaves it in OUT_DIR for `include_bytes!`. `XENPROBE_KERNEL=FILE` embeds a prebuilt image
//! instead (xtask passes the one it just built).

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=XENPROBE_KERNEL");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let elf = match std::env::var_os("XENPROBE_KERNEL") {
        Some(p) => PathBuf::from(p),
        None => build_kernel(&out),
    };
    println!("cargo:rerun-if-changed={}", elf.display());
    let dest = out.join("xenprobe-probe.elf");
    if let Err(e) = xp_kbuild::strip(&elf, &dest) {
        println!("cargo:warning=embedding the probe image with its symbols: {e}");
        std::fs::copy(&elf, &dest)
            .unwrap_or_else(|e| fail(&format!("copying {}: {e}", elf.display())));
    }
}

fn build_kernel(out: &Path) -> PathBuf {
    for p in xp_kbuild::kernel_inputs() {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    xp_kbuild::kernel_in(&kernel_target_dir(out))
        .unwrap_or_else(|e| fail(&format!("building the embedded probe image: {e:#}")))
}

/// `<outer target dir>/embedded-probe`: the outer target directory is the nearest ancestor of
/// OUT_DIR that cargo tagged with CACHEDIR.TAG (so debug, release and `--target` builds share
/// one kernel build); OUT_DIR itself when there is none.
fn kernel_target_dir(out: &Path) -> PathBuf {
    out.ancestors()
        .find(|a| a.join("CACHEDIR.TAG").is_file())
        .unwrap_or(out)
        .join("embedded-probe")
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1)
}
