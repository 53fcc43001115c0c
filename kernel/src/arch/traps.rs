//! Virtual trap table: every CPU exception ends in a crash report.
//!
//! The report names the vector, error code, rip, cr2 (for #PF, read from
//! vcpu_info's arch area where Xen puts it) and all registers, then the
//! domain is ended as crashed. No exception is recoverable in xenprobe.

use crate::xen::hypercall as hc;
use x86_64::structures::idt::InterruptStackFrameValue;
use xp_core::xen::bounce;
use xp_core::xen::hypercall::{TrapInfo, FLAT_KERNEL_CS64, SET_TRAP_TABLE};

// One assembly unit: regs.S defines the macros both stub files use. The frame offsets are
// xp_core's host-tested ones (`xp_core::xen::bounce`).
core::arch::global_asm!(
    concat!(
        include_str!("regs.S"),
        include_str!("traps.S"),
        include_str!("upcall.S")
    ),
    bounce_skip = const bounce::BOUNCE_SKIP,
    failsafe_skip = const bounce::FAILSAFE_SKIP,
    failsafe_ds_below_rip = const bounce::FAILSAFE_DS_BELOW_RIP,
    failsafe_vector = const FAILSAFE_VECTOR,
    iret_stub = const xp_core::xen::hypercall::IRET * 32,
    options(att_syntax)
);

/// The frame `trap_common` builds (lowest address first).
#[repr(C)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    /// rip, cs, rflags, rsp, ss as the CPU (here: Xen's bounce) leaves them. Xen keeps the
    /// saved upcall mask in bits 32-39 of the CS slot, which x86_64's type treats as padding.
    pub frame: InterruptStackFrameValue,
}
xp_core::assert_layout!(TrapFrame, 22 * 8; vector => 15 * 8, frame => 17 * 8);

macro_rules! stubs {
    ($($vec:literal $name:ident $dpl:literal),* $(,)?) => {
        extern "C" { $(fn $name();)* }
        fn table() -> [TrapInfo; 17] {
            [$(TrapInfo { vector: $vec, flags: $dpl, cs: FLAT_KERNEL_CS64, _pad: 0, address: $name as *const () as usize as u64 },)*
             TrapInfo::default()]
        }
    };
}
stubs!(
    0 xp_trap_de 0, 1 xp_trap_db 0, 3 xp_trap_bp 3, 4 xp_trap_of 3, 5 xp_trap_br 0,
    6 xp_trap_ud 0, 7 xp_trap_nm 0, 10 xp_trap_ts 0, 11 xp_trap_np 0, 12 xp_trap_ss 0,
    13 xp_trap_gp 0, 14 xp_trap_pf 0, 16 xp_trap_mf 0, 17 xp_trap_ac 0, 18 xp_trap_mc 0,
    19 xp_trap_xm 0,
);

/// Register the trap table with Xen (HYPERVISOR_set_trap_table). Call first thing.
pub fn init() -> i64 {
    let t = table();
    // SAFETY: `t` is a zero-terminated array of valid trap_info entries that lives across
    // the call; Xen copies it.
    unsafe { hc::raw2(SET_TRAP_TABLE, t.as_ptr() as u64, 0) }
}

/// The vector the failsafe entry reports (arch/upcall.S), its error code DS as Xen saw it.
pub const FAILSAFE_VECTOR: u64 = 256;

/// Human name of an exception vector.
pub fn vector_name(v: u64) -> &'static str {
    match v {
        0 => "#DE divide error",
        1 => "#DB debug",
        3 => "#BP breakpoint",
        4 => "#OF overflow",
        5 => "#BR bound range",
        6 => "#UD invalid opcode",
        7 => "#NM device not available",
        10 => "#TS invalid TSS",
        11 => "#NP segment not present",
        12 => "#SS stack fault",
        13 => "#GP general protection",
        14 => "#PF page fault",
        16 => "#MF x87 error",
        17 => "#AC alignment check",
        18 => "#MC machine check",
        19 => "#XM SIMD error",
        FAILSAFE_VECTOR => "failsafe callback (Xen could not load a segment register)",
        _ => "unknown",
    }
}

/// Called by `trap_common` with the saved frame; reports and crashes the domain.
#[no_mangle]
extern "C" fn xp_trap(frame: &TrapFrame) -> ! {
    crate::fatal::trap(frame)
}
