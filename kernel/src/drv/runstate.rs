//! vCPU 0's runstate area: Xen's account of time spent running, runnable
//! (waiting for a pCPU: steal), blocked and offline (paused/down).

use crate::xen::{vcpu, XenError};
use core::sync::atomic::{fence, Ordering};
use xp_core::runstate::Snapshot;
use xp_core::xen::vcpu::{VcpuRunstateInfo, VMASST_TYPE_RUNSTATE_UPDATE_FLAG, XEN_RUNSTATE_UPDATE};

#[repr(C, align(64))]
struct Area(VcpuRunstateInfo);
static mut AREA: Area = Area(VcpuRunstateInfo {
    state: 0,
    _pad: 0,
    state_entry_time: 0,
    time: [0; 4],
});

static REGISTERED: spin::Once<bool> = spin::Once::new();

/// Register the area (and ask Xen to flag updates in progress). Returns whether the
/// update flag is honoured; without it, reads are retried until two agree.
pub fn init() -> Result<bool, XenError> {
    let flag = vcpu::vm_assist_enable(VMASST_TYPE_RUNSTATE_UPDATE_FLAG).is_ok();
    // SAFETY: AREA is a static that lives forever and is only read with volatile loads.
    unsafe { vcpu::register_runstate(core::ptr::addr_of_mut!(AREA.0))? };
    REGISTERED.call_once(|| flag);
    Ok(flag)
}

fn read_raw() -> VcpuRunstateInfo {
    // SAFETY: AREA is valid for reads; Xen may be writing it, which the caller's
    // consistency loop detects.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(AREA.0)) }
}

fn entry_time() -> u64 {
    // SAFETY: as for `read_raw`, one aligned u64 field.
    unsafe { core::ptr::read_volatile(core::ptr::addr_of!(AREA.0.state_entry_time)) }
}

/// A consistent snapshot, or `None` before registration.
pub fn snapshot() -> Option<Snapshot> {
    REGISTERED.get()?;
    loop {
        let t1 = entry_time();
        if t1 & XEN_RUNSTATE_UPDATE != 0 {
            core::hint::spin_loop();
            continue;
        }
        fence(Ordering::Acquire);
        let r = read_raw();
        fence(Ordering::Acquire);
        if entry_time() == t1 && r.state_entry_time == t1 {
            return Some(Snapshot {
                state: r.state,
                state_entry_time: t1,
                time: r.time,
            });
        }
    }
}
