//! The kernel's encoder and the host's serde reader agree on every kind.

use super::*;
use core::fmt::Display;

type T<'a> = &'a dyn Display;

/// Encode `r` as the kernel does and read it back as the host does.
fn round_trip<R: Kind>(r: &R) -> Record {
    let mut line = String::new();
    write(&mut line, r).unwrap();
    let json = line
        .strip_prefix(RECORD_PREFIX)
        .and_then(|l| l.strip_suffix('\n'))
        .unwrap();
    Record::parse(json).unwrap_or_else(|e| panic!("{line}: {e}"))
}

#[test]
fn check_and_outcomes() {
    let r = round_trip(&Check::<T> {
        probe: &"xenstore",
        name: &"perms",
        verdict: Verdict(Outcome::Failure),
        expected: &format_args!("n{} r{}", 0, 1),
        observed: &"\"quoted\"\n",
    });
    let want = owned::Check {
        probe: "xenstore".into(),
        name: "perms".into(),
        verdict: Verdict(Outcome::Failure),
        expected: "n0 r1".into(),
        observed: "\"quoted\"\n".into(),
    };
    assert_eq!(r, Record::Check(want));
    assert_eq!(r.kind(), "check");
    assert_eq!(r.probe(), Some("xenstore"));
    let end = round_trip(&ProbeEnd::<T> {
        probe: &"timer",
        result: Outcome::Skip,
        elapsed_ns: 7,
    });
    assert!(matches!(end, Record::ProbeEnd(ref e) if e.result == Outcome::Skip));
    let res = round_trip(&RunResult {
        result: Outcome::Success,
    });
    assert_eq!(res.kind(), "result");
}

#[test]
fn histogram_buckets_and_options() {
    let mut h = hist::Histogram::new();
    for v in [3, 3, 1000] {
        h.record(v);
    }
    let r = round_trip(&Histogram::<T, Buckets> {
        probe: &"timer",
        name: &"lateness",
        unit: &"ns",
        buckets: Buckets(&h),
    });
    let Record::Histogram(hr) = r else {
        panic!("{r:?}")
    };
    assert_eq!(hr.buckets, vec![[3, 3, 2], [992, 1023, 1]]);
    let e = round_trip(&Error::<T> {
        probe: None,
        vcpu: None,
        msg: &"command line: unknown probe",
    });
    assert_eq!(e.probe(), None);
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(
        json,
        r#"{"kind":"error","probe":null,"vcpu":null,"msg":"command line: unknown probe"}"#
    );
}

#[test]
fn every_kind_round_trips() {
    let s = round_trip(&Stall::<T> {
        probe: &"stall",
        vcpu: Some(1),
        start_ns: 1,
        start_wall_ns: 2,
        gap_ns: 3,
        class: &"lost_wakeup",
        reason: &"r",
        running_ns: 4,
        runnable_ns: 5,
        blocked_ns: 6,
        offline_ns: 7,
        blocked_past_deadline_ns: 8,
        runstate_coverage_permille: 1000,
        tsc_timestamp: Some(9),
        system_time: Some(10),
        tsc_to_system_mul: Some(11),
        tsc_shift: Some(-1),
        late_ns: None,
    });
    let Record::Stall(st) = s else { panic!() };
    assert_eq!((st.tsc_shift, st.late_ns), (Some(-1), None));
    let kinds = [
        round_trip(&Start::<T> {
            version: &"0.1.0",
            cmdline: &"probes=timer",
            mode: &"domU",
            xen_version: Some(&"4.17.7"),
        }),
        round_trip(&ProbeStart::<T> {
            probe: &"timer",
            about: &"lateness",
            index: 1,
            of: 2,
        }),
        round_trip(&Info::<T> {
            probe: &"p",
            key: &"k",
            value: &42,
        }),
        round_trip(&Metric::<T> {
            probe: &"p",
            name: &"n",
            value: 3,
            unit: &"ns",
            method: &"m",
        }),
        round_trip(&Crash::<T> {
            reason: &"panic",
            vector: None,
            name: None,
            error_code: None,
            rip: None,
            cr2: None,
            message: Some(&"boom"),
            location: Some(&"x.rs:1:2"),
        }),
    ];
    let names: Vec<_> = kinds.iter().map(Record::kind).collect();
    assert_eq!(names, ["start", "probe_start", "info", "metric", "crash"]);
}

#[test]
fn old_logs_and_bad_records() {
    // A stall record from before the clock fields, a start record from before xen_version.
    let old = r#"{"kind":"stall","probe":"stall","start_ns":1,"start_wall_ns":0,"gap_ns":3,"class":"preempted","reason":"r","running_ns":0,"runnable_ns":0,"blocked_ns":0,"offline_ns":0,"blocked_past_deadline_ns":0,"runstate_coverage_permille":0}"#;
    assert!(matches!(Record::parse(old), Ok(Record::Stall(s)) if s.tsc_timestamp.is_none()));
    let start = r#"{"kind":"start","version":"0.1.0","cmdline":"","mode":"domU"}"#;
    assert!(Record::parse(start).is_ok());
    let e = Record::parse(r#"{"kind":"check","probe":"p"}"#).unwrap_err();
    assert!(e.starts_with("a `check` record: missing field"), "{e}");
    let e = Record::parse(r#"{"kind":"weird"}"#).unwrap_err();
    assert!(e.contains("weird"), "{e}");
    assert_eq!(Record::parse("[1]").unwrap_err(), "not a JSON object");
    let e = Record::parse(r#"{"kind":"result","result":"MAYBE"}"#).unwrap_err();
    assert!(e.contains("MAYBE"), "{e}");
}
