//! Xen's per-vCPU time (`vcpu_time_info`) and wall-clock arithmetic.
//!
//! Xen publishes, per vCPU, a snapshot taken at one TSC instant:
//! `(tsc_timestamp, system_time, tsc_to_system_mul, tsc_shift)` guarded by a
//! version counter that is odd while Xen rewrites it. The guest's system time
//! at a later TSC reading is `system_time + scale(tsc - tsc_timestamp)`, with
//! the scaling done exactly as Linux's `pvclock_scale_delta` and Xen's
//! `scale_delta` (xen/arch/x86/time.c) do it, so that xenprobe's clock agrees
//! bit for bit with the hypervisor's and with a Linux PV guest's.
//!
//! The kernel reads the shared fields (with the barriers the protocol needs)
//! into a [`TimeSnapshot`]; everything here is arithmetic on plain values.

/// Nanoseconds per second, Xen's `SECONDS(1)`.
pub const NSEC_PER_SEC: u64 = 1_000_000_000;

bitflags::bitflags! {
    /// `vcpu_time_info.flags` (`XEN_PVCLOCK_*`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct PvclockFlags: u8 {
        /// `XEN_PVCLOCK_TSC_STABLE_BIT`: the TSC is synchronised across pCPUs, so readings
        /// from different vCPUs are comparable.
        const TSC_STABLE = 1 << 0;
        /// `XEN_PVCLOCK_GUEST_STOPPED`: the guest was stopped (e.g. paused for migration)
        /// since the previous update.
        const GUEST_STOPPED = 1 << 1;
    }
}

// `tsc_stable guest_stopped`: Xen's names without XEN_PVCLOCK_, lower case.
crate::xen::display_flag_names!(PvclockFlags);

/// Converts a TSC delta to nanoseconds the way Xen and Linux do.
///
/// First the delta is shifted (a negative `shift` shifts right by `-shift`,
/// a positive one left; bits shifted out are lost, as with C's `u64` shifts),
/// then multiplied by the 32.32 fixed-point fraction `mul_frac` and the
/// product's low 32 bits are dropped. The product is formed in `u128`, so no
/// delta overflows. Shift amounts of 64 or more (never produced by Xen,
/// undefined in C) give 0 instead of panicking.
pub fn scale_delta(delta_tsc: u64, mul_frac: u32, shift: i8) -> u64 {
    let shifted = apply_shift(delta_tsc, shift);
    let product = u128::from(shifted) * u128::from(mul_frac);
    // (2^64 - 1) * (2^32 - 1) >> 32 < 2^64: the cast is lossless.
    (product >> 32) as u64
}

/// The pre-multiplication shift of [`scale_delta`].
fn apply_shift(delta: u64, shift: i8) -> u64 {
    let amount = u32::from(shift.unsigned_abs());
    let shifted = if shift < 0 {
        delta.checked_shr(amount)
    } else {
        delta.checked_shl(amount)
    };
    shifted.unwrap_or(0)
}

/// The TSC frequency in kHz implied by a (mul, shift) pair, as Linux's
/// `pvclock_tsc_khz` computes it; 0 when `mul_frac` is 0 (no time info yet).
pub fn tsc_khz(mul_frac: u32, shift: i8) -> u64 {
    let Some(khz) = (1_000_000u64 << 32).checked_div(u64::from(mul_frac)) else {
        return 0;
    };
    // Inverse of the scaling shift: a right shift of the delta means a faster TSC.
    apply_shift(khz, shift.saturating_neg())
}

/// One consistent copy of a vCPU's `vcpu_time_info` (xen/include/public/xen.h).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeSnapshot {
    /// Version counter: odd while Xen is updating the record.
    pub version: u32,
    /// TSC value at which `system_time` was sampled.
    pub tsc_timestamp: u64,
    /// Xen system time (ns since Xen booted) at `tsc_timestamp`.
    pub system_time: u64,
    /// 32.32 fixed-point multiplier from (shifted) TSC ticks to ns.
    pub tsc_to_system_mul: u32,
    /// Shift applied to the TSC delta before multiplying.
    pub tsc_shift: i8,
    /// `PVCLOCK_*` flag bits.
    pub flags: u8,
}

impl TimeSnapshot {
    /// System time (ns) at TSC reading `tsc`.
    ///
    /// The distance `tsc - tsc_timestamp` is taken with wrapping arithmetic and
    /// read as signed, as Linux and Xen do: a domU's TSC starts near 0 when the
    /// domain is built, so the record Xen writes before its first recalibration
    /// can carry a "negative" `tsc_timestamp` (seen in the lab: 2^64 - 216757832),
    /// and a TSC read slightly before the stamp lies just behind it. Treating
    /// either as "no time passed" freezes the clock (it did, for a whole second,
    /// until the next record: xenprobe's stall probe caught it as a clock jump).
    pub fn system_time_at(&self, tsc: u64) -> u64 {
        let delta = tsc.wrapping_sub(self.tsc_timestamp) as i64;
        let scaled = scale_delta(delta.unsigned_abs(), self.tsc_to_system_mul, self.tsc_shift);
        if delta >= 0 {
            self.system_time.saturating_add(scaled)
        } else {
            self.system_time.saturating_sub(scaled)
        }
    }

    /// Xen's `XEN_PVCLOCK_*` flags of this record.
    pub fn pvclock_flags(&self) -> PvclockFlags {
        PvclockFlags::from_bits_retain(self.flags)
    }
}

/// The version rule of the pvclock protocol: a copy is usable only if the
/// version read before it equals the one read after it and is even (Xen makes
/// it odd for the duration of an update).
pub fn is_consistent(v_before: u32, v_after: u32) -> bool {
    v_before.is_multiple_of(2) && v_before == v_after
}

/// Runs the version retry loop: `read_version` then `read_body` then
/// `read_version` again, up to `max_tries` times, returning the first body
/// read under a consistent version. `None` if Xen never settled (a bounded
/// loop so that a broken hypervisor gives an error, not a hang). The closures
/// must carry the read barriers (Acquire loads) that order them.
pub fn read_consistent<T>(
    max_tries: u32,
    mut read_version: impl FnMut() -> u32,
    mut read_body: impl FnMut() -> T,
) -> Option<T> {
    for _ in 0..max_tries {
        let before = read_version();
        let body = read_body();
        if is_consistent(before, read_version()) {
            return Some(body);
        }
    }
    None
}

/// Joins shared_info's `wc_sec` and (64-bit guests') `wc_sec_hi` halves.
pub fn wc_sec_from_parts(wc_sec: u32, wc_sec_hi: u32) -> u64 {
    (u64::from(wc_sec_hi) << 32) | u64::from(wc_sec)
}

/// Wall-clock time in ns since the Unix epoch: shared_info's wall clock
/// (`wc_sec`, `wc_nsec`: UTC at system time 0) plus the current system time.
/// Saturates instead of overflowing; `wc_nsec` is added as given.
pub fn wallclock_ns(wc_sec: u64, wc_nsec: u32, system_time_ns: u64) -> u64 {
    wc_sec
        .saturating_mul(NSEC_PER_SEC)
        .saturating_add(u64::from(wc_nsec))
        .saturating_add(system_time_ns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Xen's `set_time_scale` (xen/arch/x86/time.c), reimplemented for the
    /// tests: normalise the frequency into (1e9, 2e9] with a shift, then
    /// `mul_frac = div_frac(1e9, tps32) = (1e9 << 32) / tps32`.
    fn xen_time_scale(ticks_per_sec: u64) -> (u32, i8) {
        let mut tps64 = ticks_per_sec;
        let mut shift: i8 = 0;
        while tps64 > 2 * NSEC_PER_SEC {
            tps64 >>= 1;
            shift -= 1;
        }
        let mut tps32 = tps64 as u32;
        while tps32 <= NSEC_PER_SEC as u32 {
            tps32 <<= 1;
            shift += 1;
        }
        let mul = (NSEC_PER_SEC << 32) / u64::from(tps32);
        (mul as u32, shift)
    }

    /// Exact ns for `ticks` at `hz`, by u128 arithmetic (floor).
    fn exact_ns(ticks: u64, hz: u64) -> u64 {
        (u128::from(ticks) * u128::from(NSEC_PER_SEC) / u128::from(hz)) as u64
    }

    /// Error bound of Xen's scaling vs exact: the truncated mul_frac and the
    /// truncated frequency are each off by < 2^-30 relative; a right shift
    /// drops up to 2^k - 1 ticks; plus 1 ns of final truncation.
    fn bound(ticks: u64, hz: u64, shift: i8) -> u64 {
        let dropped = if shift < 0 { 1u64 << -shift } else { 1 };
        exact_ns(ticks, hz) / (1 << 29) + exact_ns(dropped, hz) + 2
    }

    fn assert_close(ticks: u64, hz: u64) {
        let (mul, shift) = xen_time_scale(hz);
        let got = scale_delta(ticks, mul, shift);
        let want = exact_ns(ticks, hz);
        assert!(
            got.abs_diff(want) <= bound(ticks, hz, shift),
            "{hz} Hz {ticks}: {got} vs {want}"
        );
    }

    #[test]
    fn xen_scale_for_known_frequencies() {
        assert_eq!(xen_time_scale(1_000_000_000), (1 << 31, 1));
        assert_eq!(xen_time_scale(2_400_000_000), (3_579_139_413, -1));
        assert_eq!(xen_time_scale(3_100_000_000), (2_770_946_642, -1));
    }

    #[test]
    fn one_ghz_is_identity() {
        let (mul, shift) = xen_time_scale(1_000_000_000);
        for d in [0, 1, 999, 1 << 40, (1 << 63) - 1] {
            assert_eq!(scale_delta(d, mul, shift), d);
        }
    }

    #[test]
    fn f64_reference_one_second_and_one_hour() {
        for hz in [1_000_000_000u64, 2_400_000_000, 3_100_000_000] {
            let (mul, shift) = xen_time_scale(hz);
            for secs in [1u64, 3600] {
                let ticks = hz * secs;
                let want = ticks as f64 * 1e9 / hz as f64;
                let got = scale_delta(ticks, mul, shift) as f64;
                assert!(
                    (got - want).abs() <= want / 1e9 + 2.0,
                    "{hz} {secs}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn hours_and_days_stay_within_bound() {
        for hz in [1_000_000_000u64, 2_400_000_000, 3_100_000_000] {
            for secs in [1u64, 60, 3600, 86_400, 30 * 86_400] {
                assert_close(hz * secs, hz);
            }
        }
    }

    #[test]
    fn u64_max_delta_does_not_overflow() {
        let (mul, shift) = xen_time_scale(3_100_000_000);
        let want = ((u128::from(u64::MAX >> 1) * u128::from(mul)) >> 32) as u64;
        assert_eq!(scale_delta(u64::MAX, mul, shift), want);
        assert_eq!(scale_delta(u64::MAX, u32::MAX, 0), u64::MAX - (1 << 32));
        // A left shift drops the high bits, as the C code does.
        assert_eq!(scale_delta(u64::MAX, 1 << 31, 1), (u64::MAX << 1) >> 1);
    }

    #[test]
    fn extreme_shifts_give_zero_not_panic() {
        for s in [64i8, 127, -64, -128] {
            assert_eq!(scale_delta(u64::MAX, u32::MAX, s), 0);
        }
        assert_eq!(scale_delta(1 << 40, 1 << 31, -40), 0);
    }

    #[test]
    fn tsc_khz_inverts_the_scale() {
        for hz in [1_000_000_000u64, 2_400_000_000, 3_100_000_000, 25_000_000] {
            let (mul, shift) = xen_time_scale(hz);
            let khz = tsc_khz(mul, shift);
            assert!(khz.abs_diff(hz / 1000) <= 1, "{hz}: {khz}");
        }
        assert_eq!(tsc_khz(0, 0), 0);
    }

    fn snap(hz: u64) -> TimeSnapshot {
        let (mul, shift) = xen_time_scale(hz);
        TimeSnapshot {
            version: 2,
            tsc_timestamp: 1_000_000,
            system_time: 5_000,
            tsc_to_system_mul: mul,
            tsc_shift: shift,
            flags: PvclockFlags::TSC_STABLE.bits(),
        }
    }

    #[test]
    fn system_time_at_adds_scaled_delta() {
        let s = snap(2_400_000_000);
        assert_eq!(s.system_time_at(1_000_000), 5_000);
        assert_eq!(
            s.system_time_at(1_000_000 + 2_400_000_000),
            5_000 + 999_999_999
        );
        assert_eq!(s.pvclock_flags(), PvclockFlags::TSC_STABLE);
        assert_eq!(s.pvclock_flags().to_string(), "tsc_stable");
        let both = TimeSnapshot { flags: 3, ..s };
        assert_eq!(both.pvclock_flags().to_string(), "tsc_stable guest_stopped");
    }

    #[test]
    fn tsc_before_timestamp_extrapolates_backwards() {
        let s = snap(2_400_000_000);
        // 2.4 GHz: 2400 ticks before the stamp are 1 us before its system time.
        assert_eq!(s.system_time_at(1_000_000 - 2_400), 5_000 - 999);
        assert_eq!(s.system_time_at(0), 0); // saturates at 0, never wraps
        let top = TimeSnapshot {
            system_time: u64::MAX - 1,
            ..s
        };
        assert_eq!(top.system_time_at(u64::MAX / 4), u64::MAX);
    }

    /// The record a domU saw in the lab before Xen's first recalibration: a "negative"
    /// tsc_timestamp. Time must advance by the real distance, not stay frozen.
    #[test]
    fn negative_tsc_timestamp_from_the_lab() {
        let s = TimeSnapshot {
            version: 2,
            tsc_timestamp: 18_446_744_073_492_793_784,
            system_time: 20_558_411_659,
            tsc_to_system_mul: 0x8000_0863,
            tsc_shift: 1,
            flags: 0,
        };
        let t = s.system_time_at(783_232_316);
        // The next record (v4: tsc_ts 783261652, sys 21558432144) agrees to within microseconds.
        let next = TimeSnapshot {
            version: 4,
            tsc_timestamp: 783_261_652,
            system_time: 21_558_432_144,
            ..s
        };
        let t_next = next.system_time_at(783_232_316);
        assert!(t.abs_diff(t_next) < 100_000, "{t} vs {t_next}");
        assert!(t > s.system_time + 900_000_000);
    }

    #[test]
    fn version_rule() {
        assert!(is_consistent(0, 0));
        assert!(is_consistent(42, 42));
        assert!(!is_consistent(43, 43));
        assert!(!is_consistent(42, 44));
        assert!(!is_consistent(u32::MAX, u32::MAX));
    }

    #[test]
    fn read_consistent_retries_through_an_update() {
        // Versions seen: 3 (mid-update), 4 before/5 after (raced), then 6/6.
        let versions = [3u32, 3, 4, 5, 6, 6];
        let mut v = versions.iter().copied();
        let mut body = 0;
        let got = read_consistent(
            10,
            || v.next().unwrap_or(7),
            || {
                body += 1;
                body
            },
        );
        assert_eq!(got, Some(3));
        assert_eq!(read_consistent(5, || 1, || ()), None);
        assert_eq!(read_consistent(0, || 0, || ()), None);
    }

    #[test]
    fn wall_clock() {
        assert_eq!(wc_sec_from_parts(0x8000_0000, 1), 0x1_8000_0000);
        let wc = wallclock_ns(1_700_000_000, 250, 3 * NSEC_PER_SEC);
        assert_eq!(wc, 1_700_000_003 * NSEC_PER_SEC + 250);
        assert_eq!(wallclock_ns(u64::MAX, u32::MAX, u64::MAX), u64::MAX);
    }

    proptest! {
        #[test]
        fn never_panics(d: u64, mul: u32, shift: i8, tsc: u64, ts: u64, st: u64) {
            let _ = scale_delta(d, mul, shift);
            let _ = tsc_khz(mul, shift);
            let s = TimeSnapshot { tsc_timestamp: ts, system_time: st, tsc_to_system_mul: mul,
                                   tsc_shift: shift, ..TimeSnapshot::default() };
            let _ = s.system_time_at(tsc);
        }

        #[test]
        fn monotone_in_delta(a: u64, b: u64, mul: u32, shift in -63i8..=0) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(scale_delta(lo, mul, shift) <= scale_delta(hi, mul, shift));
        }

        #[test]
        fn monotone_with_left_shift_below_wrap(a in 0u64..1 << 54, b in 0u64..1 << 54,
                                               mul: u32, shift in 0i8..=10) {
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(scale_delta(lo, mul, shift) <= scale_delta(hi, mul, shift));
        }

        #[test]
        fn system_time_monotone_in_tsc(a in -(1i64 << 50)..1 << 50, b in -(1i64 << 50)..1 << 50,
                                       ts: u64, st: u64, hz in 1_000_000u64..10_000_000_000) {
            let (mul, shift) = xen_time_scale(hz);
            let s = TimeSnapshot { tsc_timestamp: ts, system_time: st, tsc_to_system_mul: mul,
                                   tsc_shift: shift, ..TimeSnapshot::default() };
            // TSC readings within 2^50 ticks either side of the stamp, wrapping like the TSC.
            let (lo, hi) = (ts.wrapping_add(a.min(b) as u64), ts.wrapping_add(a.max(b) as u64));
            prop_assert!(s.system_time_at(lo) <= s.system_time_at(hi));
        }

        #[test]
        fn matches_exact_arithmetic(ticks in 0u64..1 << 50, hz in 1_000_000u64..10_000_000_000) {
            assert_close(ticks, hz);
        }
    }
}
