//! Probe `wakeup`: does a wake-up that crosses vCPUs arrive?
//!
//! vCPU 0 kicks a blocked vCPU B through B's IPI event channel (EVTCHNOP_bind_ipi) and
//! takes latency = time B's handler ran - time of the send; B echoes each kick back so
//! vCPU 0 can block meanwhile. Beside it, the same-vCPU loopback (vCPU 0 kicks itself).
//! A kick B has not taken within `threshold` is classified from B's runstate over the
//! wait exactly as the stall probe classifies a gap (blocked past the send: a lost
//! wake-up, a FAILURE). Then the vCPU down/up invariants: a vCPU taken down with
//! VCPUOP_down is seen offline by its sibling, a kick sent to it is held (pending, not
//! handled), and VCPUOP_up brings it back and delivers the kick.

mod accounting;
mod downup;
mod samples;

use super::{Ctx, RunFn};
use crate::drv::{runstate, timer};
use crate::smp;
use crate::time::now_ns;
use core::sync::atomic::Ordering::*;
use xp_core::cmdline::{Dur, Num, Opt, ProbeSpec};
use xp_core::outcome::Outcome;
use xp_core::runstate::Snapshot;
use xp_core::stall::{classify, StallClass, StallInput, StallThresholds};
use xp_core::wake::Reading;

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "wakeup",
    about: "cross-vCPU wake-ups through IPI event channels beside same-vCPU loopback; lost wake-ups; vCPU down/up",
    options: &[SAMPLES.spec, THRESHOLD.spec],
    run,
};

const SAMPLES: Opt<Num> = Opt::<Num>::new("samples", 1, 10_000_000, 10_000, "wake-ups per pair");
const THRESHOLD: Opt<Dur> = Opt::<Dur>::new(
    "threshold",
    100_000,
    60_000_000_000,
    100_000_000,
    "a wake-up not taken within this is classified",
);

/// How long a late kick is still waited for before the pair is given up.
const GIVE_UP_NS: u64 = 5_000_000_000;

struct Cfg {
    samples: u64,
    threshold: u64,
}

pub fn run(ctx: &mut Ctx<'_>) {
    let c = Cfg {
        samples: ctx.opt(&SAMPLES),
        threshold: ctx.opt(&THRESHOLD),
    };
    let n = smp::count();
    ctx.info(
        "wakeup_config",
        format_args!(
            "{n} vCPUs, {} wake-ups per pair, event channels {}",
            c.samples,
            crate::drv::evtchn::abi_name()
        ),
    );
    measure(ctx, &c, 0);
    if n < 2 {
        let seen = "1 vCPU (give the domain more with xl vcpus=, lab --vcpus)";
        return ctx.check_as("cross_vcpu_pairs", Outcome::Skip, "2 or more vCPUs", seen);
    }
    let before = accounting::sample(n);
    let lost: u64 = (1..n).map(|b| measure(ctx, &c, b)).sum();
    accounting::check(ctx, &before);
    ctx.check(
        "no_lost_wakeups",
        lost == 0,
        "0 wake-ups classified lost_wakeup",
        lost,
    );
    downup::run(ctx, n - 1);
}

/// `samples` kicks from vCPU 0 to `b` (b = 0: loopback); returns the lost wake-ups.
fn measure(ctx: &mut Ctx<'_>, c: &Cfg, b: u32) -> u64 {
    let v = smp::vcpu(b);
    v.echo.store(b != 0, Release);
    let mut pair = samples::Pair::new();
    let mut lost = 0;
    for _ in 0..c.samples {
        match one(ctx, c, b) {
            Ok(r) => pair.record(&r),
            Err(Late::Lost) => lost += 1,
            Err(Late::Classified) => {}
            Err(Late::GaveUp) => break,
        }
    }
    v.echo.store(false, Release);
    pair.report(ctx, b);
    lost
}

enum Late {
    /// Taken late; classified and reported (not a lost wake-up).
    Classified,
    /// Classified lost_wakeup.
    Lost,
    /// Never taken: the pair is given up.
    GaveUp,
}

/// One kick to `b`: Ok(both clocks' readings of it), or what happened to a kick not taken
/// within the threshold.
fn one(ctx: &mut Ctx<'_>, c: &Cfg, b: u32) -> Result<Reading, Late> {
    let v = smp::vcpu(b);
    let k0 = v.kicks.load(Acquire);
    let rs0 = (b != 0).then(|| runstate::of(b).ok()).flatten();
    let sent = crate::time::stamp();
    let t0 = sent.ns;
    if let Err(e) = smp::kick(b) {
        ctx.error(format_args!("kick vCPU {b}: {e}"));
        return Err(Late::GaveUp);
    }
    let taken = || v.kicks.load(Acquire) != k0;
    if timer::wait_until(t0 + c.threshold, taken) {
        return Ok(reading(b, sent));
    }
    let lost = late(ctx, b, t0, rs0);
    if !timer::wait_until(t0 + GIVE_UP_NS, taken) {
        ctx.error(format_args!(
            "vCPU {b} did not take a kick in {} s; giving up this pair",
            GIVE_UP_NS / 1_000_000_000
        ));
        return Err(Late::GaveUp);
    }
    Err(if lost { Late::Lost } else { Late::Classified })
}

/// The send (read on vCPU 0, with its pvclock scale) and `b`'s handler's readings of one kick.
fn reading(b: u32, sent: crate::time::Stamp) -> Reading {
    let v = smp::vcpu(b);
    Reading {
        sent_ns: sent.ns,
        handled_ns: v.last_kick_ns.load(Relaxed),
        sent_tsc: sent.tsc,
        handled_tsc: v.last_kick_tsc.load(Relaxed),
        mul: sent.mul,
        shift: sent.shift,
    }
}

/// Classify a kick `b` has not taken since `t0` from its runstate; true for lost_wakeup.
fn late(ctx: &mut Ctx<'_>, b: u32, t0: u64, rs0: Option<Snapshot>) -> bool {
    let now = now_ns();
    let (Some(rs0), Ok(rs1)) = (rs0, runstate::of(b)) else {
        ctx.error(format_args!(
            "vCPU {b}'s runstate (VCPUOP_get_runstate_info) is not readable"
        ));
        return false;
    };
    let input = StallInput {
        gap_ns: now - t0,
        runstate: rs1.totals_at(now).since(&rs0.totals_at(t0)),
        expected_wake_ns: Some(t0),
        woke_ns: now,
    };
    let v = classify(&input, &StallThresholds::default());
    let state = xp_core::xen::vcpu::RunstateState(rs1.state).name();
    crate::println!(
        "  LATE WAKE-UP of vCPU {b}: not taken {} us after the send, runstate now {state}: {}: {}",
        input.gap_ns / 1000,
        v.class.name(),
        v.reason
    );
    crate::report::emit(&xp_core::records::WakeupLate::<crate::report::Text> {
        probe: &ctx.probe,
        vcpu: b.into(),
        waited_ns: input.gap_ns,
        state_now: &state,
        class: &v.class.name(),
        reason: &v.reason,
    });
    v.class == StallClass::LostWakeup
}
