//! `struct shared_info` and `struct vcpu_info` (xen.h), x86_64.
//!
//! These live in memory Xen writes concurrently: the kernel never forms a
//! `&mut` to them and reads fields through atomic/volatile accessors at the
//! offsets asserted here.

use super::vcpu::VcpuTimeInfo;

/// Number of vcpu_info slots in shared_info (`XEN_LEGACY_MAX_VCPUS`).
pub const LEGACY_MAX_VCPUS: usize = 32;
/// 2-level event channel ABI: 64 words of 64 bits.
pub const EVTCHN_WORDS: usize = 64;
/// Highest port count of the 2-level ABI on x86_64.
pub const NR_EVENT_CHANNELS: u32 = 64 * 64;

/// `struct arch_vcpu_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ArchVcpuInfo {
    pub cr2: u64,
    pub _pad: u64,
}

/// `struct vcpu_info` (64 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VcpuInfo {
    pub evtchn_upcall_pending: u8,
    pub evtchn_upcall_mask: u8,
    pub _pad: [u8; 6],
    pub evtchn_pending_sel: u64,
    pub arch: ArchVcpuInfo,
    pub time: VcpuTimeInfo,
}
crate::assert_layout!(VcpuInfo, 64;
    evtchn_upcall_pending => 0, evtchn_upcall_mask => 1, evtchn_pending_sel => 8,
    arch => 16, time => 32);

/// `struct arch_shared_info` (x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ArchSharedInfo {
    pub max_pfn: u64,
    pub pfn_to_mfn_frame_list_list: u64,
    pub nmi_reason: u64,
    pub p2m_cr3: u64,
    pub p2m_vaddr: u64,
    pub p2m_generation: u64,
}

/// `struct shared_info` (3136 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SharedInfo {
    pub vcpu_info: [VcpuInfo; LEGACY_MAX_VCPUS],
    pub evtchn_pending: [u64; EVTCHN_WORDS],
    pub evtchn_mask: [u64; EVTCHN_WORDS],
    pub wc_version: u32,
    pub wc_sec: u32,
    pub wc_nsec: u32,
    pub wc_sec_hi: u32,
    pub arch: ArchSharedInfo,
}
crate::assert_layout!(SharedInfo, 3136;
    vcpu_info => 0, evtchn_pending => 2048, evtchn_mask => 2560, wc_version => 3072,
    wc_sec => 3076, wc_nsec => 3080, wc_sec_hi => 3084, arch => 3088);
