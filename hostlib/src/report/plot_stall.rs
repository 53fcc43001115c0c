//! The stall probe's plots: every stall on a time line (when, how long, which class), and its
//! periodic summaries (steal share, heartbeat interval percentiles) over the run.

use super::load::Run;
use super::plot::{
    legend_px, legend_strip, log_range, panel, svg, tick, Area, Axis, Chart, Legend, Mark, Plot,
    PALETTE,
};
use super::timefmt;
use anyhow::Result;
use plotters::prelude::*;
use xp_core::records::owned;

/// One numeric field of a summary record.
type Field = fn(&owned::Summary) -> u64;

/// Stall classes in legend order, with their colours.
const CLASSES: [(&str, RGBColor); 5] = [
    ("lost_wakeup", RGBColor(200, 30, 30)),
    ("preempted", RGBColor(230, 159, 0)),
    ("paused_offline", RGBColor(0, 114, 178)),
    ("guest_busy", RGBColor(0, 158, 115)),
    ("unknown", RGBColor(120, 120, 120)),
];

/// The threshold from the stall probe's `stall_config` info (`threshold 50ms`), in ms.
fn threshold_ms(run: &Run) -> Option<f64> {
    let cfg = run.of::<owned::Info>().find(|r| r.key == "stall_config")?;
    let v = &cfg.value;
    let t = v.split("threshold ").nth(1)?.split([',', ' ']).next()?;
    let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: f64 = digits.parse().ok()?;
    match &t[digits.len()..] {
        "ms" => Some(n),
        "us" => Some(n / 1e3),
        "s" => Some(n * 1e3),
        "ns" => Some(n / 1e6),
        _ => None,
    }
}

/// One stall on the time line: start (s since `t0_s`), gap (ms), class.
struct Dot {
    x: f64,
    gap_ms: f64,
    class: String,
}

/// The stalls as dots, the whole second they start from, and whether times are UTC wall
/// clock (else Xen system time, when the guest had no wall clock).
fn dots(st: &[&owned::Stall]) -> (Vec<Dot>, u64, bool) {
    let wall = st.iter().all(|r| r.start_wall_ns > 0);
    let start = |r: &owned::Stall| if wall { r.start_wall_ns } else { r.start_ns };
    let t0_s = st.iter().map(|r| start(r)).min().unwrap_or(0) / 1_000_000_000;
    let dots = st
        .iter()
        .map(|r| Dot {
            x: start(r).saturating_sub(t0_s * 1_000_000_000) as f64 / 1e9,
            gap_ms: r.gap_ns as f64 / 1e6,
            class: r.class.clone(),
        })
        .collect();
    (dots, t0_s, wall)
}

/// Tick label for `v` seconds after `t0_s` with `decimals` decimals of a second
/// (`09:15:41.25`), rounded, so that evenly spaced ticks read evenly.
fn time_label(t0_s: u64, wall: bool, decimals: u32, v: f64) -> String {
    if !wall {
        return tick(t0_s as f64 + v);
    }
    let scale = 10u64.pow(decimals);
    let units = (t0_s * scale).saturating_add_signed((v * scale as f64).round() as i64);
    let hms = timefmt::hms(units / scale);
    match decimals {
        0 => hms,
        d => format!("{hms}.{:0w$}", units % scale, w = d as usize),
    }
}

/// Decimals of a second the time axis needs over a span of `span_s` seconds.
fn time_decimals(span_s: f64) -> u32 {
    match span_s {
        s if s <= 3.0 => 2,
        s if s <= 30.0 => 1,
        _ => 0,
    }
}

/// The dots of each stall class in legend order (then any class the probe may add), with
/// their colours.
fn by_class(dots: &[Dot]) -> Vec<(&'static str, RGBColor, Vec<&Dot>)> {
    let known = |d: &Dot| CLASSES.iter().any(|c| c.0 == d.class);
    let mut groups: Vec<(&str, RGBColor, Vec<&Dot>)> = CLASSES
        .iter()
        .map(|&(c, col)| (c, col, dots.iter().filter(|d| d.class == c).collect()))
        .collect();
    let other = dots.iter().filter(|d| !known(d)).collect();
    groups.push(("other", RGBColor(0, 0, 0), other));
    groups.retain(|g| !g.2.is_empty());
    groups
}

/// Stalls of one class: a dot where each starts, a bar as long as it lasted.
fn draw_stalls<X, Y>(c: &mut Chart<X, Y>, dots: &[&Dot], col: RGBColor) -> Result<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let bar = |d: &&Dot| {
        let end = d.x + d.gap_ms / 1e3;
        PathElement::new(vec![(d.x, d.gap_ms), (end, d.gap_ms)], col.stroke_width(4))
    };
    c.draw_series(dots.iter().map(bar))?;
    c.draw_series(
        dots.iter()
            .map(|d| Circle::new((d.x, d.gap_ms), 4, col.filled())),
    )?;
    Ok(())
}

/// The threshold line and each class's legend entry.
fn timeline_legend(thr: Option<f64>, groups: &[(&str, RGBColor, Vec<&Dot>)]) -> Vec<Legend> {
    let grey = RGBColor(120, 120, 120);
    let line = thr.map(|t| (format!("threshold {} ms", tick(t)), grey, Mark::Line));
    let classes = groups
        .iter()
        .map(|(c, col, mine)| (format!("{c} ({})", mine.len()), *col, Mark::Dot));
    line.into_iter().chain(classes).collect()
}

/// The time axis: from the first stall's start to the last one's end, with a margin.
fn x_span(dots: &[Dot]) -> (f64, f64) {
    let first = dots.iter().map(|d| d.x).fold(f64::MAX, f64::min);
    let last = dots
        .iter()
        .map(|d| d.x + d.gap_ms / 1e3)
        .fold(0.0, f64::max);
    let pad = ((last - first) * 0.05).max(0.5);
    (first - pad, last + pad)
}

pub fn timeline(run: &Run) -> Result<Vec<Plot>> {
    let st: Vec<&owned::Stall> = run.of().collect();
    if st.is_empty() {
        return Ok(Vec::new());
    }
    let (dots, t0_s, wall) = dots(&st);
    let xs = x_span(&dots);
    let thr = threshold_ms(run);
    let gmin = dots
        .iter()
        .map(|d| d.gap_ms)
        .fold(thr.unwrap_or(f64::MAX), f64::min);
    let gmax = dots.iter().map(|d| d.gap_ms).fold(0.0, f64::max);
    let title = match st.len() {
        1 => "stall timeline: 1 stall".to_string(),
        n => format!("stall timeline: {n} stalls"),
    };
    let decimals = time_decimals(xs.1 - xs.0);
    let x = Axis {
        desc: match wall {
            true => format!(
                "UTC time on {} (each bar spans the stall)",
                timefmt::date(t0_s)
            ),
            false => "Xen system time, s (each bar spans the stall)".into(),
        },
        ticks: 10,
        label: &|v| time_label(t0_s, wall, decimals, *v),
    };
    let y = Axis {
        desc: "gap (ms, log scale)".into(),
        ticks: 0,
        label: &|v| tick(*v),
    };
    let groups = by_class(&dots);
    let legend = timeline_legend(thr, &groups);
    let svg = svg(Some(&title), legend_px(&legend), |area, strip| {
        let yr = log_range(gmin * 0.7, gmax * 1.6);
        let mut c = panel(area, &x, &y, (xs.0..xs.1, yr))?;
        if let Some(t) = thr {
            let grey = RGBColor(120, 120, 120).stroke_width(1);
            c.draw_series(LineSeries::new([(xs.0, t), (xs.1, t)], grey))?;
        }
        for (_, col, mine) in &groups {
            draw_stalls(&mut c, mine, *col)?;
        }
        legend_strip(strip, &legend)
    })?;
    let caption = "Each stall starts at its dot and lasts as long as its bar (and its height); \
                   the class comes from the vCPU's runstate over the gap.";
    Ok(vec![Plot {
        file: "stall-timeline.svg".into(),
        title,
        caption: caption.into(),
        svg,
    }])
}

/// One summary period: start and end (s since the stall probe started), and its record.
type Period<'a> = (f64, f64, &'a owned::Summary);

/// The heartbeat interval statistics plotted per period, with their colours.
const INTERVALS: [(Field, &str, usize); 3] = [
    (|r| r.interval_p50_ns, "p50", 0),
    (|r| r.interval_p99_ns, "p99", 4),
    (|r| r.interval_max_ns, "max", 3),
];

/// The upper panel: each period's steal share as a bar.
fn steal_panel(area: &Area, periods: &[Period], xmax: f64) -> Result<()> {
    let steal = |r: &owned::Summary| r.steal_ppm as f64 / 1e4;
    let smax = periods.iter().map(|p| steal(p.2)).fold(1.0, f64::max) * 1.15;
    let x = Axis {
        desc: String::new(),
        ticks: 10,
        label: &|v| tick(*v),
    };
    let y = Axis {
        desc: "steal %".into(),
        ticks: 5,
        label: &|v| tick(*v),
    };
    let mut c = panel(area, &x, &y, (0.0..xmax, 0.0..smax.min(100.0)))?;
    let fill = PALETTE[1].mix(0.7).filled();
    let bars = periods
        .iter()
        .map(|&(s, e, r)| Rectangle::new([(s, 0.0), (e, steal(r))], fill));
    c.draw_series(bars)?;
    Ok(())
}

/// The lower panel: each period's heartbeat interval p50, p99 and maximum as steps.
fn interval_panel(area: &Area, periods: &[Period], xmax: f64) -> Result<()> {
    let ms = |r: &owned::Summary, k: Field| (k(r) as f64 / 1e6).max(1e-3);
    let over = |k: Field| periods.iter().map(move |p| ms(p.2, k));
    let lo = over(INTERVALS[0].0).fold(f64::MAX, f64::min) * 0.7;
    let hi = over(INTERVALS[2].0).fold(0.0, f64::max) * 1.6;
    let x = Axis {
        desc: "time since the stall probe started (s)".into(),
        ticks: 10,
        label: &|v| tick(*v),
    };
    let y = Axis {
        desc: "heartbeat interval (ms)".into(),
        ticks: 0,
        label: &|v| tick(*v),
    };
    let mut c = panel(area, &x, &y, (0.0..xmax, log_range(lo, hi)))?;
    for (k, _, col) in INTERVALS {
        let steps = periods
            .iter()
            .flat_map(|&(s, e, r)| [(s, ms(r, k)), (e, ms(r, k))]);
        c.draw_series(LineSeries::new(steps, PALETTE[col].stroke_width(3)))?;
    }
    Ok(())
}

pub fn summaries(run: &Run) -> Result<Vec<Plot>> {
    let sm: Vec<&owned::Summary> = run.of().collect();
    if sm.is_empty() {
        return Ok(Vec::new());
    }
    let mut at = 0.0;
    let periods: Vec<Period> = sm
        .iter()
        .map(|r| {
            let s = at;
            at += r.elapsed_ns as f64 / 1e9;
            (s, at, *r)
        })
        .collect();
    let xmax = at.max(1.0);
    let s = if sm.len() == 1 { "" } else { "s" };
    let title = format!("stall summaries: {} period{s} over {:.0} s", sm.len(), at);
    let mut legend = vec![(
        "steal % (runnable + offline)".to_string(),
        PALETTE[1],
        Mark::Dot,
    )];
    legend.extend(
        INTERVALS
            .iter()
            .map(|(_, name, col)| (format!("interval {name}"), PALETTE[*col], Mark::Line)),
    );
    let svg = svg(Some(&title), legend_px(&legend), |area, strip| {
        let (top, bottom) = area.split_vertically(area.dim_in_pixel().1 * 2 / 5);
        steal_panel(&top, &periods, xmax)?;
        interval_panel(&bottom, &periods, xmax)?;
        legend_strip(strip, &legend)
    })?;
    let caption =
        "Per summary period: steal (runnable + offline share of the period, as Linux counts \
                   it) and the heartbeat interval's p50, p99 and maximum.";
    Ok(vec![Plot {
        file: "stall-summaries.svg".into(),
        title,
        caption: caption.into(),
        svg,
    }])
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_ticks_read_evenly() {
        let t0 = 1_796_625_690; // 06:41:30 UTC
        let labels: Vec<String> = [-0.25, 0.0, 0.25, 0.5, 0.75]
            .map(|v| super::time_label(t0, true, super::time_decimals(1.8), v))
            .into();
        assert_eq!(
            labels,
            [
                "06:41:29.75",
                "06:41:30.00",
                "06:41:30.25",
                "06:41:30.50",
                "06:41:30.75"
            ]
        );
        assert_eq!(super::time_label(t0, true, 0, 59.6), "06:42:30");
        assert_eq!(super::time_label(t0, true, 1, 0.49999), "06:41:30.5");
    }
}
