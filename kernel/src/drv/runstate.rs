//! Each vCPU's runstate area: Xen's account of time spent running, runnable
//! (waiting for a pCPU: steal), blocked and offline (paused/down). Siblings are
//! also read through VCPUOP_get_runstate_info (the watchdog's view of a vCPU).
//!
//! Xen rewrites an area on every context switch of its vCPU, so they live in a
//! [`PageCell`] and are read through the shared-memory layer by the host-tested
//! `xp_core::runstate::read`. The page holds one 64-byte slot per vCPU.

use crate::shmem::{PageCell, SharedPage};
use crate::xen::{vcpu, XenError};
use core::sync::atomic::{AtomicBool, Ordering};
use xp_core::runstate::Snapshot;
use xp_core::smp::MAX_VCPUS;
use xp_core::xen::vcpu::{VcpuRunstateInfo, VmAssist};

static AREAS: PageCell = PageCell::new();
/// Bytes between two vCPUs' areas (a cache line each).
const SLOT: usize = 64;
const _: () = assert!(core::mem::size_of::<VcpuRunstateInfo>() <= SLOT);
const _: () = assert!(MAX_VCPUS as usize * SLOT <= 4096);

/// How many times a read is retried before Xen is declared stuck mid-update (an update
/// takes Xen a few hundred instructions).
const MAX_TRIES: u32 = 10_000;

static REGISTERED: [AtomicBool; MAX_VCPUS as usize] =
    [const { AtomicBool::new(false) }; MAX_VCPUS as usize];
static FLAG: spin::Once<bool> = spin::Once::new();

/// Register `cpu`'s area (and, once, ask Xen to flag updates in progress). Returns whether
/// the update flag is honoured; without it, reads are retried until two agree.
pub fn init(cpu: u32) -> Result<bool, XenError> {
    let assist = || vcpu::vm_assist_enable(VmAssist::RUNSTATE_UPDATE_FLAG).is_ok();
    let flag = *FLAG.call_once(assist);
    let slot = REGISTERED.get(cpu as usize).ok_or(XenError {
        call: "runstate area (vCPU id above 63)",
        rc: -22,
    })?;
    // Slot `cpu` is only registered for vCPU `cpu`.
    vcpu::register_runstate(cpu, &AREAS, cpu as usize * SLOT)?;
    slot.store(true, Ordering::Release);
    log::debug!("runstate: vCPU {cpu} area registered (update flag {flag})");
    Ok(flag)
}

/// A consistent snapshot of the running vCPU's area, or `None` before registration or if
/// Xen never finished an update.
pub fn snapshot() -> Option<Snapshot> {
    let cpu = crate::arch::percpu::this_vcpu() as usize;
    REGISTERED.get(cpu)?.load(Ordering::Acquire).then_some(())?;
    xp_core::runstate::read(&SharedPage::new(&AREAS), cpu * SLOT, MAX_TRIES)
}

/// Xen's runstate of vCPU `cpu` now (VCPUOP_get_runstate_info: Xen copies it consistently
/// and has already added the time in the current state up to the call to `time`, so the
/// snapshot's entry time is the call's: `totals_at` must not add that stretch again).
pub fn of(cpu: u32) -> Result<Snapshot, XenError> {
    let r = vcpu::get_runstate_info(cpu)?;
    Ok(Snapshot {
        state: r.state,
        state_entry_time: crate::time::now_ns(),
        time: r.time,
    })
}
