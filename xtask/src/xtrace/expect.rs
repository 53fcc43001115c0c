//! What a scenario expects of Xen's trace (`expect_xentrace`, `[expect_xentrace_gap]`), checked
//! against the report a lab run's log and `export/xentrace.bin` give.

use crate::report::Run;
use serde::Deserialize;
use std::path::Path;
use xp_host::xtrace::{beside, longest_silence, stall_traces, StallTrace, TRACE_FILE};

/// `[expect_xentrace_gap]`: around some stall, a guest vCPU's longest silence inside the stall
/// runs from an event whose description contains `from` to one containing `to`, and lasts
/// `ms` milliseconds (a range `lo..hi`). This is the lost wake-up as Xen saw it: the timer
/// fired (or the notification was sent), then nothing for that vCPU until the late wake-up.
/// `vcpu` (e.g. "d1v1"), when given, names the vCPU it must be.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GapWant {
    pub from: String,
    pub to: String,
    pub ms: String,
    #[serde(default)]
    pub vcpu: Option<String>,
}

/// One vCPU's longest silence inside one stall.
#[derive(Debug, Clone, PartialEq)]
pub struct Silence {
    pub stall: usize,
    pub vcpu: String,
    pub ms: f64,
    pub from: String,
    pub to: String,
}

impl std::fmt::Display for Silence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stall {}: {} nothing for {:.3} ms, from \"{}\" to \"{}\"",
            self.stall, self.vcpu, self.ms, self.from, self.to
        )
    }
}

/// Every guest vCPU's longest silence in every stall of the trace.
pub fn silences(traces: &[StallTrace]) -> Vec<Silence> {
    let mut out = Vec::new();
    for t in traces {
        let Some(w) = &t.window else { continue };
        for (v, e) in &t.timeline.vcpus {
            if let Some((a, b, from, to)) = longest_silence(e, w) {
                let ms = (b - a) as f64 / 1e6;
                let (stall, vcpu) = (t.index, v.to_string());
                out.push(Silence {
                    stall,
                    vcpu,
                    ms,
                    from,
                    to,
                });
            }
        }
    }
    out
}

/// None when some silence is the one wanted; else what there was instead.
pub fn gap_mismatch(want: &GapWant, found: &[Silence]) -> Option<String> {
    let ok = |s: &&Silence| {
        want.vcpu.as_ref().is_none_or(|v| *v == s.vcpu)
            && s.from.contains(&want.from)
            && s.to.contains(&want.to)
            && crate::scenario::matches(&want.ms, &s.ms.to_string())
    };
    if found.iter().any(|s| ok(&s)) {
        return None;
    }
    let seen: Vec<String> = found.iter().map(Silence::to_string).collect();
    Some(format!(
        "xentrace: no stall where {}'s longest silence runs from \"{}\" to \"{}\" for {} ms; found: {}",
        want.vcpu.as_deref().unwrap_or("a guest vCPU"),
        want.from,
        want.to,
        want.ms,
        if seen.is_empty() { "no guest vCPU event inside any stall".into() } else { seen.join("; ") }
    ))
}

/// What a scenario's `expect_xentrace` lines and `[expect_xentrace_gap]` miss in the report
/// of a lab run.
pub fn mismatches(wants: &[String], gap: Option<&GapWant>, serial_log: &Path) -> Vec<String> {
    if wants.is_empty() && gap.is_none() {
        return Vec::new();
    }
    let Some(trace) = beside(serial_log) else {
        let dir = serial_log.parent().unwrap_or(Path::new("."));
        return vec![format!(
            "no xentrace capture: {} missing (the dom0 script writes it to $EXPORT/{TRACE_FILE})",
            dir.join("export").join(TRACE_FILE).display()
        )];
    };
    let run = match crate::report::load(serial_log) {
        Ok(r) => r,
        Err(e) => return vec![format!("cannot read {}: {e:#}", serial_log.display())],
    };
    let mut m = text_mismatches(wants, &run, &trace);
    if let Some(g) = gap {
        match stall_traces(&run, &trace) {
            Ok(t) => m.extend(gap_mismatch(g, &silences(&t))),
            Err(e) => m.push(e),
        }
    }
    m
}

fn text_mismatches(wants: &[String], run: &Run, trace: &Path) -> Vec<String> {
    let mut text = String::new();
    xp_host::xtrace::text(&mut text, run, trace);
    let missing: Vec<String> = wants
        .iter()
        .filter(|w| !text.contains(w.as_str()))
        .map(|w| format!("xentrace report lacks {w:?}"))
        .collect();
    if !missing.is_empty() {
        eprintln!("{text}");
    }
    missing
}

#[cfg(test)]
mod tests;
