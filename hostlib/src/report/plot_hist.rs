//! Latency plots from `histogram` records: one histogram each (log time axis, p50/p99/max
//! marked), and percentile curves per group of related histograms.

use super::load::Run;
use super::plot::{
    legend_px, legend_strip, log_range, ns_unit, panel, slug, svg, tick, Axis, Legend, Mark, Plot,
    PALETTE,
};
use anyhow::Result;
use plotters::prelude::*;
use xp_core::records::owned;

/// One histogram record: name, unit, buckets (lo, hi, count) with lo <= hi, ascending.
pub struct Hist {
    pub probe: String,
    pub name: String,
    pub unit: String,
    pub buckets: Vec<(f64, f64, u64)>,
}

impl Hist {
    pub fn from_record(r: &owned::Histogram) -> Option<Hist> {
        let mut buckets: Vec<(f64, f64, u64)> = r
            .buckets
            .iter()
            .map(|&[lo, hi, n]| (lo as f64, hi as f64, n))
            .filter(|(lo, hi, n)| lo <= hi && *n > 0)
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        (!buckets.is_empty()).then(|| Hist {
            probe: r.probe.clone(),
            name: r.name.clone(),
            unit: r.unit.clone(),
            buckets,
        })
    }

    pub fn total(&self) -> u64 {
        self.buckets.iter().map(|b| b.2).sum()
    }

    /// (x, value) points of the percentile curve: x = -log10(1 - p), value = bucket upper bound
    /// (as the probe reports percentiles). The last bucket (p = 1) is drawn at 1 - 1/n.
    pub fn curve(&self) -> Vec<(f64, f64)> {
        let n = self.total() as f64;
        let x = |cum: f64| -(1.0 - (cum / n).min(1.0 - 1.0 / n.max(2.0))).log10();
        let (mut cum, mut pts) = (0.0, Vec::new());
        for &(_, hi, c) in &self.buckets {
            pts.push((x(cum), hi + 1.0));
            cum += c as f64;
            pts.push((x(cum), hi + 1.0));
        }
        pts
    }
}

fn hists(run: &Run) -> Vec<Hist> {
    run.of::<owned::Histogram>()
        .filter_map(Hist::from_record)
        .collect()
}

/// A name's group: `lateness_100us` -> `lateness` (a trailing `_<number...>` token is dropped).
pub fn stem(name: &str) -> &str {
    match name.rsplit_once('_') {
        Some((s, t)) if t.starts_with(|c: char| c.is_ascii_digit()) => s,
        _ => name,
    }
}

/// Groups of histograms for percentile curves: same probe, stem and unit; a probe's lone
/// histograms go together.
pub fn groups(hs: &[Hist]) -> Vec<(String, Vec<&Hist>)> {
    let mut g: Vec<(String, Vec<&Hist>)> = Vec::new();
    for h in hs {
        let key = format!("{}.{}", h.probe, stem(&h.name));
        match g.iter_mut().find(|(k, v)| *k == key && v[0].unit == h.unit) {
            Some((_, v)) => v.push(h),
            None => g.push((key, vec![h])),
        }
    }
    let (single, mut multi): (Vec<_>, Vec<_>) = g.into_iter().partition(|(_, v)| v.len() == 1);
    for (_, v) in single {
        let key = v[0].probe.clone();
        match multi
            .iter_mut()
            .find(|(k, w)| *k == key && w[0].unit == v[0].unit)
        {
            Some((_, w)) => w.extend(v),
            None => multi.push((key, v)),
        }
    }
    multi
}

pub fn percentiles(run: &Run) -> Result<Vec<Plot>> {
    let hs = hists(run);
    groups(&hs)
        .iter()
        .map(|(k, v)| percentile_plot(k, v))
        .collect()
}

/// The label of a point on the percentile axis (x = -log10(1 - p)): 0%, 90%, 99%, 99.9%...
pub fn pct_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-x));
    let digits = (x.ceil() as usize).saturating_sub(2);
    format!("{p:.digits$}%")
}

/// The divisor and unit a group of values in `unit` is shown in (ns scale to us, ms, s).
fn shown_unit(unit: &str, max: f64) -> (f64, &str) {
    match unit {
        "ns" => ns_unit(max),
        u => (1.0, u),
    }
}

fn percentile_plot(key: &str, hs: &[&Hist]) -> Result<Plot> {
    let curves: Vec<Vec<(f64, f64)>> = hs.iter().map(|h| h.curve()).collect();
    let all = || curves.iter().flatten();
    let (div, unit) = shown_unit(&hs[0].unit, all().map(|p| p.1).fold(0.0, f64::max));
    let ymin = all().map(|p| p.1 / div).fold(f64::MAX, f64::min).max(1e-9) * 0.8;
    let ymax = all().map(|p| p.1 / div).fold(0.0, f64::max) * 1.25;
    // Room right of the last point, so that the maximum's vertical step is not on the frame.
    let xmax = all().map(|p| p.0).fold(2.0, f64::max) + 0.12;
    let title = format!("{key}: percentiles ({unit})");
    let legend: Vec<Legend> = hs
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let label = format!("{} (n={})", h.name, h.total());
            (label, PALETTE[i % PALETTE.len()], Mark::Line)
        })
        .collect();
    let x = Axis {
        desc: "percentile (log scale of 1 / (1 - p))".into(),
        ticks: xmax as usize + 1,
        // Labels at whole decades of 1 / (1 - p): 0%, 90%, 99%, 99.9%...
        label: &|x| match x.fract() == 0.0 {
            true => pct_label(*x),
            false => String::new(),
        },
    };
    let y = Axis {
        desc: format!("{} ({unit}, log scale)", stem(&hs[0].name)),
        ticks: 0,
        label: &|v| tick(*v),
    };
    let svg = svg(Some(&title), legend_px(&legend), |area, strip| {
        let mut c = panel(area, &x, &y, (0.0..xmax, log_range(ymin, ymax)))?;
        for (pts, (_, col, _)) in curves.iter().zip(&legend) {
            let line = pts.iter().map(|&(x, y)| (x, y / div));
            c.draw_series(LineSeries::new(line, col.stroke_width(3)))?;
        }
        legend_strip(strip, &legend)
    })?;
    let caption =
        "Latency at each percentile, read from the probe's histogram (bucket upper bounds, \
                   at most 6.25 % above the true sample); the right end of a curve is its maximum.";
    Ok(Plot {
        file: format!("pct-{}.svg", slug(key)),
        title,
        caption: caption.into(),
        svg,
    })
}

pub fn histograms(run: &Run) -> Result<Vec<Plot>> {
    let stats: Vec<&owned::Stats> = run.of().collect();
    hists(run)
        .iter()
        .map(|h| {
            let st = stats
                .iter()
                .find(|s| s.probe == h.probe && s.name == h.name);
            histogram_plot(h, st.copied())
        })
        .collect()
}

/// The p50, p99 and max lines of a histogram (from its stats record), with their legend;
/// equal values share one line and one entry ("p99 = max = 4158 us"), so none is hidden.
fn marks(stats: Option<&owned::Stats>, div: f64, unit: &str) -> Vec<(f64, Legend)> {
    let marks = stats.map(|s| [("p50", s.p50), ("p99", s.p99), ("max", s.max)]);
    let mut out: Vec<(u64, Vec<&str>, RGBColor)> = Vec::new();
    for (i, (label, v)) in marks.into_iter().flatten().enumerate() {
        match out.last_mut() {
            Some(last) if last.0 == v => last.1.push(label),
            _ => out.push((v, vec![label], PALETTE[i + 1])),
        }
    }
    out.into_iter()
        .map(|(v, labels, col)| {
            let v = v as f64 / div;
            let text = format!("{} = {} {unit}", labels.join(" = "), tick(v));
            (v, (text, col, Mark::Line))
        })
        .collect()
}

fn histogram_plot(h: &Hist, stats: Option<&owned::Stats>) -> Result<Plot> {
    let hi = h.buckets.last().map_or(1.0, |b| b.1 + 1.0);
    let (div, unit) = shown_unit(&h.unit, hi);
    let lo = h.buckets[0].0.max(hi * 1e-9).max(1e-9) / div;
    let ymax = h.buckets.iter().map(|b| b.2).max().unwrap_or(1) as f64 * 1.15;
    let title = format!("{}.{}: histogram, n={}", h.probe, h.name, h.total());
    let marks = marks(stats, div, unit);
    let mut legend = vec![(
        format!("samples per bucket (n={})", h.total()),
        PALETTE[0],
        Mark::Dot,
    )];
    legend.extend(marks.iter().map(|m| m.1.clone()));
    let x = Axis {
        desc: format!("{} ({unit}, log scale)", h.name),
        ticks: 0,
        label: &|v| tick(*v),
    };
    let y = Axis {
        desc: "samples per bucket".into(),
        ticks: 5,
        label: &|v| tick(*v),
    };
    let svg = svg(Some(&title), legend_px(&legend), |area, strip| {
        let xr = log_range(lo * 0.8, hi / div * 1.25);
        let mut c = panel(area, &x, &y, (xr, 0.0..ymax))?;
        let bar = PALETTE[0].mix(0.75).filled();
        c.draw_series(h.buckets.iter().map(|&(l, u, n)| {
            let (x0, x1) = (l.max(lo * div) / div, (u + 1.0) / div);
            Rectangle::new([(x0, 0.0), (x1, n as f64)], bar)
        }))?;
        for (v, (_, col, _)) in &marks {
            let line = [(v.max(lo), 0.0), (v.max(lo), ymax)];
            c.draw_series(LineSeries::new(line, col.stroke_width(2)))?;
        }
        legend_strip(strip, &legend)
    })?;
    let method = stats.map(|s| s.method.clone()).unwrap_or_default();
    let caption = format!(
        "Buckets as the probe reported them (width grows with the value). Method: {method}"
    );
    let file = format!("hist-{}-{}.svg", slug(&h.probe), slug(&h.name));
    Ok(Plot {
        file,
        title,
        caption,
        svg,
    })
}
