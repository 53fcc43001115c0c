//! Xen's own view of each stall: a xentrace capture (from the lab's dom0, or from a real
//! host's dom0) cut around every stall record and shown per vCPU in `report` (text and HTML).
//!
//! The trace file is taken from `--xentrace FILE`, else found beside the log: `export/
//! xentrace.bin` (the lab's dom0 export directory) or `xentrace.bin` in the log's directory.

pub mod timeline;

use crate::report::Run;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use timeline::{StallWindow, Timeline};
use xp_core::pvclock::TimeSnapshot;
use xp_core::records::owned;

/// How much of the trace to show before a stall starts and after it ends.
pub const MARGIN_NS: u64 = 20_000_000;

/// The file name the lab's dom0 writes the capture to (in its export directory).
pub const TRACE_FILE: &str = "xentrace.bin";

/// A trace file beside a console log, if there is one.
pub fn beside(log: &Path) -> Option<PathBuf> {
    let dir = log.parent()?;
    [dir.join("export").join(TRACE_FILE), dir.join(TRACE_FILE)]
        .into_iter()
        .find(|p| p.is_file())
}

/// The window and clock of a stall record; None if it lacks the pvclock fields (older probes).
pub fn window(stall: &owned::Stall) -> Option<StallWindow> {
    let clock = TimeSnapshot {
        tsc_timestamp: stall.tsc_timestamp?,
        system_time: stall.system_time?,
        tsc_to_system_mul: u32::try_from(stall.tsc_to_system_mul?).ok()?,
        tsc_shift: i8::try_from(stall.tsc_shift?).ok()?,
        ..TimeSnapshot::default()
    };
    Some(StallWindow {
        start_ns: stall.start_ns,
        gap_ns: stall.gap_ns,
        clock,
        margin_ns: MARGIN_NS,
    })
}

/// One stall with its part of the trace.
pub struct StallTrace {
    pub index: usize,
    pub window: Option<StallWindow>,
    pub timeline: Timeline,
}

/// Every stall of the run with its timeline; Err says why there is none (no trace, unreadable).
pub fn stall_traces(run: &Run, trace: &Path) -> Result<Vec<StallTrace>, String> {
    let bytes =
        std::fs::read(trace).map_err(|e| format!("cannot read {}: {e}", trace.display()))?;
    let traces = run
        .of::<owned::Stall>()
        .enumerate()
        .map(|(i, s)| {
            let w = window(s);
            let timeline = w.map(|w| timeline::build(&bytes, &w)).unwrap_or_default();
            StallTrace {
                index: i + 1,
                window: w,
                timeline,
            }
        })
        .collect();
    Ok(traces)
}

/// The longest stretch inside the stall with no event for a vCPU: (from, to, what before,
/// what after). This is where a lost wake-up shows: the timer fired, then nothing.
pub fn longest_silence(
    t: &[timeline::Entry],
    w: &StallWindow,
) -> Option<(u64, u64, String, String)> {
    let end = w.start_ns + w.gap_ns;
    t.windows(2)
        .filter(|p| p[1].sys_ns >= w.start_ns && p[0].sys_ns <= end)
        .max_by_key(|p| p[1].sys_ns - p[0].sys_ns)
        .map(|p| {
            (
                p[0].sys_ns,
                p[1].sys_ns,
                p[0].what.clone(),
                p[1].what.clone(),
            )
        })
}

/// The text section: one block per stall.
pub fn text(s: &mut String, run: &Run, trace: &Path) {
    let _ = writeln!(
        s,
        "\nXen's view of the stalls (xentrace {}):",
        trace.display()
    );
    match stall_traces(run, trace) {
        Err(e) => {
            let _ = writeln!(s, "  {e}");
        }
        Ok(st) => st.iter().for_each(|t| stall_text(s, t)),
    }
}

fn stall_text(s: &mut String, t: &StallTrace) {
    let Some(w) = &t.window else {
        let _ = writeln!(s, "  stall {}: the record has no pvclock fields (probe older than the trace support): cannot place it in the trace", t.index);
        return;
    };
    let _ = writeln!(
        s,
        "  stall {} (system {} ns, {:.1} ms; events from {} ms before to {} ms after; {} records in the file):",
        t.index,
        w.start_ns,
        w.gap_ns as f64 / 1e6,
        MARGIN_NS / 1_000_000,
        MARGIN_NS / 1_000_000,
        t.timeline.records
    );
    s.push_str(&timeline::render(&t.timeline, w));
    for (v, e) in &t.timeline.vcpus {
        if let Some((a, b, wa, wb)) = longest_silence(e, w) {
            let _ = writeln!(
                s,
                "    {v}: nothing for {:.3} ms, from \"{wa}\" to \"{wb}\"",
                (b - a) as f64 / 1e6
            );
        }
    }
    if let Some(k) = timeline::skipped_line(&t.timeline.skipped) {
        let _ = writeln!(s, "    skipped: {k}");
    }
}

/// The HTML section: per stall, its lines preformatted under a heading of its own
/// (`#xentrace-stall-N`, N as in the stalls table's order).
pub fn html(h: &mut String, run: &Run, trace: &Path) {
    let _ = write!(
        h,
        "<h2 id=\"xentrace\">Xen's view of the stalls (xentrace {})</h2>",
        esc(&trace.display().to_string())
    );
    let traces = match stall_traces(run, trace) {
        Ok(t) => t,
        Err(e) => return h.push_str(&format!("<p>{}</p>", esc(&e))),
    };
    for t in &traces {
        let mut body = String::new();
        stall_text(&mut body, t);
        let title = body
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .trim_end_matches(':');
        let rest: Vec<&str> = body.lines().skip(1).collect();
        let _ = write!(
            h,
            "<h3 id=\"xentrace-stall-{}\">{}</h3><pre>{}</pre>",
            t.index,
            esc(title),
            esc(&rest.join("\n"))
        );
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests;
