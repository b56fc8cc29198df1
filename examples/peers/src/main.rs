//! Lifeguard against its peers, in one run on one throwaway PostgreSQL server:
//!
//! 1. Diesel's benchmark workloads (`diesel_bench`: trivial query, medium complex query,
//!    insert, loading associations) for Lifeguard's query builder and raw pool,
//!    tokio-postgres + deadpool, sqlx, diesel + r2d2 and sea-orm ([`suite`]);
//! 2. primary-key lookups from C concurrent callers over N connections, each configuration
//!    in a child process for its peak RSS, against `pgbench -M prepared` ([`concurrency`]).
//!
//! Contestants alternate within each repeat; figures are medians over repeats. Writes
//! `results.md` and `results.json` next to this crate's `Cargo.toml`.

mod concurrency;
mod contestants;
mod hist;
mod model;
mod report;
mod suite;

#[path = "../../support/pgbench.rs"]
mod pgbench;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lifeguard::testkit::PgServer;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub use pgbench::median;

/// Command-line options.
#[derive(Debug, Clone)]
pub struct Options {
    pub quick: bool,
    /// Measured seconds of each concurrency run.
    pub seconds: f64,
    /// Measured seconds of each suite run.
    pub suite_seconds: f64,
    pub repeats: usize,
    /// A workload group: trivial, medium, insert, associations, suite, concurrency.
    pub only: Option<String>,
    pub out: PathBuf,
}

const USAGE: &str = "usage: lifeguard-peers [--quick] [--seconds S] [--suite-seconds S] \
    [--repeats R] [--only trivial|medium|insert|associations|suite|concurrency] [--out DIR]";

fn parse_args(args: &[String]) -> Result<Options, BoxError> {
    let quick = args.iter().any(|a| a == "--quick");
    let mut o = Options {
        quick,
        seconds: if quick { 1.0 } else { 2.0 },
        suite_seconds: if quick { 0.2 } else { 0.5 },
        repeats: if quick { 1 } else { 3 },
        only: None,
        out: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{a} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--quick" => {}
            "--seconds" => o.seconds = value()?.parse()?,
            "--suite-seconds" => o.suite_seconds = value()?.parse()?,
            "--repeats" => o.repeats = value()?.parse()?,
            "--only" => o.only = Some(value()?.clone()),
            "--out" => o.out = PathBuf::from(value()?),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown option {other}\n{USAGE}").into()),
        }
    }
    if let Some(only) = &o.only {
        let known = [
            "trivial",
            "medium",
            "insert",
            "associations",
            "suite",
            "concurrency",
        ];
        if !known.contains(&only.as_str()) {
            return Err(format!("--only {only}: not one of {known:?}").into());
        }
    }
    if o.repeats == 0 {
        return Err("--repeats must be at least 1".into());
    }
    Ok(o)
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "--child") {
        return concurrency::child_main(&args[1..]);
    }
    let opts = parse_args(&args)?;
    may::config().set_workers(2).set_stack_size(0x4000);
    let began = Instant::now();

    let server = PgServer::builder()
        .setting("max_connections", "300")
        .start()?;
    let admin = lifeguard::client::connect(&server.url("postgres"))?;
    admin.batch_execute("CREATE DATABASE suite")?;
    let machine = report::Machine::probe(&admin)?;
    eprintln!("{}", machine.line());

    let run_suite = opts.only.as_deref().is_none_or(|o| o != "concurrency");
    let run_conc = opts.only.as_deref().is_none_or(|o| o == "concurrency");

    let mut suite_rows = Vec::new();
    if run_suite {
        let url = server.url("suite");
        let fill_client = lifeguard::client::connect(&url)?;
        fill_client.batch_execute(model::SCHEMA)?;
        let fill = |sql: &str| -> Result<(), BoxError> { Ok(fill_client.batch_execute(sql)?) };
        let mut cs = contestants::all(&url)?;
        let only = opts.only.as_deref().filter(|o| *o != "suite");
        let sizes = if opts.quick {
            suite::Sizes::quick()
        } else {
            suite::Sizes::full()
        };
        let t = suite::Timing {
            warmup: Duration::from_secs_f64((opts.suite_seconds / 4.0).min(0.2)),
            measure: Duration::from_secs_f64(opts.suite_seconds),
        };
        eprintln!(
            "suite: {} s per run after {:.2} s warm-up, median of {}",
            opts.suite_seconds,
            t.warmup.as_secs_f64(),
            opts.repeats
        );
        suite_rows = suite::run_suite(&mut cs, &fill, &sizes, only, opts.repeats, t)?;
    }

    let mut conc = None;
    if run_conc {
        admin.batch_execute(&format!(
            "CREATE TABLE users (id int4 PRIMARY KEY, name text NOT NULL);
             INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, {}) g;
             ANALYZE users;",
            concurrency::ROWS
        ))?;
        let plan = report::ConcPlan::new(&opts);
        conc = Some(report::run_concurrency(&server, &plan, &opts)?);
    }

    let elapsed = began.elapsed();
    let (md, json) = report::render(&opts, &machine, &suite_rows, conc.as_ref(), elapsed);
    std::fs::create_dir_all(&opts.out)?;
    std::fs::write(opts.out.join("results.md"), &md)?;
    std::fs::write(
        opts.out.join("results.json"),
        serde_json::to_string_pretty(&json)? + "\n",
    )?;
    println!("{md}");
    eprintln!(
        "wrote {} and results.json in {:.0} s",
        opts.out.join("results.md").display(),
        elapsed.as_secs_f64()
    );
    Ok(())
}
