//! A fixed-size, lock-free latency histogram (log-linear buckets, 64 per power of two, so
//! about 1.6% resolution) shared by all callers: its memory does not grow with callers or
//! calls, so it does not distort peak-RSS figures.

use std::sync::atomic::{AtomicU64, Ordering};

const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * SUB as usize;

pub struct Histogram {
    counts: Box<[AtomicU64]>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let e = 63 - v.leading_zeros(); // >= SUB_BITS
    let shift = e - SUB_BITS;
    (((shift + 1) as u64) * SUB + ((v >> shift) & (SUB - 1))) as usize
}

/// The midpoint of bucket `i`.
fn value(i: usize) -> f64 {
    let i = i as u64;
    if i < SUB {
        return i as f64;
    }
    let shift = i / SUB - 1;
    let low = (SUB + i % SUB) << shift;
    low as f64 + ((1u64 << shift) as f64 - 1.0) / 2.0
}

impl Histogram {
    /// Records one latency in nanoseconds.
    pub fn record(&self, ns: u64) {
        self.counts[index(ns)].fetch_add(1, Ordering::Relaxed);
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The `q` quantile (0..=1) in nanoseconds.
    pub fn quantile(&self, q: f64) -> f64 {
        let total = self.count();
        if total == 0 {
            return f64::NAN;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c.load(Ordering::Relaxed);
            if seen >= rank {
                return value(i);
            }
        }
        f64::NAN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_close() {
        let mut last = 0;
        for v in (0..10_000_000u64).step_by(977) {
            let i = index(v);
            assert!(i >= last);
            last = i;
            let mid = value(i);
            assert!(
                (mid - v as f64).abs() <= v as f64 / 60.0 + 1.0,
                "{v} -> {mid}"
            );
        }
        let h = Histogram::default();
        for v in 1..=1000 {
            h.record(v * 1000);
        }
        assert!((h.quantile(0.5) / 500_000.0 - 1.0).abs() < 0.02);
        assert!((h.quantile(0.99) / 990_000.0 - 1.0).abs() < 0.02);
    }
}
