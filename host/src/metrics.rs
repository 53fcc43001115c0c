//! What `follow --metrics` serves: the run's state, updated record by record, encoded on each
//! scrape by prometheus-client (OpenMetrics text).

use std::collections::BTreeMap;
use std::time::Instant;
use xp_core::outcome::Outcome;
use xp_core::records::{owned, Record};

/// The stall classes of the stall probe (README, "what each classification means").
pub const STALL_CLASSES: [&str; 5] = [
    "preempted",
    "paused_offline",
    "lost_wakeup",
    "guest_busy",
    "unknown",
];

/// Upper bounds (seconds) of the exported latency histograms.
pub const BOUNDS: [f64; 22] = [
    1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1,
    0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
];

/// One distribution re-bucketed to [`BOUNDS`] (+Inf last); counts per bucket, not cumulative.
#[derive(Debug, Clone, PartialEq)]
pub struct Dist {
    pub sum_s: f64,
    pub count: u64,
    pub buckets: Vec<u64>,
}

impl Dist {
    /// From a histogram record's `[lo_ns, hi_ns, n]` buckets: each goes to the first bound
    /// at or above its upper end (never below a sample). `sum_ns` is the stats record's
    /// avg x count when there is one, else the bucket midpoints.
    pub fn from_buckets(raw: &[(u64, u64, u64)], sum_ns: Option<f64>) -> Dist {
        let mut buckets = vec![0; BOUNDS.len() + 1];
        let (mut count, mut mid) = (0u64, 0f64);
        for &(lo, hi, n) in raw {
            let i = BOUNDS
                .iter()
                .position(|b| hi as f64 <= b * 1e9)
                .unwrap_or(BOUNDS.len());
            buckets[i] += n;
            count += n;
            mid += n as f64 * (lo as f64 + hi as f64) / 2.0;
        }
        Dist {
            sum_s: sum_ns.unwrap_or(mid) / 1e9,
            count,
            buckets,
        }
    }
}

/// Everything exported, kept current by [`State::record`] and friends.
#[derive(Debug)]
pub struct State {
    /// Per class: stalls seen and their seconds.
    pub stalls: BTreeMap<String, (u64, f64)>,
    pub last_stall_s: Option<f64>,
    /// When the log last showed the heartbeat loop alive (a summary or a stall record).
    pub last_heartbeat: Option<Instant>,
    pub last_line: Option<Instant>,
    pub steal_ratio: Option<f64>,
    /// Timer lateness per interval, xenstore latency per operation.
    pub timer: BTreeMap<String, Dist>,
    pub xenstore: BTreeMap<String, Dist>,
    /// avg x count (ns) of the last stats record per (probe, name), for the histogram's sum.
    sums: BTreeMap<(String, String), f64>,
    /// SUCCESS, SKIP, ERROR, FAILURE, CRASH, or None while running.
    pub verdict: Option<&'static str>,
    pub clock_jumps: u64,
    pub failed_checks: u64,
    pub skipped_lines: u64,
    pub on_stall_failures: u64,
    pub runs: u64,
}

impl Default for State {
    fn default() -> Self {
        let stalls = STALL_CLASSES
            .iter()
            .map(|c| (c.to_string(), (0, 0.0)))
            .collect();
        State {
            stalls,
            last_stall_s: None,
            last_heartbeat: None,
            last_line: None,
            steal_ratio: None,
            timer: BTreeMap::new(),
            xenstore: BTreeMap::new(),
            sums: BTreeMap::new(),
            verdict: None,
            clock_jumps: 0,
            failed_checks: 0,
            skipped_lines: 0,
            on_stall_failures: 0,
            runs: 0,
        }
    }
}

impl State {
    /// One @xp record read at `now`.
    pub fn record(&mut self, r: &Record, now: Instant) {
        match r {
            Record::Start(_) => {
                self.runs += 1;
                self.verdict = None;
            }
            Record::Stall(s) => self.stall(s, now),
            Record::Summary(s) => {
                self.last_heartbeat = Some(now);
                self.steal_ratio = Some(s.steal_ppm as f64 / 1e6);
            }
            Record::Stats(s) if s.unit == "ns" => {
                let key = (s.probe.clone(), s.name.clone());
                self.sums.insert(key, s.count as f64 * s.avg as f64);
            }
            Record::Histogram(h) => self.histogram(h),
            Record::ClockJump(_) => self.clock_jumps += 1,
            Record::Check(c) if c.verdict.0 == Outcome::Failure => self.failed_checks += 1,
            Record::Crash(_) => self.verdict = Some("CRASH"),
            _ => {}
        }
    }

    fn stall(&mut self, r: &owned::Stall, now: Instant) {
        let gap_s = r.gap_ns as f64 / 1e9;
        let class = Some(r.class.clone())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "unknown".into());
        let e = self.stalls.entry(class).or_insert((0, 0.0));
        e.0 += 1;
        e.1 += gap_s;
        self.last_stall_s = Some(gap_s);
        self.last_heartbeat = Some(now);
    }

    fn histogram(&mut self, h: &owned::Histogram) {
        if h.unit != "ns" {
            return;
        }
        let raw: Vec<(u64, u64, u64)> = h.buckets.iter().map(|&[l, u, n]| (l, u, n)).collect();
        let sum = self.sums.get(&(h.probe.clone(), h.name.clone())).copied();
        let d = Dist::from_buckets(&raw, sum);
        match (h.probe.as_str(), h.name.strip_prefix("lateness_")) {
            ("timer", Some(interval)) => {
                self.timer.insert(interval.to_string(), d);
            }
            ("xenstore-latency", _) => {
                self.xenstore.insert(h.name.clone(), d);
            }
            _ => {}
        }
    }

    /// The `Test result:` line.
    pub fn result(&mut self, name: &'static str) {
        self.verdict = Some(name);
    }
}

#[cfg(test)]
pub mod tests {
    use xp_core::records::owned;

    /// A stall record of `class` lasting `gap_ns`.
    pub fn stall(class: &str, gap_ns: u64) -> owned::Stall {
        owned::Stall {
            probe: "stall".into(),
            vcpu: None,
            start_ns: 1,
            start_wall_ns: 0,
            gap_ns,
            class: class.into(),
            reason: "r".into(),
            running_ns: 0,
            runnable_ns: 0,
            blocked_ns: gap_ns,
            offline_ns: 0,
            blocked_past_deadline_ns: 0,
            runstate_coverage_permille: 1000,
            tsc_timestamp: None,
            system_time: None,
            tsc_to_system_mul: None,
            tsc_shift: None,
            late_ns: None,
        }
    }
}
