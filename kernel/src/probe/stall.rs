//! Probe `stall`: the lab's stuck-vCPU detector.
//!
//! A heartbeat loop wakes every `period` (block mode: singleshot timer +
//! SCHEDOP_block; spin mode: busy reads of the clock). Every interval longer
//! than `threshold` is a stall, reported at once as an `@xp` stall event with
//! its start (system time and wall clock), length and a classification from
//! the runstate deltas over the gap (xp_core::stall): preempted, paused or
//! offline, lost wake-up (blocked past its deadline: the "black second"), or
//! guest busy. Summaries every `summary` interval give the interval histogram
//! and steal. Memory use is constant: it may run for hours (`duration=0`).

use super::{Ctx, RunFn};
use crate::drv::{runstate, timer};
use crate::time::now_ns;
use alloc::boxed::Box;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use xp_core::cmdline::{Ns, OptKind, OptSpec, ProbeSpec};
use xp_core::runstate::total;
use xp_core::runstate::Snapshot;
use xp_core::stall::StallClass;
use xp_core::stall::{
    classify, StallDetector, StallInput, StallThresholds, StallVerdict, SummaryWindow,
};
use xp_core::xen::vcpu::VcpuTimeInfo;

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "stall",
    about: "stuck-vCPU detector: heartbeat gaps classified from runstate (runs for duration=, 0 = forever)",
    options: &[
        OptSpec {
            key: "period",
            kind: OptKind::Duration { min_ns: 100_000, max_ns: 10_000_000_000 },
            help: "heartbeat period (default 1ms)",
        },
        OptSpec {
            key: "threshold",
            kind: OptKind::Duration { min_ns: 1_000, max_ns: 3_600_000_000_000 },
            help: "an interval above this is a stall (default 100ms)",
        },
        OptSpec { key: "mode", kind: OptKind::Choice(&["block", "spin"]), help: "sleep between beats or spin (default block)" },
        OptSpec {
            key: "summary",
            kind: OptKind::Duration { min_ns: 100_000_000, max_ns: 86_400_000_000_000 },
            help: "summary interval (default 10s)",
        },
    ],
    run,
};

/// Stalls classified as lost wake-ups (the black-second signature): a FAILURE.
static LOST: AtomicU64 = AtomicU64::new(0);
/// Clock discontinuities seen (pvclock gaps Xen's runstate does not confirm).
static JUMPS: AtomicU64 = AtomicU64::new(0);

struct Cfg {
    period: u64,
    threshold: u64,
    spin: bool,
    summary: u64,
    duration: u64,
}

/// The state of the loop between two heartbeats.
#[derive(Clone, Copy)]
struct Beat {
    t: u64,
    rs: Snapshot,
    /// The pvclock record `t` was computed from, and the TSC read with it.
    clock: VcpuTimeInfo,
    tsc: u64,
}

fn beat() -> Beat {
    let rs = runstate::snapshot().unwrap_or_default();
    let clock = crate::xen::shared::time_info().unwrap_or_default();
    let tsc = crate::arch::rdtsc();
    Beat {
        t: crate::time::at_tsc(&clock, tsc),
        rs,
        clock,
        tsc,
    }
}

/// Xen's runstate accounts for less than half of a gap the pvclock measured: the guest's
/// clock itself moved, so the gap is a clock discontinuity, not a stall.
fn is_clock_jump(gap_ns: u64, runstate_ns: u64) -> bool {
    runstate_ns < gap_ns / 2
}

pub fn run(ctx: &mut Ctx<'_>) {
    if ctx.env.events.runstate.is_err() || ctx.env.events.timer.is_err() {
        return ctx
            .error("stall needs the runstate area and the timer (see the setup errors above)");
    }
    let c = Cfg {
        period: ctx.cmd.opt_duration_ns("stall", "period", 1_000_000),
        threshold: ctx.cmd.opt_duration_ns("stall", "threshold", 100_000_000),
        spin: ctx.cmd.opt_choice("stall", "mode", "block") == "spin",
        summary: ctx.cmd.opt_duration_ns("stall", "summary", 10_000_000_000),
        duration: ctx
            .cmd
            .duration_s
            .unwrap_or(10)
            .saturating_mul(1_000_000_000),
    };
    let mode = if c.spin { "spin" } else { "block" };
    ctx.info(
        "stall_config",
        format_args!(
            "mode {mode}, period {}, threshold {}, summary every {}, duration {}",
            Ns(c.period),
            Ns(c.threshold),
            Ns(c.summary),
            if c.duration == 0 {
                "forever".into()
            } else {
                alloc::format!("{}", Ns(c.duration))
            }
        ),
    );
    let early0 = timer::EARLY.load(Relaxed);
    let lost0 = LOST.load(Relaxed);
    let jumps0 = JUMPS.load(Relaxed);
    let heap0 = crate::mm::heap_usage().0;
    let stalls = heartbeat_loop(ctx, &c);
    let heap1 = crate::mm::heap_usage().0;
    ctx.check(
        "constant_memory",
        heap1 == heap0,
        format_args!("heap in use after the loop = before ({heap0} B)"),
        format_args!("{heap1} B"),
    );
    ctx.metric(
        "stalls",
        stalls,
        "count",
        "heartbeat intervals above the threshold over the whole run",
    );
    let jumps = JUMPS.load(Relaxed) - jumps0;
    ctx.check(
        "no_clock_jumps",
        jumps == 0,
        "0 (pvclock gaps confirmed by Xen's runstate accounting)",
        jumps,
    );
    let lost = LOST.load(Relaxed) - lost0;
    ctx.check(
        "no_lost_wakeups",
        lost == 0,
        "0 stalls classified lost_wakeup",
        lost,
    );
    if !c.spin {
        let early = timer::EARLY.load(Relaxed) - early0;
        ctx.check("no_early_wakeups", early == 0, 0, early);
    }
}

/// Runs until `duration` (never, if 0); returns the number of stalls seen.
fn heartbeat_loop(ctx: &mut Ctx<'_>, c: &Cfg) -> u64 {
    let mut det = StallDetector::new(c.threshold);
    let start = beat();
    det.heartbeat(start.t);
    let mut win = Box::new(SummaryWindow::new(start.t, start.rs.totals_at(start.t)));
    let (mut prev, mut next_summary) = (start, start.t + c.summary);
    let end = (c.duration > 0).then(|| prev.t + c.duration);
    while end.is_none_or(|e| prev.t < e) {
        let deadline = prev.t + c.period;
        let expected = if c.spin {
            spin_until(deadline)
        } else {
            sleep(ctx, deadline)
        };
        let now = beat();
        win.record_gap(now.t.saturating_sub(prev.t));
        if let Some(gap) = det.heartbeat(now.t) {
            let input = StallInput {
                gap_ns: gap.gap_ns,
                runstate: now.rs.totals_at(now.t).since(&prev.rs.totals_at(prev.t)),
                expected_wake_ns: expected,
                woke_ns: now.t,
            };
            if is_clock_jump(gap.gap_ns, total(&input.runstate)) {
                report_clock_jump(ctx, &prev, &now, total(&input.runstate));
            } else {
                let verdict = classify(&input, &StallThresholds::default());
                report_stall(ctx, gap.start_ns, &input, &verdict, &now.clock);
            }
        }
        if now.t >= next_summary {
            summary(ctx, &win, &now);
            win.restart(now.t, now.rs.totals_at(now.t));
            next_summary = now.t + c.summary;
        }
        prev = now;
    }
    if win.gaps().count() > 0 {
        summary(ctx, &win, &prev);
    }
    det.gaps()
}

/// Spin mode: busy-wait, so no wake-up is expected from Xen.
fn spin_until(deadline: u64) -> Option<u64> {
    while now_ns() < deadline {
        core::hint::spin_loop();
    }
    None
}

/// Block mode: singleshot timer + SCHEDOP_block; returns the programmed deadline.
fn sleep(ctx: &mut Ctx<'_>, deadline: u64) -> Option<u64> {
    if let Err(e) = timer::shot(deadline) {
        ctx.error(format_args!("singleshot timer: {e}"));
    }
    Some(deadline)
}

/// A gap that Xen's own accounting does not confirm: report the two pvclock records.
fn report_clock_jump(ctx: &mut Ctx<'_>, a: &Beat, b: &Beat, runstate_ns: u64) {
    JUMPS.fetch_add(1, Relaxed);
    let gap = b.t - a.t;
    crate::println!(
        "  CLOCK JUMP: pvclock advanced {gap} ns while Xen's runstate accounted {runstate_ns} ns; \
         before v{} tsc_ts {} sys {} mul {:#x} shift {} (tsc {}), after v{} tsc_ts {} sys {} mul {:#x} shift {} (tsc {})",
        a.clock.version, a.clock.tsc_timestamp, a.clock.system_time, a.clock.tsc_to_system_mul, a.clock.tsc_shift, a.tsc,
        b.clock.version, b.clock.tsc_timestamp, b.clock.system_time, b.clock.tsc_to_system_mul, b.clock.tsc_shift, b.tsc
    );
    let probe = ctx.probe;
    crate::report::record("clock_jump", |o| {
        o.str("probe", probe)
            .u64("start_ns", a.t)
            .u64("pvclock_gap_ns", gap)
            .u64("runstate_ns", runstate_ns)
            .u64("before_system_time", a.clock.system_time)
            .u64("before_tsc_timestamp", a.clock.tsc_timestamp)
            .u64("before_tsc", a.tsc)
            .u64("after_system_time", b.clock.system_time)
            .u64("after_tsc_timestamp", b.clock.tsc_timestamp)
            .u64("after_tsc", b.tsc)
            .u64("mul", u64::from(b.clock.tsc_to_system_mul))
            .i64("shift", i64::from(b.clock.tsc_shift))
    });
}

/// The record carries the pvclock record in use when the stall ended: with it the host maps
/// the TSC stamps of Xen's own trace (xentrace) to the system time of `start_ns`.
fn report_stall(
    ctx: &mut Ctx<'_>,
    start_ns: u64,
    input: &StallInput,
    v: &StallVerdict,
    clock: &VcpuTimeInfo,
) {
    let f = &v.figures;
    if v.class == StallClass::LostWakeup {
        LOST.fetch_add(1, Relaxed);
    }
    // How much of the gap Xen's runstate accounts for; far below 100% means the
    // clock itself jumped, and the classification rests on little.
    let coverage = (u128::from(total(&input.runstate)) * 1000 / u128::from(f.gap_ns.max(1))) as u64;
    let wall = crate::time::wall_ns().map(|w| w.saturating_sub(now_ns().saturating_sub(start_ns)));
    let tod = wall.map_or(alloc::string::String::from("?"), |w| {
        let s = w / 1_000_000_000;
        alloc::format!(
            "{:02}:{:02}:{:02}.{:03} UTC",
            s / 3600 % 24,
            s / 60 % 60,
            s % 60,
            w / 1_000_000 % 1000
        )
    });
    let rs = input.runstate;
    crate::println!(
        "  STALL at {tod} (system {start_ns} ns): {} ms, {}: {} (running {} runnable {} blocked {} offline {} ms; late {} us; runstate covers {}.{}%)",
        f.gap_ns / 1_000_000,
        v.class.name(),
        v.reason,
        rs.running_ns / 1_000_000,
        rs.runnable_ns / 1_000_000,
        rs.blocked_ns / 1_000_000,
        rs.offline_ns / 1_000_000,
        f.late_ns.map_or(0, |l| l / 1000),
        coverage / 10,
        coverage % 10
    );
    let probe = ctx.probe;
    crate::report::record("stall", |o| {
        let o = o
            .str("probe", probe)
            .u64("start_ns", start_ns)
            .u64("start_wall_ns", wall.unwrap_or(0));
        let o = o
            .u64("gap_ns", f.gap_ns)
            .str("class", v.class.name())
            .str("reason", v.reason);
        let o = o
            .u64("running_ns", rs.running_ns)
            .u64("runnable_ns", rs.runnable_ns);
        let o = o
            .u64("blocked_ns", rs.blocked_ns)
            .u64("offline_ns", rs.offline_ns);
        let o = o
            .u64("blocked_past_deadline_ns", f.excess_blocked_ns)
            .u64("runstate_coverage_permille", coverage);
        let o = o
            .u64("tsc_timestamp", clock.tsc_timestamp)
            .u64("system_time", clock.system_time);
        let o = o
            .u64("tsc_to_system_mul", u64::from(clock.tsc_to_system_mul))
            .i64("tsc_shift", i64::from(clock.tsc_shift));
        match f.late_ns {
            Some(l) => o.u64("late_ns", l),
            None => o,
        }
    });
}

fn summary(ctx: &mut Ctx<'_>, win: &SummaryWindow, now: &Beat) {
    let s = win.summary(now.t, &now.rs.totals_at(now.t));
    let h = win.gaps();
    let p = |ppm| h.percentile_ppm(ppm).unwrap_or(0);
    crate::println!(
        "  summary: {} s, {} beats, interval p50 {} p99 {} max {} ns, steal {}.{:02}% (runnable {} ms, offline {} ms)",
        s.elapsed_ns / 1_000_000_000,
        h.count(),
        p(500_000),
        p(990_000),
        h.max().unwrap_or(0),
        s.steal_ppm / 10_000,
        s.steal_ppm / 100 % 100,
        s.runstate.runnable_ns / 1_000_000,
        s.runstate.offline_ns / 1_000_000
    );
    let probe = ctx.probe;
    crate::report::record("summary", |o| {
        o.str("probe", probe)
            .u64("elapsed_ns", s.elapsed_ns)
            .u64("beats", h.count())
            .u64("interval_p50_ns", p(500_000))
            .u64("interval_p99_ns", p(990_000))
            .u64("interval_max_ns", h.max().unwrap_or(0))
            .u64("steal_ppm", u64::from(s.steal_ppm))
            .u64("running_ns", s.runstate.running_ns)
            .u64("runnable_ns", s.runstate.runnable_ns)
            .u64("blocked_ns", s.runstate.blocked_ns)
            .u64("offline_ns", s.runstate.offline_ns)
            .u64("heap_used_bytes", crate::mm::heap_usage().0 as u64)
    });
}
