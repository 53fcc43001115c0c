//! `xenprobe report` and `xenprobe compare` as a user runs them: exit codes from the verdict,
//! the files --out writes, and clear errors for inputs that are not probe logs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_xenprobe");
const LOG: &str = include_str!("../../hostlib/src/report/testdata/stall-pause-serial.log");

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("xp-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&Path]) -> (Option<i32>, String, String) {
    let o: Output = Command::new(BIN).args(args).output().unwrap();
    let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (o.status.code(), s(&o.stdout), s(&o.stderr))
}

/// The recorded stall log, with its result line replaced (`None`: cut before it).
fn log_with(d: &Path, name: &str, result: Option<&str>) -> PathBuf {
    let text = match result {
        Some(r) => LOG.replace("Test result: SUCCESS", &format!("Test result: {r}")),
        None => LOG[..LOG.find("XPC|Test result:").unwrap()].to_string(),
    };
    let p = d.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn report_exits_with_the_verdict_and_writes_the_html_report() {
    let d = tmp("verdict");
    let ok = log_with(&d, "ok.log", Some("SUCCESS"));
    let out = d.join("rep");
    let (code, stdout, stderr) = run(&["report".as_ref(), &ok, "--out".as_ref(), &out]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("verdict      SUCCESS (exit 0)"), "{stdout}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("SUCCESS"), "{html}");
    assert!(out.join("junit.xml").is_file() && out.join("results.json").is_file());
    for (result, want) in [(Some("FAILURE"), 5), (Some("SKIP"), 3), (None, 6)] {
        let p = log_with(&d, "v.log", result);
        let (code, stdout, _) = run(&["report".as_ref(), &p]);
        assert_eq!(code, Some(want), "{result:?}: {stdout}");
    }
    let (_, stdout, _) = run(&["report".as_ref(), &log_with(&d, "cut.log", None)]);
    assert!(stdout.contains("the log is cut short"), "{stdout}");
}

#[test]
fn report_errors_name_the_problem_and_what_to_give() {
    let d = tmp("errors");
    let not_log = d.join("syslog");
    std::fs::write(&not_log, "Dec 7 kernel: eth0 up\nDec 7 sshd: accepted\n").unwrap();
    let empty = d.join("empty.log");
    std::fs::write(&empty, "").unwrap();
    for (input, want) in [
        (
            d.join("missing.log"),
            "missing.log: no such file: give it a probe console log",
        ),
        (
            not_log,
            "syslog: not a xenprobe console log (none of its 2 lines",
        ),
        (empty, "empty.log is empty: give it a probe console log"),
        (d.clone(), "is a directory: give it"),
    ] {
        let (code, _, stderr) = run(&["report".as_ref(), &input]);
        assert_eq!(code, Some(4), "{stderr}");
        assert!(stderr.contains(want), "{want}: {stderr}");
    }
    let ok = log_with(&d, "ok.log", Some("SUCCESS"));
    let trace = d.join("no.trace");
    let (code, _, stderr) = run(&["report".as_ref(), &ok, "--xentrace".as_ref(), &trace]);
    assert_eq!(code, Some(4));
    assert!(stderr.contains("no.trace: no such file"), "{stderr}");
}

#[test]
fn compare_flags_a_worse_run_and_writes_each_runs_report() {
    let d = tmp("compare");
    let a = log_with(&d, "a.log", Some("SUCCESS"));
    let b = log_with(&d, "b.log", Some("FAILURE"));
    let (code, stdout, stderr) = run(&["compare".as_ref(), &a, &a]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("regressions: 0"), "{stdout}");
    let out = d.join("cmp");
    let (code, stdout, stderr) = run(&["compare".as_ref(), &a, &b, "--out".as_ref(), &out]);
    assert_eq!(code, Some(5), "{stderr}");
    assert!(
        stdout.contains("run verdicts: A=SUCCESS  B=FAILURE"),
        "{stdout}"
    );
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        index.contains("<a href=\"B/index.html\">report</a>"),
        "{index}"
    );
    assert!(out.join("A/index.html").is_file() && out.join("B/index.html").is_file());
    assert_eq!(
        std::fs::read_to_string(out.join("comparison.txt")).unwrap(),
        stdout
    );
    let (code, _, stderr) = run(&["compare".as_ref(), &a, &d.join("gone.log")]);
    assert_eq!(code, Some(4));
    assert!(stderr.contains("gone.log: no such file"), "{stderr}");
}

#[test]
fn a_log_cut_inside_a_record_says_so() {
    let d = tmp("cut");
    let p = d.join("cut.log");
    let at = LOG.find("\"kind\":\"stall\"").unwrap() + 20;
    std::fs::write(&p, &LOG[..at]).unwrap();
    let (code, stdout, _) = run(&["report".as_ref(), &p]);
    assert_eq!(code, Some(6), "{stdout}");
    assert!(
        stdout.contains("the log ends inside this record: it was cut short"),
        "{stdout}"
    );
}

/// A restored lab run's serial.log has no Xen boot of its own: the lab writes the saved
/// banner lines and the xenstored it runs at the top, and the report names them from there.
#[test]
fn a_restored_lab_runs_log_names_the_scheduler_and_xenstored() {
    let d = tmp("restored");
    let p = d.join("serial.log");
    let head = "XPLAB restored saved lab 0123abcd: Xen's lines from its boot (saved with it):\n\
        XPLAB saved| (XEN) Xen version 4.20.5-pre (Debian 4.20.4+63) debug=n Tue Nov  3 20:11:50 UTC 2026\n\
        XPLAB saved| (XEN) Using scheduler: SMP Credit Scheduler (credit)\n\
        XPLAB xenstored: xenstored\n";
    let console: String = LOG
        .lines()
        .filter(|l| l.starts_with("XPC|") || l.starts_with("XPLAB stage"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&p, format!("{head}{console}")).unwrap();
    let (code, stdout, stderr) = run(&["report".as_ref(), &p]);
    assert_eq!(code, Some(0), "{stderr}");
    for want in [
        "xen          4.20.5-pre",
        "scheduler    credit\n",
        "xenstored    xenstored\n",
    ] {
        assert!(stdout.contains(want), "{want}: {stdout}");
    }
    std::fs::write(&p, &console).unwrap();
    let (_, stdout, _) = run(&["report".as_ref(), &p]);
    assert!(
        stdout.contains("scheduler    unknown (not in the input)"),
        "without them: {stdout}"
    );
}
