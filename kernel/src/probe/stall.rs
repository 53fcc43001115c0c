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
//!
//! With several vCPUs the loop runs on every one of them (records carry `vcpu`), and
//! each vCPU also watches a sibling (`watch`): a sibling silent for `threshold` is
//! reported while it is still silent. `down=` makes the last vCPU take itself down
//! (VCPUOP_down) for that long, 1 s into the run; vCPU 0 brings it back (VCPUOP_up).

mod report;
mod watch;

use super::{Ctx, RunFn};
use crate::drv::{runstate, timer};
use crate::report::Text;
use crate::smp;
use crate::time::now_ns;
use alloc::boxed::Box;
use alloc::string::String;
use core::sync::atomic::{AtomicU64, Ordering::*};
use spin::Mutex;
use xp_core::cmdline::{Dur, Ns, Opt, ProbeSpec, Word};
use xp_core::runstate::total;
use xp_core::runstate::Snapshot;
use xp_core::stall::{classify, StallDetector, StallInput, StallThresholds, SummaryWindow};
use xp_core::xen::vcpu::VcpuTimeInfo;

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "stall",
    about: "stuck-vCPU detector: heartbeat gaps classified from runstate (runs for duration=, 0 = forever)",
    options: &[PERIOD.spec, THRESHOLD.spec, MODE.spec, SUMMARY.spec, DOWN.spec],
    run,
};

const PERIOD: Opt<Dur> = Opt::<Dur>::new(
    "period",
    100_000,
    10_000_000_000,
    1_000_000,
    "heartbeat period",
);
const THRESHOLD: Opt<Dur> = Opt::<Dur>::new(
    "threshold",
    1_000,
    3_600_000_000_000,
    100_000_000,
    "an interval above this is a stall",
);
const DOWN: Opt<Dur> = Opt::<Dur>::new(
    "down",
    0,
    600_000_000_000,
    0,
    "the last vCPU takes itself down (VCPUOP_down) for this long, 1 s in (needs 2 vCPUs; 0: never)",
);
const MODE: Opt<Word> = Opt::<Word>::new(
    "mode",
    &["block", "spin"],
    "block",
    "sleep between beats or spin",
);
const SUMMARY: Opt<Dur> = Opt::<Dur>::new(
    "summary",
    100_000_000,
    86_400_000_000_000,
    10_000_000_000,
    "summary interval",
);

/// Stalls classified as lost wake-ups (the black-second signature): a FAILURE.
static LOST: AtomicU64 = AtomicU64::new(0);
/// Clock discontinuities seen (pvclock gaps Xen's runstate does not confirm).
static JUMPS: AtomicU64 = AtomicU64::new(0);
/// Stalls on every vCPU, and errors of the loops on secondary vCPUs.
static STALLS: AtomicU64 = AtomicU64::new(0);
static ERRORS: AtomicU64 = AtomicU64::new(0);
/// When vCPU 0 brings the downed vCPU back up (system time; 0: none is down).
static UP_AT: AtomicU64 = AtomicU64::new(0);
/// The run's configuration, for the secondaries' loops.
static CFG: Mutex<Option<Cfg>> = Mutex::new(None);

/// How long after its own loop vCPU 0 waits for the secondaries' loops.
const JOIN_NS: u64 = 10_000_000_000;
/// When (into the run) the last vCPU takes itself down with `down=`.
const DOWN_AFTER_NS: u64 = 1_000_000_000;

#[derive(Clone, Copy)]
struct Cfg {
    period: u64,
    threshold: u64,
    spin: bool,
    summary: u64,
    duration: u64,
    /// `down=`: how long the last vCPU stays down (0: it does not go down).
    down: u64,
    vcpus: u32,
}

/// Who reports: the probe and the vCPU the loop runs on.
pub struct Rep {
    probe: &'static str,
    vcpu: u32,
}

impl Rep {
    /// An error of the loop on this vCPU (the probe's verdict becomes ERROR).
    fn error(&self, msg: impl core::fmt::Display) {
        ERRORS.fetch_add(1, Relaxed);
        crate::println!("  ERROR (vCPU {}): {msg}", self.vcpu);
        crate::report::emit(&xp_core::records::Error::<Text> {
            probe: Some(&self.probe),
            vcpu: Some(self.vcpu.into()),
            msg: &msg,
        });
    }
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
    let c = config(ctx);
    if c.down > 0 && c.vcpus < 2 {
        return ctx.error("stall.down= needs 2 or more vCPUs (xl vcpus=, lab --vcpus)");
    }
    let early0 = timer::EARLY.load(Relaxed);
    let (lost0, jumps0) = (LOST.load(Relaxed), JUMPS.load(Relaxed));
    let (stalls0, errors0) = (STALLS.load(Relaxed), ERRORS.load(Relaxed));
    let live0 = watch::LIVE_REPORTS.load(Relaxed);
    let heap0 = crate::mm::heap_usage().0;
    on_every_vcpu(ctx, &c);
    let heap1 = crate::mm::heap_usage().0;
    ctx.check(
        "constant_memory",
        heap1 == heap0,
        format_args!("heap in use after the loop = before ({heap0} B)"),
        format_args!("{heap1} B"),
    );
    let stalls = STALLS.load(Relaxed) - stalls0;
    let method = "heartbeat intervals above the threshold over the whole run, all vCPUs";
    ctx.metric("stalls", stalls, "count", method);
    if c.vcpus >= 2 {
        watchdog_figures(ctx, watch::LIVE_REPORTS.load(Relaxed) - live0);
    }
    let errors = ERRORS.load(Relaxed) - errors0;
    if errors > 0 {
        ctx.error(format_args!(
            "{errors} errors in the heartbeat loops (above)"
        ));
    }
    let jumps = JUMPS.load(Relaxed) - jumps0;
    let expected = "0 (pvclock gaps confirmed by Xen's runstate accounting)";
    ctx.check("no_clock_jumps", jumps == 0, expected, jumps);
    let lost = LOST.load(Relaxed) - lost0;
    let expected = "0 stalls classified lost_wakeup";
    ctx.check("no_lost_wakeups", lost == 0, expected, lost);
    if !c.spin {
        let early = timer::EARLY.load(Relaxed) - early0;
        ctx.check("no_early_wakeups", early == 0, 0, early);
    }
}

fn config(ctx: &mut Ctx<'_>) -> Cfg {
    let c = Cfg {
        period: ctx.opt(&PERIOD),
        threshold: ctx.opt(&THRESHOLD),
        spin: ctx.opt(&MODE) == "spin",
        summary: ctx.opt(&SUMMARY),
        duration: ctx
            .cmd
            .duration_s
            .unwrap_or(10)
            .saturating_mul(1_000_000_000),
        down: ctx.opt(&DOWN),
        vcpus: smp::count(),
    };
    let mode = if c.spin { "spin" } else { "block" };
    let duration = match c.duration {
        0 => String::from("forever"),
        d => alloc::format!("{}", Ns(d)),
    };
    ctx.info(
        "stall_config",
        format_args!(
            "mode {mode}, period {}, threshold {}, summary every {}, duration {duration}, on {} vCPUs",
            Ns(c.period),
            Ns(c.threshold),
            Ns(c.summary),
            c.vcpus
        ),
    );
    c
}

/// The loop on vCPU 0 and on every secondary (posted to it); waits for all to end.
fn on_every_vcpu(ctx: &mut Ctx<'_>, c: &Cfg) {
    *CFG.lock() = Some(*c);
    watch::reset(c.vcpus);
    UP_AT.store(0, Release);
    (1..c.vcpus).for_each(|id| smp::post(id, secondary));
    let rep = Rep {
        probe: ctx.probe,
        vcpu: 0,
    };
    STALLS.fetch_add(heartbeat_loop(&rep, c), Relaxed);
    if !smp::join_all(now_ns() + JOIN_NS) {
        let late = (1..c.vcpus).filter(|&id| !smp::done(id));
        let late: alloc::vec::Vec<u32> = late.collect();
        ctx.error(format_args!(
            "vCPUs {late:?} did not end their heartbeat loop within {} of vCPU 0",
            Ns(JOIN_NS)
        ));
    }
}

/// A secondary's share of the run.
fn secondary(id: u32) {
    let Some(c) = *CFG.lock() else { return };
    let rep = Rep {
        probe: "stall",
        vcpu: id,
    };
    STALLS.fetch_add(heartbeat_loop(&rep, &c), Relaxed);
}

fn watchdog_figures(ctx: &mut Ctx<'_>, live: u64) {
    let method = "siblings reported silent for the threshold while still silent";
    ctx.metric("watchdog_live_reports", live, "count", method);
    if live > 0 {
        let method = "longest silence so far at the moment the watchdog reported it (threshold + up to one heartbeat period of the watcher; a watcher paused with its sibling reports when it runs again)";
        let d = watch::MAX_DETECTION_NS.swap(0, Relaxed);
        ctx.metric("watchdog_detection_delay_max", d, "ns", method);
    }
}

/// Runs until `duration` (never, if 0); returns the number of stalls seen.
fn heartbeat_loop(rep: &Rep, c: &Cfg) -> u64 {
    let mut det = StallDetector::new(c.threshold);
    let mut watcher = watch::Watcher::new(rep.vcpu, c.vcpus, c.threshold);
    let start = beat();
    det.heartbeat(start.t);
    let mut win = Box::new(SummaryWindow::new(start.t, start.rs.totals_at(start.t)));
    let (mut prev, mut next_summary) = (start, start.t + c.summary);
    let end = (c.duration > 0).then(|| prev.t + c.duration);
    let mut down_at = (c.down > 0 && rep.vcpu == c.vcpus - 1).then_some(start.t + DOWN_AFTER_NS);
    let mut beats = 0;
    while end.is_none_or(|e| prev.t < e) {
        let deadline = prev.t + c.period;
        beats += 1;
        let published = xp_core::watchdog::Beat {
            count: beats,
            at_ns: prev.t,
            deadline_ns: if c.spin { 0 } else { deadline },
            runstate: prev.rs.totals_at(prev.t),
        };
        watch::publish(rep.vcpu, published);
        let expected = if c.spin {
            spin_until(deadline)
        } else {
            sleep(rep, deadline)
        };
        let now = beat();
        win.record_gap(now.t.saturating_sub(prev.t));
        if let Some(gap) = det.heartbeat(now.t) {
            gap_report(rep, &prev, &now, gap.gap_ns, gap.start_ns, expected);
        }
        if now.t >= next_summary {
            report::summary(rep, &win, &now);
            win.restart(now.t, now.rs.totals_at(now.t));
            next_summary = now.t + c.summary;
        }
        if let Some(w) = watcher.as_mut() {
            w.look(rep);
        }
        down_up(rep, c, &mut down_at, now.t);
        prev = now;
    }
    if win.gaps().count() > 0 {
        report::summary(rep, &win, &prev);
    }
    det.gaps()
}

/// Report a gap above the threshold: a stall, or a clock jump Xen's runstate does not confirm.
fn gap_report(
    rep: &Rep,
    prev: &Beat,
    now: &Beat,
    gap_ns: u64,
    start_ns: u64,
    expected: Option<u64>,
) {
    let input = StallInput {
        gap_ns,
        runstate: now.rs.totals_at(now.t).since(&prev.rs.totals_at(prev.t)),
        expected_wake_ns: expected,
        woke_ns: now.t,
    };
    if is_clock_jump(gap_ns, total(&input.runstate)) {
        report::clock_jump(rep, prev, now, total(&input.runstate));
    } else {
        let verdict = classify(&input, &StallThresholds::default());
        report::stall(rep, start_ns, &input, &verdict, &now.clock);
    }
}

/// `down=`: the last vCPU takes itself down at `down_at` (holding no lock: between two
/// beats) and resumes here once vCPU 0, past `UP_AT`, has brought it back up.
fn down_up(rep: &Rep, c: &Cfg, down_at: &mut Option<u64>, now: u64) {
    if down_at.is_some_and(|t| now >= t) {
        *down_at = None;
        UP_AT.store(now + c.down, Release);
        crate::println!(
            "  vCPU {} takes itself down (VCPUOP_down) for {}",
            rep.vcpu,
            Ns(c.down)
        );
        if let Err(e) = crate::xen::vcpu::down(rep.vcpu) {
            UP_AT.store(0, Release);
            rep.error(format_args!("VCPUOP_down of itself: {e}"));
        }
    }
    let up_at = UP_AT.load(Acquire);
    if rep.vcpu == 0 && up_at != 0 && now >= up_at {
        UP_AT.store(0, Release);
        if let Err(e) = crate::xen::vcpu::up(c.vcpus - 1) {
            rep.error(format_args!("VCPUOP_up of vCPU {}: {e}", c.vcpus - 1));
        }
    }
}

/// Spin mode: busy-wait, so no wake-up is expected from Xen (console output is announced
/// first: nothing else would while it spins).
fn spin_until(deadline: u64) -> Option<u64> {
    crate::drv::console::flush();
    while now_ns() < deadline {
        core::hint::spin_loop();
    }
    None
}

/// Block mode: singleshot timer + SCHEDOP_block; returns the programmed deadline.
fn sleep(rep: &Rep, deadline: u64) -> Option<u64> {
    if let Err(e) = timer::shot(deadline) {
        rep.error(format_args!("singleshot timer: {e}"));
    }
    Some(deadline)
}
