//! Saved labs: the whole machine (Xen, dom0 with xenstored and xenconsoled running) saved at
//! init's `XPLAB ready` as a QEMU migration stream, and restored by later runs with
//! `-incoming` instead of booting Xen and Linux again. A run's own files come afterwards on
//! the input disk (inputs.rs).
//!
//! A saved lab is named by the sha256 of everything it holds: QEMU's version and binary, the
//! release's stamp (sha256 of its hypervisor, dom0 kernel and initramfs base), and the
//! machine's full command line (memory, pCPUs, hypervisor and dom0 kernel files - content-named
//! for `--xen`/`--dom0-kernel` -, Xen's and dom0's command lines with the scheduler, the
//! xenstored and the dom0 CPU layout, the boot initramfs named by the init script's hash). Any
//! change gives another name, so a lab is never restored across inputs. Layout:
//! `<cache>/labs/<name>/{state,key.txt,banner.txt,stamp}` and `<name>.lock` (exclusive while
//! it is saved, shared while a run restores it); the stamp is written after the state, so an
//! interrupted save leaves none. Its mtime is the lab's last use: labs_gc.rs removes labs
//! unused for long or beyond a size budget after each save.

use super::image::{sha256_bytes, write_atomic};
use super::labs_gc;
use super::provision::CacheLock;
use anyhow::{Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Snapshot {
    dir: PathBuf,
    pub name: String,
    lock: PathBuf,
    key: String,
}

/// QEMU's identity: its version line and the binary's size and mtime.
fn qemu_identity() -> Result<String> {
    let out = Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()?;
    let version = String::from_utf8_lossy(&out.stdout);
    let bin = super::host::which("qemu-system-x86_64").context("qemu-system-x86_64 not in PATH")?;
    let meta = fs::metadata(&bin)?;
    let mtime = meta
        .modified()?
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let first = version.lines().next().unwrap_or_default();
    Ok(format!(
        "{first} | {} {} bytes mtime {mtime}",
        bin.display(),
        meta.len()
    ))
}

impl Snapshot {
    /// The saved lab for a machine started with `args`, from a release with `stamp`.
    pub fn for_machine(cache: &Path, args: &[String], stamp: &str) -> Result<Snapshot> {
        let key = format!(
            "qemu: {}\nargs: {}\nrelease stamp:\n{stamp}",
            qemu_identity()?,
            args.join(" ")
        );
        let name = sha256_bytes(key.as_bytes())?[..24].to_string();
        let labs = cache.join("labs");
        fs::create_dir_all(&labs).with_context(|| format!("creating {}", labs.display()))?;
        Ok(Snapshot {
            dir: labs.join(&name),
            lock: labs.join(format!("{name}.lock")),
            name,
            key,
        })
    }

    pub fn state(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// The saved lab, held (shared lock) for restoring it, if it is complete and nobody is
    /// saving or removing it now; marks it used (the stamp's mtime) for the cleanup.
    pub fn try_use(&self) -> Option<CacheLock> {
        let lock = CacheLock::open(&self.lock).ok()?;
        if !lock.try_shared() || !is_complete(&self.dir) {
            return None;
        }
        if !super::banner::names_scheduler(&self.banner()) {
            // Saved before the banner kept Xen's scheduler line: boot cold and save it again,
            // so restored runs' serial.log names the scheduler.
            return None;
        }
        let stamp = fs::File::options().write(true).open(self.dir.join("stamp"));
        let _ = stamp.and_then(|f| f.set_modified(std::time::SystemTime::now()));
        Some(lock)
    }

    /// The lock for saving it, if no other run is saving it now.
    pub fn try_lock(&self) -> Option<CacheLock> {
        let lock = CacheLock::open(&self.lock).ok()?;
        lock.try_exclusive().then_some(lock)
    }

    /// Where the state is written before `commit` makes it the saved lab.
    pub fn temp_state(&self) -> Result<PathBuf> {
        fs::create_dir_all(&self.dir)?;
        let _ = fs::remove_file(self.dir.join("stamp"));
        Ok(self.dir.join(format!("state.tmp{}", std::process::id())))
    }

    /// Makes `tmp` the saved lab; `banner` is Xen's boot banner (a restored run sees none).
    pub fn commit(&self, tmp: &Path, boot_s: f64, banner: &[String]) -> Result<()> {
        fs::rename(tmp, self.state())?;
        fs::write(self.dir.join("key.txt"), &self.key)?;
        fs::write(self.dir.join("banner.txt"), banner.join("\n"))?;
        let stamp = format!("saved after a {boot_s:.1} s cold boot\n");
        write_atomic(&self.dir.join("stamp"), stamp.as_bytes())
    }

    /// Removes saved labs unused for long or beyond the budget (never one in use, nor this
    /// one); returns the progress line saying what went, if anything did.
    pub fn sweep_others(&self) -> Result<Option<String>> {
        let policy = labs_gc::Policy::from_env()?;
        let labs = self
            .dir
            .parent()
            .context("a saved lab's directory has a parent")?;
        let removed = labs_gc::sweep(labs, &self.name, &policy)?;
        Ok(labs_gc::summary(&removed, &policy))
    }

    /// The Xen lines saved with the lab (its banner).
    pub fn banner(&self) -> Vec<String> {
        let text = fs::read_to_string(self.dir.join("banner.txt")).unwrap_or_default();
        text.lines().map(String::from).collect()
    }

    /// Forgets a saved lab that could not be restored (the next run saves a new one).
    pub fn discard(&self) {
        let _ = fs::remove_file(self.dir.join("stamp"));
        let _ = fs::remove_file(self.state());
    }
}

/// Whether `dir` holds a complete saved lab (its stamp, state and banner).
pub fn is_complete(dir: &Path) -> bool {
    let files = ["stamp", "state", "banner.txt"];
    files.iter().all(|f| dir.join(f).is_file())
}
