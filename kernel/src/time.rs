//! Xen system time from the running vCPU's pvclock (vcpu_time_info + TSC).

use xp_core::pvclock::TimeSnapshot;

/// One TSC read, the system time at it and the pvclock scale that converted it (the wakeup
/// probe times a wake-up by both clocks from one reading).
#[derive(Clone, Copy)]
pub struct Stamp {
    pub tsc: u64,
    pub ns: u64,
    pub mul: u32,
    pub shift: i8,
}

/// Now, by TSC and by system time; ns 0 (scale 0) before shared_info is mapped.
pub fn stamp() -> Stamp {
    let tsc = crate::arch::rdtsc();
    match crate::xen::shared::time_info() {
        Ok(t) => Stamp {
            tsc,
            ns: at_tsc(&t, tsc),
            mul: t.tsc_to_system_mul,
            shift: t.tsc_shift,
        },
        Err(crate::xen::shared::ClockError::NotMapped) => Stamp {
            tsc,
            ns: 0,
            mul: 0,
            shift: 0,
        },
        // A hypervisor that never finishes updating the clock: crash with the reason rather
        // than return a time that is wrong.
        Err(e) => panic!("pvclock: {e}"),
    }
}

/// Nanoseconds of Xen system time now, or 0 before shared_info is mapped.
pub fn now_ns() -> u64 {
    stamp().ns
}

/// System time at TSC value `tsc` according to the pvclock record `t`.
pub fn at_tsc(t: &xp_core::xen::vcpu::VcpuTimeInfo, tsc: u64) -> u64 {
    snapshot(t).system_time_at(tsc)
}

/// The pvclock record as xp-core's tested view of it.
pub fn snapshot(t: &xp_core::xen::vcpu::VcpuTimeInfo) -> TimeSnapshot {
    TimeSnapshot {
        version: t.version,
        tsc_timestamp: t.tsc_timestamp,
        system_time: t.system_time,
        tsc_to_system_mul: t.tsc_to_system_mul,
        tsc_shift: t.tsc_shift,
        flags: t.flags,
    }
}

/// Wall-clock nanoseconds since the Unix epoch now, if known.
pub fn wall_ns() -> Option<u64> {
    let (sec, nsec) = crate::xen::shared::wallclock().ok()?;
    Some(xp_core::pvclock::wallclock_ns(sec, nsec, now_ns()))
}
