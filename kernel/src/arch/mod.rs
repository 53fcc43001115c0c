//! The few lines that must be assembly or raw machine access: the hypercall
//! page calls, trap entry stubs, port I/O, the TSC, raising exceptions on purpose and
//! the event-channel handler slots (`fncell`).
//!
//! Where `unsafe` is: here, in `xen` (hypercalls that take pointers), `mm` (page
//! tables, the p2m and M2P) and `shmem` (memory Xen or a peer writes), each block
//! with a `// SAFETY:` comment (clippy's `undocumented_unsafe_blocks` is denied).
//! Outside them one block remains: `drv::console` breaking its lock on the crash path
//! when the fault interrupted this vCPU's own output (a sibling's is waited for).
//! `probe` has none.

pub mod fncell;
pub mod hypercall;
pub mod io;
pub mod percpu;
pub mod raise;
pub mod traps;

core::arch::global_asm!(include_str!("../../../boot/head.S"), options(att_syntax));

/// CPUID as Xen sees it for this guest: the forced-emulation prefix (`ud2; "xen"`) makes Xen
/// emulate the instruction, so a PV guest sees Xen's leaves (0x4000_00xx). Returns eax..edx.
pub fn xen_cpuid(leaf: u32, subleaf: u32) -> [u32; 4] {
    let (a, c, d): (u32, u32, u32);
    let b64: u64;
    // SAFETY: Xen recognises the prefix in its #UD path and emulates CPUID (documented in
    // xen/include/public/arch-x86/xen.h, XEN_EMULATE_PREFIX); no memory is touched. rbx is
    // reserved by LLVM, so it is swapped through a scratch register.
    unsafe {
        core::arch::asm!(
            "xchg {tmp:r}, rbx",
            "ud2",
            ".ascii \"xen\"",
            "cpuid",
            "xchg {tmp:r}, rbx",
            tmp = inout(reg) 0u64 => b64,
            inout("eax") leaf => a,
            inout("ecx") subleaf => c,
            out("edx") d,
        );
    }
    let b = b64 as u32;
    [a, b, c, d]
}

/// Read the time-stamp counter (unprivileged under Xen PV unless the TSC mode says otherwise).
#[inline(always)]
pub fn rdtsc() -> u64 {
    // SAFETY: rdtsc has no memory effects; it is allowed in ring 3 when CR4.TSD is clear,
    // which Xen guarantees for PV guests in the default TSC mode.
    unsafe { core::arch::x86_64::_rdtsc() }
}
