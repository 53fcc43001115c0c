//! The stall probe's plots: every stall on a time line (when, how long, which class), and its
//! periodic summaries (steal share, heartbeat interval percentiles) over the run.

use super::load::Run;
use super::plot::{legend_strip, log_tick, tick, Mark, Plot, FONT, PALETTE, SIZE};
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

/// Tick label for `v` seconds after `t0_s`: `09:15:41.5` for short spans, `09:15:41` otherwise.
fn time_label(t0_s: u64, wall: bool, fine: bool, v: f64) -> String {
    let s = t0_s as f64 + v;
    match (wall, fine) {
        (true, true) => {
            let tenth = ((s.fract() * 10.0) as u64).min(9);
            format!("{}.{tenth}", timefmt::hms(s.floor() as u64))
        }
        (true, false) => timefmt::hms(s.round() as u64),
        (false, _) => tick(s),
    }
}

pub fn timeline(run: &Run) -> Result<Vec<Plot>> {
    let st: Vec<&owned::Stall> = run.of().collect();
    if st.is_empty() {
        return Ok(Vec::new());
    }
    let (dots, t0_s, wall) = dots(&st);
    let first = dots.iter().map(|d| d.x).fold(f64::MAX, f64::min);
    let last = dots
        .iter()
        .map(|d| d.x + d.gap_ms / 1e3)
        .fold(0.0, f64::max);
    let pad = ((last - first) * 0.05).max(0.5);
    let (xmin, xmax) = (first - pad, last + pad);
    let thr = threshold_ms(run);
    let gmin = dots
        .iter()
        .map(|d| d.gap_ms)
        .fold(thr.unwrap_or(f64::MAX), f64::min);
    let gmax = dots.iter().map(|d| d.gap_ms).fold(0.0, f64::max);
    let title = format!("stall timeline: {} stalls", st.len());
    let xdesc = match wall {
        true => format!(
            "UTC time on {} (each bar spans the stall)",
            timefmt::date(t0_s)
        ),
        false => "Xen system time, s (each bar spans the stall)".into(),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let (chart, strip) = root.split_vertically(SIZE.1 - 36);
        let mut legend = Vec::new();
        let mut c = ChartBuilder::on(&chart)
            .caption(&title, (FONT, 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(xmin..xmax, (gmin * 0.7..gmax * 1.6).log_scale())?;
        let fine = last - first < 30.0;
        c.configure_mesh()
            .x_desc(xdesc)
            .y_desc("gap (ms, log scale)")
            .x_label_formatter(&|v| time_label(t0_s, wall, fine, *v))
            .y_labels(30)
            .y_label_formatter(&|y| log_tick(*y))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .light_line_style(RGBColor(244, 244, 244))
            .draw()?;
        if let Some(t) = thr {
            let grey = RGBColor(120, 120, 120);
            c.draw_series(LineSeries::new(
                [(xmin, t), (xmax, t)],
                grey.stroke_width(1),
            ))?;
            legend.push((format!("threshold {} ms", tick(t)), grey, Mark::Line));
        }
        let known = |d: &Dot| CLASSES.iter().any(|c| c.0 == d.class);
        let groups = CLASSES
            .iter()
            .map(|&(c, col)| {
                (
                    c,
                    col,
                    dots.iter().filter(|d| d.class == c).collect::<Vec<_>>(),
                )
            })
            .chain(std::iter::once((
                "other",
                RGBColor(0, 0, 0),
                dots.iter().filter(|d| !known(d)).collect(),
            )));
        for (class, col, mine) in groups {
            if mine.is_empty() {
                continue;
            }
            let bar = |d: &&Dot| {
                let end = d.x + d.gap_ms / 1e3;
                PathElement::new(vec![(d.x, d.gap_ms), (end, d.gap_ms)], col.stroke_width(4))
            };
            c.draw_series(mine.iter().map(bar))?;
            c.draw_series(
                mine.iter()
                    .map(|d| Circle::new((d.x, d.gap_ms), 4, col.filled())),
            )?;
            legend.push((format!("{class} ({})", mine.len()), col, Mark::Dot));
        }
        legend_strip(&strip, &legend)?;
        root.present()?;
    }
    let caption = "Each stall starts at its dot and lasts as long as its bar (and its height); \
                   the class comes from the vCPU's runstate over the gap.";
    Ok(vec![Plot {
        file: "stall-timeline.svg".into(),
        title,
        caption: caption.into(),
        svg,
    }])
}

pub fn summaries(run: &Run) -> Result<Vec<Plot>> {
    let sm: Vec<&owned::Summary> = run.of().collect();
    if sm.is_empty() {
        return Ok(Vec::new());
    }
    let mut at = 0.0;
    // (period start s, period end s, record)
    let periods: Vec<(f64, f64, &owned::Summary)> = sm
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
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let root = root.titled(&title, (FONT, 22))?;
        let (root, strip) = root.split_vertically(SIZE.1 - 70);
        let (top, bottom) = root.split_vertically(SIZE.1 * 2 / 5);
        let smax = periods
            .iter()
            .map(|p| p.2.steal_ppm as f64 / 1e4)
            .fold(1.0, f64::max)
            * 1.15;
        let mut c = ChartBuilder::on(&top)
            .margin(12)
            .x_label_area_size(24)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..xmax, 0.0..smax.min(100.0))?;
        c.configure_mesh()
            .y_desc("steal %")
            .x_label_formatter(&|_| String::new())
            .y_label_formatter(&|y| tick(*y))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .light_line_style(RGBColor(244, 244, 244))
            .draw()?;
        let fill = PALETTE[1].mix(0.7).filled();
        let mut legend = vec![(
            "steal % (runnable + offline)".to_string(),
            PALETTE[1],
            Mark::Dot,
        )];
        c.draw_series(
            periods
                .iter()
                .map(|&(s, e, r)| Rectangle::new([(s, 0.0), (e, r.steal_ppm as f64 / 1e4)], fill)),
        )?;
        let ms = |r: &owned::Summary, k: fn(&owned::Summary) -> u64| (k(r) as f64 / 1e6).max(1e-3);
        let keys: [(Field, &str); 3] = [
            (|r| r.interval_p50_ns, "p50"),
            (|r| r.interval_p99_ns, "p99"),
            (|r| r.interval_max_ns, "max"),
        ];
        let lo = periods
            .iter()
            .map(|p| ms(p.2, keys[0].0))
            .fold(f64::MAX, f64::min)
            * 0.7;
        let hi = periods
            .iter()
            .map(|p| ms(p.2, keys[2].0))
            .fold(0.0, f64::max)
            * 1.6;
        let mut c = ChartBuilder::on(&bottom)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..xmax, (lo..hi).log_scale())?;
        c.configure_mesh()
            .x_desc("time since the stall probe started (s)")
            .y_desc("heartbeat interval (ms)")
            .y_labels(30)
            .x_label_formatter(&|x| tick(*x))
            .y_label_formatter(&|y| log_tick(*y))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .light_line_style(RGBColor(244, 244, 244))
            .draw()?;
        for (i, (k, name)) in keys.iter().enumerate() {
            let col = PALETTE[[0, 4, 3][i]];
            let steps = periods
                .iter()
                .flat_map(|&(s, e, r)| [(s, ms(r, *k)), (e, ms(r, *k))]);
            c.draw_series(LineSeries::new(steps, col.stroke_width(3)))?;
            legend.push((format!("interval {name}"), col, Mark::Line));
        }
        legend_strip(&strip, &legend)?;
        root.present()?;
    }
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
