//! The targets table of DESIGN.md and the bench table printed against it: each figure with its
//! value, sample count, the baseline it is measured beside, the ratio, the target and whether
//! it is met. Missing figures say why ("not measured: ...").

use super::figures::{human, Figure};
use std::fmt::Write;

pub enum Limit {
    /// value <= limit, in the figure's unit.
    AtMost(f64),
    /// value == limit.
    Exactly(f64),
    /// value / beside <= ratio.
    RatioAtMost { beside: &'static str, ratio: f64 },
}

pub struct Target {
    pub figure: &'static str,
    pub what: &'static str,
    pub limit: Limit,
    pub text: &'static str,
}

/// DESIGN.md, "Targets (measured by `cargo xtask bench`)".
pub const TARGETS: &[Target] = &[
    Target {
        figure: "lab_wall_domu",
        what: "lab, domU run (platform), warm",
        limit: Limit::AtMost(3.0),
        text: "<= 3 s wall (saved lab restored)",
    },
    Target {
        figure: "lab_wall_domu_vs_dom0",
        what: "lab, warm domU run beside --dom0 run",
        limit: Limit::RatioAtMost {
            beside: "lab_wall_dom0",
            ratio: 1.5,
        },
        text: "<= 1.5x the --dom0 run",
    },
    Target {
        figure: "lab_wall_domu_cold",
        what: "lab, domU run (platform), cold",
        limit: Limit::AtMost(f64::INFINITY),
        text: "stated (Xen + dom0 boot)",
    },
    Target {
        figure: "lab_wall_dom0",
        what: "lab, --dom0 run (platform probe)",
        limit: Limit::AtMost(2.0),
        text: "<= 2 s wall",
    },
    Target {
        figure: "xtask_test_wall",
        what: "whole `cargo xtask test`",
        limit: Limit::AtMost(600.0),
        text: "<= 10 min in a fresh clone",
    },
    Target {
        figure: "image_stripped",
        what: "probe image (stripped ELF)",
        limit: Limit::AtMost(524_288.0),
        text: "<= 512 KiB",
    },
    Target {
        figure: "min_guest_memory",
        what: "smallest guest memory, default suite",
        limit: Limit::Exactly(4.0),
        text: "4 MiB (libxc floor)",
    },
    Target {
        figure: "entry_to_ready",
        what: "guest entry to ready",
        limit: Limit::RatioAtMost {
            beside: "linux_pv_boot",
            ratio: 0.02,
        },
        text: "<= 1/50 of Linux PV",
    },
    Target {
        figure: "xenstore_read_1",
        what: "xenstore read 1, per op",
        limit: Limit::RatioAtMost {
            beside: "test_xenstore_read_1",
            ratio: 1.0,
        },
        text: "<= 1.0x test-xenstore",
    },
    Target {
        figure: "xenstore_write_1",
        what: "xenstore write 1, per op",
        limit: Limit::RatioAtMost {
            beside: "test_xenstore_write_1",
            ratio: 1.0,
        },
        text: "<= 1.0x test-xenstore",
    },
    Target {
        figure: "timer_overhead",
        what: "timer probe overhead per sample (TCG)",
        limit: Limit::AtMost(1000.0),
        text: "<= 1 us, stated",
    },
    Target {
        figure: "ring_rtt",
        what: "ring round trip",
        limit: Limit::RatioAtMost {
            beside: "vchan_rtt",
            ratio: 1.0,
        },
        text: "<= 1.0x vchan-socket-proxy",
    },
    Target {
        figure: "wake_cross_vcpu_p99",
        what: "cross-vCPU wake-up p99 beside same-vCPU loopback p99",
        limit: Limit::RatioAtMost {
            beside: "wake_loopback_p99",
            ratio: f64::INFINITY,
        },
        text: "stated, explained (README)",
    },
    Target {
        figure: "wake_cross_vcpu_tsc_p99",
        what: "the same wake-ups timed by TSC (one time base)",
        limit: Limit::RatioAtMost {
            beside: "wake_loopback_p99",
            ratio: f64::INFINITY,
        },
        text: "stated (README)",
    },
    Target {
        figure: "wake_cross_vcpu_clock_behind",
        what: "the same run: wakee pvclock behind the waker (max)",
        limit: Limit::AtMost(f64::INFINITY),
        text: "stated (README: Xen's per-pCPU time)",
    },
    Target {
        figure: "timer_p99_1ms_domu",
        what: "timer lateness p99 at 1 ms, domU (dom0 on its own pCPU) beside the probe as dom0",
        limit: Limit::RatioAtMost {
            beside: "timer_p99_1ms_dom0",
            ratio: 2.0,
        },
        text: "<= 2x dom0",
    },
    Target {
        figure: "timer_p99_1ms_domu_one_pcpu",
        what: "the same with one pCPU for the probe (dom0 on the other)",
        limit: Limit::RatioAtMost {
            beside: "timer_p99_1ms_dom0",
            ratio: 2.0,
        },
        text: "<= 2x dom0",
    },
    Target {
        figure: "wake_cross_vcpu_lost",
        what: "lost wake-ups over 100 000 cross-vCPU wake-ups",
        limit: Limit::Exactly(0.0),
        text: "0",
    },
    Target {
        figure: "watchdog_detection_delay",
        what: "watchdog detection delay (threshold 100 ms, period 1 ms)",
        limit: Limit::AtMost(101.0),
        text: "<= threshold + one period",
    },
    Target {
        figure: "planted_recall",
        what: "planted lost wake-ups caught (lost_wakeup, 1.0 s +-10 %)",
        limit: Limit::Exactly(1.0),
        text: "20/20 (ratio 1)",
    },
    Target {
        figure: "planted_false_positives",
        what: "lost wake-ups in the unarmed run (1 h of guest time by default; n = its beats), unarmed planted build",
        limit: Limit::Exactly(0.0),
        text: "0",
    },
    Target {
        figure: "planted_boot_wall",
        what: "planted-fault Xen, domU platform run",
        limit: Limit::RatioAtMost {
            beside: "lab_wall_domu",
            ratio: 2.0,
        },
        text: "same order as stock (<= 2x)",
    },
];

fn find<'a>(figs: &'a [Figure], name: &str) -> Option<&'a Figure> {
    figs.iter().find(|f| f.name == name)
}

/// (shown value, baseline text, ratio text, status) of one target.
fn judge(t: &Target, figs: &[Figure]) -> [String; 4] {
    let f = find(figs, t.figure);
    let shown = match f {
        Some(Figure {
            value: Some(v),
            unit,
            ..
        }) => human(*v, unit),
        _ => "-".into(),
    };
    // The reasons are in the notes under the table; the status column stays short.
    let missing = |f: Option<&Figure>, name: &str| match f {
        None => format!("not measured (no {name} in this file)"),
        Some(_) => "not measured (why: below)".into(),
    };
    let base = |name: &str| match find(figs, name) {
        Some(Figure {
            value: Some(v),
            unit,
            ..
        }) => format!("{name} {}", human(*v, unit)),
        _ => format!("{name}: -"),
    };
    let Some(v) = f.and_then(|f| f.value) else {
        let beside = match t.limit {
            Limit::RatioAtMost { beside, .. } => base(beside),
            _ => String::new(),
        };
        return [shown, beside, String::new(), missing(f, t.figure)];
    };
    match t.limit {
        Limit::AtMost(l) => [shown, String::new(), String::new(), verdict(v <= l)],
        Limit::Exactly(l) => [shown, String::new(), String::new(), verdict(v == l)],
        Limit::RatioAtMost { beside, ratio } => {
            let b = find(figs, beside);
            match b.and_then(|b| b.value.map(|v| (v, &b.unit))) {
                Some((bv, unit)) if bv > 0.0 => {
                    let r = v / bv;
                    [
                        shown,
                        format!("{beside} {}", human(bv, unit)),
                        format!("{r:.3}"),
                        verdict(r <= ratio),
                    ]
                }
                _ => [
                    shown,
                    format!("{beside}: -"),
                    String::new(),
                    format!("baseline {}", missing(b, beside)),
                ],
            }
        }
    }
}

fn verdict(ok: bool) -> String {
    if ok {
        "meets".into()
    } else {
        "MISSES".into()
    }
}

/// The bench table: one row per target, then every figure's method and notes.
pub fn table(figs: &[Figure]) -> String {
    table_of(figs, false)
}

/// `present_only`: leave out the targets whose figure is not in `figs` at all (a bench that
/// measured only some figures, `bench --only`), instead of marking them not measured.
pub fn table_of(figs: &[Figure], present_only: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<40} {:>10} {:>6}  {:<30} {:>6}  {:<28} status",
        "figure", "value", "n", "beside", "ratio", "target"
    );
    let shown = TARGETS
        .iter()
        .filter(|t| !present_only || find(figs, t.figure).is_some());
    for t in shown {
        let [v, b, r, st] = judge(t, figs);
        let n = find(figs, t.figure)
            .and_then(|f| f.samples)
            .map_or("-".into(), |n| n.to_string());
        let _ = writeln!(
            s,
            "{:<40} {v:>10} {n:>6}  {b:<30} {r:>6}  {:<28} {st}",
            t.what, t.text
        );
    }
    let _ = writeln!(s, "\nhow each figure was measured:");
    for f in figs {
        let v = f.value.map_or("not measured".into(), |v| human(v, &f.unit));
        let n = f.samples.map_or(String::new(), |n| format!(", n={n}"));
        let _ = writeln!(s, "  {} = {v}{n}: {}", f.name, f.method);
        if let Some(note) = &f.note {
            let _ = writeln!(s, "      {note}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(name: &str, v: Option<f64>, unit: &str) -> Figure {
        Figure {
            value: v,
            note: v.is_none().then(|| "not measured: no probe".into()),
            ..Figure::new(name.into(), 0.0, unit, Some(3), "m")
        }
    }

    #[test]
    fn targets_are_judged_with_ratios_and_reasons() {
        let figs = vec![
            fig("lab_wall_domu", Some(2.5), "s"),
            fig("lab_wall_dom0", Some(2.5), "s"),
            fig("entry_to_ready", Some(1e6), "ns"),
            fig("linux_pv_boot", None, "ns"),
            fig("xenstore_read_1", Some(450.0), "ns"),
            fig("test_xenstore_read_1", Some(500.0), "ns"),
        ];
        let t = table(&figs);
        let line = |k: &str| t.lines().find(|l| l.starts_with(k)).unwrap().to_string();
        assert!(
            line("lab, domU run (platform), warm").ends_with("meets"),
            "{t}"
        );
        assert!(line("lab, --dom0 run").ends_with("MISSES"), "{t}");
        assert!(
            line("guest entry to ready").ends_with("baseline not measured (why: below)"),
            "{t}"
        );
        assert!(
            line("xenstore read 1").contains("0.900") && line("xenstore read 1").ends_with("meets"),
            "{t}"
        );
        assert!(
            line("xenstore write 1").ends_with("not measured (no xenstore_write_1 in this file)"),
            "{t}"
        );
        assert!(t.contains("linux_pv_boot = not measured, n=3: m"), "{t}");
    }

    #[test]
    fn a_partial_bench_shows_only_the_targets_it_measured() {
        let figs = vec![
            fig("planted_boot_wall", Some(6.75), "s"),
            fig("lab_wall_domu", Some(8.22), "s"),
            fig("planted_recall", None, "ratio"),
        ];
        let t = table_of(&figs, true);
        let rows: Vec<&str> = t.lines().take_while(|l| !l.is_empty()).skip(1).collect();
        assert_eq!(rows.len(), 3, "{t}");
        assert!(rows[0].starts_with("lab, domU run (platform), warm"), "{t}");
        assert!(rows[1].starts_with("planted lost wake-ups caught"), "{t}");
        assert!(
            rows[2].starts_with("planted-fault Xen, domU platform run")
                && rows[2].ends_with("meets"),
            "{t}"
        );
        assert!(!t.contains("in this file"), "{t}");
    }
}
