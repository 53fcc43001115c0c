//! Heartbeats every vCPU publishes, and the sibling watchdog: each vCPU watches the one
//! before it (vCPU i watches i-1, vCPU 0 the last), so every vCPU has exactly one
//! watcher. The watcher reads its sibling's runstate with VCPUOP_get_runstate_info at
//! each of its own beats and reports a sibling silent for `threshold` while it is still
//! silent (xp_core::watchdog), then its recovery.

use super::Rep;
use crate::drv::runstate;
use crate::report::Text;
use crate::time::now_ns;
use core::sync::atomic::{AtomicU64, Ordering::*};
use xp_core::cmdline::Ns;
use xp_core::smp::MAX_VCPUS;
use xp_core::stall::RunstateTimes;
use xp_core::watchdog::{Beat, LiveStall, SiblingWatch, WatchEvent};
use xp_core::xen::vcpu::RunstateState;

/// A vCPU's last heartbeat, published under a version counter (odd while written).
struct Heart {
    version: AtomicU64,
    count: AtomicU64,
    at_ns: AtomicU64,
    deadline_ns: AtomicU64,
    /// Runstate totals at the beat (running, runnable, blocked, offline).
    runstate: [AtomicU64; 4],
}

static HEARTS: [Heart; MAX_VCPUS as usize] = [const {
    Heart {
        version: AtomicU64::new(0),
        count: AtomicU64::new(0),
        at_ns: AtomicU64::new(0),
        deadline_ns: AtomicU64::new(0),
        runstate: [const { AtomicU64::new(0) }; 4],
    }
}; MAX_VCPUS as usize];

/// Live reports made (each a sibling seen stuck while stuck).
pub static LIVE_REPORTS: AtomicU64 = AtomicU64::new(0);
/// The longest silence at the moment it was reported (the detection delay), ns.
pub static MAX_DETECTION_NS: AtomicU64 = AtomicU64::new(0);

fn heart(id: u32) -> &'static Heart {
    &HEARTS[id as usize % HEARTS.len()]
}

/// Forget every heartbeat (a new stall run starts).
pub fn reset(n: u32) {
    (0..n).for_each(|id| publish(id, Beat::default()));
}

/// Publish vCPU `id`'s heartbeat.
pub fn publish(id: u32, b: Beat) {
    let h = heart(id);
    h.version.fetch_add(1, AcqRel);
    h.count.store(b.count, Release);
    h.at_ns.store(b.at_ns, Release);
    h.deadline_ns.store(b.deadline_ns, Release);
    let r = &b.runstate;
    let times = [r.running_ns, r.runnable_ns, r.blocked_ns, r.offline_ns];
    h.runstate
        .iter()
        .zip(times)
        .for_each(|(a, t)| a.store(t, Release));
    h.version.fetch_add(1, AcqRel);
}

fn read(id: u32) -> Option<Beat> {
    let h = heart(id);
    let version = || h.version.load(Acquire) as u32;
    let body = || Beat {
        count: h.count.load(Acquire),
        at_ns: h.at_ns.load(Acquire),
        deadline_ns: h.deadline_ns.load(Acquire),
        runstate: RunstateTimes::from_xen(core::array::from_fn(|i| h.runstate[i].load(Acquire))),
    };
    xp_core::pvclock::read_consistent(1000, version, body)
}

/// The watcher vCPU `id` runs: which sibling, and the watch state.
pub struct Watcher {
    sibling: u32,
    watch: SiblingWatch,
    threshold: u64,
}

impl Watcher {
    /// vCPU `id` of `n` watches `id - 1` (vCPU 0 the last); none with one vCPU.
    pub fn new(id: u32, n: u32, threshold: u64) -> Option<Self> {
        (n >= 2).then(|| Self {
            sibling: (id + n - 1) % n,
            watch: SiblingWatch::new(threshold),
            threshold,
        })
    }

    /// One look at the sibling, reported at once if it is stuck or back.
    pub fn look(&mut self, rep: &Rep) {
        let (Some(beat), Ok(rs)) = (read(self.sibling), runstate::of(self.sibling)) else {
            return;
        };
        match self.watch.observe(now_ns(), beat, &rs) {
            Some(WatchEvent::Stuck(s)) => self.stuck(rep, &s),
            Some(WatchEvent::Recovered { silent_ns }) => self.recovered(rep, silent_ns),
            None => {}
        }
    }

    fn stuck(&self, rep: &Rep, s: &LiveStall) {
        LIVE_REPORTS.fetch_add(1, Relaxed);
        MAX_DETECTION_NS.fetch_max(s.so_far_ns, Relaxed);
        let state = RunstateState(s.state_now).name();
        let (class, reason) = (s.verdict.class.name(), s.verdict.reason);
        crate::println!(
            "  WATCHDOG (vCPU {}): vCPU {} silent for {} so far (threshold {}), runstate now {state}: {class}: {reason}",
            rep.vcpu, self.sibling, Ns(s.so_far_ns), Ns(self.threshold)
        );
        let rs = &s.runstate;
        crate::report::emit(&xp_core::records::Watchdog::<Text> {
            probe: &rep.probe,
            vcpu: self.sibling.into(),
            watcher: rep.vcpu.into(),
            event: &"stuck",
            so_far_ns: Some(s.so_far_ns),
            threshold_ns: Some(self.threshold),
            state_now: Some(&state),
            class: Some(&class),
            reason: Some(&reason),
            running_ns: Some(rs.running_ns),
            runnable_ns: Some(rs.runnable_ns),
            blocked_ns: Some(rs.blocked_ns),
            offline_ns: Some(rs.offline_ns),
            silent_ns: None,
        });
    }

    fn recovered(&self, rep: &Rep, silent_ns: u64) {
        crate::println!(
            "  WATCHDOG (vCPU {}): vCPU {} beats again after {} of silence",
            rep.vcpu,
            self.sibling,
            Ns(silent_ns)
        );
        crate::report::emit(&xp_core::records::Watchdog::<Text> {
            probe: &rep.probe,
            vcpu: self.sibling.into(),
            watcher: rep.vcpu.into(),
            event: &"recovered",
            so_far_ns: None,
            threshold_ns: None,
            state_now: None,
            class: None,
            reason: None,
            running_ns: None,
            runnable_ns: None,
            blocked_ns: None,
            offline_ns: None,
            silent_ns: Some(silent_ns),
        });
    }
}
