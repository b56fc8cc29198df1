//! Query-builder benchmark, in one run, on one throwaway server:
//!
//! 1. building a typical query (three filters, an order, a limit) into SQL text and bound
//!    values with the typed builder, against formatting the same SQL by hand (`format!` and
//!    a vector of boxed values);
//! 2. primary-key lookups end to end through the builder (`users::table.select(…)
//!    .filter(users::id.eq(id)).get_result(&pool)`) against the same statement as raw SQL on
//!    the same pool: one caller in a loop (latency), and 256 coroutines (throughput).
//!
//! Runs alternate builder and raw, and the report gives medians over repeats and the
//! builder's share of end-to-end time.
//!
//! ```text
//! cargo run --release --example bench_query -- [seconds-per-run] [repeats]
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lifeguard::client::{self, ToSql};
use lifeguard::pool::LifeguardPool;
use lifeguard::query::dsl::*;
use lifeguard::testkit::PgServer;

#[path = "support/pgbench.rs"]
#[allow(dead_code)]
mod pgbench;
use pgbench::median;

lifeguard::table! {
    users (id) {
        id -> Int4,
        name -> Text,
        email -> Nullable<Text>,
        age -> Int4,
        active -> Bool,
    }
}

const ROWS: i32 = 10_000;
const CALLERS: usize = 256;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let secs: f64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(2.0);
    let repeats: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3);
    let run_for = Duration::from_secs_f64(secs);
    may::config().set_workers(2).set_stack_size(0x4000);

    // 1. Building, no server involved.
    let mut built = Vec::new();
    let mut by_hand = Vec::new();
    for _ in 0..repeats {
        built.push(per_op(run_for, build_typical));
        by_hand.push(per_op(run_for, format_typical));
    }
    let (built, by_hand) = (median(built), median(by_hand));
    println!("| build a typical query (3 filters, order, limit) | ns per query |");
    println!("|---|---:|");
    println!("| typed builder → SQL + bound values | {built:.0} |");
    println!("| format! by hand → SQL + boxed values | {by_hand:.0} |");
    println!("| ratio builder ÷ by hand | {:.2} |", built / by_hand);

    // 2. End to end.
    let server = PgServer::builder().start()?;
    let url = server.url("postgres");
    client::connect(&url)?.batch_execute(&format!(
        "CREATE TABLE users (id int4 PRIMARY KEY, name text NOT NULL, email text,
                             age int4 NOT NULL, active bool NOT NULL);
         INSERT INTO users SELECT g, 'user ' || g, NULL, g % 90, true
           FROM generate_series(1, {ROWS}) g;
         ANALYZE users;"
    ))?;
    let pool = LifeguardPool::builder(&url)?.size(4).build()?;
    let mut lat_builder = Vec::new();
    let mut lat_raw = Vec::new();
    let mut tp_builder = Vec::new();
    let mut tp_raw = Vec::new();
    for _ in 0..repeats {
        let p = pool.clone();
        lat_builder.push(on_coroutine(move || lookups(&p, 1, run_for, true))?);
        let p = pool.clone();
        lat_raw.push(on_coroutine(move || lookups(&p, 1, run_for, false))?);
        let p = pool.clone();
        tp_builder.push(on_coroutine(move || lookups(&p, CALLERS, run_for, true))?);
        let p = pool.clone();
        tp_raw.push(on_coroutine(move || lookups(&p, CALLERS, run_for, false))?);
    }
    let (lb, lr) = (median(lat_builder), median(lat_raw));
    let (tb, tr) = (median(tp_builder), median(tp_raw));
    println!();
    println!("| primary-key lookup, pool of 4 connections | builder | raw SQL | builder ÷ raw |");
    println!("|---|---:|---:|---:|");
    println!(
        "| 1 caller: µs per lookup | {:.1} | {:.1} | {:.2} |",
        1e6 / lb,
        1e6 / lr,
        lr / lb
    );
    println!(
        "| {CALLERS} callers: lookups/s | {tb:.0} | {tr:.0} | {:.2} |",
        tb / tr
    );
    println!();
    println!(
        "builder overhead: {:.1}% of one caller's lookup time, {:.1}% of throughput at {CALLERS} callers",
        (1.0 - lb / lr) * 100.0,
        (1.0 - tb / tr) * 100.0
    );
    Ok(())
}

/// Nanoseconds per call of `f`, over `run_for`.
fn per_op(run_for: Duration, f: fn(i32) -> usize) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    let mut sink = 0usize;
    while start.elapsed() < run_for {
        for i in 0..1000 {
            sink = sink.wrapping_add(f(black_box(i)));
        }
        n += 1000;
    }
    black_box(sink);
    start.elapsed().as_nanos() as f64 / n as f64
}

fn build_typical(i: i32) -> usize {
    let q = users::table
        .select((users::id, users::name, users::email))
        .filter(users::active.eq(true))
        .filter(users::age.ge(i))
        .filter(users::name.like("user 1%"))
        .order_by(users::id.desc())
        .limit(20)
        .to_sql();
    q.sql.len() + q.params.len()
}

fn format_typical(i: i32) -> usize {
    let table = "users";
    let sql = format!(
        "SELECT \"{table}\".\"id\", \"{table}\".\"name\", \"{table}\".\"email\" FROM \"{table}\" \
         WHERE \"{table}\".\"active\" = $1 AND \"{table}\".\"age\" >= $2 AND \"{table}\".\"name\" LIKE $3 \
         ORDER BY \"{table}\".\"id\" DESC LIMIT $4"
    );
    let params: Vec<Box<dyn ToSql + Send + Sync>> = vec![
        Box::new(true),
        Box::new(i),
        Box::new("user 1%".to_string()),
        Box::new(20_i64),
    ];
    sql.len() + params.len()
}

const RAW: &str =
    "SELECT \"users\".\"id\", \"users\".\"name\" FROM \"users\" WHERE \"users\".\"id\" = $1";

/// Lookups per second from `callers` coroutines in a closed loop.
fn lookups(
    pool: &LifeguardPool,
    callers: usize,
    run_for: Duration,
    builder: bool,
) -> Result<f64, BoxError> {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let handles: Vec<_> = (0..callers)
        .map(|c| {
            let (pool, stop, done) = (pool.clone(), stop.clone(), done.clone());
            may::go!(move || -> Result<(), client::Error> {
                let mut n = 0u64;
                let mut id = c as i32 % ROWS + 1;
                while !stop.load(Ordering::Relaxed) {
                    let (got, _name): (i32, String) = if builder {
                        users::table
                            .select((users::id, users::name))
                            .filter(users::id.eq(id))
                            .get_result(&pool)?
                    } else {
                        let row = pool.query_one(RAW, &[&id])?;
                        (row.try_get(0)?, row.try_get(1)?)
                    };
                    assert_eq!(got, id);
                    id = id % ROWS + 1;
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
                Ok(())
            })
        })
        .collect();
    may::coroutine::sleep(run_for);
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().expect("lookup coroutine panicked")?;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

fn on_coroutine<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    may::go!(f).join().expect("benchmark coroutine panicked")
}
