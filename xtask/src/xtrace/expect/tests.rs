//! `[expect_xentrace_gap]` against the recorded planted lost wake-up (the report library's
//! test capture: Xen 4.17.5 with the planted-fault patch, see its testdata/README.md).

use super::{gap_mismatch, silences, GapWant};
use xp_core::records::owned;
use xp_host::xtrace::{timeline, window, StallTrace};

const TRACE: &[u8] =
    include_bytes!("../../../../hostlib/src/xtrace/testdata/planted-timer-1000ms.xentrace");
const LOG: &str =
    include_str!("../../../../hostlib/src/xtrace/testdata/planted-timer-1000ms.stall.log");

fn traced() -> StallTrace {
    let run = crate::report::from_log("planted.log".into(), LOG);
    let w = window(run.of::<owned::Stall>().next().unwrap()).unwrap();
    StallTrace {
        index: 1,
        window: Some(w),
        timeline: timeline::build(TRACE, &w),
    }
}

fn gap(from: &str, to: &str, ms: &str) -> GapWant {
    GapWant {
        from: from.into(),
        to: to.into(),
        ms: ms.into(),
        vcpu: None,
    }
}

#[test]
fn the_gap_expectation_holds_for_the_planted_silence_and_fails_otherwise() {
    let found = silences(&[traced()]);
    let want = gap(
        "singleshot timer fired",
        "deferred wake-up delivered",
        "900..1100",
    );
    assert_eq!(gap_mismatch(&want, &found), None);
    let short = gap(
        "singleshot timer fired",
        "deferred wake-up delivered",
        "1..5",
    );
    let why = gap_mismatch(&short, &found).unwrap();
    assert!(
        why.contains("for 1..5 ms; found: stall 1: d1v0 nothing for 1000.0"),
        "{why}"
    );
    assert!(why.contains("from \"singleshot timer fired"), "{why}");
    let on_d1v0 = GapWant {
        vcpu: Some("d1v0".into()),
        ..want.clone()
    };
    assert_eq!(gap_mismatch(&on_d1v0, &found), None);
    let on_d1v1 = GapWant {
        vcpu: Some("d1v1".into()),
        ..want.clone()
    };
    let why = gap_mismatch(&on_d1v1, &found).unwrap();
    assert!(
        why.starts_with("xentrace: no stall where d1v1's longest silence"),
        "{why}"
    );
    let evtchn = gap(
        "event-channel notification sent",
        "deferred wake-up",
        "900..1100",
    );
    assert!(gap_mismatch(&evtchn, &found).is_some());
    assert!(gap_mismatch(&want, &[])
        .unwrap()
        .ends_with("found: no guest vCPU event inside any stall"));
}
