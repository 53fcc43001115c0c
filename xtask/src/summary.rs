//! The human summary after a run, and the `--json` file.

use crate::lab::Mode;
use crate::run::{Outcome, RunOpts};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::path::Path;
use xp_core::records::owned;
use xp_host::results;

fn describe(o: &RunOpts) -> String {
    match o.mode {
        Mode::Dom0 => format!("probe as dom0 (no toolstack), sched {}", o.sched.xen_name()),
        Mode::DomU => format!(
            "probe as domU via xl create, {} MiB, xenstored {}, sched {}",
            o.memory_mib,
            o.xenstored.name(),
            o.sched.xen_name()
        ),
    }
}

/// Print the summary to stderr (stdout carries the probe's own console).
pub fn print(opts: &RunOpts, out: &Outcome) {
    let p = &out.parsed;
    eprintln!("\n== xenprobe summary ==");
    eprintln!("lab:     {}", describe(opts));
    let start = p.of::<owned::Start>().next();
    let xen = start.and_then(|r| r.xen_version.clone());
    eprintln!("xen:     {}", xen.as_deref().unwrap_or("?"));
    for l in crate::lab::describe(&out.lab.what) {
        eprintln!("booted:  {l}");
    }
    probes(p);
    crate::xs_compare::print(&crate::xs_compare::rows(p, &out.lab.script_lines));
    lab(out);
    eprintln!(
        "verdict: {} (exit {})",
        out.verdict.name(),
        out.verdict.exit_code()
    );
}

/// Each probe's result and check count, then what did not pass and the errors.
fn probes(p: &results::Parsed) {
    let tallies = results::tallies(&p.records);
    for t in &tallies {
        let result = t.end.map_or("(no end)", |e| e.result.name());
        eprintln!(
            "probe:   {:<18} {result:<8} {} checks, {} not passed",
            t.probe,
            t.checks.len(),
            t.not_passed().count()
        );
    }
    for c in tallies.iter().flat_map(|t| t.not_passed()) {
        eprintln!(
            "  {} {}.{}: expected {}, observed {}",
            c.verdict.to_string().to_uppercase(),
            c.probe,
            c.name,
            c.expected,
            c.observed
        );
    }
    for e in p.of::<owned::Error>() {
        eprintln!("  ERROR {}", e.msg);
    }
    for (line, why) in &p.bad {
        eprintln!("  unparseable @xp record on console line {line}: {why}");
    }
}

/// Why the verdict is not the probe's own, the lab's time and files, and the peers.
fn lab(out: &Outcome) {
    if let Some(r) = &out.reason {
        eprintln!("reason:  {r}");
    }
    if let Some(f) = &out.lab.failure {
        if out.reason.as_deref() != Some(f.as_str()) {
            eprintln!("lab:     {f}");
        }
    }
    eprintln!(
        "time:    {:.1} s wall; console {} lines; serial log {}",
        out.lab.wall.as_secs_f64(),
        out.lab.probe_lines.len(),
        out.lab.serial_log.display()
    );
    for (name, pp) in &out.peers {
        let checks: Vec<&owned::Check> = pp.of().collect();
        let bad = checks.iter().filter(|c| !c.verdict.passed()).count();
        eprintln!(
            "peer:    {name:<18} {:<8} {} checks, {bad} not passed",
            pp.verdict().name(),
            checks.len()
        );
    }
}

/// Everything about a run as one JSON document.
pub fn to_json(opts: &RunOpts, out: &Outcome) -> Value {
    json!({
        "verdict": out.verdict.name(),
        "exit_code": out.verdict.exit_code(),
        "reason": out.reason,
        "config": {
            "mode": format!("{:?}", opts.mode),
            "xenstored": format!("{:?}", opts.xenstored),
            "sched": format!("{:?}", opts.sched),
            "memory_mib": opts.memory_mib,
            "cmdline": opts.cmdline,
        },
        "records": out.parsed.records,
        "booted": out.lab.what,
        "lab": {
            "stage": format!("{:?}", out.lab.stage),
            "guest_end": format!("{:?}", out.lab.guest_end),
            "failure": out.lab.failure,
            "wall_s": out.lab.wall.as_secs_f64(),
            "timings_s": out.lab.timings.iter().map(|(k, d)| json!([k, d.as_secs_f64()])).collect::<Vec<_>>(),
            "serial_log": out.lab.serial_log,
        },
        "console": out.lab.probe_lines,
        "peers": out.peers.iter().map(|(name, pp)| json!({
            "name": name,
            "verdict": pp.verdict().name(),
            "records": pp.records,
            "console": out.lab.peer_lines.iter().filter(|(n, _)| n == name).map(|(_, l)| l).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "dom0_script_output": out.lab.script_lines,
        "xenstore_latency_vs_test_xenstore": crate::xs_compare::to_json(&crate::xs_compare::rows(&out.parsed, &out.lab.script_lines)),
    })
}

pub fn write_json(path: &Path, opts: &RunOpts, out: &Outcome) -> Result<()> {
    let text = serde_json::to_string_pretty(&to_json(opts, out))?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
