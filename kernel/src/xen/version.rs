//! version.h: XENVER_* queries.

use super::hypercall::raw2;
use xp_core::xen::hypercall::XEN_VERSION;
use xp_core::xen::version::*;

/// XENVER_version: (major, minor).
pub fn version() -> (u32, u32) {
    // SAFETY: XENVER_version takes no buffer.
    split_version(unsafe { raw2(XEN_VERSION, XENVER_VERSION, 0) })
}

/// A XENVER_* query that fills a fixed-size buffer (extraversion 16, changeset 64,
/// capabilities 1024, guest_handle 16 bytes). Returns Xen's rc.
pub fn query<const N: usize>(cmd: u64, buf: &mut [u8; N]) -> i64 {
    let expected = match cmd {
        XENVER_EXTRAVERSION | XENVER_GUEST_HANDLE => 16,
        XENVER_CHANGESET => 64,
        XENVER_CAPABILITIES => 1024,
        _ => usize::MAX,
    };
    if N < expected {
        return -xp_core::xen::errno::EINVAL;
    }
    // SAFETY: `buf` is at least as large as the structure Xen writes for `cmd`.
    unsafe { raw2(XEN_VERSION, cmd, buf.as_mut_ptr() as u64) }
}

/// XENVER_get_features for sub-map `idx`.
pub fn features(idx: u32) -> Result<u32, super::XenError> {
    let mut fi = FeatureInfo {
        submap_idx: idx,
        submap: 0,
    };
    // SAFETY: `fi` is a `struct xen_feature_info` Xen reads and writes during the call.
    let rc = unsafe {
        raw2(
            XEN_VERSION,
            XENVER_GET_FEATURES,
            &mut fi as *mut FeatureInfo as u64,
        )
    };
    super::check("XENVER_get_features", rc).map(|_| fi.submap)
}
