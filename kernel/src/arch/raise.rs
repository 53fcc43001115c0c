//! Raising CPU exceptions on purpose (the `selftest.fault` probe proves the trap path).

use crate::mm::pte;
use crate::xen::{mmu, XenError};
use xp_core::xen::hypercall::{ldt_selector, LDT_FLAT_DATA_DPL3};

/// Raises the exception named by `kind` (`pf`, `gp`, `ud`, `de`, anything else `bp`). The
/// trap handler reports it and ends the domain, so this returns only if the CPU did not fault.
pub fn raise(kind: &str) {
    // SAFETY: (all arms) each instruction raises the named exception on purpose; the reads touch
    // no memory (the addresses are unmapped or non-canonical) and the trap handler ends the
    // domain, so nothing after the faulting instruction runs.
    unsafe {
        match kind {
            "pf" => {
                core::ptr::read_volatile(0xdead_b000 as *const u64);
            }
            "gp" => {
                core::ptr::read_volatile(0x8000_0000_0000_0000u64 as *const u64);
            }
            "ud" => core::arch::asm!("ud2"),
            "de" => {
                core::arch::asm!("xor edx, edx", "xor eax, eax", "xor ecx, ecx", "div ecx", out("eax") _, out("ecx") _, out("edx") _)
            }
            _ => core::arch::asm!("int3"),
        }
    }
}

/// A one-entry LDT: a page of its own, never written (Xen types it as descriptors).
#[repr(C, align(4096))]
struct LdtPage([u64; 512]);
static LDT: LdtPage = LdtPage({
    let mut t = [0u64; 512];
    t[0] = LDT_FLAT_DATA_DPL3;
    t
});

/// Arms the failsafe callback: DS is loaded from a one-entry LDT that is then taken away, so
/// the next time Xen restores this vCPU's segments (after another vCPU ran on this pCPU)
/// loading DS faults and Xen calls the failsafe callback (xen/arch/x86/domain.c,
/// `load_segments`). Returns the selector loaded into DS.
pub fn arm_failsafe() -> Result<u16, XenError> {
    let va = core::ptr::addr_of!(LDT) as u64;
    let mfn = crate::mm::va_to_mfn(va).ok_or(XenError {
        call: "va_to_mfn(LDT page)",
        rc: -14,
    })?;
    // SAFETY: the page is LDT's alone (aligned and sized to one page) and LDT is immutable, so
    // mapping it read-only invalidates no reference and no write.
    unsafe { mmu::update_va_mapping(va, pte::entry(mfn, pte::DATA_RO))? };
    // SAFETY: LDT is page aligned, mapped read-only and holds one valid descriptor for the
    // whole run (an immutable static).
    unsafe { mmu::set_ldt(va, 1)? };
    let sel = ldt_selector(0);
    // SAFETY: DS names the descriptor just installed; in 64-bit mode DS's base and limit are
    // ignored, so no memory access changes meaning.
    unsafe { core::arch::asm!("mov ds, {0:x}", in(reg) sel, options(nostack, preserves_flags)) };
    // SAFETY: no LDT at all: nothing is read from the old page any more.
    unsafe { mmu::set_ldt(0, 0)? };
    Ok(sel)
}
