//! The probe image embedded at build time (build.rs): a stripped x86_64 ELF that Xen boots as
//! a 64-bit PV guest. Nothing else needs to be copied to a host.

use anyhow::{ensure, Context, Result};
use std::path::Path;

/// The image's bytes.
pub const IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/xenprobe-probe.elf"));

/// Write the image to `path` (creating its directory), unless the same bytes are there.
pub fn write(path: &Path) -> Result<()> {
    check()?;
    if std::fs::read(path).is_ok_and(|b| b == IMAGE) {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, IMAGE)
        .with_context(|| format!("writing the probe image {}", path.display()))
}

/// Check that the embedded bytes are a 64-bit x86 ELF executable.
pub fn check() -> Result<()> {
    ensure!(
        IMAGE.len() > 64 && &IMAGE[..4] == b"\x7fELF",
        "the embedded probe image is not an ELF file"
    );
    ensure!(
        IMAGE[4] == 2 && IMAGE[18] == 62,
        "the embedded probe image is not a 64-bit x86 ELF"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_image_is_an_x86_64_elf_with_xen_notes() {
        super::check().unwrap();
        // The Xen ELF notes (PLATFORM.md: name "Xen") survive stripping.
        let xen = super::IMAGE.windows(4).any(|w| w == b"Xen\0");
        assert!(xen, "no Xen ELF note in the embedded image");
        assert!(super::IMAGE.len() < 512 * 1024, "image over 512 KiB");
    }
}
