//! The few lines that must be assembly or raw machine access: the hypercall
//! page calls, trap entry stubs, port I/O and the TSC. Everything above this
//! module (and `xen::shared`, `mm`) is safe code.

pub mod hypercall;
pub mod io;
pub mod traps;

core::arch::global_asm!(include_str!("../../../boot/head.S"), options(att_syntax));

/// Read the time-stamp counter (unprivileged under Xen PV unless the TSC mode says otherwise).
#[inline(always)]
pub fn rdtsc() -> u64 {
    // SAFETY: rdtsc has no memory effects; it is allowed in ring 3 when CR4.TSD is clear,
    // which Xen guarantees for PV guests in the default TSC mode.
    unsafe { core::arch::x86_64::_rdtsc() }
}
