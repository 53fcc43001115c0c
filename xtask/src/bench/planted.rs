//! Issue 12's figures: the planted-fault Xen (crate::xenbuild) caught by the stall probe.
//!
//! * `planted_recall`: planted 1000 ms timer wake-up losses (every 60th timer event from the
//!   100th: `planted-timer-wake=100,1000,60`) counted in Xen's own log ("PLANTED FAULT: ...
//!   deferred"), against the stall probe's lost_wakeup stalls of 1.0 s +-10 %.
//! * `planted_false_positives`: lost_wakeup stalls in one hour of guest time (10 ms beats;
//!   `--unarmed-duration` to shorten it) on the same build with no fault armed.
//! * `planted_boot_wall` beside `lab_wall_domu`: the platform-probe run on the planted build
//!   (with `--only planted`, the stock runs are made here, interleaved with the planted ones).
//! * `xen_build_wall`: the last `cargo xtask xen-build` (hypervisor only).

use super::{median, missing, Ctx};
use crate::report::Figure;
use crate::run::Outcome;
use anyhow::Result;
use xp_core::records::owned;

const PLANTED_MS: f64 = 1000.0;

/// Issue 12's figures alone (`bench --only planted`): with the stock domU runs interleaved
/// with the planted ones, so that both boot times see the same load.
pub fn only(ctx: &Ctx) -> Result<(Vec<Figure>, super::measure::EnvInfo)> {
    let f = figures(ctx, true)?;
    Ok((f, super::measure::EnvInfo { xen_version: None }))
}

/// `stock`: also time the stock hypervisor's domU run (`lab_wall_domu`), interleaved.
pub fn figures(ctx: &Ctx, stock: bool) -> Result<Vec<Figure>> {
    let built = match crate::xenbuild::ensure(false) {
        Ok(b) => b,
        Err(e) => {
            return Ok(all_missing(&format!(
                "the planted-fault Xen did not build: {e:#}"
            )))
        }
    };
    let xen = built.xen.clone();
    let mut f = vec![build_wall(&built)];
    let recall = ctx.run("planted-recall", |o| {
        o.xen = Some(xen.clone());
        o.xen_args = RECALL_ARGS.into();
        o.cmdline = "probes=stall duration=40 stall.period=10ms".into();
        o.timeout_s = 300;
    })?;
    f.push(recall_figure(&recall));
    let unarmed = ctx.run("planted-unarmed", |o| {
        o.xen = Some(xen.clone());
        o.cpus.pcpus = 2;
        o.cmdline = format!(
            "probes=stall duration={} stall.period=10ms stall.summary=60s",
            ctx.unarmed_s
        );
        o.timeout_s = ctx.unarmed_s + 400;
    })?;
    f.push(false_positives(&unarmed, ctx.unarmed_s));
    f.extend(boot_wall(ctx, &xen, stock)?);
    Ok(f)
}

/// Every 60th blocked timer wake-up from the 100th deferred by 1000 ms.
const RECALL_ARGS: &str = "planted-timer-wake=100,1000,60";

fn all_missing(why: &str) -> Vec<Figure> {
    [
        ("xen_build_wall", "s"),
        ("planted_recall", "ratio"),
        ("planted_false_positives", "count"),
        ("planted_boot_wall", "s"),
    ]
    .iter()
    .map(|(n, u)| missing(n, u, "planted-fault Xen (cargo xtask xen-build)", why))
    .collect()
}

fn build_wall(b: &crate::xenbuild::Built) -> Figure {
    let method = format!(
        "wall time of the last `cargo xtask xen-build` (Debian source {}: unpack, patch, \
         olddefconfig, make -C xen -j<cores>), on this host whatever its load",
        b.version
    );
    match b.build_seconds {
        Some(s) => Figure::new("xen_build_wall".into(), s, "s", Some(1), &method),
        None => missing(
            "xen_build_wall",
            "s",
            &method,
            "no build-seconds file: built before it was recorded",
        ),
    }
}

/// Planted deferrals in Xen's log.
pub fn planted_in_log(o: &Outcome) -> usize {
    let log = std::fs::read_to_string(&o.lab.serial_log).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains("PLANTED FAULT: ") && l.contains("deferred by"))
        .count()
}

/// lost_wakeup stalls of the planted length, +-10 %.
pub fn caught(o: &Outcome) -> usize {
    o.parsed
        .of::<owned::Stall>()
        .filter(|r| r.class == "lost_wakeup")
        .map(|r| r.gap_ns as f64)
        .filter(|g| (g / 1e6 - PLANTED_MS).abs() <= PLANTED_MS * 0.1)
        .count()
}

fn recall_figure(o: &Outcome) -> Figure {
    let (planted, caught) = (planted_in_log(o), caught(o));
    let method = format!(
        "stall probe (10 ms beats, 40 s) on the planted build with {RECALL_ARGS}: \
         lost_wakeup stalls of 1000 ms +-10 % ({caught}) / deferrals in Xen's log ({planted}); {}",
        o.verdict.name()
    );
    if planted == 0 {
        return missing(
            "planted_recall",
            "ratio",
            &method,
            "Xen's log names no planted deferral",
        );
    }
    let mut fig = Figure::new(
        "planted_recall".into(),
        caught as f64 / planted as f64,
        "ratio",
        Some(planted as u64),
        &method,
    );
    fig.higher_is_better = true;
    fig.note = Some(format!("{caught}/{planted} caught"));
    fig
}

fn false_positives(o: &Outcome, secs: u64) -> Figure {
    let stalls = o.parsed.of::<owned::Stall>().count();
    let lost = o
        .parsed
        .of::<owned::Stall>()
        .filter(|r| r.class == "lost_wakeup")
        .count();
    let beats: u64 = o.parsed.of::<owned::Summary>().map(|r| r.beats).sum();
    let method = format!(
        "lost_wakeup stalls in {secs} s of guest time (stall probe, 10 ms beats: {beats} beats) on \
         the planted build, no fault armed, dom0 on its own pCPU; {}",
        o.verdict.name()
    );
    if beats == 0 {
        return missing(
            "planted_false_positives",
            "count",
            &method,
            "the run produced no summary",
        );
    }
    let mut fig = Figure::new(
        "planted_false_positives".into(),
        lost as f64,
        "count",
        Some(beats),
        &method,
    );
    fig.note = Some(format!(
        "{lost} lost_wakeup of {stalls} stalls above 100 ms in {secs} s guest time"
    ));
    fig
}

/// The planted build's warm domU platform run (and with `stock`, the stock hypervisor's,
/// interleaved run by run); each is primed first so that the timed runs restore a saved lab.
fn boot_wall(ctx: &Ctx, xen: &std::path::Path, stock: bool) -> Result<Vec<Figure>> {
    let planted = |o: &mut crate::run::RunOpts| {
        o.xen = Some(xen.to_path_buf());
        o.cmdline = "probes=platform".into();
    };
    let plain = |o: &mut crate::run::RunOpts| o.cmdline = "probes=platform".into();
    ctx.run("planted-platform-prime", planted)?;
    if stock {
        ctx.run("stock-platform-prime", plain)?;
    }
    let (mut p, mut s) = (Vec::new(), Vec::new());
    for i in 0..ctx.repeat {
        p.push(ctx.run(&format!("planted-platform-{i}"), planted)?);
        if stock {
            s.push(ctx.run(&format!("stock-platform-{i}"), plain)?);
        }
    }
    let mut f = vec![wall_figure(
        "planted_boot_wall",
        &p,
        "--xen <planted build>, no fault armed",
    )];
    if stock {
        f.push(wall_figure(
            "lab_wall_domu",
            &s,
            "the stock hypervisor, interleaved with planted_boot_wall's runs",
        ));
    }
    Ok(f)
}

fn wall_figure(name: &str, runs: &[Outcome], what: &str) -> Figure {
    let secs: Vec<f64> = runs.iter().map(|o| o.lab.wall.as_secs_f64()).collect();
    let method = format!(
        "wall time of run::execute, platform probe as a domU, saved lab restored, {what}; \
         median of {} runs",
        secs.len()
    );
    match median(secs.clone()) {
        Some(m) => Figure::new(name.into(), m, "s", Some(secs.len() as u64), &method),
        None => missing(name, "s", &method, "no run"),
    }
}
