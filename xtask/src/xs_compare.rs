//! xenstore latency side by side: the guest's `xenstore-latency` probe (its
//! `stats` records) beside Debian's `test-xenstore` run by the dom0 script in
//! the same lab run, against the same xenstored.
//!
//! test-xenstore prints one line per case, `%-10s: avg: A ns (MIN ns .. MAX ns)`
//! (or `NAME: T ns` for one iteration); the guest names its records after the
//! case with `_` for blanks.

use serde_json::{json, Value};
use xp_core::records::owned;
use xp_host::results::Parsed;

/// One test-xenstore line.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerCase {
    pub name: String,
    pub avg_ns: u64,
    pub min_ns: u64,
    pub max_ns: u64,
}

/// One case measured on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub case: String,
    pub guest_n: u64,
    pub guest_min: u64,
    pub guest_avg: u64,
    pub guest_p50: u64,
    pub guest_p99: u64,
    pub guest_max: u64,
    pub dom0: PeerCase,
}

impl Row {
    /// Guest average over dom0 average.
    pub fn ratio_avg(&self) -> f64 {
        self.guest_avg as f64 / self.dom0.avg_ns.max(1) as f64
    }
    /// Guest minimum over dom0 minimum (less sensitive to a noisy host).
    pub fn ratio_min(&self) -> f64 {
        self.guest_min as f64 / self.dom0.min_ns.max(1) as f64
    }
}

fn ns(s: &str) -> Option<u64> {
    s.trim().strip_suffix("ns")?.trim().parse().ok()
}

/// Parses a test-xenstore result line; `None` for anything else.
pub fn parse_line(line: &str) -> Option<PeerCase> {
    let (name, rest) = line.split_once(':')?;
    let name = name.trim();
    if name.is_empty() || name.len() > 10 {
        return None;
    }
    let rest = rest.trim();
    if let Some(avg) = rest.strip_prefix("avg:") {
        let (avg, range) = avg.split_once('(')?;
        let (min, max) = range.strip_suffix(')')?.split_once("..")?;
        return Some(PeerCase {
            name: name.into(),
            avg_ns: ns(avg)?,
            min_ns: ns(min)?,
            max_ns: ns(max)?,
        });
    }
    let t = ns(rest)?;
    Some(PeerCase {
        name: name.into(),
        avg_ns: t,
        min_ns: t,
        max_ns: t,
    })
}

/// The cases measured on both sides, in test-xenstore's order.
pub fn rows(parsed: &Parsed, script_lines: &[String]) -> Vec<Row> {
    script_lines
        .iter()
        .filter_map(|l| parse_line(l))
        .filter_map(|dom0| {
            let key = dom0.name.replace(' ', "_");
            let r = parsed
                .of::<owned::Stats>()
                .find(|r| r.probe == "xenstore-latency" && r.name == key)?;
            Some(Row {
                case: dom0.name.clone(),
                guest_n: r.count,
                guest_min: r.min,
                guest_avg: r.avg,
                guest_p50: r.p50,
                guest_p99: r.p99,
                guest_max: r.max,
                dom0,
            })
        })
        .collect()
}

fn us(ns: u64) -> String {
    format!("{:.0}", ns as f64 / 1000.0)
}

/// The side-by-side table (stderr), if both sides measured something.
pub fn print(rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    eprintln!("xenstore latency, guest ring vs dom0 test-xenstore (same xenstored), us:");
    eprintln!(
        "  {:<11} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} | {:>6} {:>6}",
        "case",
        "n",
        "min",
        "avg",
        "p50",
        "p99",
        "max",
        "d0 min",
        "d0 avg",
        "d0 max",
        "avg x",
        "min x"
    );
    for r in rows {
        eprintln!(
            "  {:<11} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} | {:>8} {:>8} {:>8} | {:>6.2} {:>6.2}",
            r.case,
            r.guest_n,
            us(r.guest_min),
            us(r.guest_avg),
            us(r.guest_p50),
            us(r.guest_p99),
            us(r.guest_max),
            us(r.dom0.min_ns),
            us(r.dom0.avg_ns),
            us(r.dom0.max_ns),
            r.ratio_avg(),
            r.ratio_min()
        );
    }
    eprintln!("  (avg x, min x: guest / dom0; percentiles are histogram bucket upper bounds)");
}

/// The rows for the `--json` file.
pub fn to_json(rows: &[Row]) -> Value {
    rows.iter()
        .map(|r| {
            json!({
                "case": r.case,
                "guest": {"count": r.guest_n, "min_ns": r.guest_min, "avg_ns": r.guest_avg, "p50_ns": r.guest_p50,
                          "p99_ns": r.guest_p99, "max_ns": r.guest_max},
                "dom0_test_xenstore": {"avg_ns": r.dom0.avg_ns, "min_ns": r.dom0.min_ns, "max_ns": r.dom0.max_ns},
                "ratio_avg": r.ratio_avg(),
                "ratio_min": r.ratio_min(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_test_xenstore_lines() {
        let c = parse_line("read 2000 : avg: 1917717 ns (1160880 ns .. 9055200 ns)").unwrap();
        assert_eq!(
            (c.name.as_str(), c.avg_ns, c.min_ns, c.max_ns),
            ("read 2000", 1917717, 1160880, 9055200)
        );
        let one = parse_line("ta err    : 31661 ns").unwrap();
        assert_eq!(
            (one.name.as_str(), one.avg_ns, one.max_ns),
            ("ta err", 31661, 31661)
        );
        assert_eq!(parse_line("ta err    : failed (ret = 61, stage run)"), None);
        assert_eq!(
            parse_line("Exhaustive transaction retries (100) occurred 1 times."),
            None
        );
        assert_eq!(parse_line("peer-done"), None);
    }

    #[test]
    fn pairs_cases_with_guest_stats() {
        let lines: Vec<String> = [
            r#"@xp {"kind":"stats","probe":"xenstore-latency","name":"read_1","unit":"ns","count":50,"min":400,"avg":1000,"p50":900,"p99":3000,"p999":4000,"max":4000,"method":"m"}"#,
            r#"@xp {"kind":"stats","probe":"timer","name":"read_1","unit":"ns","count":1,"min":1,"avg":1,"p50":1,"p99":1,"p999":1,"max":1,"method":"m"}"#,
        ]
        .map(String::from)
        .to_vec();
        let parsed = xp_host::results::parse(&lines);
        let script = vec![
            "read 1    : avg: 500 ns (200 ns .. 900 ns)".to_string(),
            "dir       : avg: 1 ns (1 ns .. 1 ns)".into(),
        ];
        let rows = rows(&parsed, &script);
        assert_eq!(rows.len(), 1, "dir has no guest side");
        assert_eq!(rows[0].guest_n, 50);
        assert!((rows[0].ratio_avg() - 2.0).abs() < 1e-9);
        assert!((rows[0].ratio_min() - 2.0).abs() < 1e-9);
        assert_eq!(to_json(&rows)[0]["ratio_avg"], 2.0);
    }
}
