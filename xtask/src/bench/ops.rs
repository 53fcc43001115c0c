//! Per-operation figures from the bench's measurement run: the timer probe's own overhead,
//! xenstore per-op latency beside dom0's test-xenstore, ring round trip beside vchan.

use super::missing;
use crate::report::Figure;
use crate::run::Outcome;
use xp_core::records::owned;

fn stats<'a>(o: &'a Outcome, probe: &'a str) -> impl Iterator<Item = &'a owned::Stats> + 'a {
    o.parsed
        .of::<owned::Stats>()
        .filter(move |r| r.probe == probe)
}

/// The mean of a stats record as a figure named `name`, described by `method(r)`.
fn mean(name: &str, r: &owned::Stats, method: String) -> Figure {
    Figure::new(name.into(), r.avg as f64, &r.unit, Some(r.count), &method)
}

pub fn timer_overhead(o: &Outcome) -> Figure {
    let r = o
        .parsed
        .of::<owned::Metric>()
        .find(|r| r.probe == "timer" && r.name == "overhead_per_sample");
    let method = r.map_or(String::new(), |r| r.method.clone());
    let method = format!("timer probe metric overhead_per_sample ({method}), domU under TCG");
    match r {
        Some(r) => Figure::new(
            "timer_overhead".into(),
            r.value as f64,
            "ns",
            crate::report::samples_in(&method),
            &method,
        ),
        None => missing(
            "timer_overhead",
            "ns",
            &method,
            &format!("no timer overhead metric ({})", o.verdict.name()),
        ),
    }
}

/// test-xenstore's result lines, `read 1    : 549056 ns` (one iteration) or
/// `read 1    : avg: 2163698 ns (1055553 ns .. 10910394 ns)` (-i N): (test name, mean ns).
pub fn test_xenstore_lines(lines: &[String]) -> Vec<(String, f64)> {
    lines
        .iter()
        .filter_map(|l| {
            let (name, v) = l.split_once(':')?;
            let v = v.trim();
            let mut t = v.strip_prefix("avg:").unwrap_or(v).split_whitespace();
            let ns = t.next()?.parse().ok()?;
            (t.next()? == "ns").then(|| (name.trim().to_string(), ns))
        })
        .collect()
}

/// xenstore read 1 / write 1: the guest's per-op mean beside test-xenstore's.
pub fn xenstore(o: &Outcome, probe: Option<&str>, iterations: u32) -> Vec<Figure> {
    ["read", "write"]
        .into_iter()
        .flat_map(|op| {
            [
                test_xenstore(o, op, iterations),
                guest_xenstore(o, probe, op),
            ]
        })
        .collect()
}

fn test_xenstore(o: &Outcome, op: &str, iterations: u32) -> Figure {
    let name = format!("test_xenstore_{op}_1");
    let method = format!(
        "dom0's test-xenstore -i {iterations} -t '{op} 1': its avg per iteration, same lab run, \
         while the guest idled in the stall probe"
    );
    let lines = test_xenstore_lines(&o.lab.script_lines);
    if let Some((_, v)) = lines.iter().find(|(n, _)| *n == format!("{op} 1")) {
        return Figure::new(name, *v, "ns", Some(iterations.into()), &method);
    }
    let done = o
        .lab
        .script_lines
        .iter()
        .any(|l| l == "bench-test-xenstore-done");
    let why = if done {
        "test-xenstore printed no such line (lab-out/bench/measure)"
    } else {
        "test-xenstore did not finish before the guest ended (lab-out/bench/measure)"
    };
    missing(&name, "ns", &method, why)
}

fn guest_xenstore(o: &Outcome, probe: Option<&str>, op: &str) -> Figure {
    let name = format!("xenstore_{op}_1");
    let method = format!(
        "xenstore probe: mean of its '{op}*' stats record (per-op round trip from the guest)"
    );
    let Some(probe) = probe else {
        return missing(
            &name,
            "ns",
            &method,
            "this kernel has no xenstore-latency probe (not in the probe registry)",
        );
    };
    match stats(o, probe).find(|r| r.name.starts_with(op)) {
        Some(r) => mean(
            &name,
            r,
            format!("{probe} probe {}: mean ({})", r.name, r.method),
        ),
        None => missing(
            &name,
            "ns",
            &method,
            &format!(
                "the {probe} probe printed no '{op}*' stats ({})",
                o.verdict.name()
            ),
        ),
    }
}

/// Ring round trip (the ring probe's `*rtt*` stats) and a vchan baseline if any record has one.
pub fn ring(o: &Outcome, probe_present: bool, vchan_run: Option<&Outcome>) -> Vec<Figure> {
    let method = "ring probe: mean of its *rtt* stats record";
    let rtt = if probe_present {
        let st = stats(o, "ring").find(|r| r.name.contains("rtt") && !r.name.contains("vchan"));
        match st {
            Some(r) => mean("ring_rtt", r, format!("{method} {} ({})", r.name, r.method)),
            None => missing(
                "ring_rtt",
                "ns",
                method,
                &format!(
                    "the ring probe printed no *rtt* stats ({})",
                    o.verdict.name()
                ),
            ),
        }
    } else {
        missing(
            "ring_rtt",
            "ns",
            method,
            "this kernel has no ring probe (not in the probe registry)",
        )
    };
    let vmethod = "vchan probe, ping mode: 16-byte round trips from the guest through libxenvchan to dom0's \
                   vchan-socket-proxy (looping its output to its input) and back, run of tests/lab/vchan-interop.toml";
    let vchan = vchan_run.into_iter().chain([o]).find_map(|run| {
        run.parsed
            .of::<owned::Stats>()
            .find(|r| r.name == "vchan_rtt_16B")
    });
    let vchan = match vchan {
        Some(r) => mean(
            "vchan_rtt",
            r,
            format!("{vmethod}: {} ({})", r.name, r.method),
        ),
        None => missing(
            "vchan_rtt",
            "ns",
            vmethod,
            "no vchan_rtt_16B stats: this kernel has no vchan probe, or its run failed",
        ),
    };
    vec![rtt, vchan]
}

#[cfg(test)]
mod tests {
    #[test]
    fn test_xenstore_output_is_parsed() {
        let lines: Vec<String> = [
            "read 1    : 549056 ns",
            "write 2000: avg: 1351888 ns (1579225 ns .. 10829490 ns)",
            "read 1    : Read node with 1 byte data",
            "ta err    : x ns",
            "junk",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let v = super::test_xenstore_lines(&lines);
        assert_eq!(
            v,
            vec![
                ("read 1".to_string(), 549056.0),
                ("write 2000".to_string(), 1351888.0)
            ]
        );
    }
}
