//! Client throughput against `pgbench -M prepared`, in one run, on one throwaway server.
//!
//! Workload: the prepared statement `SELECT $1::int4 + 1`.
//! - Lifeguard with 1, 8 and 32 connections, one caller each;
//! - Lifeguard with 64 coroutines sharing one pipelined connection (each statement with its
//!   own Sync, as independent callers need);
//! - Lifeguard with one caller sending batches of 64 statements under one Sync
//!   (`Batch::run_atomic`), the same shape as pgbench's pipeline mode;
//! - pgbench plain with 1, 8 and 32 clients, and in pipeline mode (64 statements between
//!   `\startpipeline` and `\endpipeline`) with one client.
//!
//! Each measurement is repeated (interleaved: ours, then pgbench's) and the median kept.
//!
//! ```text
//! cargo run --release --example bench_client -- [seconds-per-run] [repeats]
//! ```
//! `DATABASE_URL` is not used: pgbench needs the server's host and port, so the benchmark
//! always starts its own server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lifeguard::client::{self, Client};
use lifeguard::testkit::PgServer;

#[path = "support/pgbench.rs"]
mod pgbench;
use pgbench::{median, run_pgbench};

const SQL: &str = "SELECT $1::int4 + 1";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let secs: f64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3.0);
    let repeats: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3);
    let run_for = Duration::from_secs_f64(secs);
    may::config().set_workers(2).set_stack_size(0x4000);

    let server = PgServer::builder()
        .setting("max_connections", "200")
        .start()?;
    let url = server.url("postgres");
    let pgbench = server.bin("pgbench");
    println!(
        "server: PostgreSQL on 127.0.0.1:{}, {} s per run, median of {repeats}",
        server.port(),
        secs
    );

    let scripts = std::env::temp_dir().join(format!("lifeguard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scripts)?;
    let plain = scripts.join("plain.sql");
    std::fs::write(&plain, "\\set x random(1, 1000000)\nSELECT :x::int4 + 1;\n")?;
    let pipeline = scripts.join("pipeline.sql");
    let mut text = String::from("\\set x random(1, 1000000)\n\\startpipeline\n");
    for _ in 0..64 {
        text.push_str("SELECT :x::int4 + 1;\n");
    }
    text.push_str("\\endpipeline\n");
    std::fs::write(&pipeline, text)?;

    let pg = |clients: usize, script: &std::path::Path, per_tx: f64| -> Result<f64, String> {
        run_pgbench(&pgbench, server.port(), clients, script, secs).map(|tps| tps * per_tx)
    };

    let mut rows = Vec::new();
    for conns in [1usize, 8, 32] {
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for _ in 0..repeats {
            ours.push(lifeguard_connections(&url, conns, run_for)?);
            theirs.push(pg(conns, &plain, 1.0)?);
        }
        rows.push((
            format!("{conns} connection(s), 1 caller each"),
            median(ours),
            format!("pgbench -M prepared -c {conns}"),
            median(theirs),
        ));
    }
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..repeats {
        ours.push(lifeguard_shared(&url, 64, run_for)?);
        theirs.push(pg(1, &pipeline, 64.0)?);
    }
    let pipeline_median = median(theirs);
    rows.push((
        "64 coroutines sharing 1 connection".into(),
        median(ours),
        "pgbench pipeline (64/flight) -c 1".into(),
        pipeline_median,
    ));
    let mut ours = Vec::new();
    for _ in 0..repeats {
        ours.push(lifeguard_atomic_batches(&url, run_for)?);
    }
    rows.push((
        "1 caller, atomic batches of 64 (one Sync)".into(),
        median(ours),
        "pgbench pipeline (64/flight) -c 1".into(),
        pipeline_median,
    ));
    let _ = std::fs::remove_dir_all(&scripts);

    println!();
    println!("| Lifeguard | queries/s | pgbench | queries/s | ratio |");
    println!("|---|---:|---|---:|---:|");
    for (a, qa, b, qb) in rows {
        println!("| {a} | {qa:.0} | {b} | {qb:.0} | {:.2} |", qa / qb);
    }
    Ok(())
}

/// `conns` connections, each driven by one coroutine in a closed loop.
fn lifeguard_connections(url: &str, conns: usize, run_for: Duration) -> Result<f64, client::Error> {
    let clients = (0..conns)
        .map(|_| client::connect(url).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    drive(clients, 1, run_for)
}

/// `callers` coroutines sharing one connection.
fn lifeguard_shared(url: &str, callers: usize, run_for: Duration) -> Result<f64, client::Error> {
    let c = Arc::new(client::connect(url)?);
    drive(vec![c], callers, run_for)
}

/// One caller sending batches of 64 statements with a single Sync (`Batch::run_atomic`),
/// the same shape as pgbench's pipeline mode.
fn lifeguard_atomic_batches(url: &str, run_for: Duration) -> Result<f64, client::Error> {
    let c = client::connect(url)?;
    c.prepare(SQL)?;
    let xs: Vec<i32> = (0..64).collect();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < run_for {
        let mut batch = c.batch();
        for x in &xs {
            batch.add(SQL, &[x]);
        }
        n += batch.run_atomic()?.len() as u64;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn drive(
    clients: Vec<Arc<Client>>,
    callers_per_client: usize,
    run_for: Duration,
) -> Result<f64, client::Error> {
    for c in &clients {
        c.prepare(SQL)?;
        c.query_one(SQL, &[&1i32])?; // warm the statement cache
    }
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for c in &clients {
        for k in 0..callers_per_client {
            let (c, stop, done) = (c.clone(), stop.clone(), done.clone());
            handles.push(may::go!(move || -> Result<(), client::Error> {
                let mut n = 0u64;
                let mut x = k as i32;
                while !stop.load(Ordering::Relaxed) {
                    let v: i32 = c.query_one(SQL, &[&x])?.get(0);
                    debug_assert_eq!(v, x + 1);
                    x = v % 1_000_000;
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
                Ok(())
            }));
        }
    }
    let start = Instant::now();
    std::thread::sleep(run_for);
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().expect("benchmark coroutine panicked")?;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}
