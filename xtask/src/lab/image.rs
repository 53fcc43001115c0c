//! The user's own hypervisor (`--xen FILE`) and dom0 kernel (`--dom0-kernel FILE`): what a file
//! is, refused before QEMU starts when it is not what the option needs, and made bootable
//! (gunzipped, or the raw vmlinux taken out of a bzImage) under `<cache>/custom/`, named by
//! its sha256 so that the same file is prepared once.

use super::{elf, host};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a run booted, as the JSON and the report show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ImageInfo {
    /// The file as given (or the cache file for the release's own).
    pub file: PathBuf,
    pub sha256: String,
    /// What the file is ("Xen hypervisor, gzip-compressed", "Linux bzImage", ...).
    pub kind: String,
    /// Static facts read from the file (Xen: compile date; Linux: its version string).
    pub found: Option<String>,
}

/// sha256 of a file, through coreutils' sha256sum (present on every Debian host).
pub fn sha256(path: &Path) -> Result<String> {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .with_context(|| format!("running sha256sum {}", path.display()))?;
    if !out.status.success() {
        bail!(
            "sha256sum {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text.split_whitespace().next().unwrap_or_default();
    Ok(hex.to_string())
}

/// sha256 of some bytes (sha256sum reading stdin).
pub fn sha256_bytes(data: &[u8]) -> Result<String> {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("running sha256sum")?;
    child
        .stdin
        .take()
        .context("sha256sum stdin")?
        .write_all(data)?;
    let out = child.wait_with_output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string())
}

fn gunzip(path: &Path) -> Result<Vec<u8>> {
    let out = Command::new("gzip")
        .arg("-dc")
        .arg(path)
        .output()
        .context("running gzip -dc")?;
    if !out.status.success() {
        bail!(
            "{} looks gzip-compressed but does not decompress: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Multiboot 1 (magic in the first 8 KiB) or 2 (first 32 KiB), 4/8-byte aligned.
fn has_multiboot(b: &[u8]) -> bool {
    let word = |i: usize| {
        b.get(i..i + 4)
            .map(|s| u32::from_le_bytes(s.try_into().unwrap()))
    };
    let mb1 = (0..8192).step_by(4).any(|i| word(i) == Some(0x1bad_b002));
    let mb2 = (0..32768).step_by(8).any(|i| word(i) == Some(0xe852_50d6));
    mb1 || mb2
}

/// Xen's own banner format string, present in every hypervisor build.
fn is_hypervisor(b: &[u8]) -> bool {
    contains(b, b"Xen version %d.%d%s")
}

/// The first string in `b` that looks like `date`'s output (Xen's XEN_COMPILE_DATE).
pub fn compile_date(b: &[u8]) -> Option<String> {
    const DAYS: [&str; 7] = ["Mon ", "Tue ", "Wed ", "Thu ", "Fri ", "Sat ", "Sun "];
    b.split(|&c| c == 0)
        .filter(|s| (24..40).contains(&s.len()))
        .filter_map(|s| std::str::from_utf8(s).ok())
        .find(|s| DAYS.iter().any(|d| s.starts_with(d)) && looks_like_date(s))
        .map(String::from)
}

fn looks_like_date(s: &str) -> bool {
    let t: Vec<&str> = s.split_whitespace().collect();
    t.len() >= 5
        && t[2].parse::<u8>().is_ok()
        && t[3].len() == 8
        && t[3].chars().filter(|&c| c == ':').count() == 2
        && t.last()
            .is_some_and(|y| y.len() == 4 && y.parse::<u16>().is_ok())
}

/// The Linux version string of a bzImage (boot protocol: kernel_version at 0x20e + 0x200).
fn bzimage_version(b: &[u8]) -> Option<String> {
    let ptr = u16::from_le_bytes(b.get(0x20e..0x210)?.try_into().ok()?) as usize;
    let s = b.get(ptr + 0x200..)?;
    let end = s.iter().take(256).position(|&c| c == 0)?;
    Some(String::from_utf8_lossy(&s[..end]).into_owned())
}

/// `Linux version ...` as printed by a vmlinux's banner.
fn vmlinux_version(b: &[u8]) -> Option<String> {
    let at = b.windows(14).position(|w| w == b"Linux version ")?;
    let s = &b[at + 14..];
    let end = s.iter().take(200).position(|&c| c == b' ' || c == 0)?;
    Some(String::from_utf8_lossy(&s[..end]).into_owned())
}

/// Says in a few words what a file is, for an error message.
pub fn describe(b: &[u8]) -> String {
    if b.is_empty() {
        return "an empty file".into();
    }
    if b.len() > 0x210 && &b[0x202..0x206] == b"HdrS" {
        let v = bzimage_version(b).unwrap_or_else(|| "version unknown".into());
        let v = v.split(" (").next().unwrap_or_default();
        return format!("a Linux bzImage ({v}: a kernel, for --dom0-kernel)");
    }
    if b.starts_with(b"\x7fELF") {
        return describe_elf(b);
    }
    if b.starts_with(&[0x1f, 0x8b]) {
        return "gzip data (a compressed image: give its uncompressed form)".into();
    }
    let head = &b[..b.len().min(64)];
    if head
        .iter()
        .all(|&c| c == b'\n' || c == b'\t' || (0x20..0x7f).contains(&c))
    {
        let first = String::from_utf8_lossy(head);
        return format!("text (\"{}\")", first.lines().next().unwrap_or_default());
    }
    format!("data (first bytes {:02x?})", &b[..b.len().min(8)])
}

fn describe_elf(b: &[u8]) -> String {
    let class = match b.get(4) {
        Some(1) => "ELF32",
        Some(2) => "ELF64",
        _ => "ELF (bad class)",
    };
    let machine = match b.get(18..20).map(|m| u16::from_le_bytes([m[0], m[1]])) {
        Some(3) => "i386",
        Some(62) => "x86-64",
        Some(183) => "aarch64",
        Some(m) => return format!("an {class} file for machine {m}"),
        None => "?",
    };
    if elf::has_xen_notes(b) {
        let what = vmlinux_version(b).map_or("a Xen PV guest kernel".into(), |v| {
            format!("a Linux {v} PV kernel")
        });
        return format!("{what} ({class} {machine} with \"Xen\" ELF notes)");
    }
    if is_hypervisor(b) && !has_multiboot(b) {
        return format!("xen-syms, the hypervisor's {class} {machine} image with symbols (QEMU boots xen.gz or xen, not xen-syms)");
    }
    format!("an {class} {machine} executable")
}

/// Where prepared user images go.
fn custom_dir(cache: &Path) -> Result<PathBuf> {
    let d = cache.join("custom");
    fs::create_dir_all(&d).with_context(|| format!("creating {}", d.display()))?;
    Ok(d)
}

/// Writes `data` to `path` through a temporary file and a rename (never half a file).
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&tmp, data).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

fn read_user_file(file: &Path, opt: &str) -> Result<Vec<u8>> {
    fs::read(file).with_context(|| {
        let hint = if file.ends_with("xen-planted/xen") {
            " (the planted-fault Xen: build it with `cargo xtask xen-build`)"
        } else {
            ""
        };
        format!("{opt} {}: cannot read it{hint}", file.display())
    })
}

/// `--xen FILE`: xen.gz or the xen ELF (multiboot). Returns the uncompressed image to boot.
pub fn prepare_xen(file: &Path, cache: &Path) -> Result<(PathBuf, ImageInfo)> {
    let raw = read_user_file(file, "--xen")?;
    let gz = raw.starts_with(&[0x1f, 0x8b]);
    let b = if gz { gunzip(file)? } else { raw };
    let found = describe(&b);
    if !(is_hypervisor(&b) && has_multiboot(&b)) {
        let inner = if gz { "gzip data holding " } else { "" };
        bail!(
            "--xen {}: not a Xen hypervisor image: found {inner}{found}. Give the build's \
             xen.gz (or the uncompressed xen next to it, e.g. xen/xen or /boot/xen-*.gz)",
            file.display()
        );
    }
    let sha = sha256(file)?;
    let out = custom_dir(cache)?.join(format!("xen-{}", &sha[..16]));
    if !out.is_file() {
        write_atomic(&out, &b)?;
    }
    let kind = if gz {
        "Xen hypervisor, gzip-compressed"
    } else {
        "Xen hypervisor"
    };
    let info = ImageInfo {
        file: file.to_path_buf(),
        sha256: sha,
        kind: kind.into(),
        found: compile_date(&b).map(|d| format!("compiled {d}")),
    };
    Ok((out, info))
}

/// `--dom0-kernel FILE`: a Linux bzImage (its raw vmlinux is taken out, as for the release's
/// own kernel) or an ELF64 PV kernel with Xen notes. Returns the image to boot.
pub fn prepare_dom0_kernel(file: &Path, cache: &Path) -> Result<(PathBuf, ImageInfo)> {
    let b = read_user_file(file, "--dom0-kernel")?;
    let sha = sha256(file)?;
    let out = custom_dir(cache)?.join(format!("dom0-{}", &sha[..16]));
    let bz = b.len() > 0x210 && &b[0x202..0x206] == b"HdrS";
    let found = if bz {
        bzimage_version(&b)
    } else {
        vmlinux_version(&b)
    };
    if bz {
        if !out.is_file() {
            extract_vmlinux(&b, file, &out)?;
        }
    } else if b.starts_with(b"\x7fELF") && elf::has_xen_notes(&b) {
        if !out.is_file() {
            write_atomic(&out, &b)?;
        }
    } else {
        bail!(
            "--dom0-kernel {}: not a kernel Xen can boot as a PV dom0: found {}. Give a Linux \
             bzImage (e.g. arch/x86/boot/bzImage or /boot/vmlinuz-*) or a vmlinux with Xen ELF notes",
            file.display(),
            describe(&b)
        );
    }
    let kind = if bz {
        "Linux bzImage"
    } else {
        "PV kernel (ELF with Xen notes)"
    };
    let info = ImageInfo {
        file: file.to_path_buf(),
        sha256: sha,
        kind: kind.into(),
        found: found.map(|v| format!("Linux {v}")),
    };
    Ok((out, info))
}

fn extract_vmlinux(bz: &[u8], file: &Path, out: &Path) -> Result<()> {
    let (kind, payload) = elf::bzimage_payload(bz)
        .with_context(|| format!("--dom0-kernel {}: reading the bzImage", file.display()))?;
    let (tool, args) = kind.command();
    host::which(tool).with_context(|| format!("`{tool}` is not installed"))?;
    let packed = out.with_extension("packed");
    fs::write(&packed, payload)?;
    let raw = Command::new(tool).args(args).arg(&packed).output();
    let _ = fs::remove_file(&packed);
    let raw = raw.with_context(|| format!("running {tool}"))?;
    if !raw.status.success() {
        bail!(
            "--dom0-kernel {}: {tool} cannot unpack its payload",
            file.display()
        );
    }
    write_atomic(out, &elf::compact_exec(&raw.stdout)?)
}

#[cfg(test)]
#[path = "image_tests.rs"]
mod tests;
