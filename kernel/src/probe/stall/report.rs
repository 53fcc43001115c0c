//! What the stall probe prints and records: stalls, clock jumps, summaries (each with
//! the vCPU it happened on).

use super::{Beat, Rep};
use crate::report::Text;
use crate::time::now_ns;
use core::sync::atomic::Ordering::Relaxed;
use xp_core::runstate::total;
use xp_core::stall::{StallClass, StallInput, StallVerdict, SummaryWindow};
use xp_core::xen::vcpu::VcpuTimeInfo;

/// A gap that Xen's own accounting does not confirm: report the two pvclock records.
pub fn clock_jump(rep: &Rep, a: &Beat, b: &Beat, runstate_ns: u64) {
    super::JUMPS.fetch_add(1, Relaxed);
    let gap = b.t - a.t;
    crate::println!(
        "  CLOCK JUMP (vCPU {}): pvclock advanced {gap} ns while Xen's runstate accounted {runstate_ns} ns; \
         before v{} tsc_ts {} sys {} mul {:#x} shift {} (tsc {}), after v{} tsc_ts {} sys {} mul {:#x} shift {} (tsc {})",
        rep.vcpu, a.clock.version, a.clock.tsc_timestamp, a.clock.system_time, a.clock.tsc_to_system_mul, a.clock.tsc_shift, a.tsc,
        b.clock.version, b.clock.tsc_timestamp, b.clock.system_time, b.clock.tsc_to_system_mul, b.clock.tsc_shift, b.tsc
    );
    crate::report::emit(&xp_core::records::ClockJump::<Text> {
        probe: &rep.probe,
        vcpu: Some(rep.vcpu.into()),
        start_ns: a.t,
        pvclock_gap_ns: gap,
        runstate_ns,
        before_system_time: a.clock.system_time,
        before_tsc_timestamp: a.clock.tsc_timestamp,
        before_tsc: a.tsc,
        after_system_time: b.clock.system_time,
        after_tsc_timestamp: b.clock.tsc_timestamp,
        after_tsc: b.tsc,
        mul: u64::from(b.clock.tsc_to_system_mul),
        shift: i64::from(b.clock.tsc_shift),
    });
}

/// The record carries the pvclock record in use when the stall ended: with it the host maps
/// the TSC stamps of Xen's own trace (xentrace) to the system time of `start_ns`.
pub fn stall(rep: &Rep, start_ns: u64, input: &StallInput, v: &StallVerdict, clock: &VcpuTimeInfo) {
    let f = &v.figures;
    if v.class == StallClass::LostWakeup {
        super::LOST.fetch_add(1, Relaxed);
    }
    // How much of the gap Xen's runstate accounts for; far below 100% means the
    // clock itself jumped, and the classification rests on little.
    let coverage = (u128::from(total(&input.runstate)) * 1000 / u128::from(f.gap_ns.max(1))) as u64;
    let wall = crate::time::wall_ns().map(|w| w.saturating_sub(now_ns().saturating_sub(start_ns)));
    print_stall(rep.vcpu, start_ns, wall, input, v, coverage);
    let rs = input.runstate;
    crate::report::emit(&xp_core::records::Stall::<Text> {
        probe: &rep.probe,
        vcpu: Some(rep.vcpu.into()),
        start_ns,
        start_wall_ns: wall.unwrap_or(0),
        gap_ns: f.gap_ns,
        class: &v.class.name(),
        reason: &v.reason,
        running_ns: rs.running_ns,
        runnable_ns: rs.runnable_ns,
        blocked_ns: rs.blocked_ns,
        offline_ns: rs.offline_ns,
        blocked_past_deadline_ns: f.excess_blocked_ns,
        runstate_coverage_permille: coverage,
        tsc_timestamp: Some(clock.tsc_timestamp),
        system_time: Some(clock.system_time),
        tsc_to_system_mul: Some(u64::from(clock.tsc_to_system_mul)),
        tsc_shift: Some(i64::from(clock.tsc_shift)),
        late_ns: f.late_ns,
    });
}

/// The human line of a stall: when (UTC and system time), where, how long, the verdict and
/// Xen's runstate account of the gap.
fn print_stall(
    vcpu: u32,
    start_ns: u64,
    wall: Option<u64>,
    input: &StallInput,
    v: &StallVerdict,
    coverage: u64,
) {
    let (f, rs) = (&v.figures, input.runstate);
    crate::println!(
        "  STALL at {} (system {start_ns} ns) on vCPU {vcpu}: {} ms, {}: {} (running {} runnable {} blocked {} offline {} ms; late {} us; runstate covers {}.{}%)",
        TimeOfDay(wall),
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
}

/// Wall-clock ns since the epoch as `hh:mm:ss.mmm UTC` (`?` when unknown).
struct TimeOfDay(Option<u64>);

impl core::fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Some(w) = self.0 else {
            return f.write_str("?");
        };
        let s = w / 1_000_000_000;
        let (h, m, ms) = (s / 3600 % 24, s / 60 % 60, w / 1_000_000 % 1000);
        write!(f, "{h:02}:{m:02}:{:02}.{ms:03} UTC", s % 60)
    }
}

pub fn summary(rep: &Rep, win: &SummaryWindow, now: &Beat) {
    let s = win.summary(now.t, &now.rs.totals_at(now.t));
    let h = win.gaps();
    let p = |ppm| h.percentile_ppm(ppm).unwrap_or(0);
    crate::println!(
        "  summary (vCPU {}): {} s, {} beats, interval p50 {} p99 {} max {} ns, steal {}.{:02}% (runnable {} ms, offline {} ms)",
        rep.vcpu,
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
    crate::report::emit(&xp_core::records::Summary::<Text> {
        probe: &rep.probe,
        vcpu: Some(rep.vcpu.into()),
        elapsed_ns: s.elapsed_ns,
        beats: h.count(),
        interval_p50_ns: p(500_000),
        interval_p99_ns: p(990_000),
        interval_max_ns: h.max().unwrap_or(0),
        steal_ppm: u64::from(s.steal_ppm),
        running_ns: s.runstate.running_ns,
        runnable_ns: s.runstate.runnable_ns,
        blocked_ns: s.runstate.blocked_ns,
        offline_ns: s.runstate.offline_ns,
        heap_used_bytes: Some(crate::mm::heap_usage().0 as u64),
    });
}
