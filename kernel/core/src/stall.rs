//! Stuck-vCPU detection: heartbeat gaps, their classification from Xen
//! runstate accounting, and periodic summaries (gap histogram, steal).
//!
//! Runstate semantics (xen/include/public/vcpu.h, xen/common/sched/core.c):
//! running 0, runnable 1 (wants a pCPU, none given: preemption), blocked 2
//! (the guest asked to sleep: SCHEDOP_block / poll), offline 3 ("not runnable
//! but not blocked": paused domain or vCPU, VCPUOP_down, hypervisor critical
//! sections). A paused vCPU is accounted as **offline**, except that
//! "RUNSTATE_blocked dominates": `vcpu_sleep_nosync_locked` moves only a
//! *runnable* vCPU to offline, and on deschedule Xen picks
//! `VPF_blocked ? blocked : runnable ? runnable : offline`. So a vCPU paused
//! while blocked stays blocked until its wake-up event arrives; `vcpu_wake`
//! then moves it blocked -> offline (not runnable while paused). Consequence
//! for a heartbeat sleeping on a singleshot timer: after its deadline a
//! paused vCPU shows offline, a preempted one runnable, and only a vCPU whose
//! timer wake-up never came keeps accruing **blocked** time. That is the
//! "black second" (lost wake-up) signature classified below.

use crate::hist::Histogram;

/// Per-state times (ns) of `vcpu_runstate_info.time[]`, totals or deltas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunstateTimes {
    /// RUNSTATE_running (0): on a pCPU.
    pub running_ns: u64,
    /// RUNSTATE_runnable (1): wanted a pCPU, did not get one.
    pub runnable_ns: u64,
    /// RUNSTATE_blocked (2): the guest blocked (waiting for an event).
    pub blocked_ns: u64,
    /// RUNSTATE_offline (3): paused, down, or held by the hypervisor.
    pub offline_ns: u64,
}

impl RunstateTimes {
    /// From `vcpu_runstate_info.time`, indexed by Xen's RUNSTATE_* values.
    pub const fn from_xen(time: [u64; 4]) -> Self {
        let [running_ns, runnable_ns, blocked_ns, offline_ns] = time;
        Self {
            running_ns,
            runnable_ns,
            blocked_ns,
            offline_ns,
        }
    }

    /// Per-state time accrued since `earlier` (saturating at 0).
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            running_ns: self.running_ns.saturating_sub(earlier.running_ns),
            runnable_ns: self.runnable_ns.saturating_sub(earlier.runnable_ns),
            blocked_ns: self.blocked_ns.saturating_sub(earlier.blocked_ns),
            offline_ns: self.offline_ns.saturating_sub(earlier.offline_ns),
        }
    }

    /// Steal time as Linux computes it: runnable + offline.
    pub fn steal_ns(&self) -> u64 {
        self.runnable_ns.saturating_add(self.offline_ns)
    }
}

/// Tunables of [`classify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StallThresholds {
    /// Share (per mille) of the unexplained time a state must reach to name
    /// the class. Default 500: it must account for at least half.
    pub dominance_permille: u32,
    /// Lateness and blocked-past-deadline time above which a wake-up counts
    /// as lost. Default 1 ms: 20x Xen's default `timer_slop` (50 us), far
    /// above normal singleshot lateness.
    pub lost_wakeup_ns: u64,
}

impl StallThresholds {
    /// Thresholds with the given values (e.g. from probe options).
    pub const fn new(dominance_permille: u32, lost_wakeup_ns: u64) -> Self {
        Self {
            dominance_permille,
            lost_wakeup_ns,
        }
    }
}

impl Default for StallThresholds {
    /// The documented defaults: 500 per mille, 1 ms.
    fn default() -> Self {
        Self::new(500, 1_000_000)
    }
}

/// One gap to classify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StallInput {
    /// Time the heartbeat loop did not run (ns); the gap ends at `woke_ns`.
    pub gap_ns: u64,
    /// Runstate deltas over the gap.
    pub runstate: RunstateTimes,
    /// Singleshot deadline programmed when the loop went to sleep, if any.
    pub expected_wake_ns: Option<u64>,
    /// System time at which the loop ran again (end of the gap).
    pub woke_ns: u64,
}

/// Verdict of [`classify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StallClass {
    /// Mostly runnable: another vCPU or domain had the pCPU.
    Preempted,
    /// Mostly offline: the domain or vCPU was paused or down.
    PausedOffline,
    /// Blocked past the programmed deadline: the timer wake-up was lost.
    LostWakeup,
    /// Mostly running: the guest itself did not come back to the loop.
    GuestBusy,
    /// No state dominates, or no runstate time to go by.
    Unknown,
}

impl StallClass {
    /// Stable machine name (for `@xp` JSON lines).
    pub fn name(self) -> &'static str {
        match self {
            Self::Preempted => "preempted",
            Self::PausedOffline => "paused_offline",
            Self::LostWakeup => "lost_wakeup",
            Self::GuestBusy => "guest_busy",
            Self::Unknown => "unknown",
        }
    }
}

/// The figures a verdict rests on. Shares are per mille of `unexplained_ns`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StallFigures {
    /// The gap (ns).
    pub gap_ns: u64,
    /// Blocked time the deadline explains: gap start to deadline, within the gap.
    pub expected_block_ns: u64,
    /// Blocked time beyond `expected_block_ns`.
    pub excess_blocked_ns: u64,
    /// `woke_ns - expected_wake_ns` (0 if on time); `None` without a deadline.
    pub late_ns: Option<u64>,
    /// running + runnable + offline + excess blocked: what needs explaining.
    pub unexplained_ns: u64,
    /// Running share.
    pub running_permille: u32,
    /// Runnable share.
    pub runnable_permille: u32,
    /// Offline share.
    pub offline_permille: u32,
    /// Excess-blocked share.
    pub excess_blocked_permille: u32,
}

/// A classified gap: class, figures, and a one-line human reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StallVerdict {
    /// The class.
    pub class: StallClass,
    /// The figures behind it.
    pub figures: StallFigures,
    /// One line saying why, for the console.
    pub reason: &'static str,
}

/// `part / whole` in per mille (0 when `whole` is 0).
fn permille(part: u64, whole: u64) -> u32 {
    let p = (u128::from(part) * 1000)
        .checked_div(u128::from(whole))
        .unwrap_or(0);
    u32::try_from(p).unwrap_or(u32::MAX)
}

/// Computes the figures: the deadline explains blocked time up to it.
fn figures(input: &StallInput) -> StallFigures {
    let rs = input.runstate;
    let gap_start = input.woke_ns.saturating_sub(input.gap_ns);
    let expected_block_ns = input
        .expected_wake_ns
        .map_or(0, |d| d.saturating_sub(gap_start).min(input.gap_ns));
    let excess_blocked_ns = rs.blocked_ns.saturating_sub(expected_block_ns);
    let unexplained_ns = rs
        .running_ns
        .saturating_add(rs.runnable_ns)
        .saturating_add(rs.offline_ns)
        .saturating_add(excess_blocked_ns);
    StallFigures {
        gap_ns: input.gap_ns,
        expected_block_ns,
        excess_blocked_ns,
        late_ns: input
            .expected_wake_ns
            .map(|d| input.woke_ns.saturating_sub(d)),
        unexplained_ns,
        running_permille: permille(rs.running_ns, unexplained_ns),
        runnable_permille: permille(rs.runnable_ns, unexplained_ns),
        offline_permille: permille(rs.offline_ns, unexplained_ns),
        excess_blocked_permille: permille(excess_blocked_ns, unexplained_ns),
    }
}

/// The dominant class, or `Unknown`. LostWakeup needs a deadline, lateness
/// and blocked-past-deadline time both above `lost_wakeup_ns`. Ties go to the
/// first of LostWakeup, PausedOffline, Preempted, GuestBusy.
fn pick_class(f: &StallFigures, th: &StallThresholds) -> StallClass {
    let lost =
        f.late_ns.is_some_and(|l| l > th.lost_wakeup_ns) && f.excess_blocked_ns > th.lost_wakeup_ns;
    let lost_share = if lost { f.excess_blocked_permille } else { 0 };
    let candidates = [
        (StallClass::LostWakeup, lost_share),
        (StallClass::PausedOffline, f.offline_permille),
        (StallClass::Preempted, f.runnable_permille),
        (StallClass::GuestBusy, f.running_permille),
    ];
    // `max_by_key` keeps the last maximum: reversed, that is the first.
    match candidates.into_iter().rev().max_by_key(|c| c.1) {
        Some((class, share)) if share > 0 && share >= th.dominance_permille => class,
        _ => StallClass::Unknown,
    }
}

/// The one-line reason for `class`.
fn reason(class: StallClass, f: &StallFigures) -> &'static str {
    match class {
        StallClass::Preempted => "runnable most of the gap: another vCPU or domain had the pCPU",
        StallClass::PausedOffline => "offline most of the gap: domain or vCPU paused or down",
        StallClass::LostWakeup => "stayed blocked past its singleshot deadline: wake-up lost",
        StallClass::GuestBusy => "running most of the gap: the guest itself was busy",
        StallClass::Unknown if f.unexplained_ns == 0 => {
            "no runstate time beyond the programmed sleep (runstate area not registered?)"
        }
        StallClass::Unknown if f.late_ns.is_none() && f.excess_blocked_permille >= 500 => {
            "blocked with no wake-up programmed"
        }
        StallClass::Unknown => "no runstate dominates the gap",
    }
}

/// Classifies one gap. The gap starts at `woke_ns - gap_ns`; blocked time up
/// to the programmed deadline is the intended sleep. The rest (running,
/// runnable, offline, blocked past the deadline) is the unexplained time, and
/// a class needs its state to hold `dominance_permille` of it: runnable ->
/// Preempted, offline -> PausedOffline, running -> GuestBusy, blocked past
/// the deadline -> LostWakeup (see the module documentation for why).
pub fn classify(input: &StallInput, th: &StallThresholds) -> StallVerdict {
    let figures = figures(input);
    let class = pick_class(&figures, th);
    StallVerdict {
        class,
        figures,
        reason: reason(class, &figures),
    }
}

/// A heartbeat gap reported by [`StallDetector`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    /// Previous heartbeat.
    pub start_ns: u64,
    /// This heartbeat.
    pub end_ns: u64,
    /// `end_ns - start_ns`.
    pub gap_ns: u64,
}

/// Detects gaps between heartbeats longer than a threshold, in constant
/// memory. The threshold must exceed the loop's own sleep period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StallDetector {
    threshold_ns: u64,
    last_ns: Option<u64>,
    gaps: u64,
    max_interval_ns: u64,
    clock_backwards: u64,
}

impl StallDetector {
    /// A detector reporting intervals strictly longer than `threshold_ns`.
    pub const fn new(threshold_ns: u64) -> Self {
        Self {
            threshold_ns,
            last_ns: None,
            gaps: 0,
            max_interval_ns: 0,
            clock_backwards: 0,
        }
    }

    /// Feeds one heartbeat at `now_ns`; returns the gap if the interval since
    /// the previous heartbeat exceeds the threshold. The first heartbeat only
    /// starts timing. A `now_ns` earlier than the previous one (the clock went
    /// backwards: a bug worth reporting) is counted and restarts timing.
    pub fn heartbeat(&mut self, now_ns: u64) -> Option<Gap> {
        let start_ns = self.last_ns.replace(now_ns)?;
        let Some(gap_ns) = now_ns.checked_sub(start_ns) else {
            self.clock_backwards = self.clock_backwards.saturating_add(1);
            return None;
        };
        self.max_interval_ns = self.max_interval_ns.max(gap_ns);
        if gap_ns <= self.threshold_ns {
            return None;
        }
        self.gaps = self.gaps.saturating_add(1);
        Some(Gap {
            start_ns,
            end_ns: now_ns,
            gap_ns,
        })
    }

    /// Restarts timing at `now_ns` without reporting (after a deliberate pause).
    pub fn resync(&mut self, now_ns: u64) {
        self.last_ns = Some(now_ns);
    }

    /// Gaps reported so far.
    pub fn gaps(&self) -> u64 {
        self.gaps
    }

    /// Longest interval seen between two heartbeats, gap or not.
    pub fn max_interval_ns(&self) -> u64 {
        self.max_interval_ns
    }

    /// Times the clock was seen going backwards.
    pub fn clock_backwards(&self) -> u64 {
        self.clock_backwards
    }
}

/// Figures of one summary period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Length of the period (ns).
    pub elapsed_ns: u64,
    /// Gaps recorded.
    pub gaps: u64,
    /// Longest gap, exact.
    pub gap_max_ns: Option<u64>,
    /// p99 gap (histogram precision, <= 1/16 over).
    pub gap_p99_ns: Option<u64>,
    /// Runstate deltas over the period.
    pub runstate: RunstateTimes,
    /// Steal (runnable + offline) over the period.
    pub steal_ns: u64,
    /// Steal as parts per million of `elapsed_ns`, capped at 1_000_000.
    pub steal_ppm: u32,
}

/// Accumulates gaps over a period and reports a [`Summary`].
#[derive(Clone, Debug)]
pub struct SummaryWindow {
    start_ns: u64,
    start_runstate: RunstateTimes,
    gaps: Histogram,
}

impl SummaryWindow {
    /// A period starting at `now_ns` with runstate totals `runstate`.
    pub const fn new(now_ns: u64, runstate: RunstateTimes) -> Self {
        Self {
            start_ns: now_ns,
            start_runstate: runstate,
            gaps: Histogram::new(),
        }
    }

    /// Records a gap length.
    pub fn record_gap(&mut self, gap_ns: u64) {
        self.gaps.record(gap_ns);
    }

    /// The gap histogram of the period, for emission.
    pub fn gaps(&self) -> &Histogram {
        &self.gaps
    }

    /// The period's figures at `now_ns` with runstate totals `runstate_now`.
    pub fn summary(&self, now_ns: u64, runstate_now: &RunstateTimes) -> Summary {
        let elapsed_ns = now_ns.saturating_sub(self.start_ns);
        let runstate = runstate_now.since(&self.start_runstate);
        let steal_ns = runstate.steal_ns();
        let ppm = (u128::from(steal_ns) * 1_000_000).checked_div(u128::from(elapsed_ns));
        Summary {
            elapsed_ns,
            gaps: self.gaps.count(),
            gap_max_ns: self.gaps.max(),
            gap_p99_ns: self.gaps.percentile_permille(990),
            runstate,
            steal_ns,
            steal_ppm: ppm.map_or(0, |p| p.min(1_000_000) as u32),
        }
    }

    /// Starts a new period at `now_ns`.
    pub fn restart(&mut self, now_ns: u64, runstate_now: RunstateTimes) {
        self.start_ns = now_ns;
        self.start_runstate = runstate_now;
        self.gaps.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS: u64 = 1_000_000;

    fn rs(running: u64, runnable: u64, blocked: u64, offline: u64) -> RunstateTimes {
        RunstateTimes::from_xen([running, runnable, blocked, offline])
    }

    /// Classifies a gap starting at 100 ms with a deadline `sleep` after its start.
    fn verdict(th: StallThresholds, gap_ns: u64, sleep: Option<u64>, t: [u64; 4]) -> StallVerdict {
        let (start, runstate) = (100 * MS, RunstateTimes::from_xen(t));
        let expected_wake_ns = sleep.map(|s| start + s);
        let woke_ns = start + gap_ns;
        classify(
            &StallInput {
                gap_ns,
                runstate,
                expected_wake_ns,
                woke_ns,
            },
            &th,
        )
    }

    fn gap(gap_ns: u64, sleep: Option<u64>, runstate: RunstateTimes) -> StallVerdict {
        let t = [
            runstate.running_ns,
            runstate.runnable_ns,
            runstate.blocked_ns,
            runstate.offline_ns,
        ];
        verdict(StallThresholds::default(), gap_ns, sleep, t)
    }

    #[test]
    fn classification_table() {
        use StallClass::*;
        #[rustfmt::skip]
        let cases = [
            // gap, deadline after gap start, [running, runnable, blocked, offline]
            (6 * MS, Some(MS), [0, 5 * MS, MS, 0], Preempted), // woke, no pCPU
            (1010 * MS, Some(10 * MS), [20_000, 0, 1010 * MS - 20_000, 0], LostWakeup),
            (501 * MS, Some(MS), [0, 0, MS, 500 * MS], PausedOffline), // paused asleep
            (50 * MS, None, [49 * MS, MS, 0, 0], GuestBusy),
            (2 * MS, Some(2 * MS - 60_000), [0, 0, 2 * MS, 0], Unknown), // 60 us: slop
            (9 * MS, None, [3 * MS, 3 * MS, 0, 3 * MS], Unknown), // nothing dominates
            (10 * MS, Some(10 * MS), [0, 0, 10 * MS, 0], Unknown), // the sleep itself
        ];
        for (gap_ns, sleep, t, class) in cases {
            let v = gap(gap_ns, sleep, RunstateTimes::from_xen(t));
            assert_eq!(v.class, class, "{t:?}: {v:?}");
        }
    }

    #[test]
    fn figures_and_reasons() {
        let f = gap(6 * MS, Some(MS), rs(0, 5 * MS, MS, 0)).figures;
        let got = (f.runnable_permille, f.late_ns, f.expected_block_ns);
        assert_eq!((got, f.unexplained_ns), ((1000, Some(5 * MS), MS), 5 * MS));
        let v = gap(1010 * MS, Some(10 * MS), rs(0, 0, 1010 * MS, 0));
        let got = (v.figures.excess_blocked_ns, v.class.name());
        assert_eq!(got, (1000 * MS, "lost_wakeup"));
        assert!(v.reason.contains("deadline"));
        let slept = gap(10 * MS, Some(10 * MS), rs(0, 0, 10 * MS, 0)).reason;
        assert!(slept.contains("runstate area"));
        assert_eq!(gap(10 * MS, None, RunstateTimes::default()).reason, slept);
        let blocked = gap(10 * MS, None, rs(0, 0, 10 * MS, 0)).reason;
        assert_eq!(blocked, "blocked with no wake-up programmed");
        let mixed = gap(9 * MS, None, rs(3 * MS, 3 * MS, 0, 3 * MS)).reason;
        assert_eq!(mixed, "no runstate dominates the gap");
    }

    #[test]
    fn thresholds_are_parameters_and_ties_are_ordered() {
        let strict = StallThresholds::new(900, MS);
        let mostly_runnable = [2 * MS, 8 * MS, 0, 0];
        assert_eq!(
            verdict(strict, 10 * MS, None, mostly_runnable).class,
            StallClass::Unknown
        );
        let lax = StallThresholds::new(500, 2_000 * MS);
        let black_second = [0, 0, 1010 * MS, 0];
        let v = verdict(lax, 1010 * MS, Some(10 * MS), black_second);
        assert_eq!(v.class, StallClass::Unknown);
        let tie = gap(10 * MS, None, rs(0, 5 * MS, 0, 5 * MS));
        assert_eq!(tie.class, StallClass::PausedOffline);
    }

    #[test]
    fn detector_reports_gaps_over_threshold() {
        let mut d = StallDetector::new(5);
        let mut beat = |t| d.heartbeat(t).map(|g| (g.start_ns, g.end_ns, g.gap_ns));
        assert_eq!((beat(100), beat(105)), (None, None)); // equal: no gap
        assert_eq!(beat(111), Some((105, 111, 6)));
        assert_eq!(beat(50), None); // backwards
        assert_eq!(beat(60), Some((50, 60, 10)));
        d.resync(1_000);
        assert_eq!(d.heartbeat(1_003), None);
        let stats = (d.gaps(), d.max_interval_ns(), d.clock_backwards());
        assert_eq!(stats, (2, 10, 1));
    }

    #[test]
    fn summary_computes_steal_as_linux() {
        let mut w = SummaryWindow::new(1_000, rs(7, 10, 0, 0));
        w.record_gap(7 * MS);
        w.record_gap(9 * MS);
        let now_rs = rs(500 * MS, 10 + 100 * MS, 350 * MS, 50 * MS);
        let s = w.summary(1_000 + 1_000 * MS, &now_rs);
        let got = (s.elapsed_ns, s.gaps, s.gap_max_ns, s.runstate.running_ns);
        assert_eq!(got, (1_000 * MS, 2, Some(9 * MS), 500 * MS - 7));
        assert_eq!((s.steal_ns, s.steal_ppm), (150 * MS, 150_000));
        assert!(s.gap_p99_ns.is_some_and(|p| p >= 9 * MS));
        w.restart(2_000 * MS, now_rs);
        let s = w.summary(2_000 * MS, &rs(0, u64::MAX, 0, 0));
        assert_eq!((s.elapsed_ns, s.gaps, s.steal_ppm), (0, 0, 0));
        let capped = w.summary(2_001 * MS, &rs(0, u64::MAX, 0, 0)).steal_ppm;
        assert_eq!(capped, 1_000_000);
    }

    proptest! {
        #[test]
        fn classify_is_total_and_consistent(gap_ns: u64, t in prop::array::uniform4(0u64..1 << 60),
                                            wake: Option<u64>, woke: u64, dom in 0u32..=1000, lw: u64) {
            let input = StallInput { gap_ns, runstate: RunstateTimes::from_xen(t), expected_wake_ns: wake, woke_ns: woke };
            let v = classify(&input, &StallThresholds::new(dom, lw));
            let f = v.figures;
            prop_assert!(f.running_permille + f.runnable_permille + f.offline_permille + f.excess_blocked_permille <= 1000);
            let share = match v.class {
                StallClass::Preempted => f.runnable_permille,
                StallClass::PausedOffline => f.offline_permille,
                StallClass::LostWakeup => f.excess_blocked_permille,
                StallClass::GuestBusy => f.running_permille,
                StallClass::Unknown => return Ok(()),
            };
            prop_assert!(share > 0 && share >= dom);
        }

        #[test]
        fn detector_counts_intervals_over_threshold(steps in prop::collection::vec(0u64..1000, 1..60),
                                                    threshold in 0u64..1000) {
            let mut d = StallDetector::new(threshold);
            let mut now = 0u64;
            let reported = steps.iter().filter_map(|s| { now += s; d.heartbeat(now) }).count();
            let want = steps.iter().skip(1).filter(|&&s| s > threshold).count();
            prop_assert_eq!((reported, d.gaps()), (want, want as u64));
        }
    }
}
