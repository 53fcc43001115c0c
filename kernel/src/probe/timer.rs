//! Probe `timer`: does a blocked vCPU wake on time?
//!
//! For each interval, `samples` times: program a singleshot deadline
//! `interval` ahead, block (SCHEDOP_block), and take lateness = time the
//! VIRQ_TIMER handler ran - deadline. Also conformance: the periodic timer is
//! stopped (no unarmed wake-ups), a past deadline fires at once, periods
//! under 1 ms are refused with EINVAL, no wake-up is early, pvclock is
//! monotonic, and runstate times add up to elapsed time.

use super::Ctx;
use super::RunFn;
use crate::drv::{runstate, timer};
use crate::time::now_ns;
use alloc::boxed::Box;
use core::sync::atomic::Ordering::Relaxed;
use xp_core::cmdline::{Dur, Durs, Ns, Num, Opt, ProbeSpec};
use xp_core::hist::Histogram;
use xp_core::runstate::total;
use xp_core::stall::RunstateTimes;

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "timer",
    about: "singleshot timer lateness per interval, and timer/pvclock/runstate conformance",
    options: &[INTERVALS.spec, SAMPLES.spec, BUDGET.spec],
    run,
};

const INTERVALS: Opt<Durs> = Opt::<Durs>::new(
    "intervals",
    (1_000, 10_000_000_000),
    &[100_000, 1_000_000, 10_000_000, 100_000_000],
    "deadlines to measure",
);
const SAMPLES: Opt<Num> = Opt::<Num>::new("samples", 1, 1_000_000, 200, "samples per interval");
const BUDGET: Opt<Dur> = Opt::<Dur>::new(
    "budget",
    1_000_000,
    3_600_000_000_000,
    2_000_000_000,
    "time cap per interval (at least 10 samples are taken)",
);
/// cyclictest-style coarse buckets of lateness (ns).
const EDGES: &[u64] = &[
    1_000,
    10_000,
    50_000,
    100_000,
    500_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

pub fn run(ctx: &mut Ctx<'_>) {
    if let Err(e) = &ctx.env.events.timer {
        ctx.error(format_args!("timer setup failed: {e}"));
        return;
    }
    let unarmed0 = timer::UNARMED.load(Relaxed);
    overhead(ctx);
    conformance(ctx);
    let samples = ctx.opt(&SAMPLES);
    let budget = ctx.opt(&BUDGET);
    let intervals = ctx.opt(&INTERVALS);
    let early0 = timer::EARLY.load(Relaxed);
    for &interval in intervals.as_slice() {
        let n = samples.min((budget / interval).max(10));
        measure(ctx, interval, n);
    }
    let early = timer::EARLY.load(Relaxed) - early0;
    let max_early = timer::MAX_EARLY_NS.load(Relaxed);
    ctx.check(
        "no_early_wakeups",
        early == 0,
        0,
        format_args!("{early} (max {max_early} ns early)"),
    );
    let unarmed = timer::UNARMED.load(Relaxed) - unarmed0;
    ctx.check(
        "no_unarmed_wakeups",
        unarmed == 0,
        "0 (periodic timer stopped)",
        unarmed,
    );
}

/// Lateness of `n` singleshot wake-ups `interval` ahead, with runstate accounting.
fn measure(ctx: &mut Ctx<'_>, interval: u64, n: u64) {
    let mut late = Box::new(Histogram::default());
    let mut resume = Box::new(Histogram::default());
    let (rs0, t0) = (runstate::snapshot(), now_ns());
    let mut extra_blocks = 0u64;
    for i in 0..n {
        let deadline = now_ns() + interval;
        match timer::shot(deadline) {
            Ok(s) => {
                late.record(s.fired_ns.saturating_sub(deadline));
                resume.record(s.woke_ns.saturating_sub(s.fired_ns));
                extra_blocks += u64::from(s.blocks.saturating_sub(1));
            }
            Err(e) => return ctx.error(format_args!("singleshot timer: {e}")),
        }
        if interval >= 100_000_000 && i % 10 == 9 {
            crate::println!("  ... {} {}/{n}", Ns(interval), i + 1);
        }
    }
    let name = alloc::format!("lateness_{}", Ns(interval));
    let method = alloc::format!(
        "VIRQ_TIMER handler pvclock time - singleshot deadline, deadline = now + {}, SCHEDOP_block between, n={n}",
        Ns(interval)
    );
    ctx.stats(&name, &late, "ns", &method);
    let coarse: alloc::vec::Vec<u64> = late.coarse_buckets(EDGES).map(|b| b.count).collect();
    crate::println!(
        "  {name} cyclictest buckets (<1us,<10us,<50us,<100us,<500us,<1ms,<10ms,<100ms,<1s,>=1s): {}",
        super::shown::List(&coarse)
    );
    let rname = alloc::format!("resume_after_fire_{}", Ns(interval));
    ctx.stats(
        &rname,
        &resume,
        "ns",
        "handler ran -> blocked code resumed (upcall return + hypercall exit)",
    );
    ctx.metric(
        &alloc::format!("extra_blocks_{}", Ns(interval)),
        extra_blocks,
        "count",
        "SCHEDOP_block returns not caused by the timer",
    );
    if let (Some(a), Some(b)) = (rs0, runstate::snapshot()) {
        let t1 = now_ns();
        runstate_adds_up(
            ctx,
            interval,
            &b.totals_at(t1).since(&a.totals_at(t0)),
            t1 - t0,
        );
    }
}

/// Runstate times over a measurement must add up to the elapsed time.
fn runstate_adds_up(ctx: &mut Ctx<'_>, interval: u64, d: &RunstateTimes, elapsed: u64) {
    let diff = total(d).abs_diff(elapsed);
    let tol = (elapsed / 100).max(100_000);
    ctx.check(
        &alloc::format!("runstate_adds_up_{}", Ns(interval)),
        diff <= tol,
        format_args!("sum of states = elapsed {elapsed} ns +- {tol} (1% or 100us)"),
        format_args!(
            "running {} runnable {} blocked {} offline {} (sum off by {diff} ns)",
            d.running_ns, d.runnable_ns, d.blocked_ns, d.offline_ns
        ),
    );
}

/// VCPUOP_stop_singleshot_timer: a stopped 5 ms deadline must not raise VIRQ_TIMER.
fn stop_cancels(ctx: &mut Ctx<'_>) {
    let Ok(port) = ctx.env.events.timer else {
        return;
    };
    let t = now_ns();
    let stopped = timer::program(t + 5_000_000).and_then(|_| timer::stop());
    crate::drv::evtchn::clear_pending(port);
    let rc = crate::drv::evtchn::poll(&[port], t + 30_000_000);
    let waited = now_ns() - t;
    let fired = crate::drv::evtchn::is_pending(port);
    crate::drv::evtchn::clear_pending(port);
    ctx.check(
        "stop_singleshot_cancels",
        stopped.is_ok() && !fired,
        "no VIRQ_TIMER within 30 ms of a stopped 5 ms deadline",
        format_args!(
            "stop {}, poll rc {rc} after {waited} ns, fired {fired}",
            super::shown::Rc(&stopped)
        ),
    );
}

/// Cost of the probe's own per-sample work (reading the clock, recording a sample).
fn overhead(ctx: &mut Ctx<'_>) {
    const N: u64 = 10_000;
    let mut h = Box::new(Histogram::default());
    let t0 = now_ns();
    for i in 0..N {
        let t = now_ns();
        h.record(t.wrapping_add(i) & 0xffff);
    }
    let per = (now_ns() - t0) / N;
    ctx.metric(
        "overhead_per_sample",
        per,
        "ns",
        "mean of 10000 x (pvclock read + histogram record), back to back",
    );
}

fn conformance(ctx: &mut Ctx<'_>) {
    // Past deadline: must fire at once (no ETIME without VCPU_SSHOTTMR_future).
    let t_prog = now_ns();
    match timer::shot(t_prog.saturating_sub(1_000_000)) {
        Ok(s) => ctx.check(
            "past_deadline_fires_at_once",
            s.blocks <= 1,
            "fires before the first SCHEDOP_block returns",
            format_args!(
                "{} block(s), fired {} ns after programming",
                s.blocks,
                s.fired_ns.saturating_sub(t_prog)
            ),
        ),
        Err(e) => ctx.check("past_deadline_fires_at_once", false, "accepted", e),
    };
    stop_cancels(ctx);
    let rc = crate::xen::vcpu::set_periodic_timer(500_000);
    let einval = matches!(rc, Err(e) if e.rc == -xp_core::xen::errno::EINVAL);
    ctx.check(
        "periodic_below_1ms_rejected",
        einval,
        "EINVAL",
        super::shown::Rc(&rc),
    );
    let _ = crate::xen::vcpu::stop_periodic_timer();
    let mut last = now_ns();
    let mut back = 0u32;
    for _ in 0..100_000 {
        let t = now_ns();
        back += (t < last) as u32;
        last = t;
    }
    ctx.check("pvclock_monotonic_100k", back == 0, 0, back);
}
