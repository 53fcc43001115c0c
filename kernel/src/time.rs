//! Xen system time from vCPU 0's pvclock (vcpu_time_info + TSC).

use xp_core::pvclock::TimeSnapshot;

/// Nanoseconds of Xen system time now, or 0 before shared_info is mapped.
pub fn now_ns() -> u64 {
    match crate::xen::shared::time_info() {
        Ok(t) => at_tsc(&t, crate::arch::rdtsc()),
        Err(crate::xen::shared::ClockError::NotMapped) => 0,
        // A hypervisor that never finishes updating the clock: crash with the reason rather
        // than return a time that is wrong.
        Err(e) => panic!("pvclock: {e}"),
    }
}

/// The running vCPU's pvclock scale (tsc_to_system_mul, tsc_shift); (0, 0) before
/// shared_info is mapped.
pub fn scale() -> (u32, i8) {
    crate::xen::shared::time_info().map_or((0, 0), |t| (t.tsc_to_system_mul, t.tsc_shift))
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
