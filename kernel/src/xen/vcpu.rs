//! vcpu.h: per-vCPU timers and the runstate area (always vCPU 0 here).

use super::hypercall::raw3;
use super::{check, XenError};
use xp_core::xen::hypercall::{VCPU_OP, VM_ASSIST};
use xp_core::xen::vcpu::*;

fn op<T>(cmd: u64, name: &'static str, arg: Option<&mut T>) -> Result<(), XenError> {
    let ptr = arg.map_or(0, |a| a as *mut T as u64);
    // SAFETY: every caller passes the structure `cmd` expects (layouts asserted in
    // xp_core), or none where the command takes none; it is alive for the call.
    let rc = unsafe { raw3(VCPU_OP, cmd, 0, ptr) };
    check(name, rc).map(|_| ())
}

/// VCPUOP_stop_periodic_timer: stop the 100 Hz tick a PV vCPU starts with.
pub fn stop_periodic_timer() -> Result<(), XenError> {
    op::<u8>(
        VCPUOP_STOP_PERIODIC_TIMER,
        "VCPUOP_stop_periodic_timer",
        None,
    )
}

/// VCPUOP_set_periodic_timer (Xen rejects periods under 1 ms).
pub fn set_periodic_timer(period_ns: u64) -> Result<(), XenError> {
    let mut a = VcpuSetPeriodicTimer { period_ns };
    op(
        VCPUOP_SET_PERIODIC_TIMER,
        "VCPUOP_set_periodic_timer",
        Some(&mut a),
    )
}

/// VCPUOP_set_singleshot_timer at absolute system time `deadline_ns` (a past
/// deadline fires at once unless `future_only`, which makes Xen refuse it with ETIME).
pub fn set_singleshot_timer(deadline_ns: u64, future_only: bool) -> Result<(), XenError> {
    let mut a = VcpuSetSingleshotTimer {
        timeout_abs_ns: deadline_ns,
        flags: future_only as u32,
        _pad: 0,
    };
    op(
        VCPUOP_SET_SINGLESHOT_TIMER,
        "VCPUOP_set_singleshot_timer",
        Some(&mut a),
    )
}

/// VCPUOP_stop_singleshot_timer.
pub fn stop_singleshot_timer() -> Result<(), XenError> {
    op::<u8>(
        VCPUOP_STOP_SINGLESHOT_TIMER,
        "VCPUOP_stop_singleshot_timer",
        None,
    )
}

/// VCPUOP_register_runstate_memory_area for vCPU 0.
///
/// # Safety
/// `area` must stay valid (and only be read with volatile accesses) for as long as the
/// domain runs: Xen writes it on every context switch.
pub unsafe fn register_runstate(area: *mut VcpuRunstateInfo) -> Result<(), XenError> {
    let mut addr = area as u64;
    op(
        VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA,
        "VCPUOP_register_runstate_memory_area",
        Some(&mut addr),
    )
}

/// HYPERVISOR_vm_assist(VMASST_CMD_enable, kind).
pub fn vm_assist_enable(kind: u64) -> Result<(), XenError> {
    // SAFETY: no pointers are passed.
    let rc = unsafe { raw3(VM_ASSIST, 0, kind, 0) };
    check("vm_assist", rc).map(|_| ())
}
