//! arch-x86/xen.h and arch-x86/xen-x86_64.h: a vCPU's register and guest context, as
//! VCPUOP_initialise takes it for a secondary vCPU of a 64-bit PV guest.

use super::hypercall::TrapInfo;

/// `FLAT_KERNEL_SS64` (= `FLAT_RING3_SS64`): the stack selector of a 64-bit PV kernel.
pub const FLAT_KERNEL_SS64: u16 = 0xe02b;
/// `FLAT_KERNEL_DS64` (= `FLAT_RING3_DS64`): the null data selector of 64-bit mode.
pub const FLAT_KERNEL_DS64: u16 = 0;

bitflags::bitflags! {
    /// `vcpu_guest_context.flags` (`VGCF_*`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct VgcFlags: u64 {
        /// `VGCF_i387_valid`: fpu_ctxt holds a valid FPU state.
        const I387_VALID = 1 << 0;
        /// `VGCF_in_kernel`: the vCPU starts in guest kernel mode.
        const IN_KERNEL = 1 << 2;
        /// `VGCF_failsafe_disables_events`.
        const FAILSAFE_DISABLES_EVENTS = 1 << 3;
        /// `VGCF_syscall_disables_events`.
        const SYSCALL_DISABLES_EVENTS = 1 << 4;
        /// `VGCF_online`: the vCPU is up.
        const ONLINE = 1 << 5;
    }
}

/// HYPERVISOR_set_segment_base `which` values.
pub const SEGBASE_FS: u64 = 0;
pub const SEGBASE_GS_USER: u64 = 1;
pub const SEGBASE_GS_KERNEL: u64 = 2;

/// `struct cpu_user_regs` (x86_64, 200 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuUserRegs {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    /// Private to Xen.
    pub error_code: u32,
    pub entry_vector: u32,
    pub rip: u64,
    pub cs: u16,
    pub _pad0: u16,
    pub saved_upcall_mask: u8,
    pub _pad1: [u8; 3],
    /// RFLAGS.IF == !saved_upcall_mask.
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u16,
    pub _pad2: [u16; 3],
    pub es: u16,
    pub _pad3: [u16; 3],
    pub ds: u16,
    pub _pad4: [u16; 3],
    pub fs: u16,
    pub _pad5: [u16; 3],
    pub gs: u16,
    pub _pad6: [u16; 3],
}
crate::assert_layout!(CpuUserRegs, 200;
    r15 => 0, rbp => 32, rbx => 40, rax => 80, rdi => 112, error_code => 120, rip => 128,
    cs => 136, saved_upcall_mask => 140, rflags => 144, rsp => 152, ss => 160, es => 168,
    ds => 176, fs => 184, gs => 192);

/// `struct vcpu_guest_context` (x86_64, 5168 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct VcpuGuestContext {
    pub fpu_ctxt: [u8; 512],
    /// `VGCF_*` ([`VgcFlags`]).
    pub flags: u64,
    pub user_regs: CpuUserRegs,
    /// The virtual IDT.
    pub trap_ctxt: [TrapInfo; 256],
    pub ldt_base: u64,
    pub ldt_ents: u64,
    /// GDT machine frames; `gdt_ents` 0 keeps Xen's reserved flat selectors only.
    pub gdt_frames: [u64; 16],
    pub gdt_ents: u64,
    pub kernel_ss: u64,
    pub kernel_sp: u64,
    /// CR0-CR7; CR3 holds the top page table as `xen_pfn_to_cr3(mfn)` (= mfn << 12).
    pub ctrlreg: [u64; 8],
    pub debugreg: [u64; 8],
    pub event_callback_eip: u64,
    pub failsafe_callback_eip: u64,
    pub syscall_callback_eip: u64,
    pub vm_assist: u64,
    pub fs_base: u64,
    pub gs_base_kernel: u64,
    pub gs_base_user: u64,
}
crate::assert_layout!(VcpuGuestContext, 5168;
    flags => 512, user_regs => 520, trap_ctxt => 720, ldt_base => 4816, gdt_frames => 4832,
    gdt_ents => 4960, kernel_ss => 4968, kernel_sp => 4976, ctrlreg => 4984,
    debugreg => 5048, event_callback_eip => 5112, failsafe_callback_eip => 5120,
    syscall_callback_eip => 5128, vm_assist => 5136, fs_base => 5144,
    gs_base_kernel => 5152, gs_base_user => 5160);

impl Default for VcpuGuestContext {
    fn default() -> Self {
        Self {
            fpu_ctxt: [0; 512],
            flags: 0,
            user_regs: CpuUserRegs::default(),
            trap_ctxt: [TrapInfo::default(); 256],
            ldt_base: 0,
            ldt_ents: 0,
            gdt_frames: [0; 16],
            gdt_ents: 0,
            kernel_ss: 0,
            kernel_sp: 0,
            ctrlreg: [0; 8],
            debugreg: [0; 8],
            event_callback_eip: 0,
            failsafe_callback_eip: 0,
            syscall_callback_eip: 0,
            vm_assist: 0,
            fs_base: 0,
            gs_base_kernel: 0,
            gs_base_user: 0,
        }
    }
}

/// `xen_pfn_to_cr3` for a 64-bit guest.
pub const fn xen_pfn_to_cr3(mfn: u64) -> u64 {
    mfn << 12
}
