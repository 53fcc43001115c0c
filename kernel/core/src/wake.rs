//! One cross-vCPU wake-up timed two ways (the wakeup probe). The sender reads its pvclock and
//! its TSC before the send, the wakee's handler reads its own pvclock and TSC.
//!
//! - By pvclock: handler time - send time. Each vCPU's pvclock is Xen's system time on the
//!   pCPU it runs on; where Xen keeps one system time per pCPU (no invariant TSC), those can
//!   disagree by more than the latency, and the handler time then reads before the send.
//! - By TSC: handler TSC - send TSC, scaled to ns with the sender's pvclock scale: one time
//!   base, valid where the pCPUs' TSCs count in step (an invariant TSC; one virtual counter
//!   under QEMU's -icount). A handler TSC before the send TSC says they do not.

use crate::pvclock::scale_delta;

/// The two clocks' readings of one wake-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub sent_ns: u64,
    pub handled_ns: u64,
    pub sent_tsc: u64,
    pub handled_tsc: u64,
    /// The sender's pvclock scale (vcpu_time_info.tsc_to_system_mul, tsc_shift).
    pub mul: u32,
    pub shift: i8,
}

/// A reading's latency (ns), or by how much the handler's clock read before the send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Latency {
    After(u64),
    Before(u64),
}

impl Reading {
    /// Handler pvclock time - send pvclock time.
    pub fn by_pvclock(&self) -> Latency {
        order(self.sent_ns, self.handled_ns, |d| d)
    }

    /// Handler TSC - send TSC, in ns at the sender's pvclock scale.
    pub fn by_tsc(&self) -> Latency {
        order(self.sent_tsc, self.handled_tsc, |d| {
            scale_delta(d, self.mul, self.shift)
        })
    }
}

fn order(sent: u64, handled: u64, ns: impl Fn(u64) -> u64) -> Latency {
    match handled.checked_sub(sent) {
        Some(d) => Latency::After(ns(d)),
        None => Latency::Before(ns(sent - handled)),
    }
}

#[cfg(test)]
mod tests;
