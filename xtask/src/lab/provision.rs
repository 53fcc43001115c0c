//! Provisioning of the lab into a cache directory, without installing Xen on the host:
//! `apt-get download` the Debian packages, unpack them with `dpkg-deb`, take the hypervisor,
//! the dom0 kernel and its Xen modules, and build the static part of the dom0 initramfs.
//!
//! Cache layout (`$XENPROBE_CACHE`, else `$HOME/.cache/xenprobe`):
//! `root/` unpacked packages, `xen` (gunzipped hypervisor), `vmlinux` (or `vmlinuz`),
//! `modules/*.ko`, `initrd-base.cpio` (static initramfs entries, no trailer) and `stamp`
//! (format and package versions). A valid stamp makes `provision` return at once: set
//! `XENPROBE_REFRESH=1` (or delete the cache) to fetch the current package versions.

use super::host::{self, progress, run};
use super::{initramfs, kernel};
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Bump when the cache layout or the base initramfs contents change.
const FORMAT: &str = "xenprobe-lab-3";

/// Debian packages besides the real linux-image-6.1.0-*-amd64 (resolved from linux-image-amd64).
const PACKAGES: &[&str] = &[
    "xen-hypervisor-4.17-amd64",
    "xen-utils-4.17",
    "xen-utils-common",
    "xenstore-utils",
    "busybox-static",
    "libxenmisc4.17",
    "libxencall1",
    "libxenevtchn1",
    "libxenforeignmemory1",
    "libxengnttab1",
    "libxenstore4",
    "libxentoollog1",
    "libxendevicemodel1",
    "libxenhypfs1",
    "libxentoolcore1",
    "libyajl2",
    "libzstd1",
    "zlib1g",
    "liblzma5",
    "libuuid1",
    "libc6",
    "libgcc-s1",
];

/// What a run needs from the cache (some fields are for the CLI's reports only).
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub struct Assets {
    pub cache: PathBuf,
    /// The hypervisor, uncompressed (QEMU `-kernel` loads it as multiboot).
    pub xen: PathBuf,
    /// dom0 Linux: the compacted vmlinux, or the bzImage if it could not be extracted.
    pub dom0_kernel: PathBuf,
    /// Static entries of the dom0 initramfs (busybox, Xen tools, libraries, modules).
    pub initrd_base: PathBuf,
    /// Unpacked packages (for tools a later probe wants to ship).
    pub root: PathBuf,
    /// `package=version` lines of what was provisioned.
    pub versions: Vec<String>,
}

pub fn cache_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("XENPROBE_CACHE") {
        return Ok(PathBuf::from(d));
    }
    let home = std::env::var_os("HOME").context("neither XENPROBE_CACHE nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cache/xenprobe"))
}

/// Idempotent; returns at once when the stamp matches.
pub fn provision(verbose: bool) -> Result<Assets> {
    host::ensure_tool("qemu-system-x86_64", "qemu-system-x86")?;
    let cache = cache_dir()?;
    if std::env::var_os("XENPROBE_REFRESH").is_none() {
        if let Some(a) = cached(&cache) {
            return Ok(a);
        }
    }
    let t0 = Instant::now();
    progress(
        None,
        &format!("provisioning the virtual lab into {}", cache.display()),
    );
    let a = provision_fresh(&cache, verbose).context("provisioning the virtual lab failed")?;
    progress(
        None,
        &format!("provisioned in {:.1}s", t0.elapsed().as_secs_f64()),
    );
    Ok(a)
}

fn assets(cache: &Path, versions: Vec<String>) -> Assets {
    let vmlinux = cache.join("vmlinux");
    Assets {
        cache: cache.to_path_buf(),
        xen: cache.join("xen"),
        dom0_kernel: if vmlinux.exists() {
            vmlinux
        } else {
            cache.join("vmlinuz")
        },
        initrd_base: cache.join("initrd-base.cpio"),
        root: cache.join("root"),
        versions,
    }
}

fn cached(cache: &Path) -> Option<Assets> {
    let stamp = fs::read_to_string(cache.join("stamp")).ok()?;
    let mut lines = stamp.lines();
    (lines.next()? == FORMAT).then_some(())?;
    let a = assets(cache, lines.map(String::from).collect());
    [&a.xen, &a.dom0_kernel, &a.initrd_base]
        .iter()
        .all(|p| p.is_file())
        .then_some(a)
}

fn provision_fresh(cache: &Path, verbose: bool) -> Result<Assets> {
    for tool in ["apt-get", "apt-cache", "dpkg-deb", "tar", "gzip"] {
        host::which(tool)
            .with_context(|| format!("`{tool}` not found: the lab needs a Debian 12 host"))?;
    }
    fs::create_dir_all(cache)?;
    let _ = fs::remove_file(cache.join("stamp"));
    let linux = linux_image_package()?;
    let dl = TempDir(download_dir()?);
    let dl = &dl.0;
    let mut names: Vec<&str> = PACKAGES.to_vec();
    names.push(&linux);
    download(dl, &names)?;
    let debs = find_debs(dl, &names)?;
    let versions: Vec<String> = debs
        .iter()
        .map(|(n, d)| format!("{n}={}", deb_version(n, d)))
        .collect();
    let root = cache.join("root");
    unpack(&debs, &linux, &root, cache)?;
    run(Command::new("sh")
        .arg("-c")
        .arg("gzip -dc \"$0\"/boot/xen-4.17-amd64.gz > \"$1\"")
        .arg(&root)
        .arg(cache.join("xen")))?;
    kernel::prepare(cache)?;
    initramfs::build_base(
        &root,
        &cache.join("modules"),
        &cache.join("initrd-base.cpio"),
        verbose,
    )?;
    fs::write(
        cache.join("stamp"),
        format!("{FORMAT}\n{}\n", versions.join("\n")),
    )?;
    Ok(assets(cache, versions))
}

/// The real kernel package that the linux-image-amd64 metapackage depends on.
fn linux_image_package() -> Result<String> {
    let query = || run(Command::new("apt-cache").args(["depends", "linux-image-amd64"]));
    let find = |out: String| {
        out.lines()
            .filter_map(|l| l.trim().strip_prefix("Depends: "))
            .find(|p| p.starts_with("linux-image-") && p.ends_with("-amd64"))
            .map(String::from)
    };
    if let Some(p) = query().ok().and_then(find) {
        return Ok(p);
    }
    apt_update()?;
    query()
        .ok()
        .and_then(find)
        .context("apt-cache cannot resolve linux-image-amd64 to a linux-image-*-amd64 package")
}

fn apt_update() -> Result<()> {
    if !host::is_root() {
        bail!("apt package lists are missing or stale: run `sudo apt-get update`");
    }
    run(Command::new("apt-get").args(["update", "-q"])).map(drop)
}

/// Removed when dropped, also when provisioning fails half-way.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A world-writable temporary directory, so that apt's `_apt` user may write into it.
fn download_dir() -> Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let d = std::env::temp_dir().join(format!("xenprobe-debs-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d)?;
    fs::set_permissions(&d, fs::Permissions::from_mode(0o777))?;
    Ok(d)
}

fn download(dir: &Path, names: &[&str]) -> Result<()> {
    let get = || {
        run(Command::new("apt-get")
            .args(["download", "-q"])
            .args(names)
            .current_dir(dir))
    };
    if get().is_ok() {
        return Ok(());
    }
    progress(
        None,
        "apt-get download failed: refreshing the package lists and retrying",
    );
    apt_update()?;
    get().map(drop)
}

/// Maps each package name to its downloaded file (`name_version_arch.deb`).
fn find_debs(dir: &Path, names: &[&str]) -> Result<Vec<(String, PathBuf)>> {
    let files: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    names
        .iter()
        .map(|n| {
            let prefix = format!("{n}_");
            let f = files.iter().find(|f| {
                f.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&prefix)
            });
            Ok((
                n.to_string(),
                f.with_context(|| format!("apt-get download gave no {n}_*.deb"))?
                    .clone(),
            ))
        })
        .collect()
}

/// The version in apt's file name `name_version_arch.deb` (':' of an epoch escaped as %3a).
fn deb_version(name: &str, deb: &Path) -> String {
    let file = deb.file_name().unwrap_or_default().to_string_lossy();
    let rest = file
        .strip_prefix(name)
        .and_then(|r| r.strip_prefix('_'))
        .unwrap_or(&file);
    let version = rest.rsplit_once('_').map_or(rest, |(v, _)| v);
    version.replace("%3a", ":")
}

/// Unpacks every package into `root`, and from the kernel package only the bzImage and the Xen
/// modules (into `cache`, from where `kernel::prepare` takes them).
fn unpack(debs: &[(String, PathBuf)], linux: &str, root: &Path, cache: &Path) -> Result<()> {
    let _ = fs::remove_dir_all(root);
    fs::create_dir_all(root)?;
    let kdir = cache.join("linux");
    let _ = fs::remove_dir_all(&kdir);
    fs::create_dir_all(&kdir)?;
    let (_, kdeb) = debs.iter().find(|(n, _)| n == linux).unwrap();
    let patterns = kernel::TAR_PATTERNS
        .iter()
        .map(|p| format!("'{p}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let script =
        format!("dpkg-deb --fsys-tarfile \"$0\" | tar -x -C \"$1\" --wildcards {patterns}");
    let mut klinux = Command::new("sh");
    klinux.arg("-c").arg(script).arg(kdeb).arg(&kdir);
    let kthread = std::thread::spawn(move || run(&mut klinux));
    for (_, deb) in debs.iter().filter(|(n, _)| n != linux) {
        run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(root))?;
    }
    kthread.join().expect("kernel unpack thread panicked")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_from_apt_file_name() {
        let v = deb_version("zlib1g", Path::new("/t/zlib1g_1%3a1.2.13.dfsg-1_amd64.deb"));
        assert_eq!(v, "1:1.2.13.dfsg-1");
        let v = deb_version(
            "xen-utils-4.17",
            Path::new("xen-utils-4.17_4.17.7+13-g2445b30a44-0+deb12u1_amd64.deb"),
        );
        assert_eq!(v, "4.17.7+13-g2445b30a44-0+deb12u1");
    }
}
