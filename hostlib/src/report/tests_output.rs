//! Host tests of the report's outputs: the text summary, JUnit XML, and the comparison.

use super::tests::{log, DOMU_LOG};
use super::{compare, junit, text};

const FAILING: &str = "@xp {\"kind\":\"start\",\"mode\":\"domU\"}\n\
@xp {\"kind\":\"check\",\"probe\":\"a\",\"name\":\"good\",\"verdict\":\"pass\",\"expected\":\"1\",\"observed\":\"1\"}\n\
@xp {\"kind\":\"check\",\"probe\":\"b\",\"name\":\"fine\",\"verdict\":\"pass\",\"expected\":\"1\",\"observed\":\"1\"}\n\
@xp {\"kind\":\"check\",\"probe\":\"b\",\"name\":\"bad <&>\",\"verdict\":\"fail\",\"expected\":\"0 \\\"early\\\"\",\"observed\":\"3\"}\n\
@xp {\"kind\":\"check\",\"probe\":\"b\",\"name\":\"skipped\",\"verdict\":\"skip\",\"expected\":\"x\",\"observed\":\"n/a\"}\n\
@xp {\"kind\":\"error\",\"msg\":\"command line: \\u0001bad\"}\n\
@xp {\"kind\":\"probe_end\",\"probe\":\"b\",\"result\":\"FAILURE\",\"elapsed_ns\":1500000000}\n\
Test result: FAILURE\n";

#[test]
fn summary_puts_failures_first_with_expected_and_observed() {
    let t = text::render(&log(FAILING));
    let b = t.find("  b ").unwrap();
    assert!(
        b < t.find("  a ").unwrap(),
        "the probe with a failure comes first:\n{t}"
    );
    assert!(
        t.contains("    FAIL  bad <&>\n          expected 0 \"early\"\n          observed 3"),
        "{t}"
    );
    assert!(t.find("FAIL  bad").unwrap() < t.find("pass  fine").unwrap());
    assert!(t.contains("verdict      FAILURE (exit 5)") && t.contains("ERROR        command line"));
}

#[test]
fn junit_is_well_formed_and_counts_add_up() {
    let x = junit::render(&log(FAILING));
    let doc = roxmltree::Document::parse(&x).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let attr = |n: roxmltree::Node, k: &str| n.attribute(k).unwrap().parse::<usize>().unwrap();
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let names: Vec<_> = suites
        .iter()
        .map(|s| s.attribute("name").unwrap())
        .collect();
    assert_eq!(names, ["xenprobe.a", "xenprobe.b", "xenprobe.run"]);
    for s in &suites {
        let cases: Vec<_> = s
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(attr(*s, "tests"), cases.len());
        for el in ["failure", "error", "skipped"] {
            let n = cases
                .iter()
                .filter(|c| c.children().any(|x| x.has_tag_name(el)))
                .count();
            assert_eq!(
                attr(
                    *s,
                    if el == "failure" {
                        "failures"
                    } else if el == "error" {
                        "errors"
                    } else {
                        "skipped"
                    }
                ),
                n
            );
        }
    }
    assert_eq!(
        (
            attr(root, "tests"),
            attr(root, "failures"),
            attr(root, "errors")
        ),
        (6, 2, 1)
    );
    let bad = doc
        .descendants()
        .find(|n| n.attribute("name") == Some("bad <&>"))
        .unwrap();
    let f = bad.children().find(|n| n.has_tag_name("failure")).unwrap();
    assert_eq!(
        f.attribute("message"),
        Some("expected 0 \"early\", observed 3")
    );
}

#[test]
fn junit_reports_a_crash_in_the_run_suite() {
    let crash = junit::render(&log(
        "@xp {\"kind\":\"crash\",\"reason\":\"panic\",\"message\":\"m\",\"location\":\"l\"}\n",
    ));
    assert!(
        crash.contains(
            "<error message=\"Test result: CRASH probe panicked: m at l\" type=\"CRASH\">"
        ),
        "{crash}"
    );
}

#[test]
fn comparison_lists_changed_checks_then_regressions() {
    let a = log(DOMU_LOG);
    let worse = DOMU_LOG
        .replace(
            "\"name\":\"no_lost_wakeups\",\"verdict\":\"pass\"",
            "\"name\":\"no_lost_wakeups\",\"verdict\":\"fail\"",
        )
        .replace("\"p99\":7077887", "\"p99\":9999999")
        .replace("Test result: SUCCESS", "Test result: FAILURE");
    let (t, regressed) = compare::render(&[a, log(&worse)], 0.10);
    assert!(regressed);
    assert!(t.contains("run verdicts: A=SUCCESS  B=FAILURE"), "{t}");
    let changed = t.find("checks that changed verdict: 1").unwrap();
    assert!(
        t[changed..].contains("stall.no_lost_wakeups") && t[changed..].contains("A=pass  B=fail"),
        "{t}"
    );
    let reg = t.find("regressions: 1").unwrap();
    assert!(
        changed < reg
            && t[reg..]
                .lines()
                .nth(1)
                .unwrap()
                .contains("timer.lateness_1ms.p99"),
        "{t}"
    );
    assert!(t.contains("(x1.41)  REGRESSION(B)"), "{t}");
    let (_, same) = compare::render(&[log(DOMU_LOG), log(DOMU_LOG)], 0.10);
    assert!(!same);
}

#[test]
fn comparison_lists_checks_only_some_runs_have_apart() {
    let line = DOMU_LOG
        .lines()
        .find(|l| l.contains("\"name\":\"no_unarmed_wakeups\""))
        .unwrap();
    let fewer = DOMU_LOG.replacen(line, "", 1);
    let (t, regressed) = compare::render(&[log(DOMU_LOG), log(&fewer)], 0.10);
    assert!(!regressed, "{t}");
    assert!(t.contains("checks that changed verdict: 0\n"), "{t}");
    let partial = t
        .find("checks not in every run (- = absent): 1\n")
        .expect(&t);
    assert!(
        t[partial..].contains("timer.no_unarmed_wakeups") && t[partial..].contains("A=pass  B=-"),
        "{t}"
    );
}
