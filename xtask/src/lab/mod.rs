//! The virtual lab: QEMU (TCG) + Xen (4.17 or 4.20) + a Debian dom0, provisioned from Debian packages
//! into a cache, booting the probe either as a PV domU (`xl create`) or directly as dom0.
//!
//! ```text
//! let assets = lab::provision(Release::X420, verbose)?; // optional: run() provisions too
//! let cfg = LabConfig { cmdline: "probes=platform".into(), ..LabConfig::new(Mode::DomU, elf) };
//! let run = lab::run(&cfg, &mut |line| println!("{line}"))?;
//! ```
//!
//! * [`provision`] (provision.rs, kernel.rs) downloads and unpacks the packages once; a stamp
//!   makes later calls return in milliseconds.
//! * [`run`] (run.rs) builds the dom0 initramfs (initramfs.rs + cpio.rs; init script
//!   boot/lab/init.sh), starts QEMU (printing its command line), reads the serial stream line
//!   by line (classify.rs), follows the stages (monitor.rs) and ends QEMU as soon as the
//!   outcome is known, or at the hard timeout `cfg.timeout` + a boot margin (90 s DomU, 15 s
//!   Dom0). QEMU is killed when the run is dropped, runs under `setpriv --pdeathsig KILL` so
//!   it dies with xtask, and Ctrl-C reaches it with the rest of the foreground process group.
//!
//! `run` returns `Err` only for a bad configuration (unreadable kernel, a command line xl cannot
//! quote, an unwritable out_dir); a lab that breaks is an `Ok(LabRun)` whose `failure` names
//! the stage and quotes the relevant logs. `failure` is `None` when the probe domain ended by
//! itself (even by crashing: `guest_end` says how), `Some` for every lab failure and for a
//! timeout.
//!
//! How a run is read (details in classify.rs and boot/lab/init.sh):
//! * Probe lines. DomU: xenconsoled logs the guest console into a FIFO that dom0's init relays
//!   to hvc0, one `XPC|line` per line; Xen copies dom0's console to the serial port verbatim.
//!   Dom0: after Xen's "Freed ... init memory" line, every serial line not starting with
//!   `(XEN)` is the probe's (a `(d0) ` prefix is stripped; lines before it are SeaBIOS').
//! * Stages. Xen's "Freed ... init memory" = dom0 starts; then init's `XPLAB stage=dom0-up`,
//!   `xenstored-ready`, `guest-started` (xl's "Waiting for domain ... to die": built and
//!   unpaused); `XPLAB fail stage=S why` when a dom0 step fails (with `XPD|` log tails).
//! * Guest end. DomU: the domain is preserved on shutdown; init reads xl's "has shut down,
//!   reason code N" (0 poweroff, 1 reboot, 3 crash) and reports `XPLAB end reason=N`
//!   (`timeout` after destroying it at the timeout, `destroyed` if something else destroyed
//!   it), waits until the console relay has printed the last line, prints `XPLAB done`, and
//!   the host ends QEMU at once. Dom0: "Hardware Dom0 halted/shutdown/crashed" from Xen
//!   (QEMU is ended 50 ms later; Xen runs with `noreboot`), or QEMU's exit status 2v+1 after
//!   the probe wrote v to isa-debug-exit (port 0xf4).
//!
//! `LabRun::timings` starts with `prepare` (provisioning check + initramfs, before QEMU); the
//! other entries are times since QEMU started: the stages, and `dom0:NAME` for each marker.
//! Throughput of the DomU console relay is about 2000 lines/s (one hvc0 write per line).

mod apt;
mod banner;
mod classify;
mod config;
mod cpio;
mod elf;
pub mod host;
pub mod image;
mod initramfs;
mod inputs;
mod kernel;
mod labs_gc;
#[cfg(test)]
mod labs_gc_tests;
mod monitor;
mod provision;
mod qemu;
mod qmp;
pub mod release;
mod run;
mod snapshot;

// Not every caller needs every item of the API.
#[allow(unused_imports)]
pub use config::DOMAIN_NAME;
#[allow(unused_imports)]
pub use provision::{cache_dir, provision, Assets, CacheLock};
pub use release::Release;
pub use run::run;

use std::path::PathBuf;
use std::time::Duration;

/// Which xenstored dom0 runs (DomU mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Xenstored {
    /// /usr/lib/xen-<release>/bin/xenstored
    C,
    /// /usr/lib/xen-<release>/bin/oxenstored (Debian's default)
    Ocaml,
}

/// Xen's scheduler (`sched=` on Xen's command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sched {
    Credit,
    /// Xen's default.
    Credit2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Linux dom0 + xenstored + xenconsoled; the probe is a PV domU started by `xl create -F`.
    DomU,
    /// No Linux: the probe is the dom0 kernel (hypervisor-only probes).
    Dom0,
}

#[derive(Debug, Clone)]
pub struct LabConfig {
    pub mode: Mode,
    /// The probe ELF (target/x86_64-unknown-none/release/xenprobe).
    pub kernel: PathBuf,
    /// Guest command line: xl `extra=` (DomU) or the dom0 module command line (Dom0).
    pub cmdline: String,
    /// domU memory in MiB (xl `memory=`); 4 is libxc's floor for a 64-bit PV guest.
    pub memory_mib: u32,
    pub xenstored: Xenstored,
    pub sched: Sched,
    /// How long the probe may run once started (DomU: from the moment xl has built and
    /// unpaused the domain; then dom0 destroys it). The lab adds its own boot margin on top
    /// for the host-side hard timeout.
    pub timeout: Duration,
    /// busybox sh lines run in dom0 (DomU mode) in the background as soon as xl has built and
    /// unpaused the probe domain (xl's "Waiting for domain ... to die"), with `DOMID` and
    /// `DOMNAME` set; `xl`, `xenstore-*`, `test-xenstore`, `vchan-socket-proxy` are in PATH.
    /// Its output comes back in `LabRun::script_lines`. It is killed when the probe domain
    /// ends; a dom0 xl command costs about 0.3 s under TCG.
    pub dom0_script: Option<String>,
    /// More probe domains (DomU mode), created once the main one runs; `@MAIN_DOMID@` in a
    /// peer's command line becomes the main domain's id. Their console lines come back in
    /// `LabRun::peer_lines`; the run waits (up to 20 s) for them to end after the main one.
    pub peers: Vec<Peer>,
    /// Where the run writes serial.log (and dom0-initrd.cpio).
    pub out_dir: PathBuf,
    /// Echo the raw serial stream to stderr.
    pub verbose: bool,
    /// dom0 memory override in MiB (default 512 for Linux dom0, 32 for the probe as dom0).
    pub dom0_mem_mib: Option<u32>,
    /// Extra options appended to Xen's command line (e.g. `timer_slop=0`).
    pub xen_args: String,
    /// Extra options appended to the Linux dom0 command line (DomU mode).
    pub dom0_args: String,
    /// The lab machine's CPUs and where dom0 and the probe run on them.
    pub cpus: Cpus,
    /// Which Xen release (and its Debian dom0 and tools) the lab boots.
    pub release: Release,
    /// Boot cold: neither restore a saved lab nor save one (DomU mode).
    pub cold: bool,
    /// Boot this hypervisor (xen.gz or xen) instead of the release's.
    pub xen: Option<PathBuf>,
    /// Boot this dom0 kernel (bzImage or PV vmlinux) instead of the release's (DomU mode).
    pub dom0_kernel: Option<PathBuf>,
    /// The static `xenprobe` host binary (`cargo xtask dist`), installed in dom0 as
    /// /usr/bin/xenprobe for dom0 scripts (DomU mode; only runs with a dom0 script carry it).
    pub host_bin: Option<PathBuf>,
}

/// pCPUs of the lab machine (QEMU `-smp`) and vCPUs of the probe domain (xl `vcpus=`).
/// With 2 or more pCPUs dom0 gets pCPU 0 to itself (`dom0_max_vcpus=1 dom0_vcpus_pin`, the
/// probe domains `cpus=` the others) unless `shared_dom0_cpu` (today's single-CPU layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cpus {
    pub pcpus: u32,
    pub vcpus: u32,
    pub shared_dom0_cpu: bool,
}

impl Default for Cpus {
    fn default() -> Self {
        Cpus {
            pcpus: 1,
            vcpus: 1,
            shared_dom0_cpu: false,
        }
    }
}

impl Cpus {
    /// Whether dom0 is pinned to pCPU 0 and probe domains kept off it.
    pub fn dom0_pinned(&self) -> bool {
        self.pcpus >= 2 && !self.shared_dom0_cpu
    }
}

impl LabConfig {
    /// Defaults: empty command line, 4 MiB, oxenstored, credit2, 30 s, out_dir `lab-out`.
    pub fn new(mode: Mode, kernel: PathBuf) -> Self {
        LabConfig {
            mode,
            kernel,
            cmdline: String::new(),
            memory_mib: 4,
            xenstored: Xenstored::Ocaml,
            sched: Sched::Credit2,
            timeout: Duration::from_secs(30),
            dom0_script: None,
            out_dir: PathBuf::from("lab-out"),
            verbose: false,
            dom0_mem_mib: None,
            peers: Vec::new(),
            xen_args: String::new(),
            dom0_args: String::new(),
            cpus: Cpus::default(),
            release: Release::X417,
            cold: false,
            xen: None,
            dom0_kernel: None,
            host_bin: None,
        }
    }
}

/// A further probe domain of a DomU run (e.g. the other end of a ring).
#[derive(Debug, Clone)]
pub struct Peer {
    /// xl domain name (letters, digits, '-').
    pub name: String,
    pub cmdline: String,
    pub memory_mib: u32,
    /// Another PV kernel to boot instead of the probe (e.g. the dom0 Linux as a guest, for a
    /// boot-time baseline); it is copied into dom0's initramfs.
    pub kernel: Option<PathBuf>,
}

/// The stages of a run, in order. `LabRun::stage` is the last one entered: when a run fails,
/// that is the stage that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Downloading/unpacking packages, building the initramfs.
    Provision,
    /// QEMU started, Xen booting.
    XenBoot,
    /// Xen handed over to dom0 (Linux booting, or the probe itself in Dom0 mode).
    Dom0Boot,
    /// dom0 userspace is up: modules, xenstored, xen-init-dom0.
    Xenstored,
    /// xenstored answers; xenconsoled and `xl create -F` are running.
    XlCreate,
    /// The probe runs (xl built and unpaused it, or a probe line was seen, or it shut down).
    Probe,
    /// The probe domain ended and everything was collected.
    Finished,
}

/// How the probe domain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestEnd {
    /// SHUTDOWN_poweroff (xl reason code 0; Dom0 mode: Xen's "Hardware Dom0 halted").
    Poweroff,
    /// SHUTDOWN_reboot (code 1).
    Reboot,
    /// SHUTDOWN_crash (code 3) or Xen's "Hardware Dom0 crashed".
    Crash,
    /// Another xl shutdown reason code (2 suspend, 4 watchdog, 5 soft reset).
    Other(i32),
    /// Dom0 mode: the probe wrote xtf exit code v to port 0xf4 (QEMU exited with 2v+1).
    Exit(u8),
    /// Destroyed from outside (e.g. by the dom0 script), not shut down by itself.
    Destroyed,
    /// Still running when the timeout expired (it was destroyed / QEMU was killed).
    TimedOut,
    /// The run ended before the probe did, or nothing said how it ended.
    Unknown,
}

#[derive(Debug, Clone)]
pub struct LabRun {
    pub stage: Stage,
    pub guest_end: GuestEnd,
    /// QEMU's exit status, `None` if the lab killed it (normal in DomU mode: the host ends
    /// QEMU as soon as dom0 says everything was relayed).
    #[allow(dead_code)] // not every caller reports it
    pub qemu_status: Option<i32>,
    pub failure: Option<String>,
    pub serial_log: PathBuf,
    /// Every console line of the probe, in order, without prefixes.
    pub probe_lines: Vec<String>,
    pub script_lines: Vec<String>,
    /// Console lines of the peer domains: (peer name, line).
    pub peer_lines: Vec<(String, String)>,
    pub wall: Duration,
    /// Time since QEMU started at which each stage (and each dom0 marker) was reached.
    pub timings: Vec<(String, Duration)>,
    /// What ran: the release, the hypervisor and dom0 kernel files, Xen's banner, the CPUs.
    pub what: LabInfo,
}

/// What a run booted, for the JSON and the report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LabInfo {
    pub release: String,
    /// The hypervisor file and its sha256 (the release's own, or `--xen`).
    pub xen: Option<image::ImageInfo>,
    /// `--dom0-kernel`, when given.
    pub dom0_kernel: Option<image::ImageInfo>,
    /// Xen's banner: version, extraversion, changeset, compile date.
    pub xen_build: Option<banner::XenBuild>,
    pub pcpus: u32,
    pub vcpus: u32,
    /// "own pCPU 0" or "shared".
    pub dom0_cpu: String,
    /// How the lab came up: restored from a saved lab, or a cold boot (and why).
    pub boot: String,
    /// Files dom0 exported (`$EXPORT` in dom0 scripts), under `<out_dir>/export/`.
    pub exported: Vec<PathBuf>,
}

/// What a run booted, one line per part, for the human summary.
pub fn describe(w: &LabInfo) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(b) = &w.xen_build {
        let cs = b.changeset.as_deref().map(|c| format!(", changeset {c}"));
        v.push(format!(
            "Xen {}{} (release {}), compiled {}{}",
            b.version,
            b.extraversion,
            w.release,
            b.compile_date.as_deref().unwrap_or("?"),
            cs.unwrap_or_default()
        ));
    }
    for (what, i) in [("hypervisor", &w.xen), ("dom0 kernel", &w.dom0_kernel)] {
        if let Some(i) = i {
            v.push(format!(
                "{what} {} ({}), sha256 {}",
                i.file.display(),
                i.kind,
                i.sha256
            ));
        }
    }
    v.push(format!(
        "{} pCPU(s), probe {} vCPU(s), dom0 CPU {}",
        w.pcpus, w.vcpus, w.dom0_cpu
    ));
    v.push(w.boot.clone());
    for f in &w.exported {
        v.push(format!("exported by dom0: {}", f.display()));
    }
    v
}
