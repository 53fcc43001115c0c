//! Which vCPU is running: each vCPU's kernel GS base points at its own entry of
//! [`VCPU_IDS`], so `%gs:0` is the running vCPU's id (Linux's per-CPU idea). A PV
//! guest cannot `wrmsr`: the base is set with HYPERVISOR_set_segment_base
//! (SEGBASE_GS_KERNEL) on the boot vCPU and through `gs_base_kernel` of the
//! context a secondary vCPU is started with.

use core::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use xp_core::smp::MAX_VCPUS;
use xp_core::xen::arch_x86::SEGBASE_GS_KERNEL;
use xp_core::xen::hypercall::SET_SEGMENT_BASE;

static VCPU_IDS: [u32; MAX_VCPUS as usize] = {
    let mut ids = [0; MAX_VCPUS as usize];
    let mut i = 0;
    while i < ids.len() {
        ids[i] = i as u32;
        i += 1;
    }
    ids
};

/// Set once the boot vCPU's GS base is in place (before it, only vCPU 0 runs).
static READY: AtomicBool = AtomicBool::new(false);
/// Xen's answer to the boot vCPU's set_segment_base.
static BOOT_RC: AtomicI64 = AtomicI64::new(0);

/// The kernel GS base that makes `%gs:0` read `id`.
pub fn gs_base(id: u32) -> u64 {
    let i = (id as usize).min(VCPU_IDS.len() - 1);
    &VCPU_IDS[i] as *const u32 as u64
}

/// Xen's answer to the boot vCPU's set_segment_base: Err(rc) when secondaries cannot run.
pub fn boot_result() -> Result<(), i64> {
    match BOOT_RC.load(Ordering::Acquire) {
        0 => Ok(()),
        rc => Err(rc),
    }
}

/// Point the boot vCPU's kernel GS base at its id (see [`boot_result`]).
pub fn init_boot_vcpu() {
    // SAFETY: set_segment_base takes two integers; the base is the address of a static.
    let rc = unsafe { super::hypercall::call2(SET_SEGMENT_BASE, SEGBASE_GS_KERNEL, gs_base(0)) };
    BOOT_RC.store(rc, Ordering::Release);
    READY.store(rc == 0, Ordering::Release);
}

/// The running vCPU's id.
#[inline]
pub fn this_vcpu() -> u32 {
    if !READY.load(Ordering::Relaxed) {
        return 0;
    }
    let id: u32;
    // SAFETY: once READY, every vCPU's kernel GS base points at its entry of VCPU_IDS
    // (boot vCPU: init_boot_vcpu; secondaries: their initial context), a static u32.
    unsafe {
        core::arch::asm!("mov {0:e}, gs:[0]", out(reg) id, options(nostack, readonly, preserves_flags));
    }
    id
}
