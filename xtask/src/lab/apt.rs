//! apt for provisioning: the host's own configuration (Debian 12), or a private one under the
//! cache for another Debian suite (own sources list, state and archive directories; the host's
//! apt sources are left as they are). Packages are only downloaded and unpacked, never installed.

use super::host::{self, progress, run};
use super::kernel;
use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How apt is called for one release.
pub struct Apt {
    /// `-o` options of a private configuration (empty: the host's).
    opts: Vec<String>,
    private: bool,
}

const ARCHIVE: &str = "http://deb.debian.org/debian";
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

impl Apt {
    pub fn host() -> Apt {
        Apt {
            opts: Vec::new(),
            private: false,
        }
    }

    /// A private configuration for `suite` in `dir` (created; its lists fetched once).
    pub fn private(dir: &Path, suite: &str) -> Result<Apt> {
        for d in [
            "state/lists/partial",
            "cache/archives/partial",
            "sources.list.d",
        ] {
            fs::create_dir_all(dir.join(d))?;
        }
        let line = format!("deb [signed-by={KEYRING}] {ARCHIVE} {suite} main\n");
        fs::write(dir.join("sources.list"), line)?;
        let d = dir.display();
        let opts = [
            format!("Dir::Etc::sourcelist={d}/sources.list"),
            format!("Dir::Etc::sourceparts={d}/sources.list.d"),
            format!("Dir::State={d}/state"),
            format!("Dir::Cache={d}/cache"),
        ];
        let apt = Apt {
            opts: opts
                .iter()
                .flat_map(|o| ["-o".to_string(), o.clone()])
                .collect(),
            private: true,
        };
        let lists = fs::read_dir(dir.join("state/lists"))?.count();
        if lists <= 1 {
            apt.update()?;
        }
        Ok(apt)
    }

    /// The host's apt is shared with the other xtasks (`host::apt_lock`); a private one is not.
    fn lock(&self) -> Result<Option<fs::File>> {
        (!self.private).then(host::apt_lock).transpose()
    }

    fn cmd(&self, prog: &str) -> Command {
        let mut c = Command::new(prog);
        c.args(&self.opts);
        c
    }

    pub fn update(&self) -> Result<()> {
        if !self.private && !host::is_root() {
            bail!("apt package lists are missing or stale: run `sudo apt-get update`");
        }
        let _lock = self.lock()?;
        run(self.cmd("apt-get").args(["update", "-q"])).map(drop)
    }

    /// The real kernel package that the linux-image-amd64 metapackage depends on.
    pub fn linux_image_package(&self) -> Result<String> {
        let query = || run(self.cmd("apt-cache").args(["depends", "linux-image-amd64"]));
        let find = |out: String| {
            out.lines()
                .filter_map(|l| l.trim().strip_prefix("Depends: "))
                .find(|p| p.starts_with("linux-image-") && p.ends_with("-amd64"))
                .map(String::from)
        };
        if let Some(p) = query().ok().and_then(find) {
            return Ok(p);
        }
        self.update()?;
        query()
            .ok()
            .and_then(find)
            .context("apt-cache cannot resolve linux-image-amd64 to a linux-image-*-amd64 package")
    }

    pub fn download(&self, dir: &Path, names: &[&str]) -> Result<()> {
        let get = || {
            let _lock = self.lock()?;
            run(self
                .cmd("apt-get")
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
        self.update()?;
        get().map(drop)
    }
}

/// Removed when dropped, also when provisioning fails half-way.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A world-writable temporary directory, so that apt's `_apt` user may write into it.
pub fn download_dir() -> Result<TempDir> {
    use std::os::unix::fs::PermissionsExt;
    let d = std::env::temp_dir().join(format!("xenprobe-debs-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d)?;
    fs::set_permissions(&d, fs::Permissions::from_mode(0o777))?;
    Ok(TempDir(d))
}

/// Maps each package name to its downloaded file (`name_version_arch.deb`).
pub fn find_debs(dir: &Path, names: &[&str]) -> Result<Vec<(String, PathBuf)>> {
    let files: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let find = |n: &&str| {
        let prefix = format!("{n}_");
        let f = files.iter().find(|f| {
            f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&prefix)
        });
        let f = f.with_context(|| format!("apt-get download gave no {n}_*.deb"))?;
        Ok((n.to_string(), f.clone()))
    };
    names.iter().map(find).collect()
}

/// The version in apt's file name `name_version_arch.deb` (':' of an epoch escaped as %3a).
pub fn deb_version(name: &str, deb: &Path) -> String {
    let file = deb.file_name().unwrap_or_default().to_string_lossy();
    let rest = file
        .strip_prefix(name)
        .and_then(|r| r.strip_prefix('_'))
        .unwrap_or(&file);
    let version = rest.rsplit_once('_').map_or(rest, |(v, _)| v);
    version.replace("%3a", ":")
}

/// Unpacks every package into `root`, and from the kernel package only the bzImage and the Xen
/// modules (into `cache/linux`, from where `kernel::prepare` takes them).
pub fn unpack(debs: &[(String, PathBuf)], linux: &str, root: &Path, cache: &Path) -> Result<()> {
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
