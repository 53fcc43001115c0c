//! Hypercall numbers (xen.h `__HYPERVISOR_*`), used by the kernel's hypercall layer.

pub const SET_TRAP_TABLE: usize = 0;
pub const MMU_UPDATE: usize = 1;
pub const SET_CALLBACKS: usize = 4;
pub const MEMORY_OP: usize = 12;
pub const UPDATE_VA_MAPPING: usize = 14;
pub const XEN_VERSION: usize = 17;
pub const CONSOLE_IO: usize = 18;
pub const GRANT_TABLE_OP: usize = 20;
pub const VM_ASSIST: usize = 21;
pub const IRET: usize = 23;
pub const VCPU_OP: usize = 24;
pub const SET_SEGMENT_BASE: usize = 25;
pub const MMUEXT_OP: usize = 26;
pub const SCHED_OP: usize = 29;
pub const EVENT_CHANNEL_OP: usize = 32;
pub const PHYSDEV_OP: usize = 33;

/// CONSOLEIO_write (console_io first argument).
pub const CONSOLEIO_WRITE: u64 = 0;
/// update_va_mapping flag: invalidate the TLB entry of that one address.
pub const UVMF_INVLPG: u64 = 2;
/// mmu_update request type: normal page-table entry update (low 2 bits of `ptr`).
pub const MMU_NORMAL_PT_UPDATE: u64 = 0;
/// DOMID_SELF, for hypercalls that take a domain id.
pub const DOMID_SELF: u16 = 0x7ff0;
/// PHYSDEVOP_set_iopl.
pub const PHYSDEVOP_SET_IOPL: u64 = 6;

/// One `mmu_update` request: write `val` to the page-table entry at machine address `ptr`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MmuUpdate {
    pub ptr: u64,
    pub val: u64,
}
crate::assert_layout!(MmuUpdate, 16; ptr => 0, val => 8);

/// MMUEXT_SET_LDT: `arg1` the LDT's linear address (page aligned), `arg2` its entry count.
pub const MMUEXT_SET_LDT: u32 = 13;

/// One `mmuext_op` request (`struct mmuext_op`): `cmd`, then up to two arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MmuextOp {
    pub cmd: u32,
    pub _pad: u32,
    pub arg1: u64,
    pub arg2: u64,
}
crate::assert_layout!(MmuextOp, 24; cmd => 0, arg1 => 8, arg2 => 16);

/// A flat 4 GiB data segment descriptor (base 0, limit 0xfffff pages, present, DPL 3,
/// read/write, accessed): what a guest puts in its LDT to load a data selector from it.
pub const LDT_FLAT_DATA_DPL3: u64 = 0x00cf_f300_0000_ffff;

/// The selector of LDT entry `index` with RPL 3.
pub const fn ldt_selector(index: u16) -> u16 {
    (index << 3) | 0b100 | 3
}

/// One entry of the virtual trap table (`struct trap_info`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapInfo {
    pub vector: u8,
    /// Bits 0-1: privilege level allowed to raise it with `int`; bit 2: clear event enable.
    pub flags: u8,
    pub cs: u16,
    pub _pad: u32,
    pub address: u64,
}
crate::assert_layout!(TrapInfo, 16; vector => 0, flags => 1, cs => 2, address => 8);

/// `FLAT_KERNEL_CS64`: the code selector of a 64-bit PV guest kernel (ring 3).
pub const FLAT_KERNEL_CS64: u16 = 0xe033;
