//! Provisioning of the lab into a cache directory, without installing Xen on the host:
//! `apt-get download` the Debian packages of a release (apt.rs), unpack them with `dpkg-deb`,
//! take the hypervisor, the dom0 kernel and its Xen modules, and build the static part of the
//! dom0 initramfs.
//!
//! Cache layout (`$XENPROBE_CACHE`, else `$HOME/.cache/xenprobe`), one directory per release
//! (`4.17/`, `4.20/`): `root/` unpacked packages, `xen` (gunzipped hypervisor), `vmlinux` (or
//! `vmlinuz`), `modules/*.ko`, `initrd-base.cpio` (static initramfs entries, no trailer) and
//! `stamp` (format, release, sha256 of xen/kernel/initramfs base, package versions), written
//! last and atomically: an interrupted provisioning leaves no stamp. Beside them: `apt-trixie/`
//! (the private apt configuration of 4.20), `custom/` (prepared `--xen`/`--dom0-kernel`
//! images) and `<release>.lock`: runs hold it shared, provisioning exclusively, so two lab
//! runs at once never see a half-written cache. A valid stamp makes `provision` return at
//! once: set `XENPROBE_REFRESH=1` (or delete the directory) to fetch current package versions.

use super::apt::{self, Apt};
use super::host::{self, progress, run};
use super::image::{sha256, write_atomic};
use super::release::Release;
use super::{initramfs, kernel};
use anyhow::{Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

/// Bump when the cache layout or the base initramfs contents change.
const FORMAT: &str = "xenprobe-lab-5";

/// What a run needs from the cache (some fields are for the CLI's reports only).
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub struct Assets {
    pub cache: PathBuf,
    pub release: Release,
    /// The hypervisor, uncompressed (QEMU `-kernel` loads it as multiboot).
    pub xen: PathBuf,
    /// dom0 Linux: the compacted vmlinux, or the bzImage if it could not be extracted.
    pub dom0_kernel: PathBuf,
    /// Static entries of the dom0 initramfs (busybox, Xen tools, libraries, modules).
    pub initrd_base: PathBuf,
    /// Unpacked packages (for tools a later probe wants to ship).
    pub root: PathBuf,
    /// The stamp: format, release, sha256 of the boot files, `package=version` lines.
    pub stamp: String,
    /// The release's cache lock, held shared while these assets are in use.
    lock: Arc<CacheLock>,
}

impl Assets {
    /// sha256 of a boot file (`xen`, `dom0_kernel`, `initrd_base`), as recorded in the stamp.
    pub fn stamp_sha(&self, file: &str) -> Option<&str> {
        let key = format!("sha256 {file}=");
        self.stamp
            .lines()
            .find_map(|l| l.strip_prefix(key.as_str()))
    }
}

pub fn cache_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("XENPROBE_CACHE") {
        return Ok(PathBuf::from(d));
    }
    let home = std::env::var_os("HOME").context("neither XENPROBE_CACHE nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cache/xenprobe"))
}

/// An flock on `<cache>/<release>.lock`: shared while a run uses the release's files,
/// exclusive while they are written. Released when dropped.
#[derive(Debug)]
pub struct CacheLock(fs::File);

impl CacheLock {
    pub fn open(path: &Path) -> Result<CacheLock> {
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("opening the lock {}", path.display()))?;
        Ok(CacheLock(f))
    }

    pub fn shared(&self, what: &str) -> Result<()> {
        if self.0.try_lock_shared().is_err() {
            progress(None, &format!("waiting for another lab run ({what})"));
            self.0.lock_shared()?;
        }
        Ok(())
    }

    /// Takes the lock shared if nobody holds it exclusively.
    pub fn try_shared(&self) -> bool {
        self.0.try_lock_shared().is_ok()
    }

    /// Takes the lock exclusively if nobody holds it.
    pub fn try_exclusive(&self) -> bool {
        self.0.try_lock().is_ok()
    }

    pub fn exclusive(&self, what: &str) -> Result<()> {
        if self.0.try_lock().is_err() {
            progress(
                None,
                &format!("waiting for other lab runs to finish ({what})"),
            );
            self.0.lock()?;
        }
        Ok(())
    }
}

/// Idempotent; returns at once when the release's stamp matches.
pub fn provision(release: Release, verbose: bool) -> Result<Assets> {
    host::ensure_tool("qemu-system-x86_64", "qemu-system-x86")?;
    let top = cache_dir()?;
    fs::create_dir_all(&top).with_context(|| format!("creating {}", top.display()))?;
    let dir = release.dir(&top);
    let lock = Arc::new(CacheLock::open(
        &top.join(format!("{}.lock", release.name())),
    )?);
    let refresh = std::env::var_os("XENPROBE_REFRESH").is_some();
    if !refresh {
        lock.shared("provisioning")?;
        if let Some(a) = cached(&dir, release, &lock) {
            return Ok(a);
        }
    }
    lock.exclusive(&format!("to provision Xen {}", release.name()))?;
    if let Some(a) = cached(&dir, release, &lock).filter(|_| !refresh) {
        lock.shared("provisioning")?;
        return Ok(a);
    }
    let t0 = Instant::now();
    let what = format!("Xen {} ({})", release.name(), release.debian());
    progress(None, &format!("provisioning {what} into {}", dir.display()));
    let a = provision_fresh(&top, release, verbose, &lock)
        .with_context(|| format!("provisioning the virtual lab ({what}) failed"))?;
    progress(
        None,
        &format!("provisioned in {:.1}s", t0.elapsed().as_secs_f64()),
    );
    lock.shared("provisioning")?;
    Ok(a)
}

fn assets(dir: &Path, release: Release, stamp: String, lock: &Arc<CacheLock>) -> Assets {
    let vmlinux = dir.join("vmlinux");
    Assets {
        cache: dir.to_path_buf(),
        release,
        xen: dir.join("xen"),
        dom0_kernel: if vmlinux.exists() {
            vmlinux
        } else {
            dir.join("vmlinuz")
        },
        initrd_base: dir.join("initrd-base.cpio"),
        root: dir.join("root"),
        stamp,
        lock: lock.clone(),
    }
}

fn cached(dir: &Path, release: Release, lock: &Arc<CacheLock>) -> Option<Assets> {
    let stamp = fs::read_to_string(dir.join("stamp")).ok()?;
    let mut lines = stamp.lines();
    (lines.next()? == FORMAT).then_some(())?;
    (lines.next()? == format!("release={}", release.name())).then_some(())?;
    let a = assets(dir, release, stamp.clone(), lock);
    [&a.xen, &a.dom0_kernel, &a.initrd_base]
        .iter()
        .all(|p| p.is_file())
        .then_some(a)
}

fn apt_for(top: &Path, release: Release) -> Result<Apt> {
    match release.private_suite() {
        None => Ok(Apt::host()),
        Some(suite) => Apt::private(&top.join(format!("apt-{suite}")), suite),
    }
}

fn provision_fresh(
    top: &Path,
    release: Release,
    verbose: bool,
    lock: &Arc<CacheLock>,
) -> Result<Assets> {
    for tool in [
        "apt-get",
        "apt-cache",
        "dpkg-deb",
        "tar",
        "gzip",
        "sha256sum",
    ] {
        host::which(tool)
            .with_context(|| format!("`{tool}` not found: the lab needs a Debian host"))?;
    }
    let dir = release.dir(top);
    fs::create_dir_all(&dir)?;
    let _ = fs::remove_file(dir.join("stamp"));
    let apt = apt_for(top, release)?;
    let linux = apt.linux_image_package()?;
    let dl = apt::download_dir()?;
    let mut names: Vec<String> = release.packages();
    names.push(linux.clone());
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    apt.download(&dl.0, &names)?;
    let debs = apt::find_debs(&dl.0, &names)?;
    let versions: Vec<String> = debs
        .iter()
        .map(|(n, d)| format!("{n}={}", apt::deb_version(n, d)))
        .collect();
    build_boot_files(&dir, release, &debs, &linux, verbose)?;
    let a = assets(&dir, release, String::new(), lock);
    let stamp = stamp_text(&a, &versions)?;
    write_atomic(&dir.join("stamp"), stamp.as_bytes())?;
    Ok(Assets { stamp, ..a })
}

/// Unpacks the packages and derives the hypervisor, the kernel and the initramfs base.
fn build_boot_files(
    dir: &Path,
    release: Release,
    debs: &[(String, PathBuf)],
    linux: &str,
    verbose: bool,
) -> Result<()> {
    let root = dir.join("root");
    apt::unpack(debs, linux, &root, dir)?;
    run(Command::new("sh")
        .arg("-c")
        .arg("gzip -dc \"$0\" > \"$1\"")
        .arg(root.join(release.xen_gz()))
        .arg(dir.join("xen")))?;
    kernel::prepare(dir)?;
    initramfs::build_base(
        &root,
        &dir.join("modules"),
        &dir.join("initrd-base.cpio"),
        release,
        verbose,
    )
}

fn stamp_text(a: &Assets, versions: &[String]) -> Result<String> {
    Ok(format!(
        "{FORMAT}\nrelease={}\nsha256 xen={}\nsha256 dom0_kernel={}\nsha256 initrd_base={}\n{}\n",
        a.release.name(),
        sha256(&a.xen)?,
        sha256(&a.dom0_kernel)?,
        sha256(&a.initrd_base)?,
        versions.join("\n")
    ))
}
