//! JUnit XML for CI systems: one `<testsuite>` per probe, one `<testcase>` per check, with
//! `<failure>` / `<error>` / `<skipped>` by verdict and expected/observed in the message. A
//! last suite, `xenprobe.run`, holds the run's verdict (so a CRASH with no failed check still
//! shows red) and the errors not tied to a probe.

use super::load::Run;
use crate::results::{Tally, Verdict};
use std::fmt::Write;
use xp_core::outcome::Outcome;
use xp_core::records::owned;

/// One `<testcase>`: its name and, unless it passed, (element, type, message).
struct Case {
    name: String,
    bad: Option<(&'static str, String, String)>,
}

struct Suite {
    name: String,
    time_s: f64,
    cases: Vec<Case>,
}

pub fn render(run: &Run) -> String {
    let tallies = crate::results::tallies(&run.records);
    let mut suites: Vec<Suite> = tallies.iter().map(probe_suite).collect();
    suites.push(run_suite(run));
    // Surefire's schema (junit-10.xsd) has no `skipped` on <testsuites>: only per suite.
    let count = |el: &str| {
        suites
            .iter()
            .flat_map(|s| &s.cases)
            .filter(|c| c.bad.as_ref().is_some_and(|b| b.0 == el))
            .count()
    };
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    // The lab's wall time when known (it includes the probes), else the probes' own times.
    let lab_wall = suites.last().map_or(0.0, |s| s.time_s);
    let probes: f64 = suites.iter().map(|s| s.time_s).sum::<f64>() - lab_wall;
    let time = if lab_wall > 0.0 { lab_wall } else { probes };
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"xenprobe\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\" time=\"{time:.3}\">",
        count("failure"),
        count("error"),
    );
    for s in &suites {
        write_suite(&mut x, s, run);
    }
    x.push_str("</testsuites>\n");
    x
}

fn probe_suite(t: &Tally) -> Suite {
    let mut cases: Vec<Case> = t.checks.iter().map(|c| check_case(c)).collect();
    for (i, e) in t.errors.iter().enumerate() {
        cases.push(Case {
            name: format!("error_{}", i + 1),
            bad: Some(("error", "error".into(), e.msg.clone())),
        });
    }
    Suite {
        name: format!("xenprobe.{}", t.probe),
        time_s: t.end.map_or(0.0, |e| e.elapsed_ns as f64 / 1e9),
        cases,
    }
}

fn check_case(c: &owned::Check) -> Case {
    let msg = format!("expected {}, observed {}", c.expected, c.observed);
    let v = c.verdict.to_string();
    let bad = match c.verdict.0 {
        Outcome::Success => None,
        Outcome::Failure => Some(("failure", v, msg)),
        Outcome::Skip => Some(("skipped", v, msg)),
        Outcome::Error => Some(("error", v, msg)),
    };
    Case {
        name: c.name.clone(),
        bad,
    }
}

fn run_suite(run: &Run) -> Suite {
    let why = run.reason.clone().unwrap_or_default();
    let msg = format!("Test result: {} {why}", run.verdict.name())
        .trim_end()
        .to_string();
    let bad = match run.verdict {
        Verdict::Outcome(Outcome::Success) => None,
        Verdict::Outcome(Outcome::Skip) => Some(("skipped", "SKIP".into(), msg)),
        Verdict::Outcome(Outcome::Failure) => Some(("failure", "FAILURE".into(), msg)),
        Verdict::Outcome(Outcome::Error) => Some(("error", "ERROR".into(), msg)),
        Verdict::Crash => Some(("error", "CRASH".into(), msg)),
    };
    let mut cases = vec![Case {
        name: "verdict".into(),
        bad,
    }];
    let unowned = run.of::<owned::Error>().filter(|e| e.probe.is_none());
    for (i, e) in unowned.enumerate() {
        cases.push(Case {
            name: format!("error_{}", i + 1),
            bad: Some(("error", "error".into(), e.msg.clone())),
        });
    }
    let time_s = run
        .lab
        .as_ref()
        .and_then(|l| l["wall_s"].as_f64())
        .unwrap_or(0.0);
    Suite {
        name: "xenprobe.run".into(),
        time_s,
        cases,
    }
}

fn write_suite(x: &mut String, s: &Suite, run: &Run) {
    let n = |el: &str| {
        s.cases
            .iter()
            .filter(|c| c.bad.as_ref().is_some_and(|b| b.0 == el))
            .count()
    };
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        esc(&s.name),
        s.cases.len(),
        n("failure"),
        n("error"),
        n("skipped"),
        s.time_s
    );
    if s.name == "xenprobe.run" {
        properties(x, run);
    }
    for c in &s.cases {
        let head = format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
            esc(&s.name),
            esc(&c.name)
        );
        match &c.bad {
            None => {
                let _ = writeln!(x, "{head}/>");
            }
            Some((el, ty, msg)) => {
                let _ = writeln!(x, "{head}>");
                let (m, t) = (esc(msg), esc(ty));
                let _ = writeln!(x, "      <{el} message=\"{m}\" type=\"{t}\">{m}</{el}>");
                x.push_str("    </testcase>\n");
            }
        }
    }
    x.push_str("  </testsuite>\n");
}

fn properties(x: &mut String, run: &Run) {
    let e = &run.env;
    let props = [
        ("source", Some(run.source.clone())),
        ("xen_version", e.xen_version.clone()),
        ("scheduler", e.scheduler.clone()),
        ("xenstored", e.xenstored.clone()),
        ("mode", e.mode.clone()),
        ("cmdline", e.cmdline.clone()),
    ];
    x.push_str("    <properties>\n");
    for (k, v) in props {
        if let Some(v) = v {
            let _ = writeln!(x, "      <property name=\"{k}\" value=\"{}\"/>", esc(&v));
        }
    }
    x.push_str("    </properties>\n");
}

/// Text for an XML attribute or element: markup escaped, characters XML 1.0 forbids replaced.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\n' => o.push_str("&#10;"),
            '\t' => o.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}
