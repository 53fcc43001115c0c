//! Log axes whose every tick is labelled (1, 2 and 5 times each power of ten) and whose ends
//! are never far past their last label, so a reader can place any value on them.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

/// How far (as a factor) an axis may run on past its first or last labelled tick.
const MAX_UNLABELLED: f64 = 1.5;

/// Rounding slack for tick values computed as mantissa x 10^e.
const EPS: f64 = 1e-9;

/// A log-scale range covering `lo` to `hi` whose ticks sit at 1, 2 and 5 times each power of
/// ten inside it (1-9 times when the range spans less than a decade), so that every tick
/// gets a label, from nanoseconds to seconds; an end more than a factor 1.5 past its nearest
/// tick is moved out to the next one.
pub fn log_range(
    lo: f64,
    hi: f64,
) -> impl AsRangedCoord<Value = f64, CoordDescType: ValueFormatter<f64>> {
    let (lo, hi) = log_bounds(lo, hi);
    (lo..hi).log_scale().with_key_points(log_ticks(lo, hi))
}

/// The ends of [`log_range`]: `lo` and `hi`, or the next 1-2-5 tick out where the axis would
/// run on unlabelled for more than a factor 1.5.
pub fn log_bounds(lo: f64, hi: f64) -> (f64, f64) {
    let ticks = log_ticks(lo, hi);
    let (Some(&first), Some(&last)) = (ticks.first(), ticks.last()) else {
        return (tick_below(lo), tick_above(hi));
    };
    let lo = if first / lo > MAX_UNLABELLED {
        tick_below(lo)
    } else {
        lo
    };
    let hi = if hi / last > MAX_UNLABELLED {
        tick_above(hi)
    } else {
        hi
    };
    (lo, hi)
}

/// The tick values of [`log_range`].
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let pick = |mantissas: &[f64]| -> Vec<f64> {
        let (a, b) = (decade(lo), decade(hi) + 1);
        (a..=b)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| *v >= lo * (1.0 - EPS) && *v <= hi * (1.0 + EPS))
            .collect()
    };
    let coarse = pick(&[1.0, 2.0, 5.0]);
    if coarse.len() >= 3 {
        return coarse;
    }
    pick(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
}

fn decade(v: f64) -> i32 {
    v.max(1e-12).log10().floor() as i32
}

/// The 1-2-5 values of the decades around `v`, ascending.
fn grid(v: f64) -> impl Iterator<Item = f64> {
    let e = decade(v);
    (e - 1..=e + 1).flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e)))
}

/// The largest 1-2-5 value at or below `v`.
fn tick_below(v: f64) -> f64 {
    grid(v).filter(|t| *t <= v * (1.0 + EPS)).fold(v, |_, t| t)
}

/// The smallest 1-2-5 value at or above `v`.
fn tick_above(v: f64) -> f64 {
    grid(v).find(|t| *t >= v * (1.0 - EPS)).unwrap_or(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_end_is_near_a_labelled_tick() {
        // The percentile axis of a recorded run: 2.39 us .. 133 us had no label below 5.
        assert_eq!(log_bounds(2.39, 133.0), (2.0, 133.0));
        assert_eq!(log_bounds(0.041, 26.0), (0.041, 26.0));
        assert_eq!((tick_below(0.05), tick_above(0.05)), (0.05, 0.05));
        assert_eq!((tick_below(7.1), tick_above(7.1)), (5.0, 10.0));
        let mut lo = 1.3e-3;
        while lo < 1e7 {
            for span in [1.5, 3.0, 11.0, 170.0, 4e4] {
                let (a, b) = log_bounds(lo, lo * span);
                let t = log_ticks(a, b);
                assert!(!t.is_empty(), "{lo} x {span}: {t:?}");
                assert!(t[0] / a <= MAX_UNLABELLED + EPS, "{a}..{b}: {t:?}");
                assert!(
                    b / t[t.len() - 1] <= MAX_UNLABELLED + EPS,
                    "{a}..{b}: {t:?}"
                );
                assert!(a <= lo && b >= lo * span * (1.0 - EPS));
            }
            lo *= 1.37;
        }
    }
}
