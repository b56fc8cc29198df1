//! The pool's Prometheus metrics. Counters and histograms are updated as things happen; the
//! connection gauges are read from the pool's slots when the registry is scraped, so the hot
//! path pays nothing for them.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::client::{Error, Result};

use super::Shared;

/// Renders every metric in `registry` in the Prometheus text exposition format.
pub fn render(registry: &Registry) -> String {
    TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap_or_else(|e| format!("# metrics could not be encoded: {e}\n"))
}

/// Counters and histograms the pool updates as it works.
pub(crate) struct Metrics {
    pub(crate) wait: Histogram,
    pub(crate) query: Histogram,
    pub(crate) errors: IntCounterVec,
    pub(crate) timeouts: IntCounter,
    pub(crate) reconnects: IntCounter,
    registry: Registry,
    gauges: Gauges,
}

fn opts(name: &str, help: &str, pool: &str) -> Opts {
    Opts::new(name, help).const_label("pool", pool)
}

fn metric_error(e: prometheus::Error) -> Error {
    Error::Config(format!(
        "registering the pool's metrics failed: {e} (pools sharing a registry need different names)"
    ))
}

impl Metrics {
    pub(crate) fn register(
        registry: Registry,
        pool: &str,
        shared: Arc<OnceLock<Weak<Shared>>>,
    ) -> Result<Self> {
        // 1 µs .. ~4.2 s in factors of 4: acquires are microseconds, outages seconds.
        let wait_buckets = prometheus::exponential_buckets(1e-6, 4.0, 12).expect("valid buckets");
        // 50 µs .. ~13 s in factors of 4.
        let query_buckets = prometheus::exponential_buckets(5e-5, 4.0, 10).expect("valid buckets");
        let wait = Histogram::with_opts(
            HistogramOpts::new(
                "lifeguard_connection_wait_time_seconds",
                "Time callers waited for a pooled connection (shared or exclusive).",
            )
            .const_label("pool", pool)
            .buckets(wait_buckets),
        )
        .map_err(metric_error)?;
        let query = Histogram::with_opts(
            HistogramOpts::new(
                "lifeguard_query_duration_seconds",
                "Time from sending a statement through the pool to its last reply.",
            )
            .const_label("pool", pool)
            .buckets(query_buckets),
        )
        .map_err(metric_error)?;
        let errors = IntCounterVec::new(
            opts(
                "lifeguard_query_errors_total",
                "Statements through the pool that failed, by error class.",
                pool,
            ),
            &["class"],
        )
        .map_err(metric_error)?;
        let timeouts = IntCounter::with_opts(opts(
            "lifeguard_pool_timeouts_total",
            "Callers that gave up waiting for a connection.",
            pool,
        ))
        .map_err(metric_error)?;
        let reconnects = IntCounter::with_opts(opts(
            "lifeguard_reconnects_total",
            "Connections opened to replace a broken or expired one.",
            pool,
        ))
        .map_err(metric_error)?;
        let gauges = Gauges::new(pool, shared).map_err(metric_error)?;
        let m = Metrics {
            wait,
            query,
            errors,
            timeouts,
            reconnects,
            registry,
            gauges,
        };
        for (i, c) in m.collectors().into_iter().enumerate() {
            if let Err(e) = m.registry.register(c) {
                // Remove only what this pool registered: a same-named pool keeps its own.
                for c in m.collectors().into_iter().take(i) {
                    let _ = m.registry.unregister(c);
                }
                return Err(metric_error(e));
            }
        }
        Ok(m)
    }

    fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.wait.clone()),
            Box::new(self.query.clone()),
            Box::new(self.errors.clone()),
            Box::new(self.timeouts.clone()),
            Box::new(self.reconnects.clone()),
            Box::new(self.gauges.clone()),
        ]
    }

    /// Removes the pool's metrics from the registry (when the pool is dropped).
    pub(crate) fn unregister(&self) {
        for c in self.collectors() {
            let _ = self.registry.unregister(c);
        }
    }

    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Records one statement's duration and, if it failed, its error class.
    pub(crate) fn observe<T>(&self, elapsed: Duration, result: &Result<T>) {
        self.query.observe(elapsed.as_secs_f64());
        if let Err(e) = result {
            self.count_error(e);
        }
    }

    /// Counts a failure that happened before any statement was sent (no connection).
    pub(crate) fn count_error(&self, e: &Error) {
        self.errors.with_label_values(&[&e.class()]).inc();
    }
}

/// Connection gauges computed at scrape time.
#[derive(Clone)]
struct Gauges {
    shared: Arc<OnceLock<Weak<Shared>>>,
    size: IntGauge,
    active: IntGauge,
    idle: IntGauge,
    pending: IntGauge,
}

impl Gauges {
    fn new(pool: &str, shared: Arc<OnceLock<Weak<Shared>>>) -> prometheus::Result<Gauges> {
        Ok(Gauges {
            shared,
            size: IntGauge::with_opts(opts(
                "lifeguard_pool_size",
                "Connections open in the pool.",
                pool,
            ))?,
            active: IntGauge::with_opts(opts(
                "lifeguard_active_connections",
                "Open connections held by a guard or running statements.",
                pool,
            ))?,
            idle: IntGauge::with_opts(opts(
                "lifeguard_idle_connections",
                "Open connections with nothing to do.",
                pool,
            ))?,
            pending: IntGauge::with_opts(opts(
                "lifeguard_pending_acquires",
                "Callers waiting for a connection.",
                pool,
            ))?,
        })
    }
}

impl Collector for Gauges {
    fn desc(&self) -> Vec<&Desc> {
        [&self.size, &self.active, &self.idle, &self.pending]
            .into_iter()
            .flat_map(|g| g.desc())
            .collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        if let Some(shared) = self.shared.get().and_then(Weak::upgrade) {
            let s = shared.status();
            self.size.set(s.open as i64);
            self.active.set(s.active as i64);
            self.idle.set(s.idle as i64);
            self.pending.set(s.waiting as i64);
        }
        [&self.size, &self.active, &self.idle, &self.pending]
            .into_iter()
            .flat_map(|g| g.collect())
            .collect()
    }
}
