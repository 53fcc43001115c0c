//! Runstate snapshots: per-state times of a vCPU, as Xen's runstate area reports them.
//!
//! Xen adds to `time[state]` only when the vCPU leaves `state`; the time
//! spent in the current state so far is `now - state_entry_time`.
//! Deltas and steal are [`crate::stall::RunstateTimes`]'s job.

use crate::stall::RunstateTimes;

/// One consistent copy of the runstate area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub state: i32,
    /// System time (ns) the current state was entered (update flag removed).
    pub state_entry_time: u64,
    /// Accumulated ns in running, runnable, blocked, offline.
    pub time: [u64; 4],
}

impl Snapshot {
    /// Per-state totals as of system time `now`, counting the current state's open stretch.
    pub fn totals_at(&self, now: u64) -> RunstateTimes {
        let mut t = self.time;
        if let Some(slot) = usize::try_from(self.state).ok().and_then(|s| t.get_mut(s)) {
            *slot = slot.saturating_add(now.saturating_sub(self.state_entry_time));
        }
        RunstateTimes::from_xen(t)
    }
}

/// Sum of the four states (equals the elapsed time for a delta).
pub fn total(t: &RunstateTimes) -> u64 {
    [t.running_ns, t.runnable_ns, t.blocked_ns, t.offline_ns]
        .iter()
        .fold(0u64, |a, &b| a.saturating_add(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn open_stretch_counts_for_current_state() {
        let s = Snapshot {
            state: 2,
            state_entry_time: 1_000,
            time: [10, 20, 30, 40],
        };
        assert_eq!(
            s.totals_at(1_500),
            RunstateTimes::from_xen([10, 20, 530, 40])
        );
        assert_eq!(s.totals_at(500), RunstateTimes::from_xen([10, 20, 30, 40]));
        let bad = Snapshot { state: 9, ..s };
        assert_eq!(
            bad.totals_at(5_000),
            RunstateTimes::from_xen([10, 20, 30, 40])
        );
    }

    #[test]
    fn delta_adds_up_to_elapsed() {
        let a = Snapshot {
            state: 0,
            state_entry_time: 0,
            time: [0; 4],
        };
        let b = Snapshot {
            state: 0,
            state_entry_time: 900,
            time: [300, 500, 0, 100],
        };
        let d = b.totals_at(1_000).since(&a.totals_at(0));
        assert_eq!(d, RunstateTimes::from_xen([400, 500, 0, 100]));
        assert_eq!(total(&d), 1_000);
        assert_eq!(d.steal_ns(), 600);
    }

    proptest! {
        /// Moving time forward in one state adds exactly the elapsed time to the total.
        #[test]
        fn totals_add_up(state in 0i32..4, entry in 0u64..1_000_000, extra in 0u64..1_000_000, t in proptest::array::uniform4(0u64..1_000_000)) {
            let s = Snapshot { state, state_entry_time: entry, time: t };
            prop_assert_eq!(total(&s.totals_at(entry + extra)), t.iter().sum::<u64>() + extra);
        }
    }
}
