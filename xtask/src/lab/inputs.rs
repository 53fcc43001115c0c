//! The lab's channel for a run's files, both ways, as two virtio disks (raw files in the run's
//! out_dir): `input.img` (serial "xpin", read-only) carries a 4 KiB header `XPIN1 <blocks>`
//! and a newc archive of the run's inputs (initramfs::run_entries); `export.img` (serial
//! "xpout") comes back holding a newc archive of what dom0 left in `$EXPORT`, unpacked into
//! `<out_dir>/export/`. Both have fixed sizes (sparse files), so that a lab saved with one
//! run's disks restores with another's (virtio-blk's capacity is read once, at probe time).

use super::{cpio, initramfs, LabConfig};
use anyhow::{bail, Context, Result};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

const BLOCK: usize = 4096;
pub const INPUT_BYTES: u64 = 128 << 20;
pub const EXPORT_BYTES: u64 = 256 << 20;

/// The QEMU options of both disks.
pub fn qemu_args(input: &Path, export: &Path) -> Vec<String> {
    let esc = |p: &Path| p.to_string_lossy().replace(',', ",,");
    vec![
        "-drive".into(),
        format!("if=none,id=xpin,file={},format=raw,readonly=on", esc(input)),
        "-device".into(),
        "virtio-blk-pci,drive=xpin,serial=xpin".into(),
        "-drive".into(),
        format!("if=none,id=xpout,file={},format=raw", esc(export)),
        "-device".into(),
        "virtio-blk-pci,drive=xpout,serial=xpout".into(),
    ]
}

/// Writes both disks of a run; returns (input, export).
pub fn write_disks(cfg: &LabConfig) -> Result<(PathBuf, PathBuf)> {
    let archive = initramfs::run_entries(cfg, Vec::new())?;
    let blocks = archive.len().div_ceil(BLOCK);
    let max = INPUT_BYTES as usize / BLOCK - 1;
    if blocks > max {
        bail!(
            "the run's inputs (probe, peers' kernels, configs) take {} MiB: more than the lab's \
             input disk ({} MiB)",
            archive.len() >> 20,
            (max * BLOCK) >> 20
        );
    }
    let mut data = format!("XPIN1 {blocks}\n").into_bytes();
    data.resize(BLOCK, 0);
    data.extend_from_slice(&archive);
    let input = cfg.out_dir.join("input.img");
    write_sized(&input, &data, INPUT_BYTES)?;
    let export = cfg.out_dir.join("export.img");
    write_sized(&export, &[], EXPORT_BYTES)?;
    Ok((input.canonicalize()?, export.canonicalize()?))
}

fn write_sized(path: &Path, data: &[u8], size: u64) -> Result<()> {
    let _ = fs::remove_file(path);
    fs::write(path, data).with_context(|| format!("writing {}", path.display()))?;
    let f = fs::OpenOptions::new().write(true).open(path)?;
    f.set_len(size)?;
    Ok(())
}

/// Unpacks what dom0 exported into `<out_dir>/export/`; returns the files' paths.
pub fn read_export(out_dir: &Path) -> Result<Vec<PathBuf>> {
    let img = out_dir.join("export.img");
    // Most runs export nothing: the disk (sparse, 256 MiB) is read only when it starts with
    // an archive, so that an empty one costs one small read instead of 256 MiB of zeros.
    let mut magic = [0u8; 6];
    let has_archive = fs::File::open(&img)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"070701");
    if !has_archive {
        return Ok(Vec::new());
    }
    let data = fs::read(&img).with_context(|| format!("reading {}", img.display()))?;
    let entries =
        cpio::parse(&data).map_err(|e| anyhow::anyhow!("the export disk's archive: {e}"))?;
    let dir = out_dir.join("export");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    let mut files = Vec::new();
    for e in entries {
        files.extend(unpack_entry(&dir, &e)?);
    }
    Ok(files)
}

fn unpack_entry(dir: &Path, e: &cpio::Entry) -> Result<Option<PathBuf>> {
    let name = e.name.trim_start_matches("./");
    let safe = !name.is_empty() && name != "." && !name.split('/').any(|c| c == "..");
    if !safe || name.starts_with('/') {
        return Ok(None);
    }
    let path = dir.join(name);
    match e.mode & 0o170000 {
        0o040000 => fs::create_dir_all(&path)?,
        0o100000 => {
            if let Some(p) = path.parent() {
                fs::create_dir_all(p)?;
            }
            fs::write(&path, &e.data).with_context(|| format!("writing {}", path.display()))?;
            return Ok(Some(path));
        }
        _ => {}
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::cpio::CpioWriter;

    #[test]
    fn export_archive_is_unpacked_safely() {
        let dir = std::env::temp_dir().join(format!("xp-export-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let mut w = CpioWriter::new(Vec::new(), 1);
        w.dir(".").unwrap();
        w.dir("./trace").unwrap();
        w.file("./trace/t.bin", 0o644, b"abc").unwrap();
        w.file("../evil", 0o644, b"x").unwrap();
        let mut img = w.finish().unwrap();
        img.resize(8192, 0);
        fs::write(dir.join("export.img"), &img).unwrap();
        let files = read_export(&dir).unwrap();
        assert_eq!(files, [dir.join("export/trace/t.bin")]);
        assert_eq!(fs::read(&files[0]).unwrap(), b"abc");
        fs::write(dir.join("export.img"), [0u8; 512]).unwrap();
        assert!(
            read_export(&dir).unwrap().is_empty(),
            "an empty disk exports nothing"
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
