//! What `xenprobe follow` prints for each record (and `cargo xtask report --follow`, which runs
//! it): a run's start, each stall (when, how long, its class and why, the runstate over the
//! gap), each stall-probe summary (seconds since the probe started), failed checks, errors,
//! probe ends and a crash. Durations and times read as in the report (`1.12 s`, UTC).

use anyhow::Result;
use std::collections::BTreeMap;
use std::io::Write;
use xp_core::records::{owned, Record};
use xp_host::report::{human, timefmt};

fn ns(v: u64) -> String {
    human(v as f64, "ns")
}

/// ` on vCPU 1`, or nothing for a record without one.
fn on_vcpu(v: Option<u64>) -> String {
    v.map(|v| format!(" on vCPU {v}")).unwrap_or_default()
}

/// What the printed lines need to remember of the run so far.
#[derive(Default)]
pub struct Printer {
    runs: usize,
    /// Per vCPU (none in single-vCPU logs of older builds): time since the stall probe
    /// started, summed over its summaries.
    summary_s: BTreeMap<Option<u64>, f64>,
}

impl Printer {
    /// Print record `r` of line `n`; `Some(6)` for a crash, which ends the run.
    pub fn record(&mut self, n: usize, r: &Record, out: &mut dyn Write) -> Result<Option<i32>> {
        match r {
            Record::Start(s) => self.start(s, out)?,
            Record::Stall(s) => writeln!(out, "{}", stall_line(s))?,
            Record::Summary(s) => {
                let at = self.summary_s.entry(s.vcpu).or_default();
                *at += s.elapsed_ns as f64 / 1e9;
                writeln!(out, "{}", summary_line(*at, s))?
            }
            Record::ClockJump(_) => writeln!(out, "CLOCK JUMP at line {n}")?,
            Record::Check(c) if !c.verdict.passed() => writeln!(
                out,
                "{} {}.{}: expected {}, observed {}",
                c.verdict.to_string().to_uppercase(),
                c.probe,
                c.name,
                c.expected,
                c.observed
            )?,
            Record::Error(e) => {
                let p = e.probe.as_deref().unwrap_or("run");
                writeln!(out, "ERROR {p}: {}", e.msg)?
            }
            Record::ProbeEnd(e) => writeln!(
                out,
                "probe {}: {} after {}",
                e.probe,
                e.result.name(),
                ns(e.elapsed_ns)
            )?,
            Record::Crash(c) => {
                writeln!(out, "CRASH: {}", c.describe())?;
                return Ok(Some(6));
            }
            _ => {}
        }
        Ok(None)
    }

    fn start(&mut self, s: &owned::Start, out: &mut dyn Write) -> Result<()> {
        if self.runs > 0 {
            writeln!(out, "-- a new run starts")?;
        }
        self.runs += 1;
        self.summary_s.clear();
        let (v, m, c) = (&s.version, &s.mode, &s.cmdline);
        writeln!(out, "run: xenprobe {v} ({m}) cmdline \"{c}\"")?;
        Ok(())
    }
}

/// `STALL 09:15:41.784 UTC     1.12 s  paused_offline: why (running .., runnable .., ...)`;
/// Xen's system time when the probe had no wall clock.
pub fn stall_line(r: &owned::Stall) -> String {
    let when = match r.start_wall_ns {
        0 => format!("system {}", ns(r.start_ns)),
        w => format!("{} UTC", timefmt::hms_ms(w)),
    };
    format!(
        "STALL {when}  {:>9}  {}: {} (running {}, runnable {}, blocked {}, offline {}){}",
        ns(r.gap_ns),
        r.class,
        r.reason,
        ns(r.running_ns),
        ns(r.runnable_ns),
        ns(r.blocked_ns),
        ns(r.offline_ns),
        on_vcpu(r.vcpu)
    )
}

/// `summary at 20 s[ on vCPU 1]: 1000 beats, interval p50 .. p99 .. max .., steal 0.01 %`.
fn summary_line(at_s: f64, r: &owned::Summary) -> String {
    format!(
        "summary at {at_s:.0} s{}: {} beats, interval p50 {} p99 {} max {}, steal {}",
        on_vcpu(r.vcpu),
        r.beats,
        ns(r.interval_p50_ns),
        ns(r.interval_p99_ns),
        ns(r.interval_max_ns),
        human(r.steal_ppm as f64, "ppm")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::tests::stall;

    fn printed(records: &[Record]) -> String {
        let (mut p, mut out) = (Printer::default(), Vec::new());
        for (i, r) in records.iter().enumerate() {
            p.record(i + 1, r, &mut out).unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn stalls_say_when_how_long_and_why() {
        let mut s = stall("paused_offline", 1_120_000_000);
        s.start_ns = 7_831_236_441;
        assert_eq!(
            stall_line(&s),
            "STALL system 7.83 s     1.12 s  paused_offline: r (running 0 ns, runnable 0 ns, blocked 1.12 s, offline 0 ns)"
        );
        (s.start_wall_ns, s.vcpu) = (1_795_252_541_784_000_000, Some(2));
        let l = stall_line(&s);
        assert!(
            l.starts_with("STALL 09:15:41.784 UTC     1.12 s  paused_offline"),
            "{l}"
        );
        assert!(l.ends_with("offline 0 ns) on vCPU 2"), "{l}");
    }

    #[test]
    fn a_new_run_is_announced_and_summaries_count_from_its_start() {
        let start = Record::parse(
            r#"{"kind":"start","version":"0.1.0","mode":"domU","cmdline":"probes=stall"}"#,
        )
        .unwrap();
        let sum = Record::parse(r#"{"kind":"summary","probe":"stall","elapsed_ns":10000000000,"beats":1000,"interval_p50_ns":10000000,"interval_p99_ns":11000000,"interval_max_ns":12000000,"steal_ppm":100,"running_ns":0,"runnable_ns":0,"blocked_ns":0,"offline_ns":0}"#).unwrap();
        let mut sum1 = sum.clone();
        if let Record::Summary(s) = &mut sum1 {
            s.vcpu = Some(1);
        }
        let text = printed(&[start.clone(), sum.clone(), sum1, sum.clone(), start, sum]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "run: xenprobe 0.1.0 (domU) cmdline \"probes=stall\""
        );
        assert_eq!(lines[1], "summary at 10 s: 1000 beats, interval p50 10.0 ms p99 11.0 ms max 12.0 ms, steal 0.01 %");
        assert!(
            lines[2].starts_with("summary at 10 s on vCPU 1: "),
            "{text}"
        );
        assert!(lines[3].starts_with("summary at 20 s: "), "{text}");
        assert_eq!(lines[4], "-- a new run starts");
        assert!(lines[6].starts_with("summary at 10 s: "), "{text}");
    }
}
