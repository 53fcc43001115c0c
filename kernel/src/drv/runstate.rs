//! vCPU 0's runstate area: Xen's account of time spent running, runnable
//! (waiting for a pCPU: steal), blocked and offline (paused/down).
//!
//! Xen rewrites the area on every context switch, so it lives in a [`PageCell`] and is
//! read through the shared-memory layer by the host-tested `xp_core::runstate::read`.
//! The page holds one 64-byte slot per vCPU; vCPU 0's is at offset 0.

use crate::shmem::{PageCell, SharedPage};
use crate::xen::{vcpu, XenError};
use xp_core::runstate::Snapshot;
use xp_core::xen::vcpu::{VcpuRunstateInfo, VMASST_TYPE_RUNSTATE_UPDATE_FLAG};

static AREAS: PageCell = PageCell::new();
/// Bytes between two vCPUs' areas (a cache line each).
const SLOT: usize = 64;
const _: () = assert!(core::mem::size_of::<VcpuRunstateInfo>() <= SLOT);

/// How many times a read is retried before Xen is declared stuck mid-update (an update
/// takes Xen a few hundred instructions).
const MAX_TRIES: u32 = 10_000;

static REGISTERED: spin::Once<bool> = spin::Once::new();

/// Register the area (and ask Xen to flag updates in progress). Returns whether the
/// update flag is honoured; without it, reads are retried until two agree.
pub fn init() -> Result<bool, XenError> {
    let flag = vcpu::vm_assist_enable(VMASST_TYPE_RUNSTATE_UPDATE_FLAG).is_ok();
    let area = AREAS.va() as *mut VcpuRunstateInfo;
    // SAFETY: AREAS is a static page that lives forever; vCPU 0's slot is only read through
    // SharedPage atomics (xp_core::runstate::read), never through a reference.
    unsafe { vcpu::register_runstate(area)? };
    REGISTERED.call_once(|| flag);
    log::debug!("runstate: vCPU 0 area registered (update flag {flag})");
    Ok(flag)
}

/// A consistent snapshot, or `None` before registration or if Xen never finished an update.
pub fn snapshot() -> Option<Snapshot> {
    REGISTERED.get()?;
    xp_core::runstate::read(&SharedPage::new(&AREAS), 0, MAX_TRIES)
}
