//! vcpu.h: per-vCPU operations (timers and runstate come with the timer work).

use super::hypercall::raw3;
use xp_core::xen::hypercall::VCPU_OP;

/// HYPERVISOR_vcpu_op(cmd, vcpu, arg).
///
/// # Safety
/// `arg` must point to the structure `cmd` expects (or be 0 where it takes none), alive
/// for the call, and for areas Xen keeps writing (runstate), for as long as registered.
pub unsafe fn op(cmd: u64, vcpu: u32, arg: u64) -> i64 {
    // SAFETY: forwarded to the caller's contract.
    unsafe { raw3(VCPU_OP, cmd, vcpu as u64, arg) }
}
