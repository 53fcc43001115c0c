//! Plots of a run as SVG (plotters' SVG backend: no fonts or system libraries needed), and PNG
//! copies when `rsvg-convert` (Debian: librsvg2-bin) is on PATH.
//!
//! * plot_hist.rs: one histogram per `histogram` record, and percentile curves per group of
//!   related histograms (timer lateness per interval, xenstore per op, ring RTT...);
//! * plot_stall.rs: the stall timeline and the stall probe's summaries over time.

use super::load::Run;
use anyhow::{Context, Result};
use plotters::style::RGBColor;
use std::path::Path;
use std::process::Command;

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

/// A legend in its own strip (below a chart), entries left to right: it never hides data.
pub fn legend_strip(
    area: &plotters::drawing::DrawingArea<
        plotters::prelude::SVGBackend<'_>,
        plotters::coord::Shift,
    >,
    items: &[(String, RGBColor, Mark)],
) -> Result<()> {
    use plotters::prelude::*;
    let y = area.dim_in_pixel().1 as i32 / 2;
    let mut x = 90;
    for (label, col, mark) in items {
        match mark {
            Mark::Dot => area.draw(&Circle::new((x + 8, y), 5, col.filled()))?,
            Mark::Line => area.draw(&PathElement::new(
                vec![(x, y), (x + 20, y)],
                col.stroke_width(3),
            ))?,
        }
        let style = TextStyle::from((FONT, 15)).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        ));
        area.draw_text(label, &style, (x + 26, y))?;
        x += 26 + 7 * label.chars().count() as i32 + 30;
    }
    Ok(())
}

/// A label on a log axis: only at 1, 2 and 5 times a power of ten (the other ticks stay as
/// grid lines), so that narrow and wide ranges both get a few readable labels.
pub fn log_tick(v: f64) -> String {
    if v <= 0.0 {
        return String::new();
    }
    let m = v / 10f64.powf(v.log10().floor());
    if [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|k| (m - k).abs() < 1e-6 * k)
    {
        tick(v)
    } else {
        String::new()
    }
}
