//! The human summary of one run: verdict, environment, checks by probe (failures first, with
//! expected and observed), metrics and distributions with units, stalls, warnings.

use super::figures::{human, samples_in};
use super::load::{Env, Run};
use super::timefmt;
use crate::results::{self, Tally};
use std::fmt::Write;
use xp_core::records::owned;

/// How many stall and summary rows the text shows (the HTML and JSON have them all).
const MAX_ROWS: usize = 40;

pub fn render(run: &Run) -> String {
    body(run, true)
}

/// What the HTML page's text summary says instead of Xen's trace of each stall, which the page
/// shows in its own section above.
pub const XENTRACE_ABOVE: &str = "shown above, in its own section";

/// The summary at the bottom of the HTML page: the same, without Xen's trace of each stall (a
/// long timeline the page already shows) but a line pointing to it.
pub fn render_for_html(run: &Run) -> String {
    body(run, false)
}

fn body(run: &Run, with_xentrace: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "== xenprobe report: {} ==", run.source);
    let v = run.verdict;
    let _ = writeln!(s, "verdict      {} (exit {})", v.name(), v.exit_code());
    if let Some(r) = &run.reason {
        let _ = writeln!(s, "reason       {r}");
    }
    environment(&mut s, &run.env);
    lab(&mut s, run);
    problems(&mut s, run);
    checks(&mut s, run);
    metrics(&mut s, run);
    distributions(&mut s, run);
    stalls(&mut s, run);
    match &run.xentrace {
        Some(t) if with_xentrace => crate::xtrace::text(&mut s, run, t),
        Some(t) => {
            let t = t.display();
            let _ = writeln!(
                s,
                "\nXen's view of the stalls (xentrace {t}): {XENTRACE_ABOVE}"
            );
        }
        None => {}
    }
    summaries(&mut s, run);
    for w in &run.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    s
}

pub fn or_unknown(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("unknown (not in the input)")
}

fn environment(s: &mut String, e: &Env) {
    let _ = writeln!(s, "xen          {}", or_unknown(&e.xen_version));
    let _ = writeln!(s, "scheduler    {}", or_unknown(&e.scheduler));
    let xs = match e.mode.as_deref() {
        Some(m) if m.eq_ignore_ascii_case("dom0") => "none (probe booted as dom0)",
        _ => or_unknown(&e.xenstored),
    };
    let _ = writeln!(s, "xenstored    {xs}");
    let mode = e.mode.clone().unwrap_or_else(|| "unknown".into());
    let mem = e
        .memory_mib
        .as_ref()
        .map(|m| format!(", {m} MiB"))
        .unwrap_or_default();
    let ver = e
        .probe_version
        .as_ref()
        .map(|v| format!(", xenprobe {v}"))
        .unwrap_or_default();
    let _ = writeln!(s, "guest        {mode}{mem}{ver}");
    if let Some(c) = &e.cmdline {
        let _ = writeln!(s, "cmdline      {c}");
    }
}

fn lab(s: &mut String, run: &Run) {
    let Some(lab) = &run.lab else { return };
    let stages: Vec<String> = lab["timings_s"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t[0].as_str()?, t[1].as_f64()?)))
        .filter(|(name, _)| !name.starts_with("dom0:") && *name != "prepare")
        .map(|(name, t)| format!("{name} {t:.1}"))
        .collect();
    let wall = lab["wall_s"].as_f64().unwrap_or(0.0);
    let _ = writeln!(
        s,
        "lab          {wall:.1} s wall; stages entered at (s): {}",
        stages.join(", ")
    );
    if let Some(f) = lab["failure"].as_str() {
        let _ = writeln!(s, "lab failure  {}", f.lines().next().unwrap_or(""));
    }
}

fn problems(s: &mut String, run: &Run) {
    for e in run.of::<owned::Error>() {
        let label = match &e.probe {
            Some(p) => format!("ERROR ({p})"),
            None => "ERROR".to_string(),
        };
        let _ = writeln!(s, "{label:<12} {}", e.msg);
    }
    for c in run.of::<owned::Crash>() {
        let _ = writeln!(s, "CRASH        {}", c.describe());
    }
}

/// Probes in order of appearance; probes with a non-pass check first.
pub fn probe_order(run: &Run) -> Vec<Tally<'_>> {
    let mut t = results::tallies(&run.records);
    t.sort_by_key(|t| t.not_passed().next().is_none());
    t
}

fn checks(s: &mut String, run: &Run) {
    let tallies = probe_order(run);
    let all: usize = tallies.iter().map(|t| t.checks.len()).sum();
    let failed: usize = tallies.iter().map(|t| t.not_passed().count()).sum();
    let _ = writeln!(
        s,
        "\nchecks: {all} ({} pass, {failed} not passed)",
        all - failed
    );
    for t in &tallies {
        let result = t.end.map_or("(no end record)", |e| e.result.name());
        let n = t.checks.len();
        let checks = if n == 1 { "check" } else { "checks" };
        let _ = writeln!(s, "  {:<16} {result:<8} {n} {checks}", t.probe);
        for c in t.not_passed() {
            let v = c.verdict.to_string().to_uppercase();
            let _ = writeln!(s, "    {v:<5} {}", c.name);
            let _ = writeln!(s, "          expected {}", c.expected);
            let _ = writeln!(s, "          observed {}", c.observed);
        }
        let passed: Vec<String> = t
            .checks
            .iter()
            .filter(|c| c.verdict.passed())
            .map(|c| c.name.clone())
            .collect();
        wrap(s, "    pass  ", &passed);
    }
}

/// `prefix a, b, c` wrapped at 100 columns with continuation lines indented.
fn wrap(s: &mut String, prefix: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let mut line = prefix.to_string();
    for (i, it) in items.iter().enumerate() {
        let sep = if i + 1 < items.len() { ", " } else { "" };
        if line.len() + it.len() > 100 && line.trim().len() > prefix.trim().len() {
            let _ = writeln!(s, "{}", line.trim_end());
            line = " ".repeat(prefix.len());
        }
        line.push_str(it);
        line.push_str(sep);
    }
    let _ = writeln!(s, "{line}");
}

fn metrics(s: &mut String, run: &Run) {
    let m: Vec<&owned::Metric> = run.of().collect();
    if m.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\nmetrics                                   value         n  method"
    );
    for r in m {
        let name = format!("{}.{}", r.probe, r.name);
        let v = human(r.value as f64, &r.unit);
        let n = samples_in(&r.method).map_or("-".into(), |n| n.to_string());
        let _ = writeln!(s, "  {name:<38} {v:>10} {n:>7}  {}", r.method);
    }
}

fn distributions(s: &mut String, run: &Run) {
    let st: Vec<&owned::Stats> = run.of().collect();
    if st.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\ndistributions                        n       min       avg       p50       p99     p99.9       max"
    );
    let mut methods: Vec<&str> = Vec::new();
    for r in &st {
        let name = format!("{}.{}", r.probe, r.name);
        let idx = methods
            .iter()
            .position(|x| *x == r.method)
            .unwrap_or_else(|| {
                methods.push(&r.method);
                methods.len() - 1
            });
        let _ = write!(s, "  {name:<32} {:>5}", r.count);
        for v in super::figures::stats_values(r) {
            let _ = write!(s, " {:>9}", human(v as f64, &r.unit));
        }
        let _ = writeln!(s, "  [{}]", idx + 1);
    }
    for (i, m) in methods.iter().enumerate() {
        let _ = writeln!(s, "  [{}] {m}", i + 1);
    }
    if let Some(p) = st.iter().find_map(|r| r.precision.as_ref()) {
        let _ = writeln!(s, "  (percentiles: {p})");
    }
}

/// When a stall started: UTC when the guest had a wall clock, else Xen system time.
pub fn stall_start(r: &owned::Stall) -> String {
    if r.start_wall_ns > 0 {
        timefmt::hms_ms(r.start_wall_ns)
    } else {
        format!("sys {}", human(r.start_ns as f64, "ns"))
    }
}

fn stalls(s: &mut String, run: &Run) {
    let st: Vec<&owned::Stall> = run.of().collect();
    if st.is_empty() {
        return;
    }
    let _ = writeln!(s, "\nstalls: {}", st.len());
    let _ = writeln!(
        s,
        "  start (UTC)          gap  class            running  runnable   blocked   offline  cover"
    );
    for r in st.iter().take(MAX_ROWS) {
        let ms = |v: u64| human(v as f64, "ns");
        let cover = r.runstate_coverage_permille as f64 / 10.0;
        let _ = writeln!(
            s,
            "  {:<14} {:>9}  {:<15} {:>9} {:>9} {:>9} {:>9} {cover:>5.1}%",
            stall_start(r),
            ms(r.gap_ns),
            r.class,
            ms(r.running_ns),
            ms(r.runnable_ns),
            ms(r.blocked_ns),
            ms(r.offline_ns),
        );
    }
    if st.len() > MAX_ROWS {
        let _ = writeln!(
            s,
            "  ... {} more (all of them: --html or --json)",
            st.len() - MAX_ROWS
        );
    }
}

fn summaries(s: &mut String, run: &Run) {
    let sm: Vec<&owned::Summary> = run.of().collect();
    if sm.is_empty() {
        return;
    }
    let _ = writeln!(s, "\nstall summaries (one per period)");
    let _ = writeln!(
        s,
        "    at     period   beats  interval p50       p99       max     steal"
    );
    let mut at = 0.0;
    for r in sm.iter().take(MAX_ROWS) {
        let ns = |v: u64| human(v as f64, "ns");
        let period = r.elapsed_ns as f64 / 1e9;
        at += period;
        let _ = writeln!(
            s,
            "  {at:>5.1} s  {period:>5.1} s {:>7}  {:>12} {:>9} {:>9} {:>9}",
            r.beats,
            ns(r.interval_p50_ns),
            ns(r.interval_p99_ns),
            ns(r.interval_max_ns),
            human(r.steal_ppm as f64, "ppm"),
        );
    }
    if sm.len() > MAX_ROWS {
        let _ = writeln!(s, "  ... {} more", sm.len() - MAX_ROWS);
    }
}
