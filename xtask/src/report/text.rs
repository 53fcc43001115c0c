//! The human summary of one run: verdict, environment, checks by probe (failures first, with
//! expected and observed), metrics and distributions with units, stalls, warnings.

use super::figures::{human, samples_in};
use super::load::{Env, Run};
use super::timefmt;
use crate::results::field;
use serde_json::Value;
use std::fmt::Write;

/// How many stall and summary rows the text shows (the HTML and JSON have them all).
const MAX_ROWS: usize = 40;

pub fn render(run: &Run) -> String {
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
    if let Some(t) = &run.xentrace {
        crate::xtrace::text(&mut s, run, t);
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
    for e in run.of_kind("error") {
        let p = field(e, "probe");
        let label = if p.is_empty() {
            "ERROR".to_string()
        } else {
            format!("ERROR ({p})")
        };
        let _ = writeln!(s, "{label:<12} {}", field(e, "msg"));
    }
    for c in run.of_kind("crash") {
        let _ = writeln!(s, "CRASH        {}", compact(c, &["kind"]));
    }
}

/// Probes in order of appearance; probes with a non-pass check first.
fn probe_order(run: &Run) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in run.of_kind("check").chain(run.of_kind("probe_end")) {
        let p = field(r, "probe");
        if !names.contains(&p) {
            names.push(p);
        }
    }
    let bad = |p: &String| {
        run.of_kind("check")
            .any(|c| c["probe"] == p.as_str() && c["verdict"] != "pass")
    };
    names.sort_by_key(|p| !bad(p));
    names
}

fn checks(s: &mut String, run: &Run) {
    let all: Vec<&Value> = run.of_kind("check").collect();
    let failed = all.iter().filter(|c| c["verdict"] != "pass").count();
    let _ = writeln!(
        s,
        "\nchecks: {} ({} pass, {failed} not passed)",
        all.len(),
        all.len() - failed
    );
    for p in probe_order(run) {
        let mine: Vec<&&Value> = all.iter().filter(|c| c["probe"] == p.as_str()).collect();
        let result = run
            .of_kind("probe_end")
            .find(|r| r["probe"] == p.as_str())
            .map_or("(no end record)".into(), |r| field(r, "result"));
        let _ = writeln!(s, "  {p:<16} {result:<8} {} checks", mine.len());
        for c in mine.iter().filter(|c| c["verdict"] != "pass") {
            let v = field(c, "verdict").to_uppercase();
            let _ = writeln!(s, "    {v:<5} {}", field(c, "name"));
            let _ = writeln!(s, "          expected {}", field(c, "expected"));
            let _ = writeln!(s, "          observed {}", field(c, "observed"));
        }
        let passed: Vec<String> = mine
            .iter()
            .filter(|c| c["verdict"] == "pass")
            .map(|c| field(c, "name"))
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
    let m: Vec<&Value> = run.of_kind("metric").collect();
    if m.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\nmetrics                                   value         n  method"
    );
    for r in m {
        let name = format!("{}.{}", field(r, "probe"), field(r, "name"));
        let v = human(r["value"].as_f64().unwrap_or(f64::NAN), &field(r, "unit"));
        let method = field(r, "method");
        let n = samples_in(&method).map_or("-".into(), |n| n.to_string());
        let _ = writeln!(s, "  {name:<38} {v:>10} {n:>7}  {method}");
    }
}

fn distributions(s: &mut String, run: &Run) {
    let st: Vec<&Value> = run.of_kind("stats").collect();
    if st.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\ndistributions                        n       min       avg       p50       p99     p99.9       max"
    );
    let mut methods: Vec<String> = Vec::new();
    for r in st {
        let name = format!("{}.{}", field(r, "probe"), field(r, "name"));
        let unit = field(r, "unit");
        let cell = |k: &str| r[k].as_f64().map_or("-".into(), |v| human(v, &unit));
        let m = field(r, "method");
        let idx = methods.iter().position(|x| *x == m).unwrap_or_else(|| {
            methods.push(m);
            methods.len() - 1
        });
        let n = field(r, "count");
        let _ = write!(s, "  {name:<32} {n:>5}");
        for k in super::figures::STATS {
            let _ = write!(s, " {:>9}", cell(k));
        }
        let _ = writeln!(s, "  [{}]", idx + 1);
    }
    for (i, m) in methods.iter().enumerate() {
        let _ = writeln!(s, "  [{}] {m}", i + 1);
    }
    if let Some(p) = run.of_kind("stats").find_map(|r| r["precision"].as_str()) {
        let _ = writeln!(s, "  (percentiles: {p})");
    }
}

fn stalls(s: &mut String, run: &Run) {
    let st: Vec<&Value> = run.of_kind("stall").collect();
    if st.is_empty() {
        return;
    }
    let _ = writeln!(s, "\nstalls: {}", st.len());
    let _ = writeln!(
        s,
        "  start (UTC)          gap  class            running  runnable   blocked   offline  cover"
    );
    for r in st.iter().take(MAX_ROWS) {
        let ms = |k: &str| human(r[k].as_f64().unwrap_or(0.0), "ns");
        let wall = r["start_wall_ns"].as_u64().unwrap_or(0);
        let when = if wall > 0 {
            timefmt::hms_ms(wall)
        } else {
            format!("sys {}", ms("start_ns"))
        };
        let cover = r["runstate_coverage_permille"].as_f64().unwrap_or(0.0) / 10.0;
        let _ = writeln!(
            s,
            "  {when:<14} {:>9}  {:<15} {:>9} {:>9} {:>9} {:>9} {cover:>5.1}%",
            ms("gap_ns"),
            field(r, "class"),
            ms("running_ns"),
            ms("runnable_ns"),
            ms("blocked_ns"),
            ms("offline_ns"),
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
    let sm: Vec<&Value> = run.of_kind("summary").collect();
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
        let ns = |k: &str| human(r[k].as_f64().unwrap_or(0.0), "ns");
        let period = r["elapsed_ns"].as_f64().unwrap_or(0.0) / 1e9;
        at += period;
        let _ = writeln!(
            s,
            "  {at:>5.1} s  {period:>5.1} s {:>7}  {:>12} {:>9} {:>9} {:>9}",
            field(r, "beats"),
            ns("interval_p50_ns"),
            ns("interval_p99_ns"),
            ns("interval_max_ns"),
            human(r["steal_ppm"].as_f64().unwrap_or(0.0), "ppm"),
        );
    }
    if sm.len() > MAX_ROWS {
        let _ = writeln!(s, "  ... {} more", sm.len() - MAX_ROWS);
    }
}

/// A record as `k=v` pairs, without the listed keys.
pub fn compact(r: &Value, skip: &[&str]) -> String {
    let Some(o) = r.as_object() else {
        return r.to_string();
    };
    let parts: Vec<String> = o
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .map(|(k, _)| format!("{k}={}", field(r, k)))
        .collect();
    parts.join(" ")
}
