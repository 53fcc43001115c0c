//! Links the kernel binary (only it) with the project's linker script.
fn main() {
    let dir = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let script = dir.join("../linker.ld");
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    println!("cargo:rustc-link-arg-bins=--gc-sections");
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rerun-if-changed=../boot/head.S");
    for f in ["src/arch/traps.S", "src/arch/upcall.S", "src/arch/regs.S"] {
        println!("cargo:rerun-if-changed={f}");
    }
}
