//! The dom0 Linux kernel: its bzImage, the raw vmlinux extracted from it (Linux PV boots it
//! directly, saving the in-guest decompression, seconds under TCG), and the Xen modules.

use super::elf;
use super::host::{self, progress};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Modules of Debian's kernel dom0 loads, in insmod order (there is no modules.dep in the
/// package): the Xen drivers, then virtio-blk over PCI (the lab's input and export disks; the
/// virtio core is a module in Debian 12's 6.1 and built in Debian 13's 6.12: the ones a kernel
/// package does not have are built in).
pub const MODULES: &[&str] = &[
    "xen-evtchn",
    "xen-privcmd",
    "xenfs",
    "xen-gntdev",
    "xen-gntalloc",
    "virtio_ring",
    "virtio",
    "virtio_pci_legacy_dev",
    "virtio_pci_modern_dev",
    "virtio_pci",
    "virtio_blk",
];

/// What `tar` takes from the kernel package.
pub const TAR_PATTERNS: &[&str] = &[
    "./boot/vmlinuz-*",
    "*/drivers/xen/xen-evtchn.ko*",
    "*/drivers/xen/xen-privcmd.ko*",
    "*/drivers/xen/xenfs/xenfs.ko*",
    "*/drivers/xen/xen-gntdev.ko*",
    "*/drivers/xen/xen-gntalloc.ko*",
    "*/drivers/virtio/*",
    "*/drivers/block/virtio_blk.ko*",
];

/// Turns the unpacked `cache/linux` tree into `cache/vmlinuz`, `cache/vmlinux` (if possible)
/// and `cache/modules/*.ko`.
pub fn prepare(cache: &Path) -> Result<()> {
    let kdir = cache.join("linux");
    let boot = kdir.join("boot");
    let vmlinuz = fs::read_dir(&boot)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("vmlinuz-")
        })
        .context("no boot/vmlinuz-* in the kernel package")?;
    fs::copy(&vmlinuz, cache.join("vmlinuz"))?;
    let _ = fs::remove_file(cache.join("vmlinux"));
    match extract_vmlinux(&cache.join("vmlinuz"), cache) {
        Ok(()) => {}
        Err(e) => progress(
            None,
            &format!("note: booting the bzImage (no raw vmlinux: {e:#})"),
        ),
    }
    let mdir = cache.join("modules");
    let _ = fs::remove_dir_all(&mdir);
    fs::create_dir_all(&mdir)?;
    for m in MODULES {
        match install_module(&kdir, m, &mdir) {
            Err(_) if m.starts_with("virtio") && *m != "virtio_blk" => {}
            r => r?,
        }
    }
    fs::remove_dir_all(&kdir)?;
    Ok(())
}

fn extract_vmlinux(vmlinuz: &Path, cache: &Path) -> Result<()> {
    let bz = fs::read(vmlinuz)?;
    let (kind, payload) = elf::bzimage_payload(&bz)?;
    let (tool, args) = kind.command();
    host::which(tool).with_context(|| format!("`{tool}` is not installed"))?;
    let packed = cache.join("vmlinux.packed");
    fs::write(&packed, payload)?;
    let raw = decompress(tool, args, &packed);
    let _ = fs::remove_file(&packed);
    let compact = elf::compact_exec(&raw?)?;
    fs::write(cache.join("vmlinux"), compact)?;
    Ok(())
}

fn decompress(tool: &str, args: &[&str], file: &Path) -> Result<Vec<u8>> {
    eprintln!("[lab] $ {tool} {} {}", args.join(" "), file.display());
    let out = Command::new(tool).args(args).arg(file).output()?;
    if !out.status.success() {
        bail!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

fn find_file(dir: &Path, stem: &str) -> Option<PathBuf> {
    for e in fs::read_dir(dir).ok()?.filter_map(|e| e.ok()) {
        let p = e.path();
        if p.is_dir() {
            if let Some(f) = find_file(&p, stem) {
                return Some(f);
            }
        } else if p
            .file_name()?
            .to_string_lossy()
            .starts_with(&format!("{stem}.ko"))
        {
            return Some(p);
        }
    }
    None
}

/// Copies (decompressing .ko.xz / .ko.zst / .ko.gz) one module to `mdir/NAME.ko`.
fn install_module(kdir: &Path, name: &str, mdir: &Path) -> Result<()> {
    let src = find_file(kdir, name)
        .with_context(|| format!("module {name}.ko not in the kernel package"))?;
    let dst = mdir.join(format!("{name}.ko"));
    let ext = src
        .extension()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let data = match ext.as_str() {
        "ko" => fs::read(&src)?,
        "xz" => decompress("xz", &["-dc"], &src)?,
        "zst" => decompress("zstd", &["-dcq"], &src)?,
        "gz" => decompress("gzip", &["-dc"], &src)?,
        _ => bail!("unknown module file {}", src.display()),
    };
    fs::write(dst, data)?;
    Ok(())
}
