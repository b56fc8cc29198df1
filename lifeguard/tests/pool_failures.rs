//! The pool when the database misbehaves: a fast restart under load, and a server that is
//! gone for good. Each test starts a PostgreSQL server of its own, since it stops it.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lifeguard::client::Error;
use lifeguard::pool::LifeguardPool;
use lifeguard::testkit::PgServer;

#[test]
fn fast_restart_under_load_loses_no_acknowledged_write() {
    let server = PgServer::start().expect("start a private server");
    let url = server.url("postgres");
    lifeguard::client::connect(&url)
        .unwrap()
        .batch_execute("CREATE TABLE numbers (n int8 PRIMARY KEY)")
        .unwrap();
    const SIZE: usize = 8;
    let acquire_timeout = Duration::from_secs(2);
    let pool = LifeguardPool::builder(&url)
        .unwrap()
        .size(SIZE)
        .application_name("lg_restart")
        .acquire_timeout(acquire_timeout)
        .statement_timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicI64::new(0));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let longest_call = Arc::new(Mutex::new(Duration::ZERO));
    let last_ok = Arc::new(Mutex::new(Vec::<Instant>::new()));

    let workers: Vec<_> = (0..200)
        .map(|_| {
            let (pool, stop, next, acked, errors, longest_call, last_ok) = (
                pool.clone(),
                stop.clone(),
                next.clone(),
                acked.clone(),
                errors.clone(),
                longest_call.clone(),
                last_ok.clone(),
            );
            may::go!(move || {
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let start = Instant::now();
                    let r = pool.execute("INSERT INTO numbers (n) VALUES ($1)", &[&n]);
                    let took = start.elapsed();
                    {
                        let mut l = longest_call.lock().unwrap();
                        *l = (*l).max(took);
                    }
                    match r {
                        Ok(1) => {
                            acked.lock().unwrap().push(n);
                            last_ok.lock().unwrap().push(Instant::now());
                        }
                        Ok(k) => panic!("insert affected {k} rows"),
                        Err(e) => {
                            *errors
                                .lock()
                                .unwrap()
                                .entry(e.class().into_owned())
                                .or_default() += 1;
                            may::coroutine::sleep(Duration::from_millis(5));
                        }
                    }
                }
            })
        })
        .collect();

    // Watches pg_stat_activity through its own connection (re-opened after the restart).
    let max_seen = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (stop, max_seen, url) = (stop.clone(), max_seen.clone(), url.clone());
        may::go!(move || {
            let mut client = None;
            while !stop.load(Ordering::Relaxed) {
                if client.is_none() {
                    client = lifeguard::client::connect(&url).ok();
                }
                if let Some(c) = &client {
                    match c.query_one(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lg_restart'",
                        &[],
                    ) {
                        Ok(r) => {
                            max_seen.fetch_max(r.get::<_, i64>(0) as usize, Ordering::Relaxed);
                        }
                        Err(_) => client = None,
                    }
                }
                may::coroutine::sleep(Duration::from_millis(10));
            }
        })
    };

    std::thread::sleep(Duration::from_secs(1));
    let before = acked.lock().unwrap().len();
    assert!(before > 0, "the load runs");
    server.restart_fast().expect("restart");
    let accepting = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    common::within(Duration::from_secs(60), move || {
        for w in workers {
            w.join().unwrap();
        }
        watcher.join().unwrap();
    });

    let first_ok_after = last_ok
        .lock()
        .unwrap()
        .iter()
        .filter(|t| **t > accepting)
        .min()
        .copied()
        .expect("the pool served again after the restart");
    let recovery = first_ok_after - accepting;
    let acked = acked.lock().unwrap().clone();
    let errors = errors.lock().unwrap().clone();
    let longest = *longest_call.lock().unwrap();
    eprintln!(
        "restart under load: {} inserts acknowledged ({before} before the restart), errors by class {errors:?}, \
         first success {recovery:?} after the server accepted connections, longest call {longest:?}, \
         at most {} pool connections in pg_stat_activity",
        acked.len(),
        max_seen.load(Ordering::Relaxed)
    );

    // Every acknowledged insert is there.
    let stored: HashSet<i64> = lifeguard::client::connect(&url)
        .unwrap()
        .query("SELECT n FROM numbers", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let missing: Vec<_> = acked.iter().filter(|n| !stored.contains(n)).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    assert!(acked.len() > before, "inserts succeeded after the restart");
    // No call hung: each ended by its deadlines (acquire 2 s, statement 5 s).
    assert!(
        longest < acquire_timeout + Duration::from_secs(5) + Duration::from_secs(5),
        "a call took {longest:?}"
    );
    let max = max_seen.load(Ordering::Relaxed);
    assert!(
        max > 0 && max <= SIZE,
        "{max} connections seen for a pool of {SIZE}"
    );
    assert!(
        pool.metrics_text()
            .lines()
            .any(|l| l.starts_with("lifeguard_reconnects_total") && !l.ends_with(" 0")),
        "reconnects are counted"
    );
}

#[test]
fn server_gone_for_good_every_call_fails_by_its_deadline() {
    let server = PgServer::start().expect("start a private server");
    let timeout = Duration::from_millis(800);
    let pool = LifeguardPool::builder(&server.url("postgres"))
        .unwrap()
        .size(4)
        .acquire_timeout(timeout)
        .connect_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    pool.query("SELECT 1", &[]).unwrap();
    server.stop().expect("stop");

    let results = common::within(Duration::from_secs(60), {
        let pool = pool.clone();
        move || {
            let hs: Vec<_> = (0..60)
                .map(|i| {
                    let pool = pool.clone();
                    may::go!(move || {
                        let mut out = Vec::new();
                        for _ in 0..3 {
                            let start = Instant::now();
                            let r: Result<(), Error> = match i % 3 {
                                0 => pool.query("SELECT 1", &[]).map(drop),
                                1 => pool.acquire().map(drop),
                                _ => pool.transaction(|tx| tx.execute("SELECT 1", &[]).map(drop)),
                            };
                            out.push((start.elapsed(), r));
                        }
                        out
                    })
                })
                .collect();
            hs.into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        }
    });
    let mut kinds = BTreeMap::<String, usize>::new();
    let mut longest = Duration::ZERO;
    for (took, r) in &results {
        let e = r.as_ref().expect_err("the server is gone");
        assert!(
            e.is_connectivity() || e.is_timeout(),
            "unexpected error: {e}"
        );
        *kinds.entry(e.class().into_owned()).or_default() += 1;
        longest = longest.max(*took);
    }
    eprintln!(
        "server gone: {} calls failed, by class {kinds:?}, longest {longest:?}",
        results.len()
    );
    assert!(
        kinds.contains_key("unavailable"),
        "calls say the database is unavailable: {kinds:?}"
    );
    // Each call ends at its acquire deadline (plus scheduling slack), never later.
    assert!(
        longest < timeout + Duration::from_secs(3),
        "a call took {longest:?}"
    );
    let e = pool.query("SELECT 1", &[]).unwrap_err();
    assert!(
        e.to_string().contains("database unavailable") && e.to_string().contains("connect"),
        "{e}"
    );
}
