//! Page-table updates for a PV guest: Xen validates every write.

use super::hypercall::{raw3, raw5};
use xp_core::xen::hypercall::{MmuUpdate, DOMID_SELF, MMU_UPDATE, UPDATE_VA_MAPPING, UVMF_INVLPG};

/// HYPERVISOR_update_va_mapping: set the PTE that maps `va` and flush that address.
pub fn update_va_mapping(va: u64, pte: u64) -> Result<(), super::XenError> {
    // SAFETY: no pointers are passed; Xen validates the new entry (frame ownership and type)
    // and refuses anything that would give us access we may not have.
    let rc = unsafe { raw3(UPDATE_VA_MAPPING, va, pte, UVMF_INVLPG) };
    super::check("update_va_mapping", rc).map(|_| ())
}

/// HYPERVISOR_mmu_update for a batch of requests, all for our own domain.
pub fn mmu_update(reqs: &[MmuUpdate]) -> Result<(), super::XenError> {
    let mut done: u32 = 0;
    // SAFETY: `reqs` and `done` are alive across the call; Xen reads `reqs.len()` entries
    // and writes the count of those it applied into `done`.
    let rc = unsafe {
        raw5(
            MMU_UPDATE,
            reqs.as_ptr() as u64,
            reqs.len() as u64,
            &mut done as *mut u32 as u64,
            DOMID_SELF as u64,
            0,
        )
    };
    super::check("mmu_update", rc).map(|_| ())
}
