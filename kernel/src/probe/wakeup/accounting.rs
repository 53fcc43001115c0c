//! Per-vCPU runstate accounting: over the measurement, the four runstate times Xen reports
//! for each vCPU (VCPUOP_get_runstate_info) add up to the time that passed.

use super::Ctx;
use crate::drv::runstate;
use alloc::vec::Vec;
use xp_core::runstate::Snapshot;

/// Slack allowed between the runstate sum and the elapsed time: the two hypercalls' own
/// duration, plus 0.1 % (pvclock and Xen's NOW() are read at slightly different moments).
const SLACK_NS: u64 = 1_000_000;

/// Each vCPU's runstate now (None: unreadable, reported by the check).
pub fn sample(n: u32) -> Vec<Option<Snapshot>> {
    (0..n).map(|b| runstate::of(b).ok()).collect()
}

/// Check, per vCPU, that the runstate times grew by the elapsed time since `before`.
pub fn check(ctx: &mut Ctx<'_>, before: &[Option<Snapshot>]) {
    let after = sample(before.len() as u32);
    for (b, (x, y)) in before.iter().zip(&after).enumerate() {
        let name = alloc::format!("runstate_adds_up_vcpu{b}");
        let expected = "running+runnable+blocked+offline grew by the elapsed time (+-1 ms +0.1 %)";
        let (Some(x), Some(y)) = (x, y) else {
            ctx.check(&name, false, expected, "VCPUOP_get_runstate_info failed");
            continue;
        };
        let sum = |s: &Snapshot| s.time.iter().fold(0u64, |a, &t| a.wrapping_add(t));
        let grew = sum(y).wrapping_sub(sum(x));
        let elapsed = y.state_entry_time.saturating_sub(x.state_entry_time);
        let ok = grew.abs_diff(elapsed) <= SLACK_NS + elapsed / 1000;
        let seen = alloc::format!("{grew} ns over {elapsed} ns");
        ctx.check(&name, ok, expected, seen);
    }
}
