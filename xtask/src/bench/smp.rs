//! Issue 11's figures: cross-vCPU wake-ups beside the same-vCPU loopback (100 000 each, two
//! vCPUs, dom0 on its own pCPU), lost wake-ups among them, and the sibling watchdog's
//! detection delay (vCPU 1 taken down for 500 ms, threshold 100 ms, period 1 ms), and the
//! timer probe's lateness p99 at 1 ms as a domU with dom0 on its own pCPU beside the same
//! probe booted as dom0 (no Linux beside it).

use super::{dom0, missing, Ctx};
use crate::lab::Cpus;
use crate::report::Figure;
use crate::run::Outcome;
use anyhow::Result;
use xp_core::records::owned;

const TWO_VCPUS: Cpus = Cpus {
    pcpus: 3,
    vcpus: 2,
    shared_dom0_cpu: false,
};

pub fn figures(ctx: &Ctx) -> Result<Vec<Figure>> {
    let wake = ctx.run("smp-wakeup", |o| {
        o.cpus = TWO_VCPUS;
        o.cmdline = "probes=wakeup wakeup.samples=100000".into();
        o.timeout_s = 600;
    })?;
    let mut f = Vec::new();
    for (stats, name) in [
        ("wake_vcpu0_to_vcpu1", "wake_cross_vcpu"),
        ("wake_vcpu0_to_vcpu1_tsc", "wake_cross_vcpu_tsc"),
        ("wake_loopback_vcpu0", "wake_loopback"),
    ] {
        for p in ["p50", "p99"] {
            let what =
                format!("wakeup probe {stats} {p} (2 vCPUs on their own pCPUs, dom0 on pCPU 0)");
            f.push(percentile_us(
                &wake,
                stats,
                p,
                &format!("{name}_{p}"),
                &what,
            ));
        }
    }
    f.push(clock_behind(&wake));
    f.push(lost(&wake));
    let wd = ctx.run("smp-watchdog", |o| {
        o.cpus = TWO_VCPUS;
        o.cmdline = "probes=stall duration=4 stall.down=500ms".into();
        o.timeout_s = 120;
    })?;
    f.push(detection(&wd));
    f.extend(timer_p99(ctx)?);
    Ok(f)
}

/// Timer lateness p99 at 1 ms intervals (2000 samples, the timer probe's default budget): a
/// 1-vCPU domU with dom0 on pCPU 0 and pCPUs 1-2 for the probe, the same with pCPU 1 alone
/// for it (README: the 3-4 ms tail of that layout), then the probe booted as dom0.
fn timer_p99(ctx: &Ctx) -> Result<Vec<Figure>> {
    let domu = |name: &str, pcpus: u32| {
        ctx.run(name, |o| {
            o.cpus = Cpus {
                pcpus,
                vcpus: 1,
                shared_dom0_cpu: false,
            };
            o.cmdline = TIMER_1MS.into();
        })
    };
    let two = domu("timer-1ms-domu", 3)?;
    let one = domu("timer-1ms-domu-one-pcpu", 2)?;
    let d0 = ctx.run("timer-1ms-dom0", |o| {
        dom0(o);
        o.cmdline = TIMER_1MS.into();
    })?;
    Ok(vec![
        late(
            &two,
            "timer_p99_1ms_domu",
            "domU, 1 vCPU, cpus 1-2 of 3 pCPUs, dom0 pinned to pCPU 0",
        ),
        late(
            &one,
            "timer_p99_1ms_domu_one_pcpu",
            "domU, 1 vCPU, cpus 1 of 2 pCPUs, dom0 pinned to pCPU 0",
        ),
        late(&d0, "timer_p99_1ms_dom0", "the probe booted as dom0"),
    ])
}

const TIMER_1MS: &str = "probes=timer timer.intervals=1ms timer.samples=2000";

fn stats<'a>(o: &'a Outcome, name: &str) -> Option<&'a owned::Stats> {
    o.parsed.of::<owned::Stats>().find(|r| r.name == name)
}

/// Percentile `p` (p50 or p99) of the run's `stats` record `name` as figure `figure` in us;
/// `what` says which run and record it is.
fn percentile_us(o: &Outcome, name: &str, p: &str, figure: &str, what: &str) -> Figure {
    match stats(o, name) {
        Some(r) => {
            let v = if p == "p50" { r.p50 } else { r.p99 };
            let m = format!("{what}: {}", r.method);
            Figure::new(figure.into(), v as f64 / 1000.0, "us", Some(r.count), &m)
        }
        None => missing(figure, "us", what, &why(o)),
    }
}

/// Timer lateness p99 at 1 ms of run `o` as figure `figure`.
fn late(o: &Outcome, figure: &str, layout: &str) -> Figure {
    let what = format!("timer probe lateness_1ms p99 ({layout})");
    percentile_us(o, "lateness_1ms", "p99", figure, &what)
}

/// How far the wakee's pvclock read behind vCPU 0's (handler time before the send time): the
/// largest such gap of the run in us, 0 when no handler time read before its send.
fn clock_behind(o: &Outcome) -> Figure {
    const FIG: &str = "wake_cross_vcpu_clock_behind";
    let method = "wakeup probe, the cross-vCPU wake-ups whose handler time on vCPU 1 read earlier than the send time on vCPU 0: max of send time - handler time (a lower bound of how far the two pvclocks disagreed)";
    let sent = stats(o, "wake_vcpu0_to_vcpu1").map(|r| r.count);
    let Some(n) = sent else {
        return missing(FIG, "us", method, &why(o));
    };
    match stats(o, "wakee_clock_behind_vcpu1") {
        Some(r) => {
            let m = format!(
                "{method}: {} of {n} wake-ups, p50 {:.1} us, max {:.1} us",
                r.count,
                r.p50 as f64 / 1000.0,
                r.max as f64 / 1000.0
            );
            Figure::new(FIG.into(), r.max as f64 / 1000.0, "us", Some(n), &m)
        }
        None => Figure::new(FIG.into(), 0.0, "us", Some(n), &format!("{method}: none")),
    }
}

fn lost(o: &Outcome) -> Figure {
    let method = "wake-ups classified lost_wakeup among the cross-vCPU wake-ups (wakeup probe)";
    let n = stats(o, "wake_vcpu0_to_vcpu1").map(|r| r.count);
    let check = o
        .parsed
        .of::<owned::Check>()
        .find(|r| r.name == "no_lost_wakeups");
    match check.and_then(|r| r.observed.parse::<f64>().ok()) {
        Some(v) => Figure::new("wake_cross_vcpu_lost".into(), v, "count", n, method),
        None => missing("wake_cross_vcpu_lost", "count", method, &why(o)),
    }
}

fn detection(o: &Outcome) -> Figure {
    let method = "silence of vCPU 1 (down for 500 ms) when vCPU 0's watchdog reported it live; threshold 100 ms, heartbeat period 1 ms";
    let m = o
        .parsed
        .of::<owned::Metric>()
        .find(|r| r.name == "watchdog_detection_delay_max");
    match m {
        Some(r) => Figure::new(
            "watchdog_detection_delay".into(),
            r.value as f64 / 1e6,
            "ms",
            Some(1),
            method,
        ),
        None => missing("watchdog_detection_delay", "ms", method, &why(o)),
    }
}

fn why(o: &Outcome) -> String {
    format!("no such record in the run ({})", o.verdict.name())
}
