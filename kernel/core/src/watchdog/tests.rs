use super::*;
use crate::stall::{RunstateTimes, StallClass};

const MS: u64 = 1_000_000;

fn rs(state: i32, entry: u64, time: [u64; 4]) -> Snapshot {
    Snapshot {
        state,
        state_entry_time: entry,
        time,
    }
}

fn beat(count: u64, at_ns: u64, deadline_ns: u64) -> Beat {
    Beat {
        count,
        at_ns,
        deadline_ns,
        runstate: RunstateTimes::default(),
    }
}

#[test]
fn a_sibling_that_never_beat_is_not_reported() {
    let mut w = SiblingWatch::new(100 * MS);
    for t in [0, 50 * MS, 10_000 * MS] {
        assert_eq!(w.observe(t, beat(0, 0, 0), &rs(0, 0, [0; 4])), None);
    }
    assert_eq!(
        w.observe(10_001 * MS, beat(1, 10_001 * MS, 0), &rs(0, 0, [0; 4])),
        None
    );
    assert_eq!(w.reports, 0);
}

#[test]
fn quiet_while_beating() {
    let mut w = SiblingWatch::new(100 * MS);
    for i in 1..50 {
        let t = i * 10 * MS;
        assert_eq!(
            w.observe(t, beat(i, t, t + 10 * MS), &rs(2, t, [t, 0, 0, 0])),
            None
        );
    }
    assert_eq!(w.reports, 0);
}

#[test]
fn paused_sibling_reported_once_live_as_offline_then_recovers() {
    let mut w = SiblingWatch::new(100 * MS);
    let b = Beat {
        runstate: RunstateTimes::from_xen([1000 * MS, 0, 0, 0]),
        ..beat(7, 1000 * MS, 1010 * MS)
    };
    // Seen at 1001 ms, then offline from 1005 ms.
    assert_eq!(
        w.observe(1001 * MS, b, &rs(0, 1000 * MS, [1000 * MS, 0, 0, 0])),
        None
    );
    let off = rs(3, 1005 * MS, [1005 * MS, 0, 0, 0]);
    assert_eq!(w.observe(1090 * MS, b, &off), None);
    let Some(WatchEvent::Stuck(s)) = w.observe(1110 * MS, b, &off) else {
        panic!("not reported")
    };
    assert_eq!(s.so_far_ns, 110 * MS);
    assert_eq!(s.state_now, 3);
    assert_eq!(s.verdict.class, StallClass::PausedOffline);
    assert_eq!(
        w.observe(1200 * MS, b, &off),
        None,
        "reported once per silence"
    );
    let back = w.observe(1500 * MS, beat(8, 1499 * MS, 0), &rs(0, 1498 * MS, [0; 4]));
    assert_eq!(
        back,
        Some(WatchEvent::Recovered {
            silent_ns: 499 * MS
        })
    );
    assert_eq!(w.reports, 1);
}

#[test]
fn blocked_past_deadline_is_a_live_lost_wakeup() {
    let mut w = SiblingWatch::new(100 * MS);
    let b = beat(1, 0, 10 * MS);
    assert_eq!(w.observe(MS, b, &rs(2, MS, [MS, 0, 0, 0])), None);
    let Some(WatchEvent::Stuck(s)) = w.observe(150 * MS, b, &rs(2, MS, [MS, 0, 0, 0])) else {
        panic!("not reported")
    };
    assert_eq!(s.verdict.class, StallClass::LostWakeup);
}

#[test]
fn runnable_sibling_is_preempted() {
    let mut w = SiblingWatch::new(50 * MS);
    let b = beat(3, 0, 0);
    assert_eq!(w.observe(0, b, &rs(0, 0, [0; 4])), None);
    let Some(WatchEvent::Stuck(s)) = w.observe(60 * MS, b, &rs(1, 5 * MS, [5 * MS, 0, 0, 0]))
    else {
        panic!("not reported")
    };
    assert_eq!(s.verdict.class, StallClass::Preempted);
}

proptest::proptest! {
    #[test]
    fn at_most_one_report_per_silence(times in proptest::collection::vec(0u64..10_000, 1..50)) {
        let mut w = SiblingWatch::new(100);
        let mut now = 0;
        let b = beat(1, 0, 0);
        w.observe(0, b, &rs(3, 0, [0; 4]));
        for dt in times {
            now += dt;
            w.observe(now, b, &rs(3, 0, [0; 4]));
        }
        proptest::prop_assert!(w.reports <= 1);
        proptest::prop_assert_eq!(w.reports == 1, now > 100);
    }
}

#[test]
fn silence_is_classified_from_the_beat_not_from_when_the_watcher_looked() {
    // Both vCPUs paused for 1.5 s right after the sibling's beat; the watcher sees the
    // beat only after the pause: the silence is still offline, not what followed it.
    let mut w = SiblingWatch::new(100 * MS);
    let b = Beat {
        runstate: RunstateTimes::from_xen([1000 * MS, 0, 0, 0]),
        ..beat(9, 1000 * MS, 1001 * MS)
    };
    let after = rs(0, 2500 * MS, [1000 * MS, 0, 0, 1500 * MS]);
    assert_eq!(w.observe(2501 * MS, b, &after), None);
    let Some(WatchEvent::Stuck(s)) = w.observe(2502 * MS, b, &after) else {
        panic!("not reported")
    };
    assert_eq!(s.runstate.offline_ns, 1500 * MS);
    assert_eq!(s.verdict.class, StallClass::PausedOffline);
}
