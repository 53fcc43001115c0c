//! Page-table updates for a PV guest: Xen validates every write.

use super::hypercall::{raw3, raw5};
use xp_core::xen::hypercall::{
    MmuUpdate, MmuextOp, DOMID_SELF, MMUEXT_OP, MMUEXT_SET_LDT, MMU_UPDATE, UPDATE_VA_MAPPING,
    UVMF_INVLPG,
};

/// HYPERVISOR_update_va_mapping: set the PTE that maps `va` and flush that address.
///
/// # Safety
/// Xen only checks that we may access the frame, not what Rust code assumes about `va`:
/// the caller guarantees that no reference into the old page at `va` is used afterwards,
/// and that the new frame is not memory Rust code accesses elsewhere (not a heap, stack
/// or image page) unless the old and new mappings are only used atomically (a
/// `shmem::PageCell`) or read-only (page-table pages).
pub unsafe fn update_va_mapping(va: u64, pte: u64) -> Result<(), super::XenError> {
    // SAFETY: no pointers are passed; the caller upholds the contract above.
    let rc = unsafe { raw3(UPDATE_VA_MAPPING, va, pte, UVMF_INVLPG) };
    super::check("update_va_mapping", rc).map(|_| ())
}

/// HYPERVISOR_mmu_update for a batch of requests, all for our own domain.
///
/// # Safety
/// Each request rewrites a page-table entry (or an M2P entry): as for
/// [`update_va_mapping`], the caller guarantees that no Rust reference relies on what the
/// rewritten entries mapped before, and that no frame becomes reachable at a second
/// address where Rust code accesses it non-atomically.
pub unsafe fn mmu_update(reqs: &[MmuUpdate]) -> Result<(), super::XenError> {
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

/// MMUEXT_SET_LDT: the vCPU's LDT becomes `entries` descriptors at `va` (0, 0: no LDT).
///
/// # Safety
/// `va` is page aligned and its pages are mapped read-only everywhere (Xen refuses a page it
/// cannot type as descriptors) and stay so, holding valid descriptors, while the LDT is in
/// use: no Rust code may write them.
pub unsafe fn set_ldt(va: u64, entries: u64) -> Result<(), super::XenError> {
    let op = MmuextOp {
        cmd: MMUEXT_SET_LDT,
        _pad: 0,
        arg1: va,
        arg2: entries,
    };
    let mut done: u32 = 0;
    // SAFETY: `op` and `done` are alive across the call; Xen reads one request and writes
    // the count it applied into `done`. The caller upholds the contract above.
    let rc = unsafe {
        raw5(
            MMUEXT_OP,
            &op as *const MmuextOp as u64,
            1,
            &mut done as *mut u32 as u64,
            DOMID_SELF as u64,
            0,
        )
    };
    super::check("mmuext_op(MMUEXT_SET_LDT)", rc).map(|_| ())
}
