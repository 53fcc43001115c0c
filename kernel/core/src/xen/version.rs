//! version.h: XENVER_* sub-commands.

pub const XENVER_VERSION: u64 = 0;
pub const XENVER_EXTRAVERSION: u64 = 1;
pub const XENVER_COMPILE_INFO: u64 = 2;
pub const XENVER_CAPABILITIES: u64 = 3;
pub const XENVER_CHANGESET: u64 = 4;
pub const XENVER_GET_FEATURES: u64 = 6;
pub const XENVER_PAGESIZE: u64 = 7;
pub const XENVER_GUEST_HANDLE: u64 = 8;

/// Split XENVER_version's result into (major, minor).
pub fn split_version(v: i64) -> (u32, u32) {
    let v = v as u64;
    (((v >> 16) & 0xffff) as u32, (v & 0xffff) as u32)
}

bitflags::bitflags! {
    /// XENVER_get_features sub-map 0 (`XENFEAT_*`, public/features.h).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct XenFeatures: u32 {
        const WRITABLE_PAGE_TABLES = 1 << 0;
        const WRITABLE_DESCRIPTOR_TABLES = 1 << 1;
        const AUTO_TRANSLATED_PHYSMAP = 1 << 2;
        const SUPERVISOR_MODE_KERNEL = 1 << 3;
        const PAE_PGDIR_ABOVE_4GB = 1 << 4;
        const MMU_PT_UPDATE_PRESERVE_AD = 1 << 5;
        const HIGHMEM_ASSIST = 1 << 6;
        const GNTTAB_MAP_AVAIL_BITS = 1 << 7;
        const HVM_CALLBACK_VECTOR = 1 << 8;
        const HVM_SAFE_PVCLOCK = 1 << 9;
        const HVM_PIRQS = 1 << 10;
        const DOM0 = 1 << 11;
        const GRANT_MAP_IDENTITY = 1 << 12;
        const MEMORY_OP_VNODE_SUPPORTED = 1 << 13;
        const ARM_SMCCC_SUPPORTED = 1 << 14;
        const LINUX_RSDP_UNRESTRICTED = 1 << 15;
        const NOT_DIRECT_MAPPED = 1 << 16;
        const DIRECT_MAPPED = 1 << 17;
    }
}

// Xen's names of the features set (features.h's spelling in lower case).
super::display_flag_names!(XenFeatures);

/// `struct xen_feature_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct FeatureInfo {
    pub submap_idx: u32,
    pub submap: u32,
}

#[cfg(test)]
mod tests {
    use super::XenFeatures;

    #[test]
    fn feature_names_in_xens_words() {
        let f = XenFeatures::from_bits_retain((1 << 0) | (1 << 5) | (1 << 11) | (1 << 30));
        assert_eq!(
            f.to_string(),
            "writable_page_tables mmu_pt_update_preserve_ad dom0 unknown 0x40000000"
        );
        assert_eq!(XenFeatures::empty().to_string(), "none");
    }

    #[test]
    fn split() {
        assert_eq!(super::split_version(0x0004_0011), (4, 17));
    }
}
