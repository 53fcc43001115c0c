//! vcpu.h: per-vCPU timers, runstate areas, and starting/stopping vCPUs.

use super::hypercall::raw3;
use super::{check, XenError};
use crate::shmem::{PageCell, PAGE_SIZE};
use xp_core::xen::arch_x86::VcpuGuestContext;
use xp_core::xen::hypercall::{VCPU_OP, VM_ASSIST};
use xp_core::xen::vcpu::*;

fn op<T>(cmd: u64, vcpu: u32, name: &'static str, arg: Option<&mut T>) -> Result<i64, XenError> {
    let ptr = arg.map_or(0, |a| a as *mut T as u64);
    // SAFETY: every caller passes the structure `cmd` expects (layouts asserted in
    // xp_core), or none where the command takes none; it is alive for the call.
    let rc = unsafe { raw3(VCPU_OP, cmd, u64::from(vcpu), ptr) };
    check(name, rc)
}

/// The running vCPU (the timer commands act on the caller only).
fn me() -> u32 {
    crate::arch::percpu::this_vcpu()
}

/// VCPUOP_stop_periodic_timer: stop the 100 Hz tick a PV vCPU starts with.
pub fn stop_periodic_timer() -> Result<(), XenError> {
    let name = "VCPUOP_stop_periodic_timer";
    op::<u8>(VCPUOP_STOP_PERIODIC_TIMER, me(), name, None).map(drop)
}

/// VCPUOP_set_periodic_timer (Xen rejects periods under 1 ms).
pub fn set_periodic_timer(period_ns: u64) -> Result<(), XenError> {
    let mut a = VcpuSetPeriodicTimer { period_ns };
    let name = "VCPUOP_set_periodic_timer";
    op(VCPUOP_SET_PERIODIC_TIMER, me(), name, Some(&mut a)).map(drop)
}

/// VCPUOP_set_singleshot_timer at absolute system time `deadline_ns` (a past
/// deadline fires at once unless `future_only`, which makes Xen refuse it with ETIME).
pub fn set_singleshot_timer(deadline_ns: u64, future_only: bool) -> Result<(), XenError> {
    let mut a = VcpuSetSingleshotTimer {
        timeout_abs_ns: deadline_ns,
        flags: future_only as u32,
        _pad: 0,
    };
    let name = "VCPUOP_set_singleshot_timer";
    op(VCPUOP_SET_SINGLESHOT_TIMER, me(), name, Some(&mut a)).map(drop)
}

/// VCPUOP_stop_singleshot_timer.
pub fn stop_singleshot_timer() -> Result<(), XenError> {
    let name = "VCPUOP_stop_singleshot_timer";
    op::<u8>(VCPUOP_STOP_SINGLESHOT_TIMER, me(), name, None).map(drop)
}

/// VCPUOP_register_runstate_memory_area for `vcpu`: Xen writes its runstate at `off` of
/// `page` on every context switch of `vcpu` from now on. A `&'static PageCell` stays valid for
/// the whole run and is only ever accessed through `SharedPage` atomics, which is what memory
/// Xen writes needs.
pub fn register_runstate(vcpu: u32, page: &'static PageCell, off: usize) -> Result<(), XenError> {
    let size = core::mem::size_of::<VcpuRunstateInfo>();
    xp_core::shmem::check(off, size, 8, PAGE_SIZE).map_err(|_| XenError {
        call: "VCPUOP_register_runstate_memory_area (area outside its page)",
        rc: -22,
    })?;
    let mut addr = page.va() + off as u64;
    let name = "VCPUOP_register_runstate_memory_area";
    op(
        VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA,
        vcpu,
        name,
        Some(&mut addr),
    )
    .map(drop)
}

/// VCPUOP_get_runstate_info: Xen's copy of `vcpu`'s runstate, now.
pub fn get_runstate_info(vcpu: u32) -> Result<VcpuRunstateInfo, XenError> {
    let mut r = VcpuRunstateInfo::default();
    let name = "VCPUOP_get_runstate_info";
    op(VCPUOP_GET_RUNSTATE_INFO, vcpu, name, Some(&mut r)).map(|_| r)
}

/// VCPUOP_is_up: Ok(true/false), or Err(ENOENT) for a vCPU the domain does not have.
pub fn is_up(vcpu: u32) -> Result<bool, XenError> {
    op::<u8>(VCPUOP_IS_UP, vcpu, "VCPUOP_is_up", None).map(|rc| rc != 0)
}

/// VCPUOP_initialise: give the (down, never started) `vcpu` its first register state.
pub fn initialise(vcpu: u32, ctx: &mut VcpuGuestContext) -> Result<(), XenError> {
    op(VCPUOP_INITIALISE, vcpu, "VCPUOP_initialise", Some(ctx)).map(drop)
}

/// VCPUOP_up: let an initialised `vcpu` run.
pub fn up(vcpu: u32) -> Result<(), XenError> {
    op::<u8>(VCPUOP_UP, vcpu, "VCPUOP_up", None).map(drop)
}

/// VCPUOP_down: stop `vcpu` (it keeps its state; VCPUOP_up resumes it).
pub fn down(vcpu: u32) -> Result<(), XenError> {
    op::<u8>(VCPUOP_DOWN, vcpu, "VCPUOP_down", None).map(drop)
}

/// VCPUOP_register_vcpu_info: move `vcpu`'s vcpu_info to machine frame `mfn`, byte `offset`.
///
/// # Safety
/// The 64 bytes at `offset` of that frame must stay ours for as long as the domain runs
/// and only be accessed through the shared-memory layer: Xen writes them.
pub unsafe fn register_vcpu_info(vcpu: u32, mfn: u64, offset: u32) -> Result<(), XenError> {
    let mut a = VcpuRegisterVcpuInfo {
        mfn,
        offset,
        rsvd: 0,
    };
    let name = "VCPUOP_register_vcpu_info";
    op(VCPUOP_REGISTER_VCPU_INFO, vcpu, name, Some(&mut a)).map(drop)
}

/// HYPERVISOR_vm_assist(VMASST_CMD_enable, the assist's type number).
pub fn vm_assist_enable(assist: VmAssist) -> Result<(), XenError> {
    // SAFETY: no pointers are passed.
    let rc = unsafe { raw3(VM_ASSIST, 0, assist.kind(), 0) };
    check("vm_assist", rc).map(|_| ())
}
