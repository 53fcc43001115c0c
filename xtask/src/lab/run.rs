//! One lab run: prepare the boot modules, start QEMU, follow its serial stream, end it.

use super::host::{self, progress, render};
use super::image::{self, ImageInfo};
use super::monitor::Monitor;
use super::{config, initramfs, provision, LabConfig, LabInfo, LabRun, Mode, Stage};
use anyhow::{Context, Result};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

/// Host-side allowance on top of `cfg.timeout` for booting Xen + dom0 + the toolstack.
const MARGIN_DOMU: Duration = Duration::from_secs(90);
const MARGIN_DOM0: Duration = Duration::from_secs(15);

/// QEMU, killed (and reaped) when dropped.
struct Qemu(Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

#[derive(PartialEq, Eq)]
enum End {
    /// QEMU closed its output (it exited).
    Eof,
    /// The monitor knows the outcome.
    Stop,
    HardTimeout,
}

enum Event {
    Serial(Instant, String),
    Stderr(String),
    Eof,
}

pub fn run(cfg: &LabConfig, on_probe_line: &mut dyn FnMut(&str)) -> Result<LabRun> {
    let t0 = Instant::now();
    fs::create_dir_all(&cfg.out_dir)
        .with_context(|| format!("creating {}", cfg.out_dir.display()))?;
    config::check_cpus(cfg)?;
    let custom = Custom::resolve(cfg)?;
    let serial_log = cfg.out_dir.join("serial.log");
    let mut mon = Monitor::new(cfg.mode);
    let assets = match provision::provision(cfg.verbose) {
        Ok(a) => a,
        Err(e) => {
            let why = format!("provisioning: {e:#}");
            return Ok(failed_early(mon, serial_log, t0, why, custom.info(cfg)));
        }
    };
    let what = custom.info_with(cfg, &assets)?;
    let xen = custom.xen.as_ref().map_or(&assets.xen, |(p, _)| p);
    let mut cmd = qemu_command();
    cmd.args(config::qemu_args(
        cfg,
        xen,
        &boot_modules(cfg, &assets, &custom)?,
    ));
    mon.timings.push(("prepare".into(), t0.elapsed()));
    let qemu = match start_qemu(&mut cmd) {
        Ok(q) => q,
        Err(e) => return Ok(failed_early(mon, serial_log, t0, format!("{e:#}"), what)),
    };
    let (status, failure) = drive(cfg, qemu, &mut mon, &serial_log, on_probe_line)?;
    Ok(lab_run(mon, status, failure, serial_log, t0, what))
}

/// The user's own hypervisor and dom0 kernel, checked and made bootable before QEMU starts.
struct Custom {
    xen: Option<(PathBuf, ImageInfo)>,
    dom0_kernel: Option<(PathBuf, ImageInfo)>,
}

impl Custom {
    fn resolve(cfg: &LabConfig) -> Result<Custom> {
        let cache = provision::cache_dir()?;
        let xen = cfg.xen.as_deref().map(|f| image::prepare_xen(f, &cache));
        let dom0 = cfg
            .dom0_kernel
            .as_deref()
            .map(|f| image::prepare_dom0_kernel(f, &cache));
        Ok(Custom {
            xen: xen.transpose()?,
            dom0_kernel: dom0.transpose()?,
        })
    }

    fn info(&self, cfg: &LabConfig) -> LabInfo {
        LabInfo {
            release: "4.17".into(),
            xen: self.xen.as_ref().map(|(_, i)| i.clone()),
            dom0_kernel: self.dom0_kernel.as_ref().map(|(_, i)| i.clone()),
            xen_build: None,
            pcpus: cfg.cpus.pcpus,
            vcpus: cfg.cpus.vcpus,
            dom0_cpu: if cfg.cpus.dom0_pinned() {
                "own pCPU 0"
            } else {
                "shared"
            }
            .into(),
        }
    }

    /// The run's facts, with the release's own hypervisor when no `--xen` was given.
    fn info_with(&self, cfg: &LabConfig, assets: &provision::Assets) -> Result<LabInfo> {
        let mut what = self.info(cfg);
        if what.xen.is_none() {
            what.xen = Some(ImageInfo {
                file: assets.xen.clone(),
                sha256: image::sha256(&assets.xen)?,
                kind: "Xen hypervisor (the release's)".into(),
                found: None,
            });
        }
        Ok(what)
    }
}

fn start_qemu(cmd: &mut Command) -> Result<Qemu> {
    eprintln!("[lab] $ {}", render(cmd));
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start QEMU")?;
    Ok(Qemu(child))
}

/// Follows a started QEMU to the end; returns its exit status and the failure report.
fn drive(
    cfg: &LabConfig,
    mut qemu: Qemu,
    mon: &mut Monitor,
    serial_log: &Path,
    on_probe_line: &mut dyn FnMut(&str),
) -> Result<(Option<i32>, Option<String>)> {
    let start = Instant::now();
    mon.enter(Stage::XenBoot, Duration::ZERO, "qemu started, xen booting");
    let rx = spawn_readers(&mut qemu.0, serial_log, cfg.verbose.then_some(start))?;
    let margin = if cfg.mode == Mode::DomU {
        MARGIN_DOMU
    } else {
        MARGIN_DOM0
    };
    let (end, stderr) = follow(mon, &rx, start, cfg.timeout + margin, on_probe_line);
    if end == End::HardTimeout {
        mon.hard_timeout(start.elapsed());
    }
    let status = finish_qemu(&mut qemu, mon, start, end == End::Eof);
    let failure = mon.failure(end == End::HardTimeout, &stderr);
    if let Some(f) = &failure {
        progress(Some(start.elapsed()), f.lines().next().unwrap_or_default());
    }
    Ok((status, failure))
}

/// The multiboot modules after Xen: Linux + the run's initramfs (DomU), or the probe (Dom0).
fn boot_modules(cfg: &LabConfig, assets: &provision::Assets, c: &Custom) -> Result<Vec<String>> {
    Ok(match cfg.mode {
        Mode::DomU => {
            let initrd = cfg.out_dir.join("dom0-initrd.cpio");
            initramfs::build_run(&assets.initrd_base, cfg, &initrd)?;
            let linux = c
                .dom0_kernel
                .as_ref()
                .map_or(&assets.dom0_kernel, |(p, _)| p);
            vec![
                config::dom0_linux_module(linux, &cfg.dom0_args)?,
                config::multiboot_module(&initrd.canonicalize()?, "")?,
            ]
        }
        Mode::Dom0 => {
            let k = cfg.kernel.canonicalize();
            let k = k.with_context(|| format!("probe kernel {}", cfg.kernel.display()))?;
            vec![config::multiboot_module(&k, &cfg.cmdline)?]
        }
    })
}

fn lab_run(
    mon: Monitor,
    status: Option<i32>,
    failure: Option<String>,
    log: PathBuf,
    t0: Instant,
    mut what: LabInfo,
) -> LabRun {
    what.xen_build = mon.xen_build.clone();
    LabRun {
        stage: mon.stage,
        guest_end: mon.guest_end,
        qemu_status: status,
        failure,
        serial_log: log,
        probe_lines: mon.probe_lines,
        script_lines: mon.script_lines,
        peer_lines: mon.peer_lines,
        wall: t0.elapsed(),
        timings: mon.timings,
        what,
    }
}

/// A run that failed before QEMU ran (stage Provision: provisioning or QEMU's start).
fn failed_early(mon: Monitor, log: PathBuf, t0: Instant, why: String, what: LabInfo) -> LabRun {
    let why = format!("stage provisioning failed: {why}");
    progress(None, &why);
    lab_run(mon, None, Some(why), log, t0, what)
}

/// QEMU, under util-linux's `setpriv --pdeathsig KILL` when available, so that it dies with
/// xtask even when xtask is killed outright (Ctrl-C reaches it anyway: same process group).
fn qemu_command() -> Command {
    if host::which("setpriv").is_none() {
        return Command::new("qemu-system-x86_64");
    }
    let mut c = Command::new("setpriv");
    c.args(["--pdeathsig", "KILL", "--", "qemu-system-x86_64"]);
    c
}

/// Reader threads: QEMU's stdout (serial) is written raw to `log` and split into lines;
/// its stderr is forwarded whole. With `echo_since`, each line is echoed to stderr with its time.
fn spawn_readers(
    child: &mut Child,
    log: &Path,
    echo_since: Option<Instant>,
) -> Result<Receiver<Event>> {
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().context("no QEMU stdout")?;
    let log = fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let txo = tx.clone();
    thread::spawn(move || pump_serial(out, log, txo, echo_since));
    let mut err = child.stderr.take().context("no QEMU stderr")?;
    thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        let _ = tx.send(Event::Stderr(s));
    });
    Ok(rx)
}

fn pump_serial(mut out: impl Read, mut log: impl Write, tx: Sender<Event>, echo: Option<Instant>) {
    let (mut buf, mut line) = ([0u8; 4096], Vec::new());
    while let Ok(n @ 1..) = out.read(&mut buf) {
        // Logged before the lines are sent: serial.log holds every line the monitor saw.
        let _ = log.write_all(&buf[..n]);
        for &b in &buf[..n] {
            if b == b'\n' {
                send_line(&tx, &mut line, echo);
            } else {
                line.push(b);
            }
        }
    }
    if !line.is_empty() {
        send_line(&tx, &mut line, echo);
    }
    let _ = tx.send(Event::Eof);
}

fn send_line(tx: &Sender<Event>, line: &mut Vec<u8>, echo: Option<Instant>) {
    let s = String::from_utf8_lossy(line).into_owned();
    line.clear();
    if let Some(t0) = echo {
        eprintln!(
            "  {:6.2} | {}",
            t0.elapsed().as_secs_f64(),
            s.trim_end_matches('\r')
        );
    }
    let _ = tx.send(Event::Serial(Instant::now(), s));
}

/// Feeds lines to the monitor until QEMU's output ends, the outcome is known, or the hard
/// timeout. Returns why it stopped and QEMU's stderr so far.
fn follow(
    mon: &mut Monitor,
    rx: &Receiver<Event>,
    start: Instant,
    hard: Duration,
    on_probe: &mut dyn FnMut(&str),
) -> (End, String) {
    let mut stderr = String::new();
    loop {
        let now = start.elapsed();
        let until = mon.stop_at.map_or(hard, |s| s.min(hard));
        if now >= until {
            let end = if mon.stop_at.is_some_and(|s| s <= hard) {
                End::Stop
            } else {
                End::HardTimeout
            };
            return (end, stderr);
        }
        match rx.recv_timeout(until - now) {
            Ok(Event::Serial(t, l)) => mon.line(t.saturating_duration_since(start), &l, on_probe),
            Ok(Event::Stderr(s)) => stderr.push_str(&s),
            Ok(Event::Eof) | Err(RecvTimeoutError::Disconnected) => {
                // Collect QEMU's stderr (its thread ends with the process).
                if let Ok(Event::Stderr(s)) = rx.recv_timeout(Duration::from_millis(500)) {
                    stderr.push_str(&s);
                }
                return (End::Eof, stderr);
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

/// Ends QEMU (kill if still running) and reports its exit status if it exited by itself.
/// After EOF on its output QEMU is exiting: wait (up to 3 s) for its status.
fn finish_qemu(qemu: &mut Qemu, mon: &mut Monitor, start: Instant, eof: bool) -> Option<i32> {
    let patience = if eof { 300 } else { 0 };
    let mut exited = qemu.0.try_wait().ok().flatten();
    for _ in 0..patience {
        if exited.is_some() {
            break;
        }
        thread::sleep(Duration::from_millis(10));
        exited = qemu.0.try_wait().ok().flatten();
    }
    match exited.and_then(|s| s.code()) {
        Some(code) => {
            mon.qemu_exited(start.elapsed(), code);
            Some(code)
        }
        None => {
            let _ = qemu.0.kill();
            let _ = qemu.0.wait();
            None
        }
    }
}
