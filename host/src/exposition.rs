//! The OpenMetrics text of a [`State`], written by prometheus-client's encoder on each scrape
//! (so "seconds since" figures are current when Prometheus reads them).

use crate::metrics::{State, BOUNDS};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::fmt::Error;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub const VERDICTS: [&str; 6] = ["running", "SUCCESS", "SKIP", "ERROR", "FAILURE", "CRASH"];

#[derive(Debug)]
struct Exporter(Arc<Mutex<State>>);

/// The exposition of `state` now.
pub fn render(state: &Arc<Mutex<State>>) -> String {
    let mut reg = Registry::default();
    reg.register_collector(Box::new(Exporter(state.clone())));
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &reg).expect("writing to a String");
    out
}

/// The same exposition in Prometheus's classic text format (0.0.4), for scrapers and tools that
/// do not ask for OpenMetrics (curl, promtool): a counter's HELP and TYPE name its `_total`
/// samples, and there is no `# EOF`.
pub fn classic_text(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for l in openmetrics
        .lines()
        .filter(|l| *l != "# EOF" && !l.starts_with("# UNIT "))
    {
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find(|p| l.starts_with(p));
        let renamed = meta.and_then(|p| {
            let (name, rest) = l[p.len()..].split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{p}{name}_total {rest}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(l));
        out.push('\n');
    }
    out
}

fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> Result<(), Error> {
    ConstCounter::new(v).encode(e.encode_descriptor(name, help, None, MetricType::Counter)?)
}

fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, v: Option<f64>) -> Result<(), Error> {
    match v {
        Some(v) => {
            ConstGauge::new(v).encode(e.encode_descriptor(name, help, None, MetricType::Gauge)?)
        }
        None => Ok(()),
    }
}

impl Collector for Exporter {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), Error> {
        let s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        stalls(&mut e, &s)?;
        gauges(&mut e, &s, Instant::now())?;
        verdict(&mut e, s.verdict)?;
        counters(&mut e, &s)
    }
}

/// The gauges and histograms: last stall, ages, steal, timer lateness, xenstore latency.
fn gauges(e: &mut DescriptorEncoder, s: &State, now: Instant) -> Result<(), Error> {
    let age = |t: Option<Instant>| t.map(|t| now.duration_since(t).as_secs_f64());
    gauge(
        e,
        "xenprobe_last_stall_seconds",
        "Length of the last stall (gap between heartbeats).",
        s.last_stall_s,
    )?;
    gauge(e, "xenprobe_heartbeat_age_seconds", "Seconds since the log last showed the stall probe's heartbeat loop alive (a summary or a stall record).", age(s.last_heartbeat))?;
    gauge(
        e,
        "xenprobe_log_age_seconds",
        "Seconds since the followed log last got a complete line.",
        age(s.last_line),
    )?;
    gauge(
        e,
        "xenprobe_steal_ratio",
        "Steal (runnable + offline time over elapsed) in the last stall-probe summary.",
        s.steal_ratio,
    )?;
    histograms(
        e,
        "xenprobe_timer_lateness_seconds",
        "Singleshot timer lateness (VIRQ_TIMER handler time - deadline), per programmed interval.",
        "interval",
        &s.timer,
    )?;
    histograms(
        e,
        "xenprobe_xenstore_latency_seconds",
        "xenstore request latency from the guest over its ring, per test-xenstore case.",
        "op",
        &s.xenstore,
    )?;
    Ok(())
}

/// The counters besides the stalls: clock jumps, failed checks, skipped lines, runs.
fn counters(e: &mut DescriptorEncoder, s: &State) -> Result<(), Error> {
    counter(
        e,
        "xenprobe_clock_jumps",
        "Gaps in guest time that Xen's runstate does not confirm.",
        s.clock_jumps,
    )?;
    counter(
        e,
        "xenprobe_failed_checks",
        "Checks with verdict fail.",
        s.failed_checks,
    )?;
    counter(
        e,
        "xenprobe_log_lines_skipped",
        "Log lines follow could not read (garbled or cut @xp records).",
        s.skipped_lines,
    )?;
    counter(
        e,
        "xenprobe_on_stall_failures",
        "--on-stall commands that failed, could not start or hit their time limit.",
        s.on_stall_failures,
    )?;
    counter(
        e,
        "xenprobe_runs",
        "Probe runs started in the log (start records).",
        s.runs,
    )
}

fn stalls(e: &mut DescriptorEncoder, s: &State) -> Result<(), Error> {
    let help = "Stalls (heartbeat gaps over the threshold) by class: preempted, paused_offline, lost_wakeup, guest_busy, unknown.";
    let mut m = e.encode_descriptor("xenprobe_stalls", help, None, MetricType::Counter)?;
    for (class, (n, _)) in &s.stalls {
        ConstCounter::new(*n).encode(m.encode_family(&[("class", class.as_str())])?)?;
    }
    let help = "Seconds lost to stalls, by class.";
    let mut m = e.encode_descriptor("xenprobe_stall_seconds", help, None, MetricType::Counter)?;
    for (class, (_, secs)) in &s.stalls {
        ConstCounter::new(*secs).encode(m.encode_family(&[("class", class.as_str())])?)?;
    }
    Ok(())
}

fn histograms(
    e: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &str,
    dists: &std::collections::BTreeMap<String, crate::metrics::Dist>,
) -> Result<(), Error> {
    if dists.is_empty() {
        return Ok(());
    }
    let mut m = e.encode_descriptor(name, help, None, MetricType::Histogram)?;
    for (key, d) in dists {
        let mut b: Vec<(f64, u64)> = BOUNDS
            .iter()
            .copied()
            .zip(d.buckets.iter().copied())
            .collect();
        b.push((f64::MAX, d.buckets[BOUNDS.len()]));
        m.encode_family(&[(label, key.as_str())])?
            .encode_histogram::<NoLabelSet>(d.sum_s, d.count, &b, None)?;
    }
    Ok(())
}

fn verdict(e: &mut DescriptorEncoder, v: Option<&str>) -> Result<(), Error> {
    let help = "The run's verdict: 1 for the current one (running until the result line; CRASH after a crash record).";
    let mut m = e.encode_descriptor("xenprobe_verdict", help, None, MetricType::Gauge)?;
    let now = v.unwrap_or("running");
    for name in VERDICTS {
        ConstGauge::new(i64::from(name == now)).encode(m.encode_family(&[("verdict", name)])?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_text_names_counter_samples() {
        let om =
            "# HELP a_stalls Stalls.\n# TYPE a_stalls counter\na_stalls_total{class=\"x\"} 1\n\
                  # HELP b Age.\n# TYPE b gauge\nb 2.5\n# EOF\n";
        let t = classic_text(om);
        assert_eq!(
            t,
            "# HELP a_stalls_total Stalls.\n# TYPE a_stalls_total counter\na_stalls_total{class=\"x\"} 1\n\
             # HELP b Age.\n# TYPE b gauge\nb 2.5\n"
        );
    }

    #[test]
    fn renders_stalls_histograms_and_verdict() {
        let st = Arc::new(Mutex::new(State::default()));
        let now = Instant::now();
        let rec = |s: &str| xp_core::records::Record::parse(s).unwrap();
        let stall = crate::metrics::tests::stall("lost_wakeup", 1_500_000_000);
        {
            let mut s = st.lock().unwrap();
            s.record(&xp_core::records::Record::Stall(stall), now);
            s.record(&rec(r#"{"kind":"stats","probe":"timer","name":"lateness_1ms","unit":"ns","count":3,"min":1,"avg":20000,"p50":1,"p99":1,"p999":1,"max":1,"method":"m"}"#), now);
            s.record(&rec(r#"{"kind":"histogram","probe":"timer","name":"lateness_1ms","unit":"ns","buckets":[[18432,19455,2],[20480,21503,1]]}"#), now);
            s.result("FAILURE");
        }
        let t = render(&st);
        assert!(
            t.contains("xenprobe_stalls_total{class=\"lost_wakeup\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("xenprobe_stalls_total{class=\"preempted\"} 0\n"),
            "{t}"
        );
        assert!(t.contains("xenprobe_last_stall_seconds 1.5\n"), "{t}");
        // 18.4-19.5 us and 20.5-21.5 us: the 20 us and 50 us buckets, cumulative.
        let b = |le: &str, n: u64| {
            format!("xenprobe_timer_lateness_seconds_bucket{{le=\"{le}\",interval=\"1ms\"}} {n}\n")
        };
        assert!(
            t.contains(&b("0.00001", 0)) && t.contains(&b("0.00002", 2)),
            "{t}"
        );
        assert!(
            t.contains(&b("0.00005", 3)) && t.contains(&b("+Inf", 3)),
            "{t}"
        );
        assert!(
            t.contains("xenprobe_timer_lateness_seconds_count{interval=\"1ms\"} 3\n"),
            "{t}"
        );
        assert!(
            t.contains("xenprobe_timer_lateness_seconds_sum{interval=\"1ms\"} 0.00006\n"),
            "{t}"
        );
        assert!(
            t.contains("xenprobe_verdict{verdict=\"FAILURE\"} 1\n"),
            "{t}"
        );
        assert!(t.ends_with("# EOF\n"), "{t}");
    }
}
