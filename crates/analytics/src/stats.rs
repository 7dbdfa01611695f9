//! Order statistics over duration buckets (microseconds), computed in place.
//!
//! Quantiles use linear interpolation between closest ranks (numpy's default, and what pandas'
//! `median` gives: the mean of the two middle values for an even count), found by selection in
//! O(n) rather than by sorting; only the Kaplan–Meier estimate needs a sorted bucket.

/// Count, sum and extremes of one bucket (µs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Moments {
    pub count: u64,
    pub sum: i128,
    pub min: i64,
    pub max: i64,
}

impl Moments {
    pub fn of(v: &[i64]) -> Option<Self> {
        let (&first, _) = v.split_first()?;
        let (mut sum, mut min, mut max) = (0i128, first, first);
        for &x in v {
            sum += i128::from(x);
            min = min.min(x);
            max = max.max(x);
        }
        Some(Self { count: v.len() as u64, sum, min, max })
    }

    pub fn mean(&self) -> f64 {
        self.sum as f64 / self.count as f64
    }
}

/// Sample standard deviation (ddof = 1, as pandas' `std`); `None` below two values.
///
/// Summed in exact integers where they cannot overflow, so that the result does not depend on
/// the order of `v` (which selection and the input's row order change).
pub(crate) fn stdev(v: &[i64], m: &Moments) -> Option<f64> {
    let n = v.len() as i128;
    if n < 2 {
        return None;
    }
    let bound = i128::from(m.min.unsigned_abs().max(m.max.unsigned_abs()));
    let numerator = if bound.checked_mul(bound).and_then(|b| b.checked_mul(n)).is_some() {
        let squares: i128 = v.iter().map(|&x| i128::from(x) * i128::from(x)).sum();
        // Σx² − (Σx)²/n, with (Σx)²/n = Σx·q + Σx·r/n for Σx = q·n + r, all in range.
        let (q, r) = (m.sum.div_euclid(n), m.sum.rem_euclid(n));
        (squares - m.sum * q - m.sum * r / n) as f64
    } else {
        let mean = m.mean();
        v.iter().map(|&x| (x as f64 - mean).powi(2)).sum()
    };
    Some((numerator.max(0.0) / (n - 1) as f64).sqrt())
}

/// Quantiles `qs` (ascending, each in 0..=1) of `v`, reordering `v`. Each selection narrows the
/// slice for the next, so median and p90 together cost about one and a half passes.
pub(crate) fn quantiles_in_place(v: &mut [i64], qs: &[f64]) -> Vec<f64> {
    debug_assert!(qs.windows(2).all(|w| w[0] <= w[1]));
    if v.is_empty() {
        return Vec::new();
    }
    let n = v.len();
    let mut out = Vec::with_capacity(qs.len());
    // Everything below `floor` is already known to be ≤ everything from `floor` on.
    let mut floor = 0;
    for &q in qs {
        let rank = q * (n - 1) as f64;
        let lo = (rank.floor() as usize).min(n - 1);
        let frac = rank - lo as f64;
        let (_, &mut x_lo, right) = v[floor..].select_nth_unstable(lo - floor);
        let value = if frac > 0.0 && !right.is_empty() {
            let x_hi = *right.iter().min().expect("non-empty");
            x_lo as f64 + frac * (x_hi - x_lo) as f64
        } else {
            x_lo as f64
        };
        out.push(value);
        floor = lo;
    }
    out
}

/// Quantile of an ascending slice, same interpolation as [`quantiles_in_place`].
pub(crate) fn quantile_sorted(v: &[i64], q: f64) -> Option<f64> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let rank = q * (n - 1) as f64;
    let lo = (rank.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let frac = rank - lo as f64;
    Some(v[lo] as f64 + frac * (v[hi] - v[lo]) as f64)
}

/// Sorts durations ascending. Non-negative ones (all, in practice: events are in time order) by
/// LSD radix sort, 11 bits a pass, skipping the passes in which every value has the same digit
/// (durations in µs rarely use more than 45 bits): 3–4 linear passes instead of n log n
/// comparisons, which is what makes the Kaplan–Meier median affordable on millions of stays.
pub(crate) fn sort_durations(v: &mut [i64]) {
    const BITS: usize = 11;
    const MASK: u64 = (1 << BITS) - 1;
    let (min, max) = v.iter().fold((0i64, 0i64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    if v.len() < 1 << 12 || min < 0 {
        v.sort_unstable();
        return;
    }
    let passes = (u64::BITS - (max as u64).leading_zeros()).div_ceil(BITS as u32) as usize;
    let mut hist = vec![[0usize; 1 << BITS]; passes];
    for &x in v.iter() {
        for (p, h) in hist.iter_mut().enumerate() {
            h[((x as u64 >> (p * BITS)) & MASK) as usize] += 1;
        }
    }
    let mut buf = vec![0i64; v.len()];
    let mut sorted_in_buf = false;
    for (p, h) in hist.iter().enumerate() {
        if h.contains(&v.len()) {
            continue;
        }
        let mut pos = [0usize; 1 << BITS];
        let mut sum = 0;
        for (d, &count) in h.iter().enumerate() {
            pos[d] = sum;
            sum += count;
        }
        let (src, dst) = if sorted_in_buf { (&buf[..], &mut v[..]) } else { (&v[..], &mut buf[..]) };
        for &x in src {
            let d = ((x as u64 >> (p * BITS)) & MASK) as usize;
            dst[pos[d]] = x;
            pos[d] += 1;
        }
        sorted_in_buf = !sorted_in_buf;
    }
    if sorted_in_buf {
        v.copy_from_slice(&buf);
    }
}

/// Kaplan–Meier median: the first time at which the estimated survival drops to 0.5 or below
/// (the lifelines convention). `finished` are observed durations, `censored` durations still
/// running; both ascending. A case censored at the same time as an event is still at risk at
/// that event. `None` when survival never falls to one half (too many cases still open).
pub(crate) fn km_median(finished: &[i64], censored: &[i64]) -> Option<i64> {
    let mut at_risk = (finished.len() + censored.len()) as f64;
    let mut survival = 1.0f64;
    let (mut i, mut j) = (0, 0);
    while i < finished.len() {
        let t = finished[i];
        // Censored strictly before t leave the risk set before this event time.
        while j < censored.len() && censored[j] < t {
            at_risk -= 1.0;
            j += 1;
        }
        let mut deaths = 0.0;
        while i < finished.len() && finished[i] == t {
            deaths += 1.0;
            i += 1;
        }
        survival *= 1.0 - deaths / at_risk;
        at_risk -= deaths;
        if survival <= 0.5 + 1e-12 {
            return Some(t);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_numpy_linear() {
        // numpy.percentile([1, 2, 3, 4], [50, 90]) == [2.5, 3.7]
        let mut v = vec![4, 1, 3, 2];
        let q = quantiles_in_place(&mut v, &[0.5, 0.9]);
        assert_eq!(q[0], 2.5);
        assert!((q[1] - 3.7).abs() < 1e-9);
        let mut v = vec![5, 1, 9];
        assert_eq!(quantiles_in_place(&mut v, &[0.5, 0.9]), [5.0, 8.2]);
        let mut v = vec![7];
        assert_eq!(quantiles_in_place(&mut v, &[0.5, 0.9]), [7.0, 7.0]);
        assert_eq!(quantile_sorted(&[1, 2, 3, 4], 0.9).map(|x| (x * 10.0).round()), Some(37.0));
    }

    #[test]
    fn quantiles_agree_with_sorting_on_many_inputs() {
        let mut seed = 17u64;
        for n in 1..60 {
            let mut v: Vec<i64> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 40) as i64 % 50
                })
                .collect();
            let mut sorted = v.clone();
            sorted.sort_unstable();
            let got = quantiles_in_place(&mut v, &[0.5, 0.9]);
            assert_eq!(got[0], quantile_sorted(&sorted, 0.5).unwrap(), "n={n}");
            assert!((got[1] - quantile_sorted(&sorted, 0.9).unwrap()).abs() < 1e-9, "n={n}");
        }
    }

    #[test]
    fn moments_and_stdev() {
        let m = Moments::of(&[2, 4, 4, 4, 5, 5, 7, 9]).unwrap();
        assert_eq!((m.count, m.sum, m.min, m.max, m.mean()), (8, 40, 2, 9, 5.0));
        // Sample standard deviation: sqrt(32 / 7).
        let v = [2, 4, 4, 4, 5, 5, 7, 9];
        assert!((stdev(&v, &m).unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(stdev(&[3], &Moments::of(&[3]).unwrap()), None);
        // Beyond the exact range: the float path.
        let big = [i64::MAX / 2, i64::MAX / 2 - 2];
        assert!((stdev(&big, &Moments::of(&big).unwrap()).unwrap() - 2f64.sqrt()).abs() < 1e3);
        assert_eq!(Moments::of(&[]), None);
    }

    #[test]
    fn radix_sort_sorts() {
        let mut seed = 3u64;
        for n in [0, 5, 5_000, 70_000] {
            let mut v: Vec<i64> = (0..n)
                .map(|i| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    // Mostly small, some using high bits, some equal.
                    if i % 7 == 0 { 42 } else { (seed >> (seed % 40 + 1)) as i64 }
                })
                .collect();
            let mut expected = v.clone();
            expected.sort_unstable();
            sort_durations(&mut v);
            assert_eq!(v, expected, "n={n}");
        }
        let mut v: Vec<i64> = (0..5_000).map(|i| 2_500 - i).collect();
        sort_durations(&mut v);
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn kaplan_meier_median() {
        // Without censoring: the first time survival reaches 0.5, i.e. the lower median.
        assert_eq!(km_median(&[1, 2, 3, 4], &[]), Some(2));
        assert_eq!(km_median(&[1, 2, 3], &[]), Some(2));
        // Textbook: events 1, 3, 4, 5 with censored 2 and 6. S(1)=5/6, S(3)=5/6·3/4=0.625,
        // S(4)=0.625·2/3≈0.417 → median 4.
        assert_eq!(km_median(&[1, 3, 4, 5], &[2, 6]), Some(4));
        // Most still open: survival never reaches one half.
        assert_eq!(km_median(&[1], &[5, 6, 7]), None);
        assert_eq!(km_median(&[], &[5]), None);
    }
}
