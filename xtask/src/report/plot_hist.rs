//! Latency plots from `histogram` records: one histogram each (log time axis, p50/p99/max
//! marked), and percentile curves per group of related histograms.

use super::load::Run;
use super::plot::{legend_strip, log_tick, ns_unit, slug, tick, Mark, Plot, FONT, PALETTE, SIZE};
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

fn percentile_plot(key: &str, hs: &[&Hist]) -> Result<Plot> {
    let curves: Vec<Vec<(f64, f64)>> = hs.iter().map(|h| h.curve()).collect();
    let all = || curves.iter().flatten();
    let is_ns = hs[0].unit == "ns";
    let (div, unit) = if is_ns {
        ns_unit(all().map(|p| p.1).fold(0.0, f64::max))
    } else {
        (1.0, hs[0].unit.as_str())
    };
    let ymin = all().map(|p| p.1 / div).fold(f64::MAX, f64::min).max(1e-9) * 0.8;
    let ymax = all().map(|p| p.1 / div).fold(0.0, f64::max) * 1.25;
    // Room right of the last point, so that the maximum's vertical step is not on the frame.
    let xmax = all().map(|p| p.0).fold(2.0, f64::max) + 0.12;
    let names: Vec<String> = hs.iter().map(|h| h.name.clone()).collect();
    let title = format!("{key}: percentiles ({})", unit);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let mut c = ChartBuilder::on(&root)
            .caption(&title, (FONT, 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..xmax, (ymin..ymax).log_scale())?;
        c.configure_mesh()
            .x_desc("percentile (log scale of 1 / (1 - p))")
            .y_desc(format!("{} ({unit}, log scale)", stem(&hs[0].name)))
            .x_labels(xmax as usize + 1)
            .x_label_formatter(&|x| {
                if x.fract() == 0.0 {
                    pct_label(*x)
                } else {
                    String::new()
                }
            })
            .y_labels(30)
            .y_label_formatter(&|y| log_tick(*y))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .light_line_style(RGBColor(244, 244, 244))
            .draw()?;
        for (i, (pts, name)) in curves.iter().zip(&names).enumerate() {
            let col = PALETTE[i % PALETTE.len()];
            let n = hs[i].total();
            let style = ShapeStyle::from(&col).stroke_width(3);
            c.draw_series(LineSeries::new(
                pts.iter().map(|&(x, y)| (x, y / div)),
                style,
            ))?
            .label(format!("{name} (n={n})"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], col.stroke_width(3)));
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(160, 160, 160))
            .label_font((FONT, 15))
            .draw()?;
        root.present()?;
    }
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

fn histogram_plot(h: &Hist, stats: Option<&owned::Stats>) -> Result<Plot> {
    let hi = h.buckets.last().map_or(1.0, |b| b.1 + 1.0);
    let (div, unit) = if h.unit == "ns" {
        ns_unit(hi)
    } else {
        (1.0, h.unit.as_str())
    };
    let lo = h.buckets[0].0.max(hi * 1e-9).max(1e-9) / div;
    let ymax = h.buckets.iter().map(|b| b.2).max().unwrap_or(1) as f64 * 1.15;
    let title = format!("{}.{}: histogram, n={}", h.probe, h.name, h.total());
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let (chart, strip) = root.split_vertically(SIZE.1 - 36);
        let mut legend = vec![(
            format!("samples per bucket (n={})", h.total()),
            PALETTE[0],
            Mark::Dot,
        )];
        let mut c = ChartBuilder::on(&chart)
            .caption(&title, (FONT, 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d((lo * 0.8..hi / div * 1.25).log_scale(), 0.0..ymax)?;
        c.configure_mesh()
            .x_desc(format!("{} ({unit}, log scale)", h.name))
            .y_desc("samples per bucket")
            .x_labels(30)
            .x_label_formatter(&|x| log_tick(*x))
            .y_labels(5)
            .y_label_formatter(&|y| tick(*y))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .light_line_style(RGBColor(244, 244, 244))
            .draw()?;
        let bar = PALETTE[0].mix(0.75).filled();
        c.draw_series(h.buckets.iter().map(|&(l, u, n)| {
            Rectangle::new(
                [(l.max(lo * div) / div, 0.0), ((u + 1.0) / div, n as f64)],
                bar,
            )
        }))?;
        let marks = stats.map(|s| [("p50", s.p50), ("p99", s.p99), ("max", s.max)]);
        for (i, (label, v)) in marks.into_iter().flatten().enumerate() {
            let v = v as f64;
            let x = (v / div).max(lo);
            let col = PALETTE[i + 1];
            let style = ShapeStyle::from(&col).stroke_width(2);
            c.draw_series(LineSeries::new([(x, 0.0), (x, ymax)], style))?;
            legend.push((
                format!("{label} = {} {unit}", tick(v / div)),
                col,
                Mark::Line,
            ));
        }
        legend_strip(&strip, &legend)?;
        root.present()?;
    }
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
