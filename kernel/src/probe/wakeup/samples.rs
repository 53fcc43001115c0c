//! The wake-ups of one pair, timed by pvclock and by TSC (xp_core::wake), and their report.

use super::Ctx;
use alloc::boxed::Box;
use alloc::format;
use xp_core::hist::Histogram;
use xp_core::wake::{Latency, Reading};

/// What the wake-ups to one vCPU measured.
pub struct Pair {
    /// By pvclock (0 when the handler's read before the send).
    pv: Box<Histogram>,
    /// By how much the handler's pvclock read before the send, for those wake-ups.
    behind: Box<Histogram>,
    /// By TSC, at vCPU 0's pvclock scale; and the wake-ups whose handler TSC read earlier.
    tsc: Box<Histogram>,
    tsc_before: u64,
}

impl Pair {
    pub fn new() -> Pair {
        let h = || Box::new(Histogram::new());
        Pair {
            pv: h(),
            behind: h(),
            tsc: h(),
            tsc_before: 0,
        }
    }

    pub fn record(&mut self, r: &Reading) {
        match r.by_pvclock() {
            Latency::After(ns) => self.pv.record(ns),
            Latency::Before(ns) => {
                self.pv.record(0);
                self.behind.record(ns);
            }
        }
        match r.by_tsc() {
            Latency::After(ns) => self.tsc.record(ns),
            Latency::Before(_) => self.tsc_before += 1,
        }
    }

    /// The loopback (b = 0: one vCPU, one clock) reports the pvclock latency only.
    pub fn report(&self, ctx: &mut Ctx<'_>, b: u32) {
        if b == 0 {
            let method = "vCPU 0 sends to its own IPI port and blocks; handler time - send time";
            return ctx.stats("wake_loopback_vcpu0", &self.pv, "ns", method);
        }
        let method =
            "vCPU 0 sends to blocked vCPU's IPI port; its handler time - send time (pvclock)";
        ctx.stats(&format!("wake_vcpu0_to_vcpu{b}"), &self.pv, "ns", method);
        self.report_behind(ctx, b);
        let method = "the same wake-ups: handler TSC - send TSC at vCPU 0's pvclock scale (one time base; valid where the pCPUs' TSCs count in step)";
        ctx.stats(
            &format!("wake_vcpu0_to_vcpu{b}_tsc"),
            &self.tsc,
            "ns",
            method,
        );
        let method = "handler TSC read earlier than the send TSC (the pCPUs' TSCs not in step); left out of the TSC figure";
        let name = format!("tsc_before_send_vcpu{b}");
        ctx.metric(&name, self.tsc_before, "count", method);
    }

    /// The wake-ups whose handler time on `b` read earlier than vCPU 0's send time: their
    /// count, and (when any) by how much, a lower bound of how far the two vCPUs' pvclocks
    /// (Xen's system time on their pCPUs) disagreed at that moment.
    fn report_behind(&self, ctx: &mut Ctx<'_>, b: u32) {
        let method = "handler time on the wakee read earlier than the send time on vCPU 0 (per-vCPU pvclocks differ by more than the latency); counted as 0 ns above";
        let name = format!("handler_before_send_vcpu{b}");
        ctx.metric(&name, self.behind.count(), "count", method);
        if self.behind.count() > 0 {
            let method = "send time on vCPU 0 - handler time on the wakee, for those wake-ups: how far the wakee's pvclock was at least behind";
            let name = format!("wakee_clock_behind_vcpu{b}");
            ctx.stats(&name, &self.behind, "ns", method);
        }
    }
}
