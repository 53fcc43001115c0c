use super::timeline::{build, render, skipped_line, StallWindow};
use super::*;
use xp_core::records::owned;
use xp_core::xen::trace::*;

fn rec(event: u32, tsc: u64, data: &[u32]) -> Vec<u8> {
    let h = event | (data.len() as u32) << TRACE_EXTRA_SHIFT | TRC_HD_CYCLE_FLAG;
    let mut out = h.to_le_bytes().to_vec();
    out.extend((tsc as u32).to_le_bytes());
    out.extend(((tsc >> 32) as u32).to_le_bytes());
    data.iter().for_each(|w| out.extend(w.to_le_bytes()));
    out
}

fn window(cpu: u32, recs: &[Vec<u8>]) -> Vec<u8> {
    let body = recs.concat();
    let mut out = CPU_CHANGE_HEADER.to_le_bytes().to_vec();
    out.extend(cpu.to_le_bytes());
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

/// A 1 GHz TSC equal to system time + 1000 (mul 2^32 - 1 is 0.99999...: exact enough here).
fn win(start_ms: u64, gap_ms: u64) -> StallWindow {
    let clock = TimeSnapshot {
        tsc_timestamp: 1_000,
        system_time: 0,
        tsc_to_system_mul: u32::MAX,
        tsc_shift: 0,
        ..TimeSnapshot::default()
    };
    StallWindow {
        start_ns: start_ms * 1_000_000,
        gap_ns: gap_ms * 1_000_000,
        clock,
        margin_ns: MARGIN_NS,
    }
}

const MS: u64 = 1_000_000;

/// The planted lost wake-up as Xen traces it: block at 0, timer fires at 10 ms (deferred),
/// wake at 1010 ms.
fn planted_trace() -> Vec<u8> {
    let blocked = TRC_SCHED_RUNSTATE_CHANGE | 2 << 4;
    let runnable = TRC_SCHED_RUNSTATE_CHANGE | 2 << 8 | 1 << 4;
    let mut f = window(
        1,
        &[
            rec(TRC_SCHED_SWITCH, 1000 + 100 * MS - MS, &[0, 0, 1, 0]),
            rec(
                TRC_PV_HYPERCALL_V2,
                1000 + 100 * MS - 10_000,
                &[24 | 1 << 20 | 1 << 22, 8, 0],
            ),
            rec(TRC_SCHED_BLOCK, 1000 + 100 * MS, &[1, 0]),
            rec(blocked, 1000 + 100 * MS + 100, &[1 << 16]),
            rec(
                TRC_SCHED_PLANTED_DEFER,
                1000 + 110 * MS,
                &[1, 0, 1, 1000, 300],
            ),
        ],
    );
    f.extend(window(
        0,
        &[
            rec(TRC_SCHED_PLANTED_WAKE, 1000 + 1110 * MS, &[1, 0]),
            rec(TRC_SCHED_WAKE, 1000 + 1110 * MS + 50, &[1, 0]),
            rec(runnable, 1000 + 1110 * MS + 60, &[1 << 16]),
            rec(TRC_SCHED_BLOCK, 1000 + 5000 * MS, &[1, 0]),
        ],
    ));
    f
}

#[test]
fn the_planted_stall_shows_the_timer_firing_and_no_wake_for_the_planted_time() {
    let w = win(100, 1010);
    let t = build(&planted_trace(), &w);
    let v = &t.vcpus[&xp_core::xentrace::event::DomVcpu { dom: 1, vcpu: 0 }];
    let what: Vec<&str> = v.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(
        what,
        [
            "switched in (prev d0v0)",
            "hypercall vcpu_op(set_singleshot_timer)",
            "do_block (SCHEDOP_block)",
            "runstate running -> blocked",
            "singleshot timer fired; PLANTED FAULT: wake-up deferred by 1000 ms (event #300)",
            "PLANTED FAULT: deferred wake-up delivered now",
            "vcpu_wake",
            "runstate blocked -> runnable",
        ],
        "the block 5 s later is outside the window"
    );
    let (a, b, wa, wb) = longest_silence(v, &w).unwrap();
    assert!((b - a).abs_diff(1000 * MS) < MS / 100, "{a} {b}");
    assert!(wa.starts_with("singleshot timer fired") && wb.starts_with("PLANTED FAULT: deferred"));
    let text = render(&t, &w);
    assert!(text.contains("d1v0:\n"), "{text}");
    assert!(
        text.contains("+10.000 ms  pCPU1  singleshot timer fired"),
        "{text}"
    );
    assert!(
        text.contains("+1010.000 ms  pCPU0  PLANTED FAULT: deferred"),
        "{text}"
    );
    assert_eq!(skipped_line(&t.skipped), None);
}

#[test]
fn what_was_skipped_is_said() {
    let mut f = planted_trace();
    f.extend(window(
        0,
        &[
            rec(TRC_LOST_RECORDS, 7, &[12, 0, 0, 0]),
            rec(0x0008_1001, 8, &[1]),
            rec(TRC_SCHED_WAKE, 9, &[1]),
        ],
    ));
    f.extend(window(1, &[rec(TRC_SCHED_WAKE, 10, &[1, 0])]));
    f.truncate(f.len() - 2);
    let t = build(&f, &win(100, 1010));
    let line = skipped_line(&t.skipped).unwrap();
    assert_eq!(
        line,
        "12 records lost by Xen (trace buffer full: raise xentrace -S); 18 bytes (record past its window (truncated)); \
         0 bytes (truncated); 1 records of events the timeline does not use (0x00081001 x1); 1 records with a wrong length (0x00028004)"
    );
}

#[test]
fn a_stall_record_without_pvclock_fields_has_no_window() {
    let mut v: owned::Stall = serde_json::from_value(serde_json::json!({"probe": "stall",
        "start_ns": 5, "start_wall_ns": 0, "gap_ns": 7, "class": "preempted", "reason": "r",
        "running_ns": 0, "runnable_ns": 0, "blocked_ns": 0, "offline_ns": 0,
        "blocked_past_deadline_ns": 0, "runstate_coverage_permille": 0}))
    .unwrap();
    assert!(super::window(&v).is_none());
    (v.tsc_timestamp, v.system_time) = (Some(1), Some(2));
    (v.tsc_to_system_mul, v.tsc_shift) = (Some(3), Some(-1));
    let w = super::window(&v).unwrap();
    assert_eq!(
        (
            w.start_ns,
            w.gap_ns,
            w.clock.tsc_shift,
            w.clock.tsc_to_system_mul
        ),
        (5, 7, -1, 3)
    );
}

/// A real capture from the lab (Xen 4.17.5 with the planted-fault patch,
/// planted-timer-wake=100,1000, stall probe at 10 ms beats, xentrace -e 0x00229000), cut to the
/// records of 24 ms around the stall's start and 6 ms around its end (see testdata/README.md).
#[test]
fn recorded_trace_of_a_planted_lost_timer_wakeup() {
    let trace = include_bytes!("testdata/planted-timer-1000ms.xentrace");
    let log = include_str!("testdata/planted-timer-1000ms.stall.log");
    let run = crate::report::from_log("planted.log".into(), log);
    let stall = run.of::<owned::Stall>().next().unwrap();
    let w = super::window(stall).unwrap();
    let t = build(trace, &w);
    let v = &t.vcpus[&xp_core::xentrace::event::DomVcpu { dom: 1, vcpu: 0 }];
    let (a, b, wa, wb) = longest_silence(v, &w).unwrap();
    let fired = (a as f64 - w.start_ns as f64) / 1e6;
    assert!(
        (fired - 10.0).abs() < 0.05,
        "the timer fires at the 10 ms deadline: {fired}"
    );
    assert!(
        ((b - a) as f64 / 1e6 - 1000.0).abs() < 0.1,
        "no wake for 1000 ms"
    );
    assert!(
        wa.starts_with("singleshot timer fired; PLANTED FAULT"),
        "{wa}"
    );
    assert!(wb.contains("deferred wake-up delivered"), "{wb}");
    let text = render(&t, &w);
    for want in [
        "hypercall vcpu_op(set_singleshot_timer)",
        "do_block (SCHEDOP_block)",
        "runstate running -> blocked",
        "+1010.007 ms  pCPU0  vcpu_wake",
        "hypercall event_channel_op (x",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    assert_eq!(t.records, 554);
}

#[test]
fn the_html_report_gives_each_stall_its_own_timeline_under_its_number() {
    let log = include_str!("testdata/planted-timer-1000ms.stall.log");
    let run = crate::report::from_log("planted.log".into(), log);
    let path = std::env::temp_dir().join(format!("xp-xtrace-html-{}.bin", std::process::id()));
    std::fs::write(
        &path,
        include_bytes!("testdata/planted-timer-1000ms.xentrace"),
    )
    .unwrap();
    let mut h = String::new();
    super::html(&mut h, &run, &path);
    std::fs::remove_file(&path).unwrap();
    assert!(
        h.contains("<h3 id=\"xentrace-stall-1\">stall 1 (system "),
        "{h}"
    );
    assert!(h.contains("singleshot timer fired; PLANTED FAULT"), "{h}");
    assert!(h.contains("d1v0: nothing for 1000.0"), "{h}");
    assert!(
        !h.contains("<h3 id=\"xentrace-stall-2\""),
        "one stall in the log"
    );
}
