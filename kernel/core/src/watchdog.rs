//! Sibling watchdog: one vCPU watches another's heartbeat and reports it WHILE it is
//! stuck (Linux's soft-lockup / RCU-stall idea), classified by the stall probe's rules.
//!
//! The watched vCPU publishes a [`Beat`] (counter, when, the deadline it sleeps to, its
//! own runstate totals then); the watcher calls [`SiblingWatch::observe`] every period with the sibling's runstate
//! (VCPUOP_get_runstate_info). A silence longer than `threshold` is reported once, at
//! once, with how long so far, the runstate now and the class its runstate points to;
//! when the counter moves again, the watcher reports the recovery.

use crate::runstate::Snapshot;
use crate::stall::{classify, RunstateTimes, StallInput, StallThresholds, StallVerdict};

/// What a vCPU publishes at each heartbeat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Beat {
    /// Heartbeats so far.
    pub count: u64,
    /// System time of the last heartbeat (ns).
    pub at_ns: u64,
    /// Singleshot deadline the vCPU sleeps to after it (0: none, e.g. spinning).
    pub deadline_ns: u64,
    /// The vCPU's runstate totals at the heartbeat (from its own area): a silence is
    /// classified from what Xen accounted since then, even if the watcher itself first
    /// looked much later (e.g. both were paused).
    pub runstate: RunstateTimes,
}

/// A sibling seen stuck, while it is stuck.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveStall {
    /// Silence so far (ns): now minus the last heartbeat.
    pub so_far_ns: u64,
    /// Its runstate (RUNSTATE_*) right now.
    pub state_now: i32,
    /// Its runstate times since its last beat.
    pub runstate: RunstateTimes,
    /// Classification of the silence so far.
    pub verdict: StallVerdict,
}

/// What one observation found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchEvent {
    /// Silent for longer than the threshold (reported once per silence).
    Stuck(LiveStall),
    /// Beating again after a reported silence of `silent_ns` (as far as the watcher saw).
    Recovered { silent_ns: u64 },
}

/// The watcher's state for one sibling, constant memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SiblingWatch {
    threshold_ns: u64,
    last: Beat,
    reported: bool,
    /// Live reports made.
    pub reports: u64,
}

impl SiblingWatch {
    /// Watch for silences longer than `threshold_ns`.
    pub const fn new(threshold_ns: u64) -> Self {
        Self {
            threshold_ns,
            last: Beat {
                count: u64::MAX,
                at_ns: 0,
                deadline_ns: 0,
                runstate: RunstateTimes::from_xen([0; 4]),
            },
            reported: false,
            reports: 0,
        }
    }

    /// One observation at watcher time `now_ns`. A sibling that has not beaten yet
    /// (`beat.count == 0`) is not watched yet.
    pub fn observe(&mut self, now_ns: u64, beat: Beat, rs: &Snapshot) -> Option<WatchEvent> {
        if beat.count == 0 {
            return None;
        }
        if beat.count != self.last.count {
            let was = core::mem::replace(&mut self.reported, false);
            let silent_ns = beat.at_ns.saturating_sub(self.last.at_ns);
            self.last = beat;
            return was.then_some(WatchEvent::Recovered { silent_ns });
        }
        let so_far_ns = now_ns.saturating_sub(self.last.at_ns);
        if self.reported || so_far_ns <= self.threshold_ns {
            return None;
        }
        self.reported = true;
        self.reports += 1;
        let totals = rs.totals_at(now_ns);
        Some(WatchEvent::Stuck(
            self.live(now_ns, so_far_ns, rs.state, &totals),
        ))
    }

    fn live(
        &self,
        now_ns: u64,
        so_far_ns: u64,
        state_now: i32,
        totals: &RunstateTimes,
    ) -> LiveStall {
        let input = StallInput {
            gap_ns: so_far_ns,
            runstate: totals.since(&self.last.runstate),
            expected_wake_ns: (self.last.deadline_ns != 0).then_some(self.last.deadline_ns),
            woke_ns: now_ns,
        };
        LiveStall {
            so_far_ns,
            state_now,
            runstate: input.runstate,
            verdict: classify(&input, &StallThresholds::default()),
        }
    }
}

#[cfg(test)]
mod tests;
