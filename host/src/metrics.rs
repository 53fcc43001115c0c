//! What `follow --metrics` serves: the run's state, updated record by record, encoded on each
//! scrape by prometheus-client (OpenMetrics text).

use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Instant;

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

fn text(r: &Value, k: &str) -> String {
    r[k].as_str().unwrap_or("").to_string()
}

impl State {
    /// One @xp record read at `now`.
    pub fn record(&mut self, r: &Value, now: Instant) {
        match r["kind"].as_str().unwrap_or("") {
            "start" => {
                self.runs += 1;
                self.verdict = None;
            }
            "stall" => self.stall(r, now),
            "summary" => {
                self.last_heartbeat = Some(now);
                self.steal_ratio = r["steal_ppm"].as_f64().map(|p| p / 1e6);
            }
            "stats" => {
                let (n, avg) = (r["count"].as_f64(), r["avg"].as_f64());
                if let (Some(n), Some(avg), Some("ns")) = (n, avg, r["unit"].as_str()) {
                    self.sums
                        .insert((text(r, "probe"), text(r, "name")), n * avg);
                }
            }
            "histogram" => self.histogram(r),
            "clock_jump" => self.clock_jumps += 1,
            "check" if r["verdict"] == "fail" => self.failed_checks += 1,
            "crash" => self.verdict = Some("CRASH"),
            _ => {}
        }
    }

    fn stall(&mut self, r: &Value, now: Instant) {
        let gap_s = r["gap_ns"].as_f64().unwrap_or(0.0) / 1e9;
        let class = Some(text(r, "class"))
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "unknown".into());
        let e = self.stalls.entry(class).or_insert((0, 0.0));
        e.0 += 1;
        e.1 += gap_s;
        self.last_stall_s = Some(gap_s);
        self.last_heartbeat = Some(now);
    }

    fn histogram(&mut self, r: &Value) {
        if r["unit"] != "ns" {
            return;
        }
        let (probe, name) = (text(r, "probe"), text(r, "name"));
        let raw: Vec<(u64, u64, u64)> = r["buckets"]
            .as_array()
            .map(|a| a.iter().filter_map(bucket).collect())
            .unwrap_or_default();
        let d = Dist::from_buckets(&raw, self.sums.get(&(probe.clone(), name.clone())).copied());
        match (probe.as_str(), name.strip_prefix("lateness_")) {
            ("timer", Some(interval)) => {
                self.timer.insert(interval.to_string(), d);
            }
            ("xenstore-latency", _) => {
                self.xenstore.insert(name, d);
            }
            _ => {}
        }
    }

    /// The `Test result:` line.
    pub fn result(&mut self, name: &'static str) {
        self.verdict = Some(name);
    }
}

fn bucket(b: &Value) -> Option<(u64, u64, u64)> {
    let a = b.as_array()?;
    Some((
        a.first()?.as_u64()?,
        a.get(1)?.as_u64()?,
        a.get(2)?.as_u64()?,
    ))
}
