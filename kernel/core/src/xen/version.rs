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

/// `struct xen_feature_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct FeatureInfo {
    pub submap_idx: u32,
    pub submap: u32,
}

#[cfg(test)]
mod tests {
    #[test]
    fn split() {
        assert_eq!(super::split_version(0x0004_0011), (4, 17));
    }
}
