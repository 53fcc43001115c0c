//! One lab run: prepare the machine (the user's images, the release's files, the run's input
//! disk), restore the saved lab or boot it cold (saving it at `XPLAB ready`), follow its
//! serial stream, end it, and collect what dom0 exported.

use super::host::progress;
use super::image::{self, ImageInfo};
use super::monitor::Monitor;
use super::qemu::{self, End, Qemu};
use super::snapshot::Snapshot;
use super::{config, initramfs, inputs, provision, LabConfig, LabInfo, LabRun, Mode, Stage};
use anyhow::{Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Host-side allowance on top of `cfg.timeout` for booting Xen + dom0 + the toolstack.
const MARGIN_DOMU: Duration = Duration::from_secs(90);
const MARGIN_DOM0: Duration = Duration::from_secs(8);
/// As dom0 nothing in the lab enforces the timeout: the host does, from the probe's first line
/// (its banner), allowing this for the last lines to arrive.
const GRACE_DOM0: Duration = Duration::from_secs(1);
/// How long a restore may take before the run boots cold instead.
const RESTORE_PATIENCE: Duration = Duration::from_secs(60);

pub fn run(cfg: &LabConfig, on_probe_line: &mut dyn FnMut(&str)) -> Result<LabRun> {
    let t0 = Instant::now();
    fs::create_dir_all(&cfg.out_dir)
        .with_context(|| format!("creating {}", cfg.out_dir.display()))?;
    config::check_cpus(cfg)?;
    let custom = Custom::resolve(cfg)?;
    let serial_log = cfg.out_dir.join("serial.log");
    let mut mon = Monitor::new(cfg.mode);
    let assets = match provision::provision(cfg.release, cfg.verbose) {
        Ok(a) => a,
        Err(e) => {
            let why = format!("provisioning: {e:#}");
            return Ok(failed_early(mon, serial_log, t0, why, custom.info(cfg)));
        }
    };
    let mut what = custom.info_with(cfg, &assets)?;
    let machine = Machine::prepare(cfg, &assets, &custom)?;
    mon.timings.push(("prepare".into(), t0.elapsed()));
    let mut ctx = Ctx {
        cfg,
        mon: &mut mon,
        log: &serial_log,
        on_probe: on_probe_line,
        head: Vec::new(),
    };
    let (status, failure) = match machine.boot(&mut ctx, &mut what) {
        Ok(r) => r,
        Err(e) => return Ok(failed_early(mon, serial_log, t0, format!("{e:#}"), what)),
    };
    if cfg.mode == Mode::DomU {
        what.exported = inputs::read_export(&cfg.out_dir)?;
    }
    Ok(lab_run(mon, status, failure, serial_log, t0, what))
}

/// What following a QEMU needs.
struct Ctx<'a> {
    cfg: &'a LabConfig,
    mon: &'a mut Monitor,
    log: &'a Path,
    on_probe: &'a mut dyn FnMut(&str),
    /// The lab's lines at the top of serial.log (`banner::serial_head`).
    head: Vec<String>,
}

/// The machine of a run: QEMU's arguments, and in DomU mode the saved lab and the disks.
struct Machine {
    args: Vec<String>,
    /// DomU: QMP socket, saved lab, disk options.
    saved: Option<(PathBuf, Snapshot, Vec<String>)>,
}

impl Machine {
    fn prepare(cfg: &LabConfig, assets: &provision::Assets, c: &Custom) -> Result<Machine> {
        let xen = c.xen.as_ref().map_or(&assets.xen, |(p, _)| p);
        let args = config::qemu_args(cfg, xen, &boot_modules(cfg, assets, c)?);
        if cfg.mode == Mode::Dom0 {
            return Ok(Machine { args, saved: None });
        }
        let snap = Snapshot::for_machine(&provision::cache_dir()?, &args, &assets.stamp)?;
        let (input, export) = inputs::write_disks(cfg)?;
        let qmp = std::env::temp_dir().join(format!(
            "xenprobe-qmp-{}-{}.sock",
            std::process::id(),
            snap.name
        ));
        Ok(Machine {
            args,
            saved: Some((qmp, snap, inputs::qemu_args(&input, &export))),
        })
    }

    fn command(&self, extra: &[String]) -> std::process::Command {
        let mut cmd = qemu::qemu_command();
        cmd.args(&self.args).args(extra);
        cmd
    }

    /// Boots (or restores) the machine and follows it; returns QEMU's status and the failure.
    fn boot(&self, ctx: &mut Ctx, what: &mut LabInfo) -> Result<(Option<i32>, Option<String>)> {
        let Some((qmp, snap, disks)) = &self.saved else {
            what.boot = "probe booted as dom0".into();
            let q = Qemu::start(&mut self.command(&[]), false)?;
            return follow_to_end(ctx, q, Instant::now(), &mut |_| {});
        };
        let xenstored = ctx.cfg.xenstored.daemon();
        ctx.head = super::banner::serial_head(xenstored, None);
        let mut extra = disks.clone();
        extra.extend([
            "-qmp".into(),
            format!("unix:{},server=on,wait=off", qmp.display()),
        ]);
        if ctx.cfg.cold {
            what.boot = "cold boot (--cold: no saved lab used or saved)".into();
        } else if let Some(_in_use) = snap.try_use() {
            match self.restore(snap, qmp, &extra) {
                Ok((q, start)) => {
                    what.boot = format!("restored saved lab {}", snap.name);
                    let saved = (snap.name.as_str(), snap.banner());
                    ctx.head = super::banner::serial_head(xenstored, Some(saved));
                    for l in snap.banner() {
                        super::banner::XenBuild::feed(&mut ctx.mon.xen_build, &l);
                    }
                    ctx.mon.enter(
                        Stage::XlCreate,
                        start.elapsed(),
                        "saved lab restored: xenstored ready",
                    );
                    return follow_to_end(ctx, q, start, &mut |_| {});
                }
                Err(e) => {
                    snap.discard();
                    what.boot =
                        format!("cold boot: restoring saved lab {} failed: {e:#}", snap.name);
                    progress(None, &what.boot);
                }
            }
        }
        self.cold(ctx, what, snap, qmp, &extra)
    }

    /// Starts QEMU on the saved state and releases dom0 once it runs.
    fn restore(&self, snap: &Snapshot, qmp: &Path, extra: &[String]) -> Result<(Qemu, Instant)> {
        let _ = fs::remove_file(qmp);
        let incoming = format!("exec:cat '{}'", snap.state().display());
        let mut a = extra.to_vec();
        a.extend(["-incoming".into(), incoming]);
        let start = Instant::now();
        let mut q = Qemu::start(&mut self.command(&a), true)?;
        let mut m = super::qmp::Qmp::connect(qmp, Duration::from_secs(10))?;
        m.wait_running(RESTORE_PATIENCE)?;
        let _ = fs::remove_file(qmp);
        let mut input = q.take_input().context("no console input")?;
        qemu::type_line(&mut input, "go")?;
        Ok((q, start))
    }

    /// Boots the machine; at `XPLAB ready` saves it (unless another run is saving the same
    /// lab now) and releases dom0.
    fn cold(
        &self,
        ctx: &mut Ctx,
        what: &mut LabInfo,
        snap: &Snapshot,
        qmp: &Path,
        extra: &[String],
    ) -> Result<(Option<i32>, Option<String>)> {
        let _ = fs::remove_file(qmp);
        let lock = snap.try_lock().filter(|_| !ctx.cfg.cold);
        if what.boot.is_empty() {
            what.boot = match lock {
                Some(_) => format!("cold boot (saved as lab {})", snap.name),
                None => format!(
                    "cold boot (lab {} is being saved by another run)",
                    snap.name
                ),
            };
        }
        let start = Instant::now();
        let mut q = Qemu::start(&mut self.command(extra), true)?;
        let mut input = q.take_input().context("no console input")?;
        let mut on_ready = |mon: &mut Monitor| {
            if lock.is_some() {
                let banner = mon
                    .xen_build
                    .as_ref()
                    .map(|b| b.lines())
                    .unwrap_or_default();
                save(snap, qmp, start.elapsed(), &banner);
            }
            if let Err(e) = qemu::type_line(&mut input, "go") {
                mon.lab_failure
                    .get_or_insert(format!("releasing dom0: {e:#}"));
            }
        };
        let r = follow_to_end(ctx, q, start, &mut on_ready);
        let _ = fs::remove_file(qmp);
        r
    }
}

/// Saves the lab (stopped meanwhile: no guest time passes); a failure only costs the speed-up.
fn save(snap: &Snapshot, qmp: &Path, t: Duration, banner: &[String]) {
    let t0 = Instant::now();
    let saved = (|| {
        let tmp = snap.temp_state()?;
        let r = super::qmp::Qmp::connect(qmp, Duration::from_secs(5))?.save_state(&tmp);
        if r.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        r?;
        snap.commit(&tmp, t.as_secs_f64(), banner)
    })();
    match saved {
        Ok(()) => {
            let secs = t0.elapsed().as_secs_f64();
            progress(
                Some(t),
                &format!("lab saved as {} in {secs:.1} s", snap.name),
            );
            sweep(snap, t);
        }
        Err(e) => progress(
            Some(t),
            &format!("saving the lab failed (next runs boot cold): {e:#}"),
        ),
    }
}

/// Removes old saved labs after a save (labs_gc.rs); a failure only costs disk space.
fn sweep(snap: &Snapshot, t: Duration) {
    match snap.sweep_others() {
        Ok(Some(line)) => progress(Some(t), &line),
        Ok(None) => {}
        Err(e) => progress(
            Some(t),
            &format!("cleaning up old saved labs failed (they stay on disk): {e:#}"),
        ),
    }
}

/// Follows a started QEMU to the end; returns its exit status and the failure report.
fn follow_to_end(
    ctx: &mut Ctx,
    mut q: Qemu,
    start: Instant,
    on_ready: &mut dyn FnMut(&mut Monitor),
) -> Result<(Option<i32>, Option<String>)> {
    ctx.mon
        .enter(Stage::XenBoot, Duration::ZERO, "qemu started, xen booting");
    let echo = ctx.cfg.verbose.then_some(start);
    let rx = qemu::spawn_readers(&mut q, ctx.log, &ctx.head, echo)?;
    let (timeout, mode) = (ctx.cfg.timeout, ctx.cfg.mode);
    let limit = move |m: &Monitor| hard_limit(mode, timeout, m.probe_started);
    let (end, stderr) = qemu::follow(ctx.mon, &rx, start, &limit, ctx.on_probe, on_ready);
    if end == End::HardTimeout {
        ctx.mon.hard_timeout(start.elapsed());
    }
    let status = qemu::finish_qemu(&mut q, ctx.mon, start, end == End::Eof);
    let failure = ctx.mon.failure(end == End::HardTimeout, &stderr);
    if let Some(f) = &failure {
        progress(Some(start.elapsed()), f.lines().next().unwrap_or_default());
    }
    Ok((status, failure))
}

/// When (since QEMU start) the host ends a run that has not ended: the probe's `timeout` plus
/// the boot allowance; as dom0, once the probe's first line came, `timeout` after it (plus a
/// grace): the probe gets its whole timeout however long Xen took to boot.
pub fn hard_limit(mode: Mode, timeout: Duration, probe_started: Option<Duration>) -> Duration {
    match (mode, probe_started) {
        (Mode::DomU, _) => timeout + MARGIN_DOMU,
        (Mode::Dom0, None) => timeout + MARGIN_DOM0,
        (Mode::Dom0, Some(t)) => t + timeout + GRACE_DOM0,
    }
}

/// The multiboot modules after Xen: Linux + the boot initramfs (DomU), or the probe (Dom0).
fn boot_modules(cfg: &LabConfig, assets: &provision::Assets, c: &Custom) -> Result<Vec<String>> {
    Ok(match cfg.mode {
        Mode::DomU => {
            let base_sha = assets.stamp_sha("initrd_base").unwrap_or("unknown");
            let initrd = initramfs::boot_initrd(&assets.initrd_base, base_sha)?;
            let linux = c
                .dom0_kernel
                .as_ref()
                .map_or(&assets.dom0_kernel, |(p, _)| p);
            let args = format!("xp.xenstored={} {}", cfg.xenstored.name(), cfg.dom0_args);
            vec![
                config::dom0_linux_module(linux, args.trim_end())?,
                config::multiboot_module(&initrd, "")?,
            ]
        }
        Mode::Dom0 => {
            let k = cfg.kernel.canonicalize();
            let k = k.with_context(|| format!("probe kernel {}", cfg.kernel.display()))?;
            vec![config::multiboot_module(&k, &cfg.cmdline)?]
        }
    })
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
            release: cfg.release.name().into(),
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
            ..LabInfo::default()
        }
    }

    /// The run's facts, with the release's own hypervisor when no `--xen` was given.
    fn info_with(&self, cfg: &LabConfig, assets: &provision::Assets) -> Result<LabInfo> {
        let mut what = self.info(cfg);
        if what.xen.is_none() {
            what.xen = Some(ImageInfo {
                file: assets.xen.clone(),
                sha256: match assets.stamp_sha("xen") {
                    Some(s) => s.to_string(),
                    None => image::sha256(&assets.xen)?,
                },
                kind: "Xen hypervisor (the release's)".into(),
                found: None,
            });
        }
        Ok(what)
    }
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
