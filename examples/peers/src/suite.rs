//! Diesel's benchmark workloads (trivial query, medium complex query, insert, loading
//! associations): the contestant trait, the timing loops, and the interleaved runner.
//!
//! A contestant is one module with one type implementing [`Contestant`]; adding one (the
//! entity layer, later) is one more module and one more line in [`crate::contestants::all`].

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::BoxError;
use crate::model;

/// One measured workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Load every user (`SELECT id, name, hair_color FROM users`); the table holds `size` users.
    Trivial,
    /// Users LEFT JOIN posts where hair_color = 'black'; `size` users, half of them black.
    Medium,
    /// One multi-row INSERT of this many users.
    Insert(usize),
    /// 100 users, 10 posts each, 10 comments per post: load users, their posts, their
    /// comments, and group them.
    Associations,
}

impl Workload {
    pub fn group(self) -> &'static str {
        match self {
            Workload::Trivial => "trivial",
            Workload::Medium => "medium",
            Workload::Insert(_) => "insert",
            Workload::Associations => "associations",
        }
    }
}

/// How long a run lasts: untimed warm-up, then the measured part.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub warmup: Duration,
    pub measure: Duration,
}

/// What one run measured: mean time per operation and the size of the last
/// result (rows loaded, inserted, or comments grouped), which the runner checks.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub ns_per_op: f64,
    pub check: usize,
}

/// A library under test. Each method runs its workload in the library's own execution
/// context (its runtime, its pool) for `t`, using the `timed` / `timed_async` helpers.
pub trait Contestant {
    /// Short name for tables.
    fn name(&self) -> &'static str;
    /// Runs `w` repeatedly for `t` and reports the mean time per operation.
    fn run(&mut self, w: Workload, t: Timing) -> Result<Measured, BoxError>;
}

/// Calls `op` in a loop: for `t.warmup` untimed, then for `t.measure`.
pub fn timed(
    t: Timing,
    mut op: impl FnMut() -> Result<usize, BoxError>,
) -> Result<Measured, BoxError> {
    let warm_end = Instant::now() + t.warmup;
    while Instant::now() < warm_end {
        black_box(op()?);
    }
    let start = Instant::now();
    let (mut ops, mut check) = (0u64, 0usize);
    while start.elapsed() < t.measure {
        check = black_box(op()?);
        ops += 1;
    }
    Ok(Measured {
        ns_per_op: start.elapsed().as_nanos() as f64 / ops as f64,
        check,
    })
}

/// [`timed`] for an async operation (awaited inside the contestant's runtime).
pub async fn timed_async<F, Fut>(t: Timing, mut op: F) -> Result<Measured, BoxError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, BoxError>>,
{
    let warm_end = Instant::now() + t.warmup;
    while Instant::now() < warm_end {
        black_box(op().await?);
    }
    let start = Instant::now();
    let (mut ops, mut check) = (0u64, 0usize);
    while start.elapsed() < t.measure {
        check = black_box(op().await?);
        ops += 1;
    }
    Ok(Measured {
        ns_per_op: start.elapsed().as_nanos() as f64 / ops as f64,
        check,
    })
}

/// One row of the suite's results: a workload at a size, each contestant's median time.
#[derive(Debug, Clone)]
pub struct SuiteRow {
    pub workload: &'static str,
    pub size: usize,
    /// (contestant, median ns per op, every repeat's ns per op)
    pub times: Vec<(&'static str, f64, Vec<f64>)>,
}

/// The sizes of each workload.
pub struct Sizes {
    pub trivial: Vec<usize>,
    pub medium: Vec<usize>,
    pub insert: Vec<usize>,
}

impl Sizes {
    pub fn full() -> Self {
        Sizes {
            trivial: vec![1, 10, 100, 1_000, 10_000],
            medium: vec![1, 10, 100, 1_000, 10_000],
            insert: vec![1, 10, 25, 50, 100],
        }
    }
    pub fn quick() -> Self {
        Sizes {
            trivial: vec![1, 10_000],
            medium: vec![1, 10_000],
            insert: vec![1, 100],
        }
    }
}

/// Runs every workload at every size: the data is laid out once per (workload, size) with
/// `fill` (the insert workload empties `users` before each run), then each repeat runs every
/// contestant once, in an order rotated from repeat to repeat.
pub fn run_suite(
    contestants: &mut [Box<dyn Contestant>],
    fill: &dyn Fn(&str) -> Result<(), BoxError>,
    sizes: &Sizes,
    only: Option<&str>,
    repeats: usize,
    t: Timing,
) -> Result<Vec<SuiteRow>, BoxError> {
    let mut plan: Vec<(Workload, usize)> = Vec::new();
    plan.extend(sizes.trivial.iter().map(|&s| (Workload::Trivial, s)));
    plan.extend(sizes.medium.iter().map(|&s| (Workload::Medium, s)));
    plan.extend(sizes.insert.iter().map(|&s| (Workload::Insert(s), s)));
    plan.push((Workload::Associations, 100));
    let mut rows = Vec::new();
    for (w, size) in plan {
        if only.is_some_and(|o| o != w.group()) {
            continue;
        }
        let (setup, expected) = match w {
            Workload::Trivial => (Some(model::fill_sql(size, |_| None, false)), size),
            Workload::Medium => (
                Some(model::fill_sql(size, model::black_or_brown, false)),
                size.div_ceil(2),
            ),
            Workload::Insert(n) => (None, n),
            Workload::Associations => (
                Some(model::fill_sql(100, model::black_or_brown, true)),
                10_000,
            ),
        };
        if let Some(sql) = &setup {
            fill(sql)?;
        }
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); contestants.len()];
        for r in 0..repeats {
            for k in 0..contestants.len() {
                let i = (k + r) % contestants.len();
                if setup.is_none() {
                    fill(model::CLEANUP)?;
                }
                let m = contestants[i].run(w, t)?;
                if m.check != expected {
                    return Err(format!(
                        "{} on {w:?} at {size}: result of size {}, expected {expected}",
                        contestants[i].name(),
                        m.check
                    )
                    .into());
                }
                samples[i].push(m.ns_per_op);
            }
        }
        let times = contestants
            .iter()
            .zip(samples)
            .map(|(c, s)| (c.name(), crate::median(s.clone()), s))
            .collect::<Vec<_>>();
        eprintln!(
            "  {:<13} {:>6}  {}",
            w.group(),
            size,
            times
                .iter()
                .map(|(n, t, _)| format!("{n} {:.1} µs", t / 1e3))
                .collect::<Vec<_>>()
                .join(", ")
        );
        rows.push(SuiteRow {
            workload: w.group(),
            size,
            times,
        });
    }
    Ok(rows)
}

impl SuiteRow {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "workload": self.workload,
            "size": self.size,
            "ns_per_op": self.times.iter().map(|(n, m, s)| (n.to_string(), json!({"median": m, "repeats": s}))).collect::<serde_json::Map<_, _>>(),
        })
    }
}
