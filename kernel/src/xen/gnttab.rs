//! grant_table.h: GNTTABOP_* hypercalls (v1, one operation per call).

use super::hypercall::raw3;
use super::{check, XenError};
use xp_core::xen::grant_table::*;
use xp_core::xen::hypercall::{DOMID_SELF, GRANT_TABLE_OP};

fn op<T>(cmd: u64, name: &'static str, arg: &mut T) -> Result<(), XenError> {
    // SAFETY: each caller passes the `#[repr(C)]` structure `cmd` expects (layouts asserted
    // in xp_core) with count 1; it is alive and exclusively borrowed for the call.
    let rc = unsafe { raw3(GRANT_TABLE_OP, cmd, arg as *mut T as u64, 1) };
    check(name, rc).map(|_| ())
}

/// GNTTABOP_query_size for our own table.
pub fn query_size() -> Result<QuerySize, XenError> {
    let mut a = QuerySize {
        dom: DOMID_SELF,
        ..Default::default()
    };
    op(GNTTABOP_QUERY_SIZE, "GNTTABOP_query_size", &mut a).map(|_| a)
}

/// GNTTABOP_setup_table: the machine frames of our first `N` grant-table frames.
pub fn setup_table<const N: usize>() -> Result<(i16, [u64; N]), XenError> {
    let mut frames = [0u64; N];
    let mut a = SetupTable {
        dom: DOMID_SELF,
        nr_frames: N as u32,
        frame_list: frames.as_mut_ptr() as u64,
        ..Default::default()
    };
    op(GNTTABOP_SETUP_TABLE, "GNTTABOP_setup_table", &mut a)?;
    Ok((a.status, frames))
}

/// GNTTABOP_map_grant_ref (status in the result's `status` field).
///
/// # Safety
/// With GNTMAP_host_map, Xen replaces the mapping at `a.host_addr` by the peer's frame:
/// the caller guarantees that address is a page only ever accessed through the
/// shared-memory layer (a `shmem::PageCell` mapping slot) and that no reference into its
/// old contents is used while the grant is mapped.
pub unsafe fn map(a: &mut MapGrantRef) -> Result<(), XenError> {
    op(GNTTABOP_MAP_GRANT_REF, "GNTTABOP_map_grant_ref", a)
}

/// GNTTABOP_unmap_grant_ref.
pub fn unmap(a: &mut UnmapGrantRef) -> Result<(), XenError> {
    op(GNTTABOP_UNMAP_GRANT_REF, "GNTTABOP_unmap_grant_ref", a)
}
