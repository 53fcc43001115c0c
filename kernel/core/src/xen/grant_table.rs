//! grant_table.h (v1): GNTTABOP_* arguments, grant entries, status codes.

pub const GNTTABOP_MAP_GRANT_REF: u64 = 0;
pub const GNTTABOP_UNMAP_GRANT_REF: u64 = 1;
pub const GNTTABOP_SETUP_TABLE: u64 = 2;
pub const GNTTABOP_QUERY_SIZE: u64 = 6;

bitflags::bitflags! {
    /// grant_entry_v1.flags (`GTF_*`): what the granting domain permits and what Xen
    /// reports about the peer's use of the entry.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct GrantFlags: u16 {
        /// `GTF_permit_access`.
        const PERMIT_ACCESS = 1;
        /// `GTF_readonly`.
        const READONLY = 1 << 2;
        /// `GTF_reading`: the peer has it mapped (Xen sets it).
        const READING = 1 << 3;
        /// `GTF_writing`: the peer has it mapped writable (Xen sets it).
        const WRITING = 1 << 4;
    }
}

// `GTF_*` names (lower case) of the flags set.
super::display_flag_names!(GrantFlags);

bitflags::bitflags! {
    /// `GNTMAP_*`: how GNTTABOP_map_grant_ref maps a peer's grant.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct GntmapFlags: u32 {
        /// `GNTMAP_host_map`: map at `host_addr` in our page tables.
        const HOST_MAP = 1 << 1;
        /// `GNTMAP_readonly`.
        const READONLY = 1 << 2;
    }
}
/// Entries reserved for the toolstack (console, xenstore).
pub const GNTTAB_NR_RESERVED_ENTRIES: u32 = 8;
/// v1 entries per 4 KiB frame.
pub const ENTRIES_PER_FRAME: u32 = 4096 / 8;

/// `struct grant_entry_v1` (8 bytes): flags, domid, frame.
pub const ENTRY_SIZE: usize = 8;
pub const ENTRY_FLAGS: usize = 0;
pub const ENTRY_DOMID: usize = 2;
pub const ENTRY_FRAME: usize = 4;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct QuerySize {
    pub dom: u16,
    pub _pad: u16,
    pub nr_frames: u32,
    pub max_nr_frames: u32,
    pub status: i16,
    pub _pad2: u16,
}
crate::assert_layout!(QuerySize, 16; nr_frames => 4, max_nr_frames => 8, status => 12);

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SetupTable {
    pub dom: u16,
    pub _pad: u16,
    pub nr_frames: u32,
    pub status: i16,
    pub _pad2: [u16; 3],
    /// Guest handle of an array of `nr_frames` xen_pfn_t, filled with machine frames.
    pub frame_list: u64,
}
crate::assert_layout!(SetupTable, 24; nr_frames => 4, status => 8, frame_list => 16);

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MapGrantRef {
    /// PV: the virtual address to map at (with GNTMAP_host_map).
    pub host_addr: u64,
    pub flags: u32,
    pub ref_: u32,
    pub dom: u16,
    /// OUT
    pub status: i16,
    /// OUT
    pub handle: u32,
    pub dev_bus_addr: u64,
}
crate::assert_layout!(MapGrantRef, 32; flags => 8, ref_ => 12, dom => 16, status => 18, handle => 20, dev_bus_addr => 24);

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct UnmapGrantRef {
    pub host_addr: u64,
    pub dev_bus_addr: u64,
    pub handle: u32,
    /// OUT
    pub status: i16,
    pub _pad: u16,
}
crate::assert_layout!(UnmapGrantRef, 24; dev_bus_addr => 8, handle => 16, status => 20);

/// A GNTST_* status's name.
pub fn status_name(st: i16) -> &'static str {
    const NAMES: [&str; 14] = [
        "okay",
        "general_error",
        "bad_domain",
        "bad_gntref",
        "bad_handle",
        "bad_virt_addr",
        "bad_dev_addr",
        "no_device_space",
        "permission_denied",
        "bad_page",
        "bad_copy_arg",
        "address_too_big",
        "eagain",
        "no_space",
    ];
    NAMES
        .get(usize::from(st.unsigned_abs()))
        .copied()
        .unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    #[test]
    fn status_names() {
        assert_eq!(super::status_name(0), "okay");
        assert_eq!(super::status_name(-3), "bad_gntref");
        assert_eq!(super::status_name(-8), "permission_denied");
        assert_eq!(super::status_name(-100), "unknown");
    }
}
