//! LifeguardPool benchmark, in one run, on one throwaway server:
//!
//! 1. acquire + release cost of an exclusive guard, uncontended (1 coroutine, 4 connections)
//!    and contended (32 coroutines, 16 connections);
//! 2. primary-key lookups (`SELECT id, name FROM users WHERE id = $1`, 10,000 rows) from 1,000
//!    coroutines over 4 and 16 connections: through the pool (shared, pipelined), through the
//!    raw client at the same connection count (coroutine i uses connection i mod n), and
//!    through exclusive guards (acquire, query, release);
//! 3. `pgbench -M prepared` with the same lookup and the same number of clients, plain and in
//!    pipeline mode (64 statements a flight);
//! 4. memory per idle connection and per coroutine waiting in `acquire` (measured first).
//!
//! ```text
//! cargo run --release --example bench_pool -- [seconds-per-run] [repeats]
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lifeguard::client;
use lifeguard::pool::LifeguardPool;
use lifeguard::testkit::PgServer;

#[path = "support/pgbench.rs"]
mod pgbench;
use pgbench::{median, run_pgbench};

const LOOKUP: &str = "SELECT id, name FROM users WHERE id = $1";
const ROWS: i32 = 10_000;
const CALLERS: usize = 1_000;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let secs: f64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3.0);
    let repeats: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3);
    let run_for = Duration::from_secs_f64(secs);
    may::config().set_workers(2).set_stack_size(0x4000);

    let server = PgServer::builder()
        .setting("max_connections", "200")
        .start()?;
    let url = server.url("postgres");
    client::connect(&url)?.batch_execute(&format!(
        "CREATE TABLE users (id int4 PRIMARY KEY, name text NOT NULL);
         INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, {ROWS}) g;
         ANALYZE users;"
    ))?;
    println!(
        "server: PostgreSQL on 127.0.0.1:{}; {secs} s per run, median of {repeats}; {CALLERS} callers",
        server.port()
    );

    // Memory first, before other phases grow the allocator's free lists.
    let (per_conn, per_waiter) = memory(&url)?;
    println!(
        "memory: {per_conn:.0} bytes of RSS per idle pooled connection (client side), \
         {per_waiter:.0} bytes per coroutine waiting in acquire (stacks of {} KiB reserved, \
         only touched pages count)",
        0x4000 * 8 / 1024
    );

    // 1. Acquire + release.
    let pool4 = LifeguardPool::builder(&url)?.size(4).build()?;
    let uncontended = on_coroutine(move || acquire_cycle(&pool4, 1, Duration::from_secs(1)))?;
    let pool16 = LifeguardPool::builder(&url)?.size(16).build()?;
    let contended = on_coroutine(move || acquire_cycle(&pool16, 32, Duration::from_secs(1)))?;
    println!();
    println!("| acquire + release | cycles/s | mean per cycle |");
    println!("|---|---:|---:|");
    for (what, rate) in [
        ("uncontended: 1 coroutine, 4 connections", uncontended),
        ("contended: 32 coroutines, 16 connections", contended),
    ] {
        println!("| {what} | {rate:.0} | {:.0} ns |", 1e9 / rate);
    }

    // 2 and 3. Lookups.
    let scripts = std::env::temp_dir().join(format!("lifeguard-bench-pool-{}", std::process::id()));
    std::fs::create_dir_all(&scripts)?;
    let plain = scripts.join("plain.sql");
    std::fs::write(
        &plain,
        format!("\\set id random(1, {ROWS})\nSELECT id, name FROM users WHERE id = :id;\n"),
    )?;
    let pipeline = scripts.join("pipeline.sql");
    let mut text = format!("\\set id random(1, {ROWS})\n\\startpipeline\n");
    for _ in 0..64 {
        text.push_str("SELECT id, name FROM users WHERE id = :id;\n");
    }
    text.push_str("\\endpipeline\n");
    std::fs::write(&pipeline, text)?;
    let pgbench = server.bin("pgbench");

    let mut rows = Vec::new();
    for conns in [4usize, 16] {
        let pool = LifeguardPool::builder(&url)?
            .size(conns)
            .acquire_timeout(Duration::from_secs(30))
            .build()?;
        let clients = (0..conns)
            .map(|_| client::connect(&url).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        let (mut shared, mut raw, mut guards, mut pg, mut pg_pipe) =
            (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..repeats {
            shared.push(drive(run_for, {
                let pool = pool.clone();
                move |_, id| pool.query_one(LOOKUP, &[&id]).map(|r| r.get::<_, i32>(0))
            })?);
            raw.push(drive(run_for, {
                let clients = clients.clone();
                move |k, id| {
                    clients[k % clients.len()]
                        .query_one(LOOKUP, &[&id])
                        .map(|r| r.get::<_, i32>(0))
                }
            })?);
            guards.push(drive(run_for, {
                let pool = pool.clone();
                move |_, id| {
                    let g = pool.acquire()?;
                    g.query_one(LOOKUP, &[&id]).map(|r| r.get::<_, i32>(0))
                }
            })?);
            pg.push(run_pgbench(&pgbench, server.port(), conns, &plain, secs)?);
            pg_pipe.push(run_pgbench(&pgbench, server.port(), conns, &pipeline, secs)? * 64.0);
        }
        rows.push((
            conns,
            median(shared),
            median(raw),
            median(guards),
            median(pg),
            median(pg_pipe),
        ));
    }
    let _ = std::fs::remove_dir_all(&scripts);
    println!();
    println!(
        "| connections | pool (shared) | raw client | pool ÷ raw | exclusive guards | pgbench -M prepared | pgbench pipeline 64 | pool ÷ pgbench | pool ÷ pipeline |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (c, s, r, g, p, pp) in rows {
        println!(
            "| {c} | {s:.0} | {r:.0} | {:.2} | {g:.0} | {p:.0} | {pp:.0} | {:.2} | {:.2} |",
            s / r,
            s / p,
            s / pp
        );
    }

    Ok(())
}

fn on_coroutine<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    may::go!(f).join().expect("benchmark coroutine panicked")
}

/// `callers` coroutines acquiring and releasing guards in a closed loop; cycles per second.
fn acquire_cycle(pool: &LifeguardPool, callers: usize, run_for: Duration) -> Result<f64, BoxError> {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..callers)
        .map(|_| {
            let (pool, stop, done) = (pool.clone(), stop.clone(), done.clone());
            may::go!(move || -> Result<(), client::Error> {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    drop(pool.acquire()?);
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
                Ok(())
            })
        })
        .collect();
    let start = Instant::now();
    may::coroutine::sleep(run_for);
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().expect("coroutine panicked")?;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// [`CALLERS`] coroutines running `op(caller, id)` in a closed loop; operations per second.
fn drive(
    run_for: Duration,
    op: impl Fn(usize, i32) -> Result<i32, client::Error> + Send + Sync + 'static,
) -> Result<f64, BoxError> {
    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..CALLERS)
        .map(|k| {
            let (op, stop, done) = (op.clone(), stop.clone(), done.clone());
            may::go!(move || -> Result<(), client::Error> {
                let mut n = 0u64;
                let mut id = (k as i32 * 7919) % ROWS + 1;
                while !stop.load(Ordering::Relaxed) {
                    let got = op(k, id)?;
                    assert_eq!(got, id, "wrong row");
                    id = (id * 31 + 17) % ROWS + 1;
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
                Ok(())
            })
        })
        .collect();
    let start = Instant::now();
    std::thread::sleep(run_for);
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().expect("benchmark coroutine panicked")?;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

fn rss_bytes() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb * 1024.0)
}

/// RSS growth per idle pooled connection (64 of them) and per coroutine parked in `acquire`
/// (10,000 of them, on a pool whose only connection is held).
fn memory(url: &str) -> Result<(f64, f64), BoxError> {
    let before = rss_bytes();
    let pool = LifeguardPool::builder(url)?.size(64).build()?;
    pool.query("SELECT 1", &[])?;
    let per_conn = (rss_bytes() - before) / 64.0;
    drop(pool);

    let pool = LifeguardPool::builder(url)?
        .size(1)
        .acquire_timeout(Duration::from_secs(120))
        .build()?;
    let held = pool.acquire()?;
    const WAITERS: usize = 10_000;
    let before = rss_bytes();
    let handles: Vec<_> = (0..WAITERS)
        .map(|_| {
            let pool = pool.clone();
            may::go!(move || pool.acquire().map(drop))
        })
        .collect();
    while pool.status().waiting < WAITERS {
        std::thread::sleep(Duration::from_millis(10));
    }
    let per_waiter = (rss_bytes() - before) / WAITERS as f64;
    drop(held);
    for h in handles {
        h.join().expect("waiter panicked")?;
    }
    Ok((per_conn, per_waiter))
}
