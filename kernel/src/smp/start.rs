//! Starting the secondary vCPUs (Linux's cpu_initialize_context, trimmed to a kernel
//! with no user mode and no GDT of its own).

use super::{bind_kick, idle, vcpu, ACTIVE, AVAILABLE};
use crate::xen::{shared, vcpu as op, XenError};
use alloc::boxed::Box;
use alloc::vec;
use core::sync::atomic::Ordering::*;
use xp_core::smp::{count_existing, plan, VcpusError};
use xp_core::xen::arch_x86::{xen_pfn_to_cr3, VcpuGuestContext, VgcFlags, FLAT_KERNEL_SS64};
use xp_core::xen::errno::ENOENT;
use xp_core::xen::hypercall::FLAT_KERNEL_CS64;
use xp_core::xen::start_info::StartInfo;

/// Each secondary's stack (events are delivered on it too).
const STACK_BYTES: usize = 32 * 1024;
/// How long a started vCPU may take to reach its idle loop.
const ONLINE_WAIT_NS: u64 = 2_000_000_000;

/// Bring up the vCPUs to use: all the domain has, or `requested` (`vcpus=`). A request
/// above what the domain has is an error (nothing runs); a vCPU that fails to come up is
/// reported with Xen's error and the probes run on the vCPUs before it.
pub fn start_all(si: &StartInfo, requested: Option<u64>) -> Result<u32, VcpusError> {
    let exists = |id| !matches!(op::is_up(id), Err(e) if e.rc == -ENOENT);
    let available = count_existing(exists);
    AVAILABLE.store(available, Release);
    let n = plan(requested, available)?;
    register_vcpu_info(0);
    if let Err(e) = bind_kick(0) {
        crate::report::error(format_args!(
            "vCPU 0's IPI port: {e}; running on vCPU 0 only"
        ));
        return Ok(1);
    }
    if let Err(rc) = crate::arch::percpu::boot_result() {
        let name = xp_core::xen::errno::name(rc);
        crate::report::error(format_args!(
            "set_segment_base(SEGBASE_GS_KERNEL) failed: {rc} ({name}); running on vCPU 0 only"
        ));
        return Ok(1);
    }
    let started = (1..n).find(|&id| start_one(si, id).is_err()).unwrap_or(n);
    let online = |id: u32| vcpu(id).online.load(Acquire);
    let deadline = crate::time::now_ns() + ONLINE_WAIT_NS;
    crate::drv::timer::wait_until(deadline, || (1..started).all(online));
    let up = (1..started).find(|&id| !online(id)).unwrap_or(started);
    if up < started {
        crate::report::error(format_args!(
            "vCPU {up} was started but did not reach its idle loop within {} ms; \
             running on vCPUs 0..{}",
            ONLINE_WAIT_NS / 1_000_000,
            up - 1
        ));
    }
    (1..up).for_each(report_setup_error);
    ACTIVE.store(up, Release);
    Ok(up)
}

/// Move vCPU `id`'s vcpu_info into our page (needed above 32 vCPUs; done for all, as
/// Linux does). A refusal is reported; the vCPU keeps its legacy slot if it has one.
fn register_vcpu_info(id: u32) {
    if let Err(e) = shared::register_vcpu_info(id) {
        crate::report::error(format_args!("vCPU {id}'s vcpu_info: {e}"));
    }
}

fn report_setup_error(id: u32) {
    if let Some(e) = vcpu(id).setup_error.get() {
        crate::report::error(format_args!("vCPU {id} setup: {e}"));
    }
}

/// Start vCPU `id`; on failure report Xen's error (the probes go on without it).
fn start_one(si: &StartInfo, id: u32) -> Result<(), XenError> {
    register_vcpu_info(id);
    let r = bind_kick(id).and_then(|_| initialise_and_up(si, id));
    if let Err(e) = &r {
        crate::report::error(format_args!(
            "vCPU {id} did not come up: {e}; running on vCPUs 0..{}",
            id - 1
        ));
    }
    r
}

fn initialise_and_up(si: &StartInfo, id: u32) -> Result<(), XenError> {
    let stack = Box::leak(vec![0u64; STACK_BYTES / 8].into_boxed_slice());
    let top = (stack.as_ptr() as u64 + STACK_BYTES as u64) & !15;
    let l4 = crate::mm::va_to_mfn(si.pt_base).ok_or(XenError {
        call: "page-table root frame (p2m)",
        rc: -22,
    })?;
    let mut ctx = Box::new(VcpuGuestContext::default());
    context(&mut ctx, id, top, l4);
    // Events start masked on the new vCPU, as on the boot vCPU.
    if let Some(e) = shared::events_of(id) {
        e.upcall_mask().store(1, SeqCst);
    }
    op::initialise(id, &mut ctx)?;
    op::up(id)
}

/// The first register state of vCPU `id`: `xp_secondary_entry(id)` on its stack at `top`.
fn context(c: &mut VcpuGuestContext, id: u32, top: u64, l4_mfn: u64) {
    let (event, failsafe) = crate::xen::callback::entry_points();
    c.flags = VgcFlags::IN_KERNEL.bits();
    c.user_regs.rip = xp_secondary_entry as *const () as usize as u64;
    // As after a `call`: rsp + 8 is 16-byte aligned at the function's entry.
    c.user_regs.rsp = top - 8;
    c.user_regs.rdi = u64::from(id);
    c.user_regs.cs = FLAT_KERNEL_CS64;
    c.user_regs.ss = FLAT_KERNEL_SS64;
    c.user_regs.rflags = 0x202;
    c.kernel_ss = u64::from(FLAT_KERNEL_SS64);
    c.kernel_sp = top;
    c.ctrlreg[3] = xen_pfn_to_cr3(l4_mfn);
    c.event_callback_eip = event;
    c.failsafe_callback_eip = failsafe;
    c.gs_base_kernel = crate::arch::percpu::gs_base(id);
}

/// Where a secondary vCPU starts: its own trap table, callbacks, runstate area and timer,
/// then the idle loop. Failures are kept for vCPU 0 to report.
extern "C" fn xp_secondary_entry(id: u64) -> ! {
    let id = id as u32;
    let rc = crate::arch::traps::init();
    let traps = crate::xen::check("set_trap_table", rc).map(drop);
    let r = traps
        .and_then(|_| crate::xen::callback::register())
        .and_then(|_| crate::drv::runstate::init(id).map(drop))
        .and_then(|_| crate::drv::timer::init().map(drop));
    if let Err(e) = r {
        vcpu(id).setup_error.call_once(|| e);
    }
    idle(id)
}
