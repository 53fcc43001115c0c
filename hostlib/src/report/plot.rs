//! Plots of a run as SVG (plotters' SVG backend: no fonts or system libraries needed), and PNG
//! copies when `rsvg-convert` (Debian: librsvg2-bin) is on PATH.
//!
//! * plot_hist.rs: one histogram per `histogram` record, and percentile curves per group of
//!   related histograms (timer lateness per interval, xenstore per op, ring RTT...);
//! * plot_stall.rs: the stall timeline and the stall probe's summaries over time.

use super::load::Run;
use anyhow::{Context, Result};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;
use std::process::Command;

pub use super::plot_log::log_range;

/// One rendered plot.
pub struct Plot {
    /// File name in the output directory (`.svg`).
    pub file: String,
    pub title: String,
    /// What it shows and how it was computed, one sentence for the HTML page.
    pub caption: String,
    pub svg: String,
}

/// Width and height of every plot, in SVG pixels.
pub const SIZE: (u32, u32) = (960, 500);
pub const FONT: &str = "sans-serif";

/// Distinct, colour-blind friendly series colours (Okabe-Ito, then Tableau).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(68, 68, 68),
    RGBColor(240, 228, 66),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Every plot of a run (none for a run without histograms or stall records).
pub fn render_all(run: &Run) -> Result<Vec<Plot>> {
    let mut v = super::plot_hist::percentiles(run)?;
    v.extend(super::plot_hist::histograms(run)?);
    v.extend(super::plot_stall::timeline(run)?);
    v.extend(super::plot_stall::summaries(run)?);
    Ok(v)
}

/// Render and write every plot into `dir` (SVG, and PNG when rsvg-convert is available).
pub fn write_all(run: &Run, dir: &Path) -> Result<Vec<Plot>> {
    let plots = render_all(run)?;
    let png = on_path("rsvg-convert");
    for p in &plots {
        let path = dir.join(&p.file);
        std::fs::write(&path, &p.svg).with_context(|| format!("writing {}", path.display()))?;
        if png {
            let out = path.with_extension("png");
            let st = Command::new("rsvg-convert")
                .arg("-b")
                .arg("white")
                .arg("-o")
                .arg(&out)
                .arg(&path)
                .status();
            if !st.is_ok_and(|s| s.success()) {
                eprintln!("warning: rsvg-convert could not convert {}", path.display());
            }
        }
    }
    if !plots.is_empty() {
        let how = if png {
            "SVG + PNG"
        } else {
            "SVG (PNG copies need rsvg-convert: apt-get install librsvg2-bin)"
        };
        eprintln!("wrote {} plots to {} ({how})", plots.len(), dir.display());
    }
    Ok(plots)
}

fn on_path(prog: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).any(|d| d.join(prog).is_file())
}

/// A display unit for nanosecond values up to `max`: (divisor, name).
pub fn ns_unit(max: f64) -> (f64, &'static str) {
    if max >= 5e9 {
        (1e9, "s")
    } else if max >= 5e6 {
        (1e6, "ms")
    } else if max >= 5e3 {
        (1e3, "us")
    } else {
        (1.0, "ns")
    }
}

/// A file-name-safe version of a record name.
pub fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A number for an axis label: no trailing zeros, no exponent for the usual ranges.
pub fn tick(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else if a >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.1e}")
    };
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// How a legend entry is drawn.
#[derive(Clone, Copy)]
pub enum Mark {
    Dot,
    Line,
}

/// One legend entry: its text, colour and mark.
pub type Legend = (String, RGBColor, Mark);

/// A drawing area of a plot's SVG.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// A chart with f64 coordinates on both axes (linear or log).
pub type Chart<'a, 'b, X, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>;

/// One axis of a chart: what it shows (with its unit) and how each tick reads. An empty
/// `desc` leaves the axis without a description (a panel above another).
pub struct Axis<'f> {
    pub desc: String,
    /// About how many ticks (log axes from [`log_range`] have their own).
    pub ticks: usize,
    pub label: &'f dyn Fn(&f64) -> String,
}

/// The plot's SVG: a white page with an optional title over everything, and a strip
/// `legend_px` high at the bottom for the legend; `draw` gets (chart area, legend strip).
pub fn svg(
    title: Option<&str>,
    legend_px: u32,
    draw: impl FnOnce(&Area, &Area) -> Result<()>,
) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let body = match title {
            Some(t) => root.titled(t, (FONT, 22))?,
            None => root.clone(),
        };
        let h = body.dim_in_pixel().1;
        let (chart, strip) = body.split_vertically(h.saturating_sub(legend_px));
        draw(&chart, &strip)?;
        root.present()?;
    }
    Ok(out)
}

/// A chart on `area` with both axes described and a label on every tick: the one place
/// where the report's plots get their frame, fonts and grid.
pub fn panel<'a, 'b, XR, YR>(
    area: &'a Area<'b>,
    x: &Axis,
    y: &Axis,
    (xr, yr): (XR, YR),
) -> Result<Chart<'a, 'b, XR::CoordDescType, YR::CoordDescType>>
where
    XR: AsRangedCoord<Value = f64>,
    YR: AsRangedCoord<Value = f64>,
    XR::CoordDescType: ValueFormatter<f64>,
    YR::CoordDescType: ValueFormatter<f64>,
{
    let x_area = if x.desc.is_empty() { 24 } else { 48 };
    let mut c = ChartBuilder::on(area)
        .margin(14)
        .x_label_area_size(x_area)
        .y_label_area_size(78)
        .build_cartesian_2d(xr, yr)?;
    c.configure_mesh()
        .x_desc(x.desc.as_str())
        .y_desc(y.desc.as_str())
        .x_labels(x.ticks)
        .y_labels(y.ticks)
        .x_label_formatter(x.label)
        .y_label_formatter(y.label)
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(244, 244, 244))
        .draw()?;
    Ok(c)
}

/// Pixels per legend row.
const LEGEND_ROW: u32 = 24;

/// The width an entry takes in the legend strip.
fn legend_width(label: &str) -> i32 {
    26 + 7 * label.chars().count() as i32 + 30
}

/// The entries of each legend row, left to right, wrapped at the plot's width.
fn legend_rows(items: &[Legend]) -> Vec<Vec<&Legend>> {
    let mut rows: Vec<Vec<&Legend>> = vec![Vec::new()];
    let mut x = 90;
    for it in items {
        let w = legend_width(&it.0);
        if x + w > SIZE.0 as i32 && !rows.last().is_some_and(Vec::is_empty) {
            rows.push(Vec::new());
            x = 90;
        }
        x += w;
        if let Some(r) = rows.last_mut() {
            r.push(it);
        }
    }
    rows
}

/// How high the legend strip of `items` is.
pub fn legend_px(items: &[Legend]) -> u32 {
    legend_rows(items).len() as u32 * LEGEND_ROW + 12
}

/// A legend in its own strip (below a chart), entries left to right in rows: it never
/// hides data.
pub fn legend_strip(area: &Area, items: &[Legend]) -> Result<()> {
    for (r, row) in legend_rows(items).iter().enumerate() {
        let y = (r as u32 * LEGEND_ROW + LEGEND_ROW / 2 + 6) as i32;
        let mut x = 90;
        for (label, col, mark) in row.iter().copied() {
            match mark {
                Mark::Dot => area.draw(&Circle::new((x + 8, y), 5, col.filled()))?,
                Mark::Line => area.draw(&PathElement::new(
                    vec![(x, y), (x + 20, y)],
                    col.stroke_width(3),
                ))?,
            }
            let style = TextStyle::from((FONT, 15)).pos(Pos::new(HPos::Left, VPos::Center));
            area.draw_text(label, &style, (x + 26, y))?;
            x += legend_width(label);
        }
    }
    Ok(())
}
