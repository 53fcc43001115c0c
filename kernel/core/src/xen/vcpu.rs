//! vcpu.h: time info, runstate, timers.

/// `struct vcpu_time_info` (32 bytes): pvclock parameters Xen updates under a version counter.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VcpuTimeInfo {
    pub version: u32,
    pub _pad0: u32,
    pub tsc_timestamp: u64,
    pub system_time: u64,
    pub tsc_to_system_mul: u32,
    pub tsc_shift: i8,
    pub flags: u8,
    pub _pad1: [u8; 2],
}
crate::assert_layout!(VcpuTimeInfo, 32;
    version => 0, tsc_timestamp => 8, system_time => 16, tsc_to_system_mul => 24,
    tsc_shift => 28, flags => 29);

pub const VCPUOP_INITIALISE: u64 = 0;
pub const VCPUOP_UP: u64 = 1;
pub const VCPUOP_DOWN: u64 = 2;
pub const VCPUOP_IS_UP: u64 = 3;
pub const VCPUOP_GET_RUNSTATE_INFO: u64 = 4;
pub const VCPUOP_REGISTER_RUNSTATE_MEMORY_AREA: u64 = 5;
pub const VCPUOP_SET_PERIODIC_TIMER: u64 = 6;
pub const VCPUOP_STOP_PERIODIC_TIMER: u64 = 7;
pub const VCPUOP_SET_SINGLESHOT_TIMER: u64 = 8;
pub const VCPUOP_STOP_SINGLESHOT_TIMER: u64 = 9;
pub const VCPUOP_REGISTER_VCPU_INFO: u64 = 10;

/// `struct vcpu_register_vcpu_info`: put a vCPU's `vcpu_info` at machine frame `mfn`,
/// byte `offset` (64-byte aligned, not crossing the page). Once per vCPU; for a vCPU
/// other than the caller only while it is down.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VcpuRegisterVcpuInfo {
    pub mfn: u64,
    pub offset: u32,
    pub rsvd: u32,
}
crate::assert_layout!(VcpuRegisterVcpuInfo, 16; mfn => 0, offset => 8, rsvd => 12);

/// Runstate values (`RUNSTATE_*`): an integer newtype, never a Rust enum, since Xen writes it.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RunstateState(pub i32);
impl RunstateState {
    pub const RUNNING: Self = Self(0);
    pub const RUNNABLE: Self = Self(1);
    pub const BLOCKED: Self = Self(2);
    pub const OFFLINE: Self = Self(3);

    /// Xen's name of the state (RUNSTATE_running ...), or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "running",
            1 => "runnable",
            2 => "blocked",
            3 => "offline",
            _ => "unknown",
        }
    }
}

/// `struct vcpu_runstate_info` (48 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VcpuRunstateInfo {
    pub state: i32,
    pub _pad: u32,
    /// Bit 63 is XEN_RUNSTATE_UPDATE while Xen rewrites the area.
    pub state_entry_time: u64,
    pub time: [u64; 4],
}
crate::assert_layout!(VcpuRunstateInfo, 48; state => 0, state_entry_time => 8, time => 16);

/// Flag in `state_entry_time` set while the area is being updated.
pub const XEN_RUNSTATE_UPDATE: u64 = 1 << 63;

/// `struct vcpu_set_singleshot_timer`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VcpuSetSingleshotTimer {
    /// Absolute system time in ns.
    pub timeout_abs_ns: u64,
    pub flags: u32,
    pub _pad: u32,
}
crate::assert_layout!(VcpuSetSingleshotTimer, 16; timeout_abs_ns => 0, flags => 8);

/// `struct vcpu_set_periodic_timer`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct VcpuSetPeriodicTimer {
    pub period_ns: u64,
}

bitflags::bitflags! {
    /// VM assists as the mask in `vcpu_guest_context.vm_assist` and Xen's per-domain word:
    /// bit N is `VMASST_TYPE_*` N (HYPERVISOR_vm_assist takes the number, [`VmAssist::kind`]).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct VmAssist: u64 {
        /// `VMASST_TYPE_writable_pagetables`.
        const WRITABLE_PAGETABLES = 1 << 2;
        /// `VMASST_TYPE_pae_extended_cr3`.
        const PAE_EXTENDED_CR3 = 1 << 3;
        /// `VMASST_TYPE_architectural_iopl`.
        const ARCHITECTURAL_IOPL = 1 << 4;
        /// `VMASST_TYPE_runstate_update_flag`: Xen sets XEN_RUNSTATE_UPDATE while writing the
        /// runstate area.
        const RUNSTATE_UPDATE_FLAG = 1 << 5;
        /// `VMASST_TYPE_m2p_strict`.
        const M2P_STRICT = 1 << 32;
    }
}

impl VmAssist {
    /// The `VMASST_TYPE_*` number of a single assist (HYPERVISOR_vm_assist's `type`).
    pub const fn kind(self) -> u64 {
        self.bits().trailing_zeros() as u64
    }
}
