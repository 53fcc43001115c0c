//! Figures: every number a run (or a bench) reports, flattened to one named value with its
//! unit, sample count and method, so that tables and comparisons treat them alike.

use serde::{Deserialize, Serialize};
use xp_core::records::{self, owned, Record};

/// One reported number. `value` is `None` when it was not measured (`note` says why).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    /// `probe.name` or `probe.name.stat` (`timer.lateness_1ms.p99`), or a bench figure's name.
    pub name: String,
    pub value: Option<f64>,
    pub unit: String,
    /// How many samples the value summarises, when known.
    pub samples: Option<u64>,
    pub method: String,
    /// Most figures are costs (latency, size, wall time, stalls): lower is better.
    #[serde(default)]
    pub higher_is_better: bool,
    /// Why a figure is missing, or a remark on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Figure {
    pub fn new(name: String, value: f64, unit: &str, samples: Option<u64>, method: &str) -> Self {
        Figure {
            name,
            value: Some(value),
            unit: unit.to_string(),
            samples,
            method: method.to_string(),
            higher_is_better: false,
            note: None,
        }
    }
}

/// The statistics of a `stats` record, in table order.
pub const STATS: [&str; 6] = ["min", "avg", "p50", "p99", "p999", "max"];

/// A `stats` record's values in [`STATS`] order.
pub fn stats_values(r: &owned::Stats) -> [u64; 6] {
    [r.min, r.avg, r.p50, r.p99, r.p999, r.max]
}

/// All figures of a run's records, in record order.
pub fn from_records(records: &[Record]) -> Vec<Figure> {
    let mut out = Vec::new();
    for r in records {
        match r {
            Record::Metric(m) => {
                let name = format!("{}.{}", m.probe, m.name);
                let n = samples_in(&m.method);
                out.push(Figure::new(name, m.value as f64, &m.unit, n, &m.method));
            }
            Record::Stats(st) => {
                for (s, v) in STATS.iter().zip(stats_values(st)) {
                    let name = format!("{}.{}.{s}", st.probe, st.name);
                    let n = Some(st.count);
                    out.push(Figure::new(name, v as f64, &st.unit, n, &st.method));
                }
            }
            _ => {}
        }
    }
    out.extend(summary_figures(&records::of(records).collect::<Vec<_>>()));
    out.extend(stall_figures(&records::of(records).collect::<Vec<_>>()));
    out
}

/// The stall probe's summaries over the whole run.
fn summary_figures(sums: &[&owned::Summary]) -> Vec<Figure> {
    if sums.is_empty() {
        return Vec::new();
    }
    let beats = sums.iter().map(|r| r.beats).sum::<u64>();
    let elapsed: f64 = sums.iter().map(|r| r.elapsed_ns as f64).sum();
    let steal: f64 = sums
        .iter()
        .map(|r| r.steal_ppm as f64 * r.elapsed_ns as f64)
        .sum::<f64>()
        / elapsed.max(1.0);
    let worst = |k: fn(&owned::Summary) -> u64| sums.iter().map(|r| k(r)).max().unwrap_or(0);
    let m = "over all summary periods";
    let fig = |name: &str, v: f64, unit: &str, method: String| {
        Figure::new(name.into(), v, unit, Some(beats), &method)
    };
    vec![
        fig(
            "stall.steal",
            steal,
            "ppm",
            format!("runnable + offline share of elapsed time, {m}"),
        ),
        fig(
            "stall.interval_p99",
            worst(|r| r.interval_p99_ns) as f64,
            "ns",
            format!("heartbeat interval p99, worst {m}"),
        ),
        fig(
            "stall.interval_max",
            worst(|r| r.interval_max_ns) as f64,
            "ns",
            format!("longest heartbeat interval {m}"),
        ),
    ]
}

/// The stalls per class.
fn stall_figures(stalls: &[&owned::Stall]) -> Vec<Figure> {
    let mut classes: Vec<&str> = stalls.iter().map(|r| r.class.as_str()).collect();
    classes.sort();
    classes.dedup();
    let method = "stall records of this class";
    classes
        .into_iter()
        .map(|c| {
            let n = stalls.iter().filter(|r| r.class == c).count();
            let total = Some(stalls.len() as u64);
            Figure::new(
                format!("stall.stalls_{c}"),
                n as f64,
                "count",
                total,
                method,
            )
        })
        .collect()
}

/// A sample count stated in a method text: `n=200`, or `mean of 10000 x ...`.
pub fn samples_in(method: &str) -> Option<u64> {
    let digits = |s: &str| {
        s.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    };
    if let Some(i) = method.find("n=") {
        return digits(&method[i + 2..]);
    }
    method.find(" of ").and_then(|i| digits(&method[i + 4..]))
}

/// A value with its unit, scaled for people: `229 us`, `1.45 ms`, `7.00 %`, `141 KiB`.
pub fn human(v: f64, unit: &str) -> String {
    match unit {
        "ns" => scaled(v, &[(1e9, "s"), (1e6, "ms"), (1e3, "us"), (1.0, "ns")]),
        "s" => scaled(v, &[(1.0, "s"), (1e-3, "ms")]),
        "ppm" => format!("{:.2} %", v / 1e4),
        "bytes" | "B" => scaled(v, &[(1048576.0, "MiB"), (1024.0, "KiB"), (1.0, "B")]),
        "count" => format!("{v:.0}"),
        _ if v.fract() == 0.0 => format!("{v:.0} {unit}"),
        _ => format!("{} {unit}", sig3(v)),
    }
    .trim_end()
    .to_string()
}

fn scaled(v: f64, steps: &[(f64, &str)]) -> String {
    let (div, name) = steps
        .iter()
        .find(|(d, _)| v.abs() >= *d)
        .unwrap_or(&steps[steps.len() - 1]);
    format!("{} {name}", sig3(v / div))
}

/// Three significant digits, no exponent: 1.23, 12.3, 123, 12345.
pub fn sig3(v: f64) -> String {
    let a = v.abs();
    if a >= 99.95 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 9.995 {
        format!("{v:.1}")
    } else if a >= 0.9995 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn human_units() {
        assert_eq!(human(229375.0, "ns"), "229 us");
        assert_eq!(human(1447518.0, "ns"), "1.45 ms");
        assert_eq!(human(812.0, "ns"), "812 ns");
        assert_eq!(human(69954.0, "ppm"), "7.00 %");
        assert_eq!(human(144384.0, "bytes"), "141 KiB");
        assert_eq!(human(3.0, "count"), "3");
        assert_eq!(human(0.5, "s"), "500 ms");
        assert_eq!(human(4.0, "MiB"), "4 MiB");
        assert_eq!(human(9_999_000.0, "ns"), "10.0 ms");
        assert_eq!(human(99_960.0, "ns"), "100 us");
    }

    #[test]
    fn figures_from_records() {
        let rec = |v: serde_json::Value| serde_json::from_value::<Record>(v).unwrap();
        let sum = |e: u64, b: u64, st: u64, p99: u64, max: u64| {
            rec(
                json!({"kind":"summary","probe":"stall","elapsed_ns":e,"beats":b,"steal_ppm":st,
                "interval_p50_ns":1,"interval_p99_ns":p99,"interval_max_ns":max,"running_ns":0,
                "runnable_ns":0,"blocked_ns":0,"offline_ns":0}),
            )
        };
        let recs = vec![
            rec(
                json!({"kind":"metric","probe":"timer","name":"overhead_per_sample","value":2909,"unit":"ns","method":"mean of 10000 x (pvclock read)"}),
            ),
            rec(
                json!({"kind":"stats","probe":"evtchn","name":"rtt","unit":"ns","count":1000,"min":1,"avg":2,"p50":2,"p99":9,"p999":9,"max":10,"method":"m"}),
            ),
            sum(1_000_000_000, 10, 100000, 5, 7),
            sum(3_000_000_000, 30, 0, 9, 6),
            rec(
                json!({"kind":"stall","probe":"stall","start_ns":1,"start_wall_ns":0,"gap_ns":3,"class":"preempted","reason":"r","running_ns":0,"runnable_ns":0,"blocked_ns":0,"offline_ns":0,"blocked_past_deadline_ns":0,"runstate_coverage_permille":0}),
            ),
        ];
        let f = from_records(&recs);
        let get = |n: &str| f.iter().find(|x| x.name == n).unwrap();
        assert_eq!(get("timer.overhead_per_sample").samples, Some(10000));
        assert_eq!(get("evtchn.rtt.p99").value, Some(9.0));
        assert_eq!(get("evtchn.rtt.p99").samples, Some(1000));
        assert_eq!(get("stall.steal").value, Some(25000.0));
        assert_eq!(get("stall.interval_max").value, Some(7.0));
        assert_eq!(get("stall.stalls_preempted").value, Some(1.0));
        assert_eq!(samples_in("x, n=200"), Some(200));
        assert_eq!(samples_in("no count here"), None);
    }
}
