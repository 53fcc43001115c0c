use super::*;
use proptest::prelude::*;

#[test]
fn parses_the_forms() {
    assert_eq!(Policy::parse("echo"), Ok(Policy::Echo));
    assert_eq!(Policy::parse("delay:5ms"), Ok(Policy::Delay(5_000_000)));
    assert_eq!(Policy::parse("epoch:25ms"), Ok(Policy::Epoch(25_000_000)));
    assert_eq!(Policy::parse("jitter:500us"), Ok(Policy::Jitter(500_000)));
    assert_eq!(Policy::parse("delay:10us"), Ok(Policy::Delay(MIN_NS)));
    assert_eq!(Policy::parse("epoch:10s"), Ok(Policy::Epoch(MAX_NS)));
    for p in [
        "echo",
        "delay:5ms",
        "epoch:1s",
        "jitter:250us",
        "delay:12345ns",
    ] {
        assert_eq!(Policy::parse(p).unwrap().to_string(), p, "round trip");
    }
}

#[test]
fn bad_policies_name_the_accepted_forms() {
    for bad in [
        "",
        "delay",
        "delay:",
        "delay:5",
        "delay:5m",
        "sleep:5ms",
        "Echo",
        "echo:1ms",
    ] {
        let e = Policy::parse(bad).unwrap_err();
        assert_eq!(e, PolicyError::Malformed(bad));
        let msg = e.to_string();
        assert!(
            msg.contains("accepted: echo, delay:D, epoch:E, jitter:D"),
            "{msg}"
        );
        assert!(msg.contains("10us..=10s"), "{msg}");
    }
    for bad in [
        "delay:0",
        "epoch:9us",
        "jitter:11s",
        "epoch:99999999999999999999s",
    ] {
        let e = Policy::parse(bad).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, PolicyError::OutOfRange(_) | PolicyError::Malformed(_)),
            "{bad}"
        );
        assert!(msg.contains(bad) && msg.contains("accepted:"), "{msg}");
    }
    assert!(matches!(
        Policy::parse("epoch:11s"),
        Err(PolicyError::OutOfRange(_))
    ));
}

#[test]
fn an_epoch_longer_than_the_timeout_is_refused() {
    let e = Policy::Epoch(3_000_000_000)
        .fits(2_000_000_000)
        .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("epoch:3s may hold a completion 3s"), "{msg}");
    assert!(
        msg.contains("ring.timeout=2s") && msg.contains("raise ring.timeout"),
        "{msg}"
    );
    assert!(Policy::Epoch(2_000_000_000).fits(2_000_000_000).is_err());
    assert!(Policy::Epoch(1_999_000_000).fits(2_000_000_000).is_ok());
    // jitter:D holds up to 2D.
    assert!(Policy::Jitter(1_000_000_000).fits(2_000_000_000).is_err());
    assert!(Policy::Jitter(999_000_000).fits(2_000_000_000).is_ok());
    assert!(Policy::Echo.fits(1).is_ok());
}

#[test]
fn schedules() {
    assert_eq!(Policy::Echo.due(3, 1234), 1234);
    assert_eq!(Policy::Delay(1000).due(3, 1234), 2234);
    let e = Policy::Epoch(1000);
    assert_eq!(
        e.due(0, 1000),
        1000,
        "on a boundary: released with that epoch"
    );
    assert_eq!(e.due(0, 1001), 2000);
    assert_eq!(e.due(0, 1999), 2000);
    assert_eq!(e.due(0, 0), 0);
    assert_eq!(Policy::Delay(MAX_NS).due(0, u64::MAX - 1), u64::MAX);
    assert_eq!(e.due(0, u64::MAX), u64::MAX);
}

#[test]
fn jitter_is_fixed_and_spread() {
    let d = 1_000_000;
    let draws: Vec<u64> = (0..10_000).map(|i| jitter_ns(d, i)).collect();
    assert_eq!(
        draws,
        (0..10_000).map(|i| jitter_ns(d, i)).collect::<Vec<_>>()
    );
    assert!(draws.iter().all(|&x| x <= 2 * d));
    let mean = draws.iter().sum::<u64>() / draws.len() as u64;
    assert!((950_000..1_050_000).contains(&mean), "mean {mean}");
    let below_half = draws.iter().filter(|&&x| x < d / 2).count();
    assert!(
        (2_200..2_800).contains(&below_half),
        "uniform: {below_half}"
    );
    // The same request index draws the same delay in another domain.
    assert_eq!(
        Policy::Jitter(d).due(77, 5) - 5,
        Policy::Jitter(d).due(77, 9) - 9
    );
}

#[test]
fn one_at_a_time_requests_arrive_at_every_phase_of_an_epoch() {
    let e = Policy::Epoch(10_000_000);
    let gaps: Vec<u64> = (0..1000).map(|i| e.think_ns(i)).collect();
    assert!(gaps.iter().all(|&g| g <= 10_000_000));
    let early_half = gaps.iter().filter(|&&g| g < 5_000_000).count();
    assert!((400..600).contains(&early_half), "{early_half}");
    assert_eq!(Policy::Delay(5_000_000).think_ns(3), 0);
    assert_eq!(Policy::Echo.think_ns(3), 0);
}

#[test]
fn held_releases_in_order() {
    let mut h = Held::default();
    assert_eq!((h.next_due(), h.release(u64::MAX)), (None, 0));
    for d in [10, 30, 20, 40] {
        assert!(h.push(d));
    }
    assert_eq!(h.release(25), 1, "30 is not due: 20 waits behind it");
    assert_eq!(h.next_due(), Some(30));
    assert_eq!(h.release(30), 2);
    assert_eq!((h.len(), h.next_due()), (1, Some(40)));
    for i in 0..MAX_RING as u64 - 1 {
        assert!(h.push(100 + i));
    }
    assert!(!h.push(1), "never more than a ring");
    assert_eq!(h.release(u64::MAX), MAX_RING as u32);
    assert_eq!(h.len(), 0);
}

proptest! {
    /// The frontend's judgement is sound: a backend that took the request at or after it
    /// was sent and published at its due time is never judged early.
    #[test]
    fn due_never_decreases(kind in 0u8..4, d in MIN_NS..MAX_NS, idx in any::<u32>(), sent in any::<u64>(), later in 0u64..1u64 << 40) {
        let p = [Policy::Echo, Policy::Delay(d), Policy::Epoch(d), Policy::Jitter(d)][kind as usize];
        let taken = sent.saturating_add(later);
        prop_assert!(p.due(idx, sent) <= p.due(idx, taken));
        prop_assert!(p.due(idx, taken) >= taken);
        prop_assert!(p.due(idx, taken) - taken <= p.max_hold_ns());
        if let Policy::Epoch(e) = p {
            let due = p.due(idx, taken);
            prop_assert!(due.is_multiple_of(e) || due == u64::MAX);
        }
    }

    #[test]
    fn parse_never_panics_and_round_trips(s in "\\PC{0,24}") {
        if let Ok(p) = Policy::parse(&s) {
            let text = p.to_string();
            prop_assert_eq!(Policy::parse(&text), Ok(p));
            prop_assert!(p.max_hold_ns() <= 2 * MAX_NS);
        }
    }
}
