//! Host tests of the report's inputs: recorded lab runs, the same console carried differently
//! (xenconsoled timestamps, Xen's `(d1) ` tag), truncated and garbled logs (warnings naming the
//! line, never a panic), JSON inputs with clear errors.

use super::load::{from_json, from_log, Run};
use super::{junit, text};
use crate::results::Verdict;
use xp_core::outcome::Outcome;

/// A recorded lab run (domU, probes platform,evtchn,timer,stall duration=5), Xen's serial log.
pub const DOMU_LOG: &str = include_str!("testdata/domu-serial.log");
/// A recorded stall run with three `xl pause`s (threshold 50 ms, summaries every 3 s).
pub const STALL_LOG: &str = include_str!("testdata/stall-pause-serial.log");

pub fn log(text: &str) -> Run {
    from_log("test.log".into(), text)
}

/// The probe's console lines of a lab serial log, without the relay's `XPC|`.
fn console(serial: &str) -> Vec<&str> {
    serial
        .lines()
        .filter_map(|l| l.strip_prefix("XPC|"))
        .collect()
}

#[test]
fn recorded_lab_run_is_read_whole() {
    let r = log(DOMU_LOG);
    assert_eq!(r.verdict, Verdict::Outcome(Outcome::Success));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.of::<xp_core::records::owned::Check>().count(), 30);
    assert_eq!(r.env.xen_version.as_deref(), Some("4.17.7"));
    assert_eq!(r.env.scheduler.as_deref(), Some("credit2"));
    let f = r.figures();
    let p99 = f
        .iter()
        .find(|f| f.name == "timer.lateness_1ms.p99")
        .unwrap();
    assert_eq!(
        (p99.value, p99.samples, p99.unit.as_str()),
        (Some(7077887.0), Some(200), "ns")
    );
    assert!(
        f.iter().all(|f| !f.unit.is_empty() && !f.method.is_empty()),
        "every figure states unit and method"
    );
}

#[test]
fn same_console_through_other_carriers() {
    let want = log(DOMU_LOG).records.len();
    let lines = console(DOMU_LOG);
    let stamped: String = lines
        .iter()
        .map(|l| format!("[2026-11-21 09:00:00] {l}\r\n"))
        .collect();
    let xen: String = lines.iter().map(|l| format!("(d1) {l}\n")).collect();
    let xl_console: String = lines.iter().map(|l| format!("{l}\r\n")).collect();
    for text in [stamped, xen, xl_console] {
        let r = log(&text);
        assert_eq!(r.records.len(), want);
        assert_eq!(r.verdict, Verdict::Outcome(Outcome::Success));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }
}

#[test]
fn truncated_logs_are_crashes_with_reasons_never_panics() {
    let text: String = console(DOMU_LOG).join("\n");
    for cut in (0..text.len())
        .step_by(97)
        .filter(|&c| text.is_char_boundary(c))
    {
        let r = log(&text[..cut]);
        assert_eq!(r.verdict, Verdict::Crash, "cut at {cut}");
        assert!(r
            .reason
            .as_deref()
            .unwrap()
            .contains("no `Test result:` line"));
        let _ = (
            text::render(&r),
            junit::render(&r),
            super::plot::render_all(&r).unwrap(),
        );
    }
    // Cut inside a record: the warning names the line.
    let cut = text.find("\"kind\":\"stats\"").unwrap() + 20;
    let line = text[..cut].lines().count();
    let r = log(&text[..cut]);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with(&format!("line {line}: unparseable @xp record"))),
        "{:?}",
        r.warnings
    );
}

#[test]
fn garbled_logs_warn_by_line_and_never_panic() {
    let mut bytes = DOMU_LOG.as_bytes().to_vec();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..400 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let i = (seed % bytes.len() as u64) as usize;
        bytes[i] = (seed >> 32) as u8;
    }
    let text = String::from_utf8_lossy(&bytes);
    let r = log(&text);
    let _ = (
        text::render(&r),
        junit::render(&r),
        super::plot::render_all(&r).unwrap(),
    );
    assert!(
        r.warnings.iter().all(|w| w.starts_with("line ")),
        "{:?}",
        r.warnings
    );
    assert!(!r.records.is_empty());
    let odd = log("@xp {\"kind\":\"check\"\nnoise @xp {\"kind\":\"info\",\"probe\":\"p\",\"key\":\"k\",\"value\":\"v\"}\nTest result: SUCCES\n");
    assert_eq!(odd.verdict, Verdict::Crash);
    assert_eq!(odd.records.len(), 1, "the record after noise is kept");
    let w = odd.warnings.join("\n");
    assert!(
        w.contains("line 1: unparseable")
            && w.contains("line 2: an @xp record after other text")
            && w.contains("line 3: not a result line"),
        "{w}"
    );
}

#[test]
fn not_a_probe_log_says_so() {
    let r = log("just some text\nnothing here\n");
    assert_eq!(r.verdict, Verdict::Crash);
    assert!(r
        .warnings
        .iter()
        .any(|w| w.contains("is this a xenprobe console log")));
    let dir = std::env::temp_dir().join(format!("xp-report-utf8-{}", std::process::id()));
    std::fs::write(&dir, b"Test result: SUCCESS\n\xff\xfe\n").unwrap();
    let r = super::load(&dir).unwrap();
    std::fs::remove_file(&dir).unwrap();
    assert_eq!(r.verdict, Verdict::Outcome(Outcome::Success));
    assert!(r.warnings[0].contains("not valid UTF-8"));
}

#[test]
fn lab_streams_that_quote_records_are_not_the_probe() {
    let text =
        "XPS|@xp {\"kind\":\"check\",\"verdict\":\"fail\"}\nXPP|peer|@xp {\"kind\":\"error\"}\n\
                XPC|@xp {\"kind\":\"start\",\"version\":\"0.1.0\",\"cmdline\":\"\",\"mode\":\"domU\"}\nXPC|Test result: SUCCESS\nXPS|Test result: FAILURE\n";
    let r = log(text);
    assert_eq!(r.records.len(), 1);
    assert_eq!(r.verdict, Verdict::Outcome(Outcome::Success));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn a_log_with_two_runs_reports_the_last() {
    let start = "@xp {\"kind\":\"start\",\"version\":\"0.1.0\",\"cmdline\":\"\",\"mode\":\"domU\"}";
    let one = format!("{start}\n@xp {{\"kind\":\"check\",\"probe\":\"p\",\"name\":\"a\",\"verdict\":\"fail\",\"expected\":\"1\",\"observed\":\"2\"}}\nTest result: FAILURE\n");
    let two = format!("{start}\nTest result: SUCCESS\n");
    let r = log(&format!("{one}{two}"));
    assert_eq!(r.verdict, Verdict::Outcome(Outcome::Success));
    assert_eq!(r.of::<xp_core::records::owned::Check>().count(), 0);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("line 4: a new run starts here")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn json_inputs_and_clear_errors() {
    let doc = r#"{"verdict":"FAILURE","exit_code":5,"reason":null,"config":{"mode":"DomU","xenstored":"C","sched":"Credit","memory_mib":4,"cmdline":"probes=x"},
        "records":[{"kind":"check","probe":"x","name":"c","verdict":"fail","expected":"1","observed":"2"}],"console":["@xp {bad"],"lab":{"wall_s":9.5}}"#;
    let r = from_json("a.json".into(), doc).unwrap();
    assert_eq!(r.verdict.exit_code(), 5);
    assert_eq!(
        (r.env.xenstored.as_deref(), r.env.scheduler.as_deref()),
        (Some("xenstored"), Some("credit"))
    );
    assert_eq!(
        r.warnings,
        vec!["line 1: unparseable @xp record: key must be a string at line 1 column 2".to_string()]
    );
    assert!(r
        .figures()
        .iter()
        .any(|f| f.name == "lab.wall" && f.value == Some(9.5)));
    let e = from_json("cut.json".into(), &doc[..100]).unwrap_err();
    assert!(
        format!("{e:#}").contains("cut.json: not valid JSON"),
        "{e:#}"
    );
    let e = from_json("x.json".into(), "{\"a\":1}").unwrap_err();
    assert!(e
        .to_string()
        .contains("not a `cargo xtask run --json` file"));
    let e = from_json("x.json".into(), r#"{"records":[],"verdict":"MAYBE"}"#).unwrap_err();
    assert!(e.to_string().contains("unknown verdict"));
}
