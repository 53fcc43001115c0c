use super::{Latency, Reading};

/// A 2 GHz TSC: Xen's scale for it is mul 0x8000_0000 (0.5), shift 0.
fn reading(sent_ns: u64, handled_ns: u64, sent_tsc: u64, handled_tsc: u64) -> Reading {
    Reading {
        sent_ns,
        handled_ns,
        sent_tsc,
        handled_tsc,
        mul: 0x8000_0000,
        shift: 0,
    }
}

#[test]
fn clocks_in_step_agree() {
    let r = reading(1_000, 31_000, 2_000, 62_000);
    assert_eq!(r.by_pvclock(), Latency::After(30_000));
    assert_eq!(r.by_tsc(), Latency::After(30_000));
}

#[test]
fn pvclock_behind_keeps_the_tsc_latency() {
    // The wakee's pCPU system time runs 12 ms behind the sender's; the TSCs count in step.
    let r = reading(20_000_000, 8_030_000, 40_000_000, 40_060_000);
    assert_eq!(r.by_pvclock(), Latency::Before(11_970_000));
    assert_eq!(r.by_tsc(), Latency::After(30_000));
}

#[test]
fn tsc_behind_is_reported_scaled() {
    let r = reading(1_000, 2_000, 10_000, 4_000);
    assert_eq!(r.by_tsc(), Latency::Before(3_000));
}

#[test]
fn extremes_do_not_overflow() {
    let r = reading(0, u64::MAX, u64::MAX, 0);
    assert_eq!(r.by_pvclock(), Latency::After(u64::MAX));
    assert_eq!(r.by_tsc(), Latency::Before(u64::MAX / 2));
}
