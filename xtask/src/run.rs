//! `cargo xtask run`: build the probe, boot it in the virtual lab, stream its
//! console, summarise, and exit with xtf-runner's codes.

use crate::cli::Args;
use crate::lab::{self, LabConfig, LabRun, Mode, Sched, Stage, Xenstored};
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::time::Duration;
use xp_host::results::{self, Parsed, Verdict};

/// `cargo xtask run --help`.
pub const HELP: &str = "\
  run [options]      boot the probe in the virtual lab (QEMU + Xen + Debian dom0)
      --xen-release 4.17|4.20  Debian 12's Xen 4.17 (default) or Debian 13's Xen 4.20
      --dom0                 boot the probe as dom0 (hypervisor-only probes, no toolstack)
      --xenstored c|ocaml    which xenstored dom0 runs (default ocaml)
      --sched credit|credit2 Xen's scheduler (default credit2)
      --cmdline \"...\"        probe command line, e.g. \"probes=platform\"
      --memory MIB           domU memory (default 4, libxc's floor for a 64-bit PV guest)
      --timeout S            how long the probe may run (default 60)
      --dom0-script \"...\"    shell lines dom0 runs while the probe runs ($DOMID, $DOMNAME)
      --xen FILE             boot your own hypervisor (xen.gz or xen) with the release's dom0
      --dom0-kernel FILE     boot your own dom0 kernel (bzImage or PV vmlinux)
      --xen-args \"...\"       more options for Xen's command line
      --pcpus N              pCPUs of the lab machine (default 1; with 2+ dom0 gets pCPU 0)
      --vcpus N              vCPUs of the probe domain (default 1, at most --pcpus)
      --shared-dom0-cpu      with --pcpus 2+: dom0 and the probe share every pCPU
      --peer NAME:CMDLINE    one more probe domain after the main one
      --cold                 boot Xen and dom0 (no saved lab restored or saved)
      --json FILE            write all records, the verdict and lab timings as JSON
      --out DIR              where serial.log etc. go (default lab-out/run)
      --verbose              echo the raw serial console to stderr
      --raw                  also show the probe's @xp records (the log and --json have them)";

pub const USAGE: &[&str] = &[
    "--dom0",
    "--xenstored c|ocaml",
    "--sched credit|credit2",
    "--cmdline \"...\"",
    "--json FILE",
    "--timeout S",
    "--memory MIB",
    "--dom0-script \"...\"",
    "--peer NAME:CMDLINE",
    "--xen-args \"...\"",
    "--xen-release 4.17|4.20",
    "--xen FILE",
    "--dom0-kernel FILE",
    "--pcpus N",
    "--vcpus N",
    "--shared-dom0-cpu",
    "--cold",
    "--out DIR",
    "--verbose",
    "--raw",
];

/// What one lab run is asked to do.
#[derive(Debug, Clone)]
pub struct RunOpts {
    pub mode: Mode,
    pub xenstored: Xenstored,
    pub sched: Sched,
    pub cmdline: String,
    pub memory_mib: u32,
    pub timeout_s: u64,
    pub dom0_script: Option<String>,
    /// More probe domains started after the main one (e.g. the other end of a ring).
    pub peers: Vec<lab::Peer>,
    /// Extra options for Xen's command line (e.g. "clocksource=tsc").
    pub xen_args: String,
    /// Your own hypervisor (xen.gz or xen) / dom0 kernel (bzImage or PV vmlinux).
    pub xen: Option<PathBuf>,
    pub dom0_kernel: Option<PathBuf>,
    /// pCPUs, the probe's vCPUs, and whether dom0 shares pCPU 0 with it.
    pub cpus: lab::Cpus,
    /// The Xen release whose hypervisor, dom0 kernel and tools the lab boots.
    pub release: lab::Release,
    /// Boot the lab cold (no saved lab restored or saved).
    pub cold: bool,
    pub out_dir: PathBuf,
    pub verbose: bool,
    /// Also show the probe's `@xp` records live (the log and `--json` always have them).
    pub raw: bool,
}

impl Default for RunOpts {
    fn default() -> Self {
        RunOpts {
            mode: Mode::DomU,
            xenstored: Xenstored::Ocaml,
            sched: Sched::Credit2,
            cmdline: String::new(),
            memory_mib: 4,
            timeout_s: 60,
            dom0_script: None,
            peers: Vec::new(),
            xen_args: String::new(),
            xen: None,
            dom0_kernel: None,
            cpus: lab::Cpus::default(),
            release: lab::Release::X417,
            cold: false,
            out_dir: crate::build::root().join("lab-out/run"),
            verbose: false,
            raw: false,
        }
    }
}

/// What came out of one lab run.
pub struct Outcome {
    pub verdict: Verdict,
    /// Why, when the verdict is not the probe's own (crash, timeout, lab failure).
    pub reason: Option<String>,
    pub parsed: Parsed,
    /// Each peer domain's console, parsed.
    pub peers: Vec<(String, Parsed)>,
    pub lab: LabRun,
}

pub fn parse_opts(mut a: Args) -> Result<(RunOpts, Option<PathBuf>)> {
    let mut o = RunOpts::default();
    if a.flag("--dom0") {
        o.mode = Mode::Dom0;
    }
    if let Some(x) = a.choice("--xenstored", &["c", "ocaml"])? {
        o.xenstored = if x == "c" {
            Xenstored::C
        } else {
            Xenstored::Ocaml
        };
    }
    if let Some(s) = a.choice("--sched", &["credit", "credit2"])? {
        o.sched = if s == "credit" {
            Sched::Credit
        } else {
            Sched::Credit2
        };
    }
    o.cmdline = a.value("--cmdline")?.unwrap_or_default();
    o.timeout_s = a
        .number("--timeout", "whole seconds")?
        .unwrap_or(o.timeout_s);
    o.memory_mib = a
        .number("--memory", "MiB (4 is the floor for a 64-bit PV guest)")?
        .unwrap_or(o.memory_mib);
    o.dom0_script = a.value("--dom0-script")?;
    o.xen_args = a.value("--xen-args")?.unwrap_or_default();
    parse_lab_shape(&mut a, &mut o)?;
    while let Some(p) = a.value("--peer")? {
        o.peers.push(parse_peer(&p, o.memory_mib)?);
    }
    if let Some(d) = a.value("--out")? {
        o.out_dir = d.into();
    }
    o.verbose = a.flag("--verbose");
    o.raw = a.flag("--raw");
    let json = a.value("--json")?.map(PathBuf::from);
    a.finish()?;
    Ok((o, json))
}

/// `--xen-release`, `--xen`, `--dom0-kernel`, `--pcpus`, `--vcpus`, `--shared-dom0-cpu`.
fn parse_lab_shape(a: &mut Args, o: &mut RunOpts) -> Result<()> {
    if let Some(r) = a.value("--xen-release")? {
        o.release = lab::Release::parse(&r)?;
    }
    o.xen = a.value("--xen")?.map(PathBuf::from);
    o.dom0_kernel = a.value("--dom0-kernel")?.map(PathBuf::from);
    let cpus = "a count of CPUs (1 to 16)";
    o.cpus.pcpus = a.number("--pcpus", cpus)?.unwrap_or(o.cpus.pcpus);
    o.cpus.vcpus = a.number("--vcpus", cpus)?.unwrap_or(o.cpus.vcpus);
    o.cpus.shared_dom0_cpu = a.flag("--shared-dom0-cpu");
    o.cold = a.flag("--cold");
    Ok(())
}

/// `--peer NAME:CMDLINE` (`@MAIN_DOMID@` in CMDLINE becomes the main domain's id).
pub fn parse_peer(spec: &str, memory_mib: u32) -> Result<lab::Peer> {
    match spec.split_once(':') {
        Some((name, cmdline)) if !name.is_empty() => Ok(lab::Peer {
            name: name.into(),
            cmdline: cmdline.into(),
            memory_mib,
            kernel: None,
        }),
        _ => {
            anyhow::bail!("bad --peer '{spec}' (expected NAME:CMDLINE, e.g. xpeer:probes=platform)")
        }
    }
}

/// `cargo xtask run ...`
pub fn main(args: Args) -> Result<i32> {
    let (opts, json) = parse_opts(args)?;
    let kernel = crate::build::kernel()?;
    let out = execute(&opts, &kernel, true)?;
    crate::summary::print(&opts, &out);
    if let Some(path) = json {
        crate::summary::write_json(&path, &opts, &out)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(out.verdict.exit_code())
}

/// Boot `kernel` in the lab as `opts` says; `live` streams probe lines to stdout.
pub fn execute(opts: &RunOpts, kernel: &std::path::Path, live: bool) -> Result<Outcome> {
    let cfg = lab_config(opts, kernel)?;
    std::fs::create_dir_all(&opts.out_dir)
        .with_context(|| format!("creating {}", opts.out_dir.display()))?;
    // A heartbeat on stderr every 10 s for long live runs (only on a terminal, not in CI).
    let progress = live.then(|| crate::progress::Progress::start(Duration::from_secs(10)));
    let mut print = |l: &str| {
        if live && xp_host::console::shown(&xp_host::console::classify(l), opts.raw) {
            println!("{l}");
        }
        if let Some(p) = &progress {
            p.line(l);
        }
    };
    let mut lab = lab::run(&cfg, &mut print)?;
    drop(progress);
    let parsed = results::parse(&lab.probe_lines);
    // Debian's Xen prints no "Latest ChangeSet": take XENVER_changeset as the probe read it.
    if let Some(b) = lab
        .what
        .xen_build
        .as_mut()
        .filter(|b| b.changeset.is_none())
    {
        let cs = parsed.info("xen_changeset").filter(|c| !c.is_empty());
        b.changeset = cs.map(String::from);
    }
    let (verdict, reason) = judge(&parsed, &lab);
    let peers = peer_outcomes(opts, &lab);
    let (verdict, reason) = worst_of(verdict, reason, &peers);
    Ok(Outcome {
        verdict,
        reason,
        parsed,
        peers,
        lab,
    })
}

fn lab_config(opts: &RunOpts, kernel: &std::path::Path) -> Result<LabConfig> {
    let mut cmdline = opts.cmdline.clone();
    if opts.mode == Mode::Dom0 && !cmdline.split_whitespace().any(|t| t.starts_with("exit=")) {
        cmdline = format!("{cmdline} exit=isa-debug-exit").trim().to_string();
    }
    Ok(LabConfig {
        cmdline,
        memory_mib: opts.memory_mib,
        xenstored: opts.xenstored,
        sched: opts.sched,
        timeout: Duration::from_secs(opts.timeout_s),
        dom0_script: opts.dom0_script.clone(),
        peers: opts.peers.clone(),
        xen_args: opts.xen_args.clone(),
        xen: opts.xen.clone(),
        dom0_kernel: opts.dom0_kernel.clone(),
        cpus: opts.cpus,
        release: opts.release,
        cold: opts.cold,
        out_dir: opts.out_dir.clone(),
        verbose: opts.verbose,
        // Only a dom0 script runs it: without one the run neither builds nor carries it.
        host_bin: match &opts.dom0_script {
            Some(_) => crate::dist::for_lab(opts.mode)?,
            None => None,
        },
        ..LabConfig::new(opts.mode, kernel.to_path_buf())
    })
}

/// Each peer domain's console, parsed.
fn peer_outcomes(opts: &RunOpts, lab: &LabRun) -> Vec<(String, Parsed)> {
    let parse = |p: &lab::Peer| {
        let lines: Vec<String> = lab
            .peer_lines
            .iter()
            .filter(|(n, _)| *n == p.name)
            .map(|(_, l)| l.clone())
            .collect();
        (p.name.clone(), results::parse(&lines))
    };
    opts.peers.iter().map(parse).collect()
}

/// The most severe of the main verdict and the peers'.
fn worst_of(
    mut verdict: Verdict,
    mut reason: Option<String>,
    peers: &[(String, Parsed)],
) -> (Verdict, Option<String>) {
    for (name, p) in peers {
        let v = p.verdict();
        if v.exit_code() > verdict.exit_code() {
            verdict = v;
            let why = results::crash_reason(p).unwrap_or_else(|| v.name().into());
            reason = Some(format!("peer {name}: {why}"));
        }
    }
    (verdict, reason)
}

/// The verdict of a run: the probe's own result line if it printed one; a lab that
/// broke before the probe ran is an ERROR; a probe that never printed its result is a CRASH.
fn judge(p: &Parsed, lab: &LabRun) -> (Verdict, Option<String>) {
    if let Some(o) = p.result {
        return (Verdict::Outcome(o), None);
    }
    let crash = results::crash_reason(p);
    let why = crash
        .or_else(|| lab.failure.clone())
        .unwrap_or_else(|| format!("no result line (probe domain ended: {:?})", lab.guest_end));
    if lab.stage < Stage::Probe {
        (
            Verdict::Outcome(xp_core::outcome::Outcome::Error),
            Some(format!("lab failed at stage {:?}: {why}", lab.stage)),
        )
    } else {
        (Verdict::Crash, Some(why))
    }
}
