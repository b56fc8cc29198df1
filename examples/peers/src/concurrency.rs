//! Primary-key lookups (`SELECT id, name FROM users WHERE id = $1`, random ids) from C
//! concurrent callers over N connections. Every (contestant, C, N) configuration runs in a
//! child process of this binary, so its peak RSS (VmHWM) is its own; the child records every
//! call's latency in a fixed-size histogram, its CPU time over the measured window, and
//! prints one JSON line.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::BoxError;
use crate::hist::Histogram;

pub const LOOKUP: &str = "SELECT id, name FROM users WHERE id = $1";
pub const ROWS: i32 = 10_000;

/// The concurrency contestants: (id on the command line, name in tables).
pub const CONTESTANTS: &[(&str, &str)] = &[
    ("lifeguard", "Lifeguard pool (may)"),
    ("tokio-postgres-shared", "tokio-postgres, N shared clients"),
    ("deadpool", "tokio-postgres + deadpool"),
    ("sqlx", "sqlx PgPool"),
];

/// What a child measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChildResult {
    pub ops_per_s: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub peak_rss_kb: f64,
    /// Client CPU (user + system, all threads, load generator included) per lookup.
    pub cpu_us_per_op: f64,
    pub errors: f64,
}

impl ChildResult {
    fn from_json(v: &Value) -> Option<Self> {
        let f = |k: &str| v.get(k).and_then(Value::as_f64);
        Some(ChildResult {
            ops_per_s: f("ops")? / f("secs")?,
            p50_us: f("p50_ns")? / 1e3,
            p99_us: f("p99_ns")? / 1e3,
            peak_rss_kb: f("peak_rss_kb")?,
            cpu_us_per_op: f("cpu_s")? * 1e6 / f("ops")?.max(1.0),
            errors: f("errors")?,
        })
    }

    pub fn to_json(self) -> Value {
        json!({
            "lookups_per_s": self.ops_per_s,
            "p50_us": self.p50_us,
            "p99_us": self.p99_us,
            "peak_rss_kb": self.peak_rss_kb,
            "client_cpu_us_per_lookup": self.cpu_us_per_op,
            "errors": self.errors,
        })
    }
}

/// Runs one configuration in a child process (this binary with `--child`); kills it if it
/// has not finished long after its planned end.
pub fn spawn_child(
    contestant: &str,
    callers: usize,
    conns: usize,
    warmup: f64,
    secs: f64,
    url: &str,
) -> Result<ChildResult, BoxError> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--child")
        .args([
            contestant,
            &callers.to_string(),
            &conns.to_string(),
            &warmup.to_string(),
            &secs.to_string(),
            url,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs_f64(warmup + secs + 90.0);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            child.kill()?;
            child.wait()?;
            return Err(format!("{contestant} C={callers} N={conns}: child timed out").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    if let Some(mut so) = child.stdout.take() {
        so.read_to_string(&mut out)?;
    }
    if !status.success() {
        return Err(
            format!("{contestant} C={callers} N={conns}: child failed ({status}): {out}").into(),
        );
    }
    let line = out.lines().last().unwrap_or_default();
    let v: Value = serde_json::from_str(line)?;
    ChildResult::from_json(&v).ok_or_else(|| format!("bad child output: {line}").into())
}

/// The measured window, shared by the callers: calls that end inside it are counted.
#[derive(Clone, Copy)]
struct Plan {
    warm_end: Instant,
    end: Instant,
}

struct Shared {
    plan: Plan,
    hist: Histogram,
    errors: AtomicU64,
}

impl Shared {
    /// Records a call that started at `t0` and returned `got` for `want`; false when the
    /// caller should stop.
    fn done(&self, t0: Instant, got: Result<i32, String>, want: i32) -> bool {
        let t1 = Instant::now();
        match got {
            Ok(id) if id == want => {
                if t1 >= self.plan.warm_end && t1 < self.plan.end {
                    self.hist.record((t1 - t0).as_nanos() as u64);
                }
            }
            Ok(_) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                if self.errors.fetch_add(1, Ordering::Relaxed) == 0 {
                    eprintln!("lookup failed: {e}");
                }
            }
        }
        t1 < self.plan.end
    }
}

/// A caller's random ids (xorshift), in 1..=ROWS.
struct Ids(u64);

impl Ids {
    fn new(k: usize) -> Self {
        Ids(0x9E37_79B9_7F4A_7C15 ^ (k as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D))
    }
    fn next(&mut self) -> i32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % ROWS as u64) as i32 + 1
    }
}

fn cpu_seconds() -> f64 {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage only writes the rusage struct we pass, which is zero-initialized.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr()) };
    if rc != 0 {
        return f64::NAN;
    }
    // SAFETY: getrusage succeeded and filled the struct (which was zeroed before anyway).
    let ru = unsafe { ru.assume_init() };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn peak_rss_kb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The child process: `--child <contestant> <callers> <conns> <warmup-s> <seconds> <url>`.
pub fn child_main(args: &[String]) -> Result<(), BoxError> {
    let [contestant, callers, conns, warmup, secs, url] = args else {
        return Err(
            "usage: --child <contestant> <callers> <conns> <warmup> <seconds> <url>".into(),
        );
    };
    let callers: usize = callers.parse()?;
    let conns: usize = conns.parse()?;
    let warmup = Duration::from_secs_f64(warmup.parse()?);
    let secs = Duration::from_secs_f64(secs.parse()?);

    // Connect first, then plan the window.
    let runner: Box<dyn FnOnce(Arc<Shared>) -> Result<(), BoxError>> = match contestant.as_str() {
        "lifeguard" => lifeguard(url, callers, conns)?,
        "tokio-postgres-shared" => tokio_shared(url, callers, conns)?,
        "deadpool" => deadpool(url, callers, conns)?,
        "sqlx" => sqlx(url, callers, conns)?,
        other => return Err(format!("unknown contestant {other}").into()),
    };
    let start = Instant::now();
    let shared = Arc::new(Shared {
        plan: Plan {
            warm_end: start + warmup,
            end: start + warmup + secs,
        },
        hist: Histogram::default(),
        errors: AtomicU64::new(0),
    });
    let plan = shared.plan;
    let cpu = std::thread::spawn(move || {
        std::thread::sleep(plan.warm_end.saturating_duration_since(Instant::now()));
        let a = cpu_seconds();
        std::thread::sleep(plan.end.saturating_duration_since(Instant::now()));
        cpu_seconds() - a
    });
    runner(shared.clone())?;
    let cpu_s = cpu.join().map_err(|_| "cpu watcher panicked")?;
    let h = &shared.hist;
    println!(
        "{}",
        json!({
            "ops": h.count(),
            "secs": secs.as_secs_f64(),
            "p50_ns": h.quantile(0.5),
            "p99_ns": h.quantile(0.99),
            "peak_rss_kb": peak_rss_kb(),
            "cpu_s": cpu_s,
            "errors": shared.errors.load(Ordering::Relaxed),
        })
    );
    Ok(())
}

type Runner = Box<dyn FnOnce(Arc<Shared>) -> Result<(), BoxError>>;

/// LifeguardPool of N shared, pipelined connections; C `may` coroutines on 2 workers.
fn lifeguard(url: &str, callers: usize, conns: usize) -> Result<Runner, BoxError> {
    may::config().set_workers(2).set_stack_size(0x4000);
    let pool = lifeguard::LifeguardPool::builder(url)?
        .size(conns)
        .acquire_timeout(Duration::from_secs(120))
        .build()?;
    Ok(Box::new(move |shared: Arc<Shared>| {
        let handles: Vec<_> = (0..callers)
            .map(|k| {
                let (pool, shared) = (pool.clone(), shared.clone());
                may::go!(move || {
                    let mut ids = Ids::new(k);
                    loop {
                        let id = ids.next();
                        let t0 = Instant::now();
                        let got = pool
                            .query_one(LOOKUP, &[&id])
                            .and_then(|r| {
                                let name: String = r.try_get(1)?;
                                std::hint::black_box(name);
                                r.try_get::<_, i32>(0)
                            })
                            .map_err(|e| e.to_string());
                        if !shared.done(t0, got, id) {
                            break;
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| "caller panicked")?;
        }
        Ok(())
    }))
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime, BoxError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Runs C tasks of `op` on the runtime until the plan's end.
fn drive_tasks<F, Fut>(
    rt: &tokio::runtime::Runtime,
    shared: Arc<Shared>,
    callers: usize,
    op: F,
) -> Result<(), BoxError>
where
    F: Fn(usize, i32) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<i32, String>> + Send,
{
    let op = Arc::new(op);
    rt.block_on(async move {
        let tasks: Vec<_> = (0..callers)
            .map(|k| {
                let (op, shared) = (op.clone(), shared.clone());
                tokio::spawn(async move {
                    let mut ids = Ids::new(k);
                    loop {
                        let id = ids.next();
                        let t0 = Instant::now();
                        let got = op(k, id).await;
                        if !shared.done(t0, got, id) {
                            break;
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await?;
        }
        Ok(())
    })
}

/// N tokio-postgres clients, each with the statement prepared; caller k uses client k mod N
/// (its requests pipeline on that connection); C tasks on a 2-worker runtime.
fn tokio_shared(url: &str, callers: usize, conns: usize) -> Result<Runner, BoxError> {
    let rt = tokio_runtime()?;
    let clients = rt.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..conns {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    eprintln!("connection error: {e}");
                }
            });
            let st = client.prepare(LOOKUP).await?;
            clients.push((client, st));
        }
        Ok::<_, tokio_postgres::Error>(Arc::new(clients))
    })?;
    Ok(Box::new(move |shared| {
        drive_tasks(&rt, shared, callers, move |k, id| {
            let clients = clients.clone();
            async move {
                let (c, st) = &clients[k % clients.len()];
                let row = c.query_one(st, &[&id]).await.map_err(|e| e.to_string())?;
                let name: String = row.try_get(1).map_err(|e| e.to_string())?;
                std::hint::black_box(name);
                row.try_get(0).map_err(|e| e.to_string())
            }
        })
    }))
}

/// deadpool-postgres pool of N connections: each call checks a connection out, runs the
/// statement (`prepare_cached`) and returns it; C tasks on a 2-worker runtime.
fn deadpool(url: &str, callers: usize, conns: usize) -> Result<Runner, BoxError> {
    use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
    let rt = tokio_runtime()?;
    let config: tokio_postgres::Config = url.parse()?;
    let manager = Manager::from_config(
        config,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager).max_size(conns).build()?;
    rt.block_on(async {
        let held = futures_util::future::try_join_all((0..conns).map(|_| pool.get())).await?;
        for c in &held {
            c.prepare_cached(LOOKUP).await?;
        }
        Ok::<_, BoxError>(())
    })?;
    Ok(Box::new(move |shared| {
        drive_tasks(&rt, shared, callers, move |_, id| {
            let pool = pool.clone();
            async move {
                let c = pool.get().await.map_err(|e| e.to_string())?;
                let st = c.prepare_cached(LOOKUP).await.map_err(|e| e.to_string())?;
                let row = c.query_one(&st, &[&id]).await.map_err(|e| e.to_string())?;
                let name: String = row.try_get(1).map_err(|e| e.to_string())?;
                std::hint::black_box(name);
                row.try_get(0).map_err(|e| e.to_string())
            }
        })
    }))
}

/// sqlx `PgPool` of N connections (statements cached per connection); C tasks on a 2-worker
/// runtime.
fn sqlx(url: &str, callers: usize, conns: usize) -> Result<Runner, BoxError> {
    let rt = tokio_runtime()?;
    let pool = rt.block_on(
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(conns as u32)
            .min_connections(conns as u32)
            .acquire_timeout(Duration::from_secs(120))
            .connect(url),
    )?;
    Ok(Box::new(move |shared| {
        drive_tasks(&rt, shared, callers, move |_, id| {
            let pool = pool.clone();
            async move {
                let (got, name): (i32, String) = sqlx::query_as(LOOKUP)
                    .bind(id)
                    .fetch_one(&pool)
                    .await
                    .map_err(|e| e.to_string())?;
                std::hint::black_box(name);
                Ok(got)
            }
        })
    }))
}
