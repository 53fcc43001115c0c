//! Fixed-size log-linear latency histogram for nanosecond values.
//!
//! Layout (HDR-like, 16 linear sub-buckets per power of two):
//! - values 0..=15 each have their own bucket (exact);
//! - every range `[2^k, 2^(k+1))` for k = 4..=63 is split into 16 buckets of
//!   width `2^(k-4)`.
//!
//! That covers all of `u64` (0 ns to 584 years) in [`BUCKETS`] = 976 buckets,
//! about 7.7 KiB, with no allocation and no clamping. A value `v` is reported
//! as its bucket's upper bound `r` (clamped to the largest sample), so
//! `v <= r <= v + v/16`: **relative error at most 1/16 (6.25 %), never an
//! under-estimate**, and values below 16 ns are exact.

/// Linear sub-buckets per power of two (the precision: error <= 1/16).
pub const SUB_BUCKETS: u64 = 16;
/// log2 of [`SUB_BUCKETS`].
const SUB_BITS: u32 = 4;
/// Total bucket count: 16 exact buckets, then 60 powers of two x 16.
pub const BUCKETS: usize = 16 + 60 * 16;

/// Index of the bucket holding `v`.
fn bucket_index(v: u64) -> usize {
    if v < SUB_BUCKETS {
        return v as usize;
    }
    let k = 63 - v.leading_zeros(); // 4..=63
    let sub = (v >> (k - SUB_BITS)) & (SUB_BUCKETS - 1);
    16 + (k - SUB_BITS) as usize * 16 + sub as usize
}

/// Inclusive `(lower, upper)` bounds of bucket `idx` (clamped into range).
fn bucket_bounds(idx: usize) -> (u64, u64) {
    let idx = idx.min(BUCKETS - 1);
    if idx < 16 {
        return (idx as u64, idx as u64);
    }
    let group = ((idx - 16) / 16) as u32; // 0..=59, k = group + 4
    let sub = ((idx - 16) % 16) as u64;
    let width = 1u64 << group;
    let lower = (1u64 << (group + SUB_BITS)) + sub * width;
    (lower, lower + (width - 1))
}

/// One range of [`Histogram::coarse_buckets`]: samples in `[lower, upper)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoarseBucket {
    /// Inclusive lower edge (0 for the first range).
    pub lower: u64,
    /// Exclusive upper edge; `None` for the last, unbounded range.
    pub upper: Option<u64>,
    /// Samples attributed to the range.
    pub count: u64,
}

/// Latency histogram with constant memory; see the module documentation.
#[derive(Clone, PartialEq, Eq)]
pub struct Histogram {
    counts: [u64; BUCKETS],
    count: u64,
    sum: u128,
    min: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.count)
            .field("min", &self.min())
            .field("max", &self.max())
            .finish_non_exhaustive()
    }
}

impl Histogram {
    /// An empty histogram.
    pub const fn new() -> Self {
        Self {
            counts: [0; BUCKETS],
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }

    /// Records one sample of `ns` nanoseconds.
    pub fn record(&mut self, ns: u64) {
        if let Some(c) = self.counts.get_mut(bucket_index(ns)) {
            *c = c.saturating_add(1);
        }
        self.count = self.count.saturating_add(1);
        self.sum = self.sum.saturating_add(u128::from(ns));
        self.min = self.min.min(ns);
        self.max = self.max.max(ns);
    }

    /// Number of samples recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Smallest sample (exact), `None` if empty.
    pub fn min(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min)
    }

    /// Largest sample (exact), `None` if empty.
    pub fn max(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max)
    }

    /// Exact sum of all samples.
    pub fn sum(&self) -> u128 {
        self.sum
    }

    /// Mean of the samples (exact, rounded down), `None` if empty.
    pub fn mean(&self) -> Option<u64> {
        let mean = self.sum.checked_div(u128::from(self.count))?;
        Some(u64::try_from(mean).unwrap_or(u64::MAX))
    }

    /// The value reported for bucket `idx`: its upper bound, clamped to the
    /// largest sample (so the top percentile is exact).
    fn reported(&self, idx: usize) -> u64 {
        bucket_bounds(idx).1.min(self.max)
    }

    /// Nearest-rank percentile, `ppm` in parts per million (0..=1_000_000,
    /// larger values clamp to 1_000_000). The true sample `v` of rank
    /// `max(1, ceil(ppm * count / 1e6))` satisfies `v <= result <= v + v/16`.
    /// p100 is the exact maximum; `None` if empty.
    pub fn percentile_ppm(&self, ppm: u32) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let ppm = u128::from(ppm.min(1_000_000));
        let rank = (ppm * u128::from(self.count)).div_ceil(1_000_000).max(1);
        let mut seen = 0u128;
        for (idx, &c) in self.counts.iter().enumerate() {
            seen += u128::from(c);
            if seen >= rank {
                return Some(self.reported(idx));
            }
        }
        Some(self.max)
    }

    /// [`Self::percentile_ppm`] with `p` in per-mille (990 = p99).
    pub fn percentile_permille(&self, p: u32) -> Option<u64> {
        self.percentile_ppm(p.saturating_mul(1000))
    }

    /// Non-empty buckets in ascending order as `(lower_ns, upper_ns, count)`,
    /// both bounds inclusive.
    pub fn iter_nonzero(&self) -> impl Iterator<Item = (u64, u64, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(idx, &c)| {
                let (lo, hi) = bucket_bounds(idx);
                (lo, hi, c)
            })
    }

    /// Cyclictest-style coarse view: for strictly ascending `edges`
    /// `[e0, e1, ..]`, yields the counts of `[0, e0)`, `[e0, e1)`, ...,
    /// `[e_last, inf)`. Each bucket is attributed to the range holding the
    /// value [`Self::percentile_ppm`] would report for it (upper bound clamped
    /// to max): a sample is never counted below its true value, at worst one
    /// range too high when an edge falls inside its bucket (edges with at most
    /// 5 significant bits, or below 32, are bucket boundaries and are exact).
    /// Ranges are counted independently, so unsorted edges give
    /// meaningless (but not panicking) counts.
    pub fn coarse_buckets<'a>(
        &'a self,
        edges: &'a [u64],
    ) -> impl Iterator<Item = CoarseBucket> + 'a {
        (0..=edges.len()).map(move |i| {
            let lower = i
                .checked_sub(1)
                .and_then(|j| edges.get(j))
                .copied()
                .unwrap_or(0);
            let upper = edges.get(i).copied();
            CoarseBucket {
                lower,
                upper,
                count: self.count_reported_in(lower, upper),
            }
        })
    }

    /// Samples whose reported value lies in `[lower, upper)`.
    fn count_reported_in(&self, lower: u64, upper: Option<u64>) -> u64 {
        let inside = |r: u64| r >= lower && upper.is_none_or(|u| r < u);
        self.counts
            .iter()
            .enumerate()
            .filter(|(idx, &c)| c > 0 && inside(self.reported(*idx)))
            .fold(0u64, |acc, (_, &c)| acc.saturating_add(c))
    }

    /// Forgets all samples.
    pub fn reset(&mut self) {
        *self = Self::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hist_of(samples: &[u64]) -> Histogram {
        let mut h = Histogram::new();
        samples.iter().for_each(|&s| h.record(s));
        h
    }

    /// The nearest-rank percentile computed from sorted samples.
    fn true_percentile(sorted: &[u64], ppm: u32) -> u64 {
        let rank = (u128::from(ppm) * sorted.len() as u128)
            .div_ceil(1_000_000)
            .max(1);
        sorted[rank as usize - 1]
    }

    #[test]
    fn bucket_layout_is_contiguous_and_covers_u64() {
        assert_eq!(bucket_bounds(0), (0, 0));
        let mut next = 0u64;
        for idx in 0..BUCKETS {
            let (lo, hi) = bucket_bounds(idx);
            assert_eq!(lo, next, "bucket {idx}");
            assert!(hi >= lo);
            assert_eq!(bucket_index(lo), idx);
            assert_eq!(bucket_index(hi), idx);
            next = hi.wrapping_add(1);
        }
        assert_eq!(next, 0, "last bucket ends at u64::MAX");
        assert_eq!(bucket_index(u64::MAX), BUCKETS - 1);
        assert_eq!(bucket_bounds(usize::MAX), bucket_bounds(BUCKETS - 1));
    }

    #[test]
    fn empty_histogram() {
        let h = Histogram::new();
        assert_eq!(
            (h.count(), h.min(), h.max(), h.mean()),
            (0, None, None, None)
        );
        assert_eq!(h.percentile_permille(500), None);
        assert_eq!(h.iter_nonzero().count(), 0);
        assert!(h.coarse_buckets(&[10]).all(|b| b.count == 0));
    }

    #[test]
    fn small_values_are_exact_and_stats_are_exact() {
        let h = hist_of(&[3, 1, 4, 1, 5, 9, 2, 6]);
        assert_eq!((h.count(), h.min(), h.max()), (8, Some(1), Some(9)));
        assert_eq!((h.sum(), h.mean()), (31, Some(3)));
        assert_eq!(h.percentile_permille(500), Some(3));
        assert_eq!(h.percentile_permille(0), Some(1));
        assert_eq!(h.percentile_permille(1000), Some(9));
        let v: Vec<_> = h.iter_nonzero().collect();
        assert_eq!(v[0], (1, 1, 2));
        assert_eq!(v.len(), 7);
    }

    #[test]
    fn hours_and_extremes() {
        let hour = 3_600_000_000_000u64;
        let h = hist_of(&[0, 1_000, hour, u64::MAX]);
        assert_eq!(h.max(), Some(u64::MAX));
        assert_eq!(h.sum(), u128::from(u64::MAX) + u128::from(hour) + 1_000);
        let p75 = h.percentile_permille(750).unwrap();
        assert!(p75 >= hour && p75 - hour <= hour / 16);
        assert_eq!(h.percentile_ppm(u32::MAX), Some(u64::MAX));
    }

    #[test]
    fn p100_clamps_bucket_upper_bound_to_max() {
        let h = hist_of(&[1_000]); // bucket [992, 1023]
        assert_eq!(h.percentile_permille(1000), Some(1_000));
        assert_eq!(h.percentile_permille(1), Some(1_000));
        assert_eq!(h.iter_nonzero().next(), Some((992, 1023, 1)));
    }

    #[test]
    fn coarse_buckets_cyclictest_view() {
        let h = hist_of(&[5, 15, 31, 32, 100, 5_000, 70_000]);
        let got: Vec<_> = h
            .coarse_buckets(&[16, 32, 1_024])
            .map(|b| b.count)
            .collect();
        assert_eq!(got, [2, 1, 2, 2]);
        let first = h.coarse_buckets(&[16]).next().unwrap();
        assert_eq!(
            first,
            CoarseBucket {
                lower: 0,
                upper: Some(16),
                count: 2
            }
        );
        // 1000 lands in [992, 1023]: counted at 1023, above an edge of 1000.
        let h = hist_of(&[1_000, 2_000]);
        let got: Vec<_> = h.coarse_buckets(&[1_000]).map(|b| b.count).collect();
        assert_eq!(got, [0, 2]);
        assert_eq!(
            h.coarse_buckets(&[]).map(|b| b.count).collect::<Vec<_>>(),
            [2]
        );
    }

    #[test]
    fn reset_empties() {
        let mut h = hist_of(&[1, 2, 3]);
        h.reset();
        assert_eq!(h, Histogram::new());
    }

    fn samples() -> impl Strategy<Value = Vec<u64>> {
        let value = prop_oneof![
            0u64..64,
            0u64..100_000,
            0u64..10_000_000_000_000,
            any::<u64>()
        ];
        prop::collection::vec(value, 1..200)
    }

    proptest! {
        #[test]
        fn percentile_within_precision_of_sorted(s in samples(), ppm in 0u32..=1_000_000) {
            let h = hist_of(&s);
            let mut sorted = s.clone();
            sorted.sort_unstable();
            let want = true_percentile(&sorted, ppm);
            let got = h.percentile_ppm(ppm).unwrap();
            prop_assert!(got >= want && got - want <= want / SUB_BUCKETS, "{got} vs {want}");
        }

        #[test]
        fn percentile_monotone_and_bounded(s in samples(), a in 0u32..=1000, b in 0u32..=1000) {
            let h = hist_of(&s);
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(h.percentile_permille(lo) <= h.percentile_permille(hi));
            prop_assert_eq!(h.percentile_permille(1000), h.max());
            prop_assert!(h.percentile_permille(0) >= h.min());
            prop_assert_eq!(h.min(), s.iter().copied().min());
            let mean = s.iter().map(|&v| u128::from(v)).sum::<u128>() / s.len() as u128;
            prop_assert_eq!(h.mean(), Some(mean as u64));
        }

        #[test]
        fn buckets_account_for_every_sample(s in samples(), mut edges in prop::collection::vec(any::<u64>(), 0..6)) {
            let h = hist_of(&s);
            prop_assert_eq!(h.iter_nonzero().map(|(_, _, c)| c).sum::<u64>(), h.count());
            for (lo, hi, _) in h.iter_nonzero() {
                prop_assert!(hi - lo <= lo / SUB_BUCKETS);
            }
            edges.sort_unstable();
            edges.dedup();
            prop_assert_eq!(h.coarse_buckets(&edges).map(|b| b.count).sum::<u64>(), h.count());
            for b in h.coarse_buckets(&edges) {
                let below_upper = s.iter().filter(|&&v| b.upper.is_none_or(|u| v < u)).count() as u64;
                let attributed_up_to: u64 = h.coarse_buckets(&edges)
                    .take_while(|c| c.lower <= b.lower).map(|c| c.count).sum();
                prop_assert!(attributed_up_to <= below_upper, "never counted below its true value");
            }
        }
    }
}
