//! `report A B [C...]`: runs side by side. Checks that changed verdict come first, then the
//! figures that moved beyond the threshold, then every figure with its ratio to A.

use super::figures::{human, Figure};
use super::load::Run;
use super::text::or_unknown;
use std::fmt::Write;
use xp_core::outcome::Outcome;
use xp_core::records::owned;

/// Column letters for the inputs.
pub fn letter(i: usize) -> char {
    (b'A' + (i % 26) as u8) as char
}

/// The comparison text, and whether anything regressed or got worse.
pub fn render(runs: &[Run], threshold: f64) -> (String, bool) {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "== xenprobe comparison (ratios to A; regression = worse by more than {:.0} %) ==",
        threshold * 100.0
    );
    for (i, r) in runs.iter().enumerate() {
        let e = &r.env;
        let _ = writeln!(
            s,
            "{}: {}  {}  xen {}, sched {}, xenstored {}",
            letter(i),
            r.source,
            r.verdict.name(),
            or_unknown(&e.xen_version),
            or_unknown(&e.scheduler),
            or_unknown(&e.xenstored)
        );
    }
    env_changes(&mut s, runs);
    // Bench files have figures only: no verdicts or checks to compare.
    let mut worse = !runs.iter().all(Run::is_bench) && verdict_changes(&mut s, runs);
    let figs: Vec<Vec<Figure>> = runs.iter().map(Run::figures).collect();
    let rows = table_rows(&figs, threshold);
    let flagged: Vec<&Row> = rows
        .iter()
        .filter(|r| r.flags.iter().any(|f| f.starts_with("REGRESSION")))
        .collect();
    let _ = writeln!(s, "\nregressions: {}", flagged.len());
    for r in &flagged {
        write_row(&mut s, r);
    }
    worse |= !flagged.is_empty();
    let _ = writeln!(s, "\nall figures ({}):", rows.len());
    let cols: String = (0..runs.len())
        .map(|i| format!("{:>22}", letter(i)))
        .collect();
    let _ = writeln!(s, "  {:<40}{cols}", "figure");
    for r in &rows {
        write_row(&mut s, r);
    }
    (s, worse)
}

/// The environment fields that differ between the runs (what the comparison is about).
fn env_changes(s: &mut String, runs: &[Run]) {
    let env = |r: &Run| {
        let e = &r.env;
        [
            &e.xen_version,
            &e.scheduler,
            &e.xenstored,
            &e.mode,
            &e.cmdline,
        ]
        .map(Option::clone)
    };
    let all: Vec<[Option<String>; 5]> = runs.iter().map(env).collect();
    let names = ["xen", "scheduler", "xenstored", "mode", "cmdline"];
    for (i, name) in names.iter().enumerate() {
        let vals: Vec<&Option<String>> = all.iter().map(|e| &e[i]).collect();
        if vals.iter().any(|v| *v != vals[0]) {
            let cells: Vec<String> = vals
                .iter()
                .enumerate()
                .map(|(j, v)| format!("{}={}", letter(j), v.as_deref().unwrap_or("?")))
                .collect();
            let _ = writeln!(s, "differs: {name:<10} {}", cells.join("  "));
        }
    }
}

/// Checks whose verdict differs between the runs, then checks that only some runs have; true
/// if one got worse than in A (or the run's verdict did).
fn verdict_changes(s: &mut String, runs: &[Run]) -> bool {
    let all: Vec<Vec<(String, String)>> = runs.iter().map(check_verdicts).collect();
    let mut names: Vec<&String> = Vec::new();
    for (n, _) in all.iter().flatten() {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let mut worse = runs
        .iter()
        .any(|r| r.verdict.exit_code() > runs[0].verdict.exit_code());
    let (mut changed, mut partial) = (Vec::new(), Vec::new());
    for n in names {
        let vs: Vec<&str> = all
            .iter()
            .map(|v| v.iter().find(|x| &x.0 == n).map_or("-", |x| x.1.as_str()))
            .collect();
        if vs.iter().all(|v| *v == vs[0]) {
            continue;
        }
        let rank = |v: &str| Outcome::parse(v).map_or(9, |o| o as u8);
        worse |= vs
            .iter()
            .any(|v| *v != "-" && vs[0] != "-" && rank(v) > rank(vs[0]));
        let cells: Vec<String> = (0..vs.len())
            .map(|i| format!("{}={}", letter(i), vs[i]))
            .collect();
        let line = format!("  {n:<44} {}", cells.join("  "));
        match vs.contains(&"-") {
            true => partial.push(line),
            false => changed.push(line),
        }
    }
    let verdicts: Vec<String> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{}={}", letter(i), r.verdict.name()))
        .collect();
    let _ = writeln!(s, "\nrun verdicts: {}", verdicts.join("  "));
    let _ = writeln!(s, "checks that changed verdict: {}", changed.len());
    s.extend(changed.iter().map(|l| format!("{l}\n")));
    if !partial.is_empty() {
        let _ = writeln!(s, "checks not in every run (- = absent): {}", partial.len());
        s.extend(partial.iter().map(|l| format!("{l}\n")));
    }
    worse
}

/// Each check of a run as ("probe.name", verdict).
fn check_verdicts(r: &Run) -> Vec<(String, String)> {
    r.of::<owned::Check>()
        .map(|c| (format!("{}.{}", c.probe, c.name), c.verdict.to_string()))
        .collect()
}

struct Row {
    name: String,
    cells: Vec<String>,
    flags: Vec<String>,
}

fn write_row(s: &mut String, r: &Row) {
    let cells: String = r.cells.iter().map(|c| format!("{c:>22}")).collect();
    let _ = writeln!(s, "  {:<40}{cells}  {}", r.name, r.flags.join(" "));
}

fn table_rows(figs: &[Vec<Figure>], t: f64) -> Vec<Row> {
    let mut names: Vec<&str> = Vec::new();
    for f in figs.iter().flatten() {
        if !names.contains(&f.name.as_str()) {
            names.push(&f.name);
        }
    }
    names
        .iter()
        .map(|n| {
            let row: Vec<Option<&Figure>> = figs
                .iter()
                .map(|fs| fs.iter().find(|f| f.name == *n))
                .collect();
            let base = row[0].and_then(|f| f.value);
            let mut flags = Vec::new();
            let cells = row
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let Some(f) = f else { return "-".to_string() };
                    let Some(v) = f.value else {
                        return "not measured".to_string();
                    };
                    let shown = human(v, &f.unit);
                    match (i, base) {
                        (0, _) | (_, None) => shown,
                        (_, Some(b)) => {
                            let (ratio, flag) = judge(b, v, f.higher_is_better, t);
                            flags.extend(flag.map(|x| format!("{x}({})", letter(i))));
                            format!("{shown} ({ratio})")
                        }
                    }
                })
                .collect();
            Row {
                name: n.to_string(),
                cells,
                flags,
            }
        })
        .collect()
}

/// The ratio text and a flag when `v` moved beyond the threshold from `base`.
fn judge(base: f64, v: f64, higher_is_better: bool, t: f64) -> (String, Option<&'static str>) {
    if base == 0.0 {
        let flag = (v != 0.0).then_some(if higher_is_better {
            "better"
        } else {
            "REGRESSION"
        });
        return (if v == 0.0 { "=".into() } else { "was 0".into() }, flag);
    }
    let r = v / base;
    let worse = if higher_is_better {
        r < 1.0 - t
    } else {
        r > 1.0 + t
    };
    let better = if higher_is_better {
        r > 1.0 + t
    } else {
        r < 1.0 - t
    };
    let flag = if worse {
        Some("REGRESSION")
    } else if better {
        Some("better")
    } else {
        None
    };
    (format!("x{}", super::figures::sig3(r)), flag)
}

#[cfg(test)]
mod tests {
    use super::judge;

    #[test]
    fn ratios_and_flags() {
        assert_eq!(
            judge(100.0, 120.0, false, 0.1),
            ("x1.20".into(), Some("REGRESSION"))
        );
        assert_eq!(judge(100.0, 105.0, false, 0.1), ("x1.05".into(), None));
        assert_eq!(
            judge(100.0, 50.0, false, 0.1),
            ("x0.500".into(), Some("better"))
        );
        assert_eq!(judge(100.0, 50.0, true, 0.1).1, Some("REGRESSION"));
        assert_eq!(
            judge(0.0, 3.0, false, 0.1),
            ("was 0".into(), Some("REGRESSION"))
        );
        assert_eq!(judge(0.0, 0.0, false, 0.1), ("=".into(), None));
    }
}
