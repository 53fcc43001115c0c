//! One self-contained HTML page per run, in a reader's order: the verdict and what ran, the
//! errors and the checks that did not pass, the plots inline; then every table (checks,
//! metrics, distributions, stalls, Xen's trace, facts) and the text summary.

use super::figures::{human, stats_values};
use super::junit::esc;
use super::load::Run;
use super::plot::Plot;
use super::text::or_unknown;
use std::fmt::Write;
use xp_core::records::owned;

pub const STYLE: &str = "body{font-family:sans-serif;margin:2em auto;max-width:1000px;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:14px}td,th{border:1px solid #ccc;\
padding:3px 8px;text-align:left;vertical-align:top}th{background:#f2f2f2}td.n{text-align:right;\
white-space:nowrap;font-variant-numeric:tabular-nums}.badge{padding:2px 10px;border-radius:4px;color:#fff}\
.SUCCESS{background:#2a7d2a}.SKIP{background:#777}.ERROR,.CRASH{background:#b36b00}\
.FAILURE{background:#b32020}tr.bad td{background:#fde8e8}figure{margin:1em 0}svg{max-width:100%;\
height:auto}figcaption{font-size:13px;color:#555}pre{background:#f7f7f7;padding:1em;overflow:auto;\
white-space:pre-wrap;overflow-wrap:anywhere}";

/// The page in a reader's order: the verdict (and why), errors, the checks that did not
/// pass, warnings about the input, the plots; then every table and the text summary.
pub fn render(run: &Run, plots: &[Plot]) -> String {
    let mut h = String::new();
    let v = run.verdict.name();
    let _ = write!(h, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>xenprobe {v}: {}</title><style>{STYLE}</style></head><body>", esc(&run.source));
    let _ = write!(
        h,
        "<h1 id=\"verdict\">xenprobe report <span class=\"badge {v}\">{v}</span></h1><p>{}</p>",
        esc(&run.source)
    );
    if let Some(r) = &run.reason {
        let _ = write!(h, "<p><b>Why:</b> {}</p>", esc(r));
    }
    environment(&mut h, run);
    problems(&mut h, run);
    failed_checks(&mut h, run);
    warnings(&mut h, run);
    for p in plots {
        let _ = write!(
            h,
            "<figure id=\"{}\">{}<figcaption><b>{}</b>. {}</figcaption></figure>",
            esc(&p.file),
            strip_xml_decl(&p.svg),
            esc(&p.title),
            esc(&p.caption)
        );
    }
    checks(&mut h, run);
    figures(&mut h, run);
    stalls(&mut h, run);
    if let Some(t) = &run.xentrace {
        crate::xtrace::html(&mut h, run, t);
    }
    facts(&mut h, run);
    let _ = writeln!(
        h,
        "<h2>Text summary</h2><pre>{}</pre></body></html>",
        text_summary(run)
    );
    h
}

/// The text summary, its pointer to Xen's trace a link to that section.
fn text_summary(run: &Run) -> String {
    let above = esc(super::text::XENTRACE_ABOVE);
    esc(&super::text::render_for_html(run)).replacen(
        &above,
        &format!("<a href=\"#xentrace\">{above}</a>"),
        1,
    )
}

fn warnings(h: &mut String, run: &Run) {
    if run.warnings.is_empty() {
        return;
    }
    h.push_str("<h2>Warnings about the input</h2><ul>");
    for w in &run.warnings {
        let _ = write!(h, "<li>{}</li>", esc(w));
    }
    h.push_str("</ul>");
}

fn strip_xml_decl(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

/// A table row; cells from index `num_from` to `num_to` (exclusive) are right-aligned numbers.
fn row_n(h: &mut String, class: &str, cells: &[String], num: std::ops::Range<usize>) {
    let _ = write!(h, "<tr class=\"{class}\">");
    for (i, c) in cells.iter().enumerate() {
        let n = if num.contains(&i) { " class=\"n\"" } else { "" };
        let _ = write!(h, "<td{n}>{}</td>", esc(c));
    }
    h.push_str("</tr>");
}

fn row(h: &mut String, class: &str, cells: &[String]) {
    row_n(h, class, cells, 0..0);
}

fn head(h: &mut String, cols: &[&str]) {
    h.push_str("<table><tr>");
    for c in cols {
        let _ = write!(h, "<th>{c}</th>");
    }
    h.push_str("</tr>");
}

/// What ran, in one line under the verdict.
fn environment(h: &mut String, run: &Run) {
    let e = &run.env;
    let guest = match (&e.mode, &e.memory_mib) {
        (Some(m), Some(mib)) => format!("{m}, {mib} MiB"),
        (m, _) => or_unknown(m).to_string(),
    };
    let parts = [
        format!("Xen {}", or_unknown(&e.xen_version)),
        format!("scheduler {}", or_unknown(&e.scheduler)),
        format!("xenstored {}", or_unknown(&e.xenstored)),
        format!("guest {guest}"),
        format!("command line \"{}\"", e.cmdline.as_deref().unwrap_or("")),
    ];
    let _ = write!(h, "<p class=\"env\">{}</p>", esc(&parts.join("; ")));
}

/// Errors (each with the probe that reported it) and crashes; a crash the "Why" line already
/// gives is not repeated.
fn problems(h: &mut String, run: &Run) {
    let errs = run.of::<owned::Error>().map(|e| match &e.probe {
        Some(p) => format!("{p}: {}", e.msg),
        None => e.msg.clone(),
    });
    let crashes = run
        .of::<owned::Crash>()
        .map(owned::Crash::describe)
        .filter(|c| run.reason.as_ref() != Some(c));
    let all: Vec<String> = errs.chain(crashes).collect();
    if all.is_empty() {
        return;
    }
    h.push_str("<h2>Errors</h2><ul>");
    for e in &all {
        let _ = write!(h, "<li>{}</li>", esc(e));
    }
    h.push_str("</ul>");
}

/// The checks that did not pass, right under the verdict (nothing when all passed).
fn failed_checks(h: &mut String, run: &Run) {
    let bad: Vec<&owned::Check> = run
        .of::<owned::Check>()
        .filter(|c| !c.verdict.passed())
        .collect();
    if bad.is_empty() {
        return;
    }
    let _ = write!(h, "<h2 id=\"failed\">Checks not passed: {}</h2>", bad.len());
    check_table(h, &bad);
}

/// Every check, those not passed first (a sentence when there is none).
fn checks(h: &mut String, run: &Run) {
    let mut all: Vec<&owned::Check> = run.of().collect();
    if all.is_empty() {
        h.push_str("<h2 id=\"checks\">All checks: none</h2><p>The log has no check record.</p>");
        return;
    }
    all.sort_by_key(|c| c.verdict.passed());
    let bad = all.iter().filter(|c| !c.verdict.passed()).count();
    let _ = write!(
        h,
        "<h2 id=\"checks\">All checks: {} ({bad} not passed)</h2>",
        all.len()
    );
    check_table(h, &all);
}

fn check_table(h: &mut String, checks: &[&owned::Check]) {
    head(h, &["probe", "check", "verdict", "expected", "observed"]);
    for c in checks {
        let cls = if c.verdict.passed() { "" } else { "bad" };
        let v = c.verdict.to_string();
        let cells = [&c.probe, &c.name, &v, &c.expected, &c.observed].map(|s| s.to_string());
        row(h, cls, &cells);
    }
    h.push_str("</table>");
}

fn figures(h: &mut String, run: &Run) {
    let m: Vec<&owned::Metric> = run.of().collect();
    if !m.is_empty() {
        h.push_str("<h2>Metrics</h2>");
        head(h, &["metric", "value", "method (with sample count)"]);
        for r in m {
            let cells = [
                format!("{}.{}", r.probe, r.name),
                human(r.value as f64, &r.unit),
                r.method.clone(),
            ];
            row_n(h, "", &cells, 1..2);
        }
        h.push_str("</table>");
    }
    let st: Vec<&owned::Stats> = run.of().collect();
    if st.is_empty() {
        return;
    }
    h.push_str("<h2>Distributions</h2>");
    head(
        h,
        &[
            "name", "n", "min", "avg", "p50", "p99", "p99.9", "max", "method",
        ],
    );
    for r in st {
        let mut cells = vec![format!("{}.{}", r.probe, r.name), r.count.to_string()];
        cells.extend(stats_values(r).map(|v| human(v as f64, &r.unit)));
        cells.push(r.method.clone());
        row_n(h, "", &cells, 1..8);
    }
    h.push_str("</table>");
}

fn stalls(h: &mut String, run: &Run) {
    let st: Vec<&owned::Stall> = run.of().collect();
    if st.is_empty() {
        return;
    }
    let _ = write!(h, "<h2>Stalls: {}</h2>", st.len());
    head(
        h,
        &[
            "start (UTC)",
            "gap",
            "class",
            "running",
            "runnable",
            "blocked",
            "offline",
            "reason",
        ],
    );
    for r in st {
        let ns = |v: u64| human(v as f64, "ns");
        let cls = if r.class == "lost_wakeup" { "bad" } else { "" };
        let cells = [
            super::text::stall_start(r),
            ns(r.gap_ns),
            r.class.clone(),
            ns(r.running_ns),
            ns(r.runnable_ns),
            ns(r.blocked_ns),
            ns(r.offline_ns),
            r.reason.clone(),
        ];
        row_n(h, cls, &cells, 1..2);
    }
    h.push_str("</table>");
}

fn facts(h: &mut String, run: &Run) {
    let info: Vec<&owned::Info> = run.of().collect();
    if info.is_empty() {
        return;
    }
    h.push_str("<h2>Facts the probes reported</h2>");
    head(h, &["probe", "key", "value"]);
    for r in info {
        row(h, "", &[&r.probe, &r.key, &r.value].map(|s| s.to_string()));
    }
    h.push_str("</table>");
}
