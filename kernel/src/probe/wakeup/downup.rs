//! VCPUOP_down / VCPUOP_up seen from a sibling: offline while down, a kick held (pending,
//! not handled) while down and delivered after VCPUOP_up.

use super::Ctx;
use crate::drv::{evtchn, runstate, timer};
use crate::smp;
use crate::time::now_ns;
use crate::xen::vcpu;
use core::sync::atomic::Ordering::Acquire;
use xp_core::xen::vcpu::RunstateState;

/// How long the vCPU stays down with a kick sent to it.
const HELD_NS: u64 = 20_000_000;
/// How long VCPUOP_up may take to deliver the held kick.
const BACK_NS: u64 = 1_000_000_000;

/// Take idle secondary `b` down and up again, checking what its sibling sees.
pub fn run(ctx: &mut Ctx<'_>, b: u32) {
    let v = smp::vcpu(b);
    let port = v.kick_port.load(Acquire);
    let k0 = v.kicks.load(Acquire);
    if let Err(e) = vcpu::down(b) {
        return ctx.error(format_args!("VCPUOP_down of vCPU {b}: {e}"));
    }
    // A blocked vCPU that is down turns offline when an event unblocks it: the kick.
    let sent = smp::kick(b);
    timer::wait_until(now_ns() + HELD_NS, || false);
    let state = runstate::of(b).map(|s| RunstateState(s.state));
    let held = v.kicks.load(Acquire) == k0 && evtchn::is_pending(port);
    let up = vcpu::up(b);
    let back = timer::wait_until(now_ns() + BACK_NS, || v.kicks.load(Acquire) != k0);
    let state_name = state.map_or("unreadable", |s| s.name());
    ctx.check(
        "down_vcpu_seen_offline",
        state == Ok(RunstateState::OFFLINE),
        format_args!("vCPU {b} offline after VCPUOP_down (VCPUOP_get_runstate_info from vCPU 0)"),
        state_name,
    );
    ctx.check(
        "kick_to_down_vcpu_held",
        sent.is_ok() && held,
        format_args!("kick sent to vCPU {b} while down stays pending, not handled"),
        match (sent, held) {
            (Err(e), _) => alloc::format!("send failed: {e}"),
            (Ok(()), true) => "pending, not handled".into(),
            (Ok(()), false) => "handled or not pending".into(),
        },
    );
    ctx.check(
        "up_delivers_held_kick",
        up.is_ok() && back,
        format_args!(
            "VCPUOP_up of vCPU {b} succeeds and its handler takes the held kick within {} ms",
            BACK_NS / 1_000_000
        ),
        match (up, back) {
            (Err(e), _) => alloc::format!("{e}"),
            (Ok(()), true) => "taken".into(),
            (Ok(()), false) => "not taken".into(),
        },
    );
}
