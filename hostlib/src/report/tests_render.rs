//! Host tests that render: the plots and the HTML page of recorded lab runs. (`--follow` is
//! `xenprobe follow`: host/tests/follow.rs.)

use super::tests::{log, DOMU_LOG, STALL_LOG};
use super::{html, plot, plot_hist};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("xp-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn plots_of_a_recorded_lab_run() {
    let run = log(DOMU_LOG);
    let plots = plot::render_all(&run).unwrap();
    let files: Vec<&str> = plots.iter().map(|p| p.file.as_str()).collect();
    for want in [
        "pct-timer-lateness.svg",
        "pct-timer-resume_after_fire.svg",
        "pct-evtchn.svg",
        "hist-timer-lateness_1ms.svg",
        "stall-summaries.svg",
    ] {
        assert!(files.contains(&want), "{want} missing from {files:?}");
    }
    for p in &plots {
        let doc = roxmltree::Document::parse(&p.svg).unwrap_or_else(|e| panic!("{}: {e}", p.file));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert!(p.svg.contains(&p.title), "{} shows its title", p.file);
    }
    let pct = plots
        .iter()
        .find(|p| p.file == "pct-timer-lateness.svg")
        .unwrap();
    for series in [
        "lateness_100us (n=200)",
        "lateness_1ms (n=200)",
        "lateness_10ms (n=200)",
        "lateness_100ms (n=20)",
    ] {
        assert!(pct.svg.contains(series), "legend has {series}");
    }
    let dir = temp_dir("plots");
    let written = super::write_dir(&run, &dir).unwrap();
    assert!(written.iter().all(|p| p.is_file()));
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert_eq!(page.matches("<svg").count(), plots.len());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stall_timeline_of_a_recorded_pause_run() {
    let run = log(STALL_LOG);
    let plots = plot::render_all(&run).unwrap();
    let tl = plots
        .iter()
        .find(|p| p.file == "stall-timeline.svg")
        .expect("a timeline");
    assert!(tl.svg.contains("paused_offline (3)") && tl.svg.contains("threshold 50 ms"));
    assert!(tl.svg.contains("09:15:4"), "UTC time labels");
    let page = html::render(&run, &plots);
    assert!(page.contains("<h2>Stalls: 3</h2>") && page.contains("paused_offline"));
}

#[test]
fn percentile_curves_are_monotonic_and_grouped() {
    let run = log(DOMU_LOG);
    let hs: Vec<_> = run
        .of::<xp_core::records::owned::Histogram>()
        .filter_map(plot_hist::Hist::from_record)
        .collect();
    for h in &hs {
        let c = h.curve();
        assert!(
            c.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1),
            "{}",
            h.name
        );
        assert!(c.last().unwrap().0 <= (h.total() as f64).log10() + 1e-9);
    }
    let g = plot_hist::groups(&hs);
    let keys: Vec<(&str, usize)> = g.iter().map(|(k, v)| (k.as_str(), v.len())).collect();
    assert_eq!(
        keys,
        [
            ("timer.lateness", 4),
            ("timer.resume_after_fire", 4),
            ("evtchn", 1)
        ]
    );
    assert_eq!(plot_hist::stem("lateness_100us"), "lateness");
    assert_eq!(plot_hist::stem("send_to_handler"), "send_to_handler");
    assert_eq!(plot_hist::pct_label(2.0), "99%");
    assert_eq!(plot_hist::pct_label(3.0), "99.9%");
}

#[test]
fn the_page_leads_with_the_verdict_failed_checks_and_plots_then_the_tables() {
    let failed = DOMU_LOG.replacen("\"verdict\":\"pass\"", "\"verdict\":\"fail\"", 1);
    let run = log(&failed.replace("Test result: SUCCESS", "Test result: FAILURE"));
    let plots = plot::render_all(&run).unwrap();
    let page = html::render(&run, &plots);
    let at = |what: &str| page.find(what).unwrap_or_else(|| panic!("no {what}"));
    let order = [
        "<h1 id=\"verdict\">xenprobe report <span class=\"badge FAILURE\">FAILURE</span>",
        "<p class=\"env\">Xen 4.17",
        "<h2 id=\"failed\">Checks not passed: 1</h2>",
        "<figure id=",
        "<h2 id=\"checks\">All checks: ",
        "<h2>Distributions</h2>",
        "<h2>Text summary</h2>",
    ];
    let pos: Vec<usize> = order.iter().map(|w| at(w)).collect();
    assert!(pos.windows(2).all(|p| p[0] < p[1]), "{order:?} at {pos:?}");
    let passed = html::render(&log(DOMU_LOG), &plots);
    assert!(
        !passed.contains("id=\"failed\""),
        "no failed-checks section when all pass"
    );
}

#[test]
fn a_crash_page_says_it_once_and_errors_name_their_probe() {
    let start =
        r#"@xp {"kind":"start","version":"0.1.0","cmdline":"probes=selftest.panic","mode":"domU"}"#;
    let err = r#"@xp {"kind":"error","probe":"xenstore","msg":"injected fault len"}"#;
    let crash = r#"@xp {"kind":"crash","reason":"panic","message":"deliberate panic","location":"selftest.rs:40:5"}"#;
    let run = log(&format!("{start}\n{err}\n{crash}\n"));
    let page = html::render(&run, &[]);
    let top = &page[..page.find("<h2>Text summary").unwrap()];
    assert_eq!(
        top.matches("deliberate panic").count(),
        1,
        "once, as Why: {page}"
    );
    assert!(
        page.contains("<b>Why:</b> probe panicked: deliberate panic"),
        "{page}"
    );
    assert!(
        page.contains("<li>xenstore: injected fault len</li>"),
        "{page}"
    );
    assert!(
        page.contains("All checks: none</h2><p>The log has no check record."),
        "{page}"
    );
    assert!(!page.contains("<th>check</th>"), "no empty check table");
}

/// Xen's trace of a stall is a long timeline: the page shows it once, in its section, and the
/// text summary at the bottom links there instead of repeating it (summary.txt keeps it).
#[test]
fn the_page_shows_xens_trace_once_and_the_text_summary_points_to_it() {
    let dir = temp_dir("xentrace-once");
    let trace = dir.join("xentrace.bin");
    std::fs::write(
        &trace,
        include_bytes!("../xtrace/testdata/planted-timer-1000ms.xentrace"),
    )
    .unwrap();
    let mut run = log(include_str!(
        "../xtrace/testdata/planted-timer-1000ms.stall.log"
    ));
    run.xentrace = Some(trace);
    let page = html::render(&run, &[]);
    let event = "+1010.007 ms  pCPU0  vcpu_wake";
    assert_eq!(page.matches(event).count(), 1, "{page}");
    assert!(page.contains("<h2 id=\"xentrace\">"), "{page}");
    let summary = &page[page.find("<h2>Text summary").unwrap()..];
    assert!(
        summary.contains("<a href=\"#xentrace\">shown above, in its own section</a>"),
        "{summary}"
    );
    assert!(
        super::text::render(&run).contains(event),
        "the text keeps it"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
