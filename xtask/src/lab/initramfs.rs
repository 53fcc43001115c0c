//! The dom0 initramfs (uncompressed newc cpio). Its static part (busybox, the Xen tools and
//! every library they need, the modules, /etc/xen) is built once at provisioning time; a run
//! appends its own entries (the init script, parameters, xl config, dom0 script, probe kernel).

use super::cpio::CpioWriter;
use super::host::progress;
use super::release::Release;
use super::{config, elf, kernel, LabConfig};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The dom0 init script, shipped as /init.
pub const INIT_SH: &str = include_str!("../../../boot/lab/init.sh");

/// Tools from xen-utils-<release> that dom0 runs (or that probes use as peers); /usr/lib/xen
/// links to the release's /usr/lib/xen-<release> (init's PATH has /usr/lib/xen/bin).
const XEN_TOOLS: &[&str] = &[
    "xl",
    "xenstored",
    "oxenstored",
    "xenconsoled",
    "xen-init-dom0",
    "xenconsole",
    "test-xenstore",
    "vchan-socket-proxy",
    "xenstore-control",
    "lsevtchn",
    "libxl-save-helper",
    "xentrace",
];
/// `xenstore` dispatches on its argv[0].
const XENSTORE_LINKS: &[&str] = &[
    "read", "write", "ls", "list", "rm", "exists", "watch", "chmod",
];
const LIB_DIRS: &[&str] = &["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu"];
const LIB_DEST: &str = "/lib/x86_64-linux-gnu";
const DIRS: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr",
    "/usr/bin",
    "/usr/sbin",
    "/usr/lib",
    "/lib",
    "/lib/x86_64-linux-gnu",
    "/lib64",
    "/lib/modules",
    "/lib/modules/xen",
    "/etc",
    "/etc/xen",
    "/etc/xenprobe",
    "/probe",
    "/proc",
    "/sys",
    "/dev",
    "/run",
    "/tmp",
    "/var",
    "/mnt",
];
/// Logs of oxenstored go to a file (Debian's config leaves them to syslog, absent here).
const OXENSTORED_EXTRA: &str =
    "\n# xenprobe lab\nxenstored-log-file = /var/log/xen/xenstored.log\n\
                                xenstored-log-level = info\n";
/// Inode numbers of per-run entries start here (the base uses small ones).
const RUN_INO: u32 = 1 << 20;

/// Writes the static part of the initramfs (entries without a trailer).
pub fn build_base(
    root: &Path,
    modules: &Path,
    out: &Path,
    release: Release,
    verbose: bool,
) -> Result<()> {
    let mut w = CpioWriter::new(BufWriter::new(fs::File::create(out)?), 1);
    for d in DIRS {
        w.dir(d)?;
    }
    let xen_bin = release.xen_bin();
    let xen_lib = xen_bin.trim_end_matches("/bin");
    w.dir(&format!("/{xen_lib}"))?;
    w.dir(&format!("/{xen_bin}"))?;
    w.symlink("/usr/lib/xen", &format!("/{xen_lib}"))?;
    w.chardev("/dev/console", 5, 1)?;
    add_busybox(&mut w, root)?;
    let mut bins = Vec::new();
    for t in XEN_TOOLS {
        let rel = format!("{xen_bin}/{t}");
        add_file(&mut w, &root.join(&rel), &format!("/{rel}"), 0o755)?;
        w.symlink(&format!("/usr/sbin/{t}"), &format!("/{rel}"))?;
        bins.push(root.join(rel));
    }
    add_file(
        &mut w,
        &root.join("usr/bin/xenstore"),
        "/usr/bin/xenstore",
        0o755,
    )?;
    for l in XENSTORE_LINKS {
        w.symlink(&format!("/usr/bin/xenstore-{l}"), "xenstore")?;
    }
    bins.push(root.join("usr/bin/xenstore"));
    bins.extend(add_ocaml_plugins(&mut w, root, xen_lib)?);
    add_libraries(&mut w, root, &bins, verbose)?;
    add_config(&mut w, root, modules)?;
    w.into_inner().flush()?;
    Ok(())
}

/// oxenstored's plugins (Xen 4.20: `<xen lib>/ocaml/xsd_glue/xenctrl_plugin/*.cmxs`, loaded at
/// start); returns them, so that their libraries are shipped too.
fn add_ocaml_plugins<W: Write>(
    w: &mut CpioWriter<W>,
    root: &Path,
    xen_lib: &str,
) -> Result<Vec<PathBuf>> {
    let dir = format!("{xen_lib}/ocaml/xsd_glue/xenctrl_plugin");
    let Ok(entries) = fs::read_dir(root.join(&dir)) else {
        return Ok(Vec::new());
    };
    for d in [
        format!("{xen_lib}/ocaml"),
        format!("{xen_lib}/ocaml/xsd_glue"),
        dir.clone(),
    ] {
        w.dir(&format!("/{d}"))?;
    }
    let mut plugins = Vec::new();
    for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        add_file(w, &p, &format!("/{dir}/{name}"), 0o755)?;
        plugins.push(p);
    }
    Ok(plugins)
}

/// /etc/xen (oxenstored.conf with a log file, xl.conf) and the dom0 kernel modules.
fn add_config<W: Write>(w: &mut CpioWriter<W>, root: &Path, modules: &Path) -> Result<()> {
    let oxs = fs::read_to_string(root.join("etc/xen/oxenstored.conf"))?;
    w.file(
        "/etc/xen/oxenstored.conf",
        0o644,
        format!("{oxs}{OXENSTORED_EXTRA}").as_bytes(),
    )?;
    add_file(w, &root.join("etc/xen/xl.conf"), "/etc/xen/xl.conf", 0o644)?;
    for m in kernel::MODULES
        .iter()
        .filter(|m| modules.join(format!("{m}.ko")).is_file())
    {
        add_file(
            w,
            &modules.join(format!("{m}.ko")),
            &format!("/lib/modules/xen/{m}.ko"),
            0o644,
        )?;
    }
    Ok(())
}

fn add_file<W: Write>(w: &mut CpioWriter<W>, src: &Path, dst: &str, mode: u32) -> Result<()> {
    let data = fs::read(src).with_context(|| format!("reading {}", src.display()))?;
    Ok(w.file(dst, mode, &data)?)
}

/// busybox-static and one symlink per applet (listed by running it on the host).
fn add_busybox<W: Write>(w: &mut CpioWriter<W>, root: &Path) -> Result<()> {
    // Debian 13 ships it in /usr/bin (merged /usr), Debian 12 in /bin.
    let bb = ["bin/busybox", "usr/bin/busybox"]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.is_file())
        .context("busybox-static unpacked no bin/busybox or usr/bin/busybox")?;
    add_file(w, &bb, "/bin/busybox", 0o755)?;
    let list = Command::new(&bb)
        .arg("--list-full")
        .output()
        .context("running busybox --list-full")?;
    let list = String::from_utf8_lossy(&list.stdout);
    if !list.contains("bin/sh") {
        bail!("busybox --list-full gave no applet list");
    }
    for applet in list
        .lines()
        .filter(|l| !l.is_empty() && *l != "bin/busybox")
    {
        w.symlink(&format!("/{applet}"), "/bin/busybox")?;
    }
    Ok(())
}

fn find_lib(root: &Path, name: &str) -> Option<PathBuf> {
    LIB_DIRS
        .iter()
        .map(|d| root.join(d).join(name))
        .find(|p| p.exists())
}

/// Ships the transitive DT_NEEDED closure of `bins` (plus the dynamic loader and libgcc_s,
/// which glibc dlopens for pthread_cancel) under /lib/x86_64-linux-gnu.
fn add_libraries<W: Write>(
    w: &mut CpioWriter<W>,
    root: &Path,
    bins: &[PathBuf],
    verbose: bool,
) -> Result<()> {
    let mut todo: Vec<(String, String)> = Vec::new(); // (soname, who needs it)
    for b in bins {
        let needed =
            elf::needed(&fs::read(b)?).with_context(|| format!("reading {}", b.display()))?;
        todo.extend(needed.into_iter().map(|n| (n, b.display().to_string())));
    }
    for extra in ["ld-linux-x86-64.so.2", "libgcc_s.so.1"] {
        todo.push((extra.to_string(), "the dom0 initramfs".to_string()));
    }
    let mut done = BTreeSet::new();
    let mut missing = Vec::new();
    while let Some((name, by)) = todo.pop() {
        if !done.insert(name.clone()) {
            continue;
        }
        let Some(path) = find_lib(root, &name) else {
            missing.push(format!("{name} (needed by {by})"));
            continue;
        };
        let data = fs::read(&path)?;
        todo.extend(elf::needed(&data)?.into_iter().map(|n| (n, name.clone())));
        w.file(&format!("{LIB_DEST}/{name}"), 0o755, &data)?;
    }
    if !missing.is_empty() {
        bail!(
            "unresolved shared libraries (add their Debian package to PACKAGES):\n  {}",
            missing.join("\n  ")
        );
    }
    w.symlink(
        "/lib64/ld-linux-x86-64.so.2",
        &format!("{LIB_DEST}/ld-linux-x86-64.so.2"),
    )?;
    if verbose {
        progress(
            None,
            &format!(
                "initramfs libraries: {}",
                done.into_iter().collect::<Vec<_>>().join(" ")
            ),
        );
    }
    Ok(())
}

/// The dom0 initramfs QEMU boots: the release's base and the init script, built once per
/// (base, init script) into the release's cache directory. Everything a run brings comes later,
/// on the input disk (inputs.rs), so that a saved lab serves every run.
pub fn boot_initrd(base: &Path, base_sha: &str) -> Result<PathBuf> {
    let id = super::image::sha256_bytes(format!("{base_sha}\n{INIT_SH}").as_bytes())?;
    let out = base.with_file_name(format!("initrd-{}.cpio", &id[..16]));
    if out.is_file() {
        return Ok(out);
    }
    let mut data = fs::read(base).with_context(|| format!("reading {}", base.display()))?;
    let mut w = CpioWriter::new(&mut data, RUN_INO);
    w.file("/init", 0o755, INIT_SH.as_bytes())?;
    w.finish()?;
    super::image::write_atomic(&out, &data)?;
    Ok(out)
}

/// Writes a run's own files (parameters, xl configs, dom0 script, kernels) as a newc archive.
pub fn run_entries<W: Write>(cfg: &LabConfig, out: W) -> Result<W> {
    let probe = fs::read(&cfg.kernel)
        .with_context(|| format!("reading the probe kernel {}", cfg.kernel.display()))?;
    let mut w = CpioWriter::new(out, RUN_INO);
    w.file(config::ENV_PATH, 0o644, config::lab_env(cfg).as_bytes())?;
    w.file(
        config::XL_CFG_PATH,
        0o644,
        config::xl_config(cfg)?.as_bytes(),
    )?;
    for (i, peer) in cfg.peers.iter().enumerate() {
        let xl = config::peer_xl_config(peer, cfg)?;
        w.file(&config::peer_cfg_path(i), 0o644, xl.as_bytes())?;
        if let Some(k) = &peer.kernel {
            let image = fs::read(k)
                .with_context(|| format!("reading peer {}'s kernel {}", peer.name, k.display()))?;
            w.file(&config::peer_kernel_path(peer), 0o644, &image)?;
        }
    }
    if let Some(s) = &cfg.dom0_script {
        w.file(config::SCRIPT_PATH, 0o755, s.as_bytes())?;
    }
    w.file(config::PROBE_PATH, 0o755, &probe)?;
    if let Some(b) = &cfg.host_bin {
        let bin = fs::read(b).with_context(|| format!("reading {}", b.display()))?;
        w.file("/usr/bin/xenprobe", 0o755, &bin)?;
    }
    Ok(w.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{cpio, Mode};

    #[test]
    fn run_entries_and_boot_initrd() {
        let dir = std::env::temp_dir().join(format!("xp-initrd-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let base = dir.join("base.cpio");
        let mut w = CpioWriter::new(Vec::new(), 1);
        w.dir("/etc").unwrap();
        fs::write(&base, w.into_inner()).unwrap();
        let boot = cpio::parse(&fs::read(boot_initrd(&base, "x").unwrap()).unwrap()).unwrap();
        let names: Vec<_> = boot.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["etc", "init"]);
        assert!(boot[1].data.starts_with(b"#!/bin/sh"));
        let kernel = dir.join("probe");
        fs::write(&kernel, b"\x7fELF-probe").unwrap();
        let cfg = LabConfig {
            dom0_script: Some("xl pause $DOMNAME\n".into()),
            ..LabConfig::new(Mode::DomU, kernel)
        };
        let entries = cpio::parse(&run_entries(&cfg, Vec::new()).unwrap()).unwrap();
        let names: Vec<_> = entries.iter().map(|e| e.name.as_str()).collect();
        let expect = [
            "etc/xenprobe/lab.env",
            "etc/xenprobe/probe.cfg",
            "etc/xenprobe/script.sh",
        ];
        assert_eq!(names[..3], expect);
        assert_eq!(entries[3].data, b"\x7fELF-probe");
        fs::remove_dir_all(dir).unwrap();
    }
}
