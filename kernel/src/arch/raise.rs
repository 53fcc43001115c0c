//! Raising CPU exceptions on purpose (the `selftest.fault` probe proves the trap path).

/// Raises the exception named by `kind` (`pf`, `gp`, `ud`, `de`, anything else `bp`). The trap
/// handler reports it and ends the domain, so this returns only if the CPU did not fault.
pub fn raise(kind: &str) {
    // SAFETY (all arms): each instruction raises the named exception on purpose; the reads touch
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
