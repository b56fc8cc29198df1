//! LifeguardPool against a real server: shared statements, exclusive guards, fairness,
//! timeouts, cleanup of returned connections, metrics and the testkit one-liners.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lifeguard::client::{Error, TransactionStatus};
use lifeguard::executor::LifeExecutor;
use lifeguard::pool::{LifeguardPool, ResetOnReturn};
use lifeguard::testkit::TestPool;

const HANG: Duration = Duration::from_secs(60);

fn pool_with(
    configure: impl FnOnce(lifeguard::pool::PoolBuilder) -> lifeguard::pool::PoolBuilder,
) -> TestPool {
    TestPool::with(configure).expect("test pool")
}

/// Code written once against the trait runs on the pool, a guard and a transaction.
fn add(db: &impl LifeExecutor, id: i64) -> lifeguard::client::Result<u64> {
    db.execute("INSERT INTO items (id) VALUES ($1)", &[&id])
}

fn count(db: &impl LifeExecutor) -> i64 {
    let (n,): (i64,) = db.query_one_as("SELECT count(*) FROM items", &[]).unwrap();
    n
}

#[test]
fn pool_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<LifeguardPool>();
    fn assert_send<T: Send>() {}
    assert_send::<lifeguard::pool::PoolConnection>();
    assert_send::<lifeguard::pool::PoolTransaction>();
}

#[test]
fn one_trait_over_pool_guard_and_transaction() {
    let pool = lifeguard::test_pool!();
    pool.execute_unprepared("CREATE TABLE items (id int8 PRIMARY KEY)")
        .unwrap();
    add(&*pool, 1).unwrap();
    {
        let guard = pool.acquire().unwrap();
        add(&guard, 2).unwrap();
    }
    {
        let tx = pool.begin().unwrap();
        add(&tx, 3).unwrap();
        assert_eq!(count(&tx), 3);
        tx.commit().unwrap();
    }
    {
        let tx = pool.begin().unwrap();
        add(&tx, 4).unwrap();
        tx.rollback().unwrap();
    }
    assert_eq!(count(&*pool), 3);

    // Typed mapping and the single-statement helpers.
    let ids: Vec<(i64,)> = pool
        .query_as("SELECT id FROM items ORDER BY id", &[])
        .unwrap();
    assert_eq!(ids, vec![(1,), (2,), (3,)]);
    assert!(
        pool.query_opt("SELECT id FROM items WHERE id = 99", &[])
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        pool.query_one("SELECT id FROM items", &[]),
        Err(Error::RowCount { .. })
    ));
    let sum = pool
        .query_stream("SELECT id FROM items", &[], |rows| {
            let mut s = 0;
            for r in rows {
                s += r?.try_get::<_, i64>(0)?;
            }
            Ok(s)
        })
        .unwrap();
    assert_eq!(sum, 6);
    let e = pool
        .execute("INSERT INTO items (id) VALUES (1)", &[])
        .unwrap_err();
    assert!(e.is_unique_violation(), "{e}");
}

#[test]
fn transaction_closure_commits_rolls_back_and_survives_panics() {
    let pool = pool_with(|b| b.size(1));
    pool.batch_execute("CREATE TABLE items (id int8 PRIMARY KEY)")
        .unwrap();
    pool.transaction(|tx| add(tx, 1).map(drop)).unwrap();
    let r: Result<(), Error> = pool.transaction(|tx| {
        add(tx, 2)?;
        add(tx, 1)?; // duplicate: the whole transaction goes
        Ok(())
    });
    assert!(r.unwrap_err().is_unique_violation());
    let p = pool.pool().clone();
    let panicked = std::thread::spawn(move || {
        let _: Result<(), Error> = p.transaction(|tx| {
            add(tx, 3)?;
            panic!("boom");
        });
    })
    .join();
    assert!(panicked.is_err());
    // The only connection was returned inside the panicked transaction: it is rolled back
    // before it is used again.
    assert_eq!(count(&*pool), 1);
    let g = pool.acquire().unwrap();
    assert_eq!(g.transaction_status(), TransactionStatus::Idle);
}

#[test]
fn guard_dropped_inside_a_transaction_is_rolled_back_and_reused_clean() {
    let pool = pool_with(|b| b.size(1));
    pool.batch_execute("CREATE TABLE items (id int8 PRIMARY KEY)")
        .unwrap();
    let pid = {
        let g = pool.acquire().unwrap();
        g.batch_execute("BEGIN").unwrap();
        add(&g, 1).unwrap();
        assert_eq!(g.transaction_status(), TransactionStatus::InTransaction);
        g.backend_pid()
    };
    // A failed transaction ('E') too.
    {
        let g = pool.acquire().unwrap();
        assert_eq!(g.backend_pid(), pid, "same connection, reused");
        assert_eq!(g.transaction_status(), TransactionStatus::Idle);
        g.batch_execute("BEGIN").unwrap();
        add(&g, 2).unwrap();
        assert!(g.batch_execute("SELECT 1/0").is_err());
        assert_eq!(g.transaction_status(), TransactionStatus::Failed);
    }
    let g = pool.acquire().unwrap();
    assert_eq!(
        g.backend_pid(),
        pid,
        "the connection was cleaned, not replaced"
    );
    assert_eq!(g.transaction_status(), TransactionStatus::Idle);
    assert_eq!(
        count(&g),
        0,
        "changes of both dropped transactions are gone"
    );
    drop(g);
    // A client-level transaction through the guard works too (DerefMut to Client).
    let mut g = pool.acquire().unwrap();
    let tx = g.transaction().unwrap();
    add(&tx, 5).unwrap();
    tx.commit().unwrap();
    drop(g);
    assert_eq!(count(&*pool), 1);
}

#[test]
fn session_reset_on_return_when_asked() {
    let pool = pool_with(|b| b.size(1).reset_on_return(ResetOnReturn::Session));
    {
        let g = pool.acquire().unwrap();
        g.batch_execute("SET application_name = 'changed'; CREATE TEMP TABLE t (x int)")
            .unwrap();
    }
    let row = pool
        .query_one(
            "SELECT current_setting('application_name'), \
             (SELECT count(*) FROM pg_class WHERE relname = 't' AND relpersistence = 't')",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "lifeguard-test");
    assert_eq!(row.get::<_, i64>(1), 0);

    // The default keeps session state (and says so in its docs).
    let keep = pool_with(|b| b.size(1));
    drop(
        keep.acquire()
            .unwrap()
            .batch_execute("SET application_name = 'kept'"),
    );
    let name: String = keep
        .query_one("SELECT current_setting('application_name')", &[])
        .unwrap()
        .get(0);
    assert_eq!(name, "kept");
}

#[test]
fn acquire_times_out_when_all_held_and_waiters_are_served_in_order() {
    let pool = pool_with(|b| b.size(2).acquire_timeout(Duration::from_millis(300)));
    let a = pool.acquire().unwrap();
    let b = pool.acquire().unwrap();
    let start = Instant::now();
    let e = pool.acquire().unwrap_err();
    let waited = start.elapsed();
    assert!(matches!(e, Error::PoolTimeout { size: 2, .. }), "{e}");
    assert!(e.is_timeout());
    assert!(
        waited >= Duration::from_millis(290),
        "gave up early: {waited:?}"
    );
    // Single statements also wait for a connection, and time out the same way.
    assert!(matches!(
        pool.query("SELECT 1", &[]),
        Err(Error::PoolTimeout { .. })
    ));
    assert!(
        pool.metrics_text()
            .contains("lifeguard_pool_timeouts_total{pool=\"default\"} 2")
    );
    drop(b);

    // Waiters queue one after another while `a` is held; each records when it got in.
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    let p = pool.pool().clone();
    let _other = p.acquire().unwrap(); // both connections held
    const N: usize = 8;
    for i in 0..N {
        let pc = p.clone();
        let order = order.clone();
        handles.push(may::go!(move || {
            let g = pc.acquire_within(Duration::from_secs(30)).expect("served");
            order.lock().unwrap().push(i);
            g.query("SELECT 1", &[]).unwrap();
        }));
        let deadline = Instant::now() + HANG;
        while p.status().waiting < i + 1 {
            assert!(Instant::now() < deadline, "waiter {i} never queued");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    drop(a);
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*order.lock().unwrap(), (0..N).collect::<Vec<_>>());
}

#[test]
fn ten_thousand_coroutines_over_eight_connections() {
    let pool = pool_with(|b| b.size(8).acquire_timeout(Duration::from_secs(30)));
    let p = pool.pool().clone();
    let bad = Arc::new(AtomicUsize::new(0));
    common::within(Duration::from_secs(120), {
        let bad = bad.clone();
        move || {
            let handles: Vec<_> = (0..10_000i64)
                .map(|i| {
                    let p = p.clone();
                    let bad = bad.clone();
                    may::go!(move || {
                        let row =
                            p.query_one("SELECT $1::int8 * 2, $2::text", &[&i, &format!("n{i}")]);
                        match row {
                            Ok(r)
                                if r.get::<_, i64>(0) == i * 2
                                    && r.get::<_, String>(1) == format!("n{i}") => {}
                            other => {
                                eprintln!("coroutine {i}: {other:?}");
                                bad.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
        }
    });
    assert_eq!(bad.load(Ordering::Relaxed), 0);
    let s = pool.status();
    assert_eq!((s.size, s.open), (8, 8));
    let backends: i64 = pool
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lifeguard-test' \
             AND datname = current_database()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(backends, 8, "never more connections than the pool size");
}

#[test]
fn shared_statements_and_guards_mix() {
    // Exclusive acquirers take connections out of shared use while statements pipeline on
    // them: nobody's statement may land inside somebody else's transaction.
    let pool = pool_with(|b| b.size(3).acquire_timeout(Duration::from_secs(30)));
    pool.batch_execute("CREATE TABLE items (id int8 PRIMARY KEY)")
        .unwrap();
    let p = pool.pool().clone();
    let next = Arc::new(AtomicUsize::new(0));
    common::within(Duration::from_secs(120), move || {
        let mut hs = Vec::new();
        for c in 0..40 {
            let p = p.clone();
            let next = next.clone();
            hs.push(may::go!(move || {
                for _ in 0..25 {
                    let id = next.fetch_add(1, Ordering::Relaxed) as i64;
                    if c % 4 == 0 {
                        // A transaction that is always rolled back.
                        let tx = p.begin().unwrap();
                        add(&tx, -1 - id).unwrap();
                        tx.rollback().unwrap();
                    } else {
                        add(&p, id).unwrap();
                    }
                }
            }));
        }
        for h in hs {
            h.join().unwrap();
        }
        let (neg,): (i64,) = p
            .query_one_as("SELECT count(*) FROM items WHERE id < 0", &[])
            .unwrap();
        assert_eq!(
            neg, 0,
            "a rolled-back transaction swallowed a shared statement"
        );
        let (pos,): (i64,) = p
            .query_one_as("SELECT count(*) FROM items WHERE id >= 0", &[])
            .unwrap();
        assert_eq!(pos, 30 * 25, "a shared insert was lost");
    });
}

#[test]
fn metrics_are_exposed_in_text_format() {
    let registry = prometheus_registry();
    let pool = pool_with(|b| b.size(2).name("orders").metrics_registry(&registry));
    pool.query("SELECT 1", &[]).unwrap();
    let _ = pool.query("SELECT 1/0", &[]);
    let held = pool.acquire().unwrap();
    let text = lifeguard::pool::render_metrics(&registry);
    for name in [
        "lifeguard_pool_size{pool=\"orders\"} 2",
        "lifeguard_active_connections{pool=\"orders\"} 1",
        "lifeguard_idle_connections{pool=\"orders\"} 1",
        "lifeguard_pending_acquires{pool=\"orders\"} 0",
        "lifeguard_connection_wait_time_seconds_bucket{pool=\"orders\",le=\"0.000001\"}",
        "lifeguard_query_duration_seconds_count{pool=\"orders\"} 2",
        "lifeguard_query_errors_total{class=\"db_22\",pool=\"orders\"} 1",
        "lifeguard_pool_timeouts_total{pool=\"orders\"} 0",
        "lifeguard_reconnects_total{pool=\"orders\"} 0",
    ] {
        assert!(text.contains(name), "missing `{name}` in:\n{text}");
    }
    drop(held);
    // A second pool with the same name cannot register in the same registry...
    let e = LifeguardPool::builder(pool.database().url())
        .unwrap()
        .size(1)
        .name("orders")
        .metrics_registry(&registry)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("different names"), "{e}");
    assert!(
        lifeguard::pool::render_metrics(&registry)
            .contains("lifeguard_pool_size{pool=\"orders\"} 2"),
        "the refused pool left the first pool's metrics alone"
    );
    // ...and dropping a pool removes its metrics.
    drop(pool);
    assert!(!lifeguard::pool::render_metrics(&registry).contains("orders"));
}

fn prometheus_registry() -> lifeguard::pool::Registry {
    lifeguard::pool::Registry::new()
}

#[test]
fn bad_settings_and_unreachable_database_fail_clearly() {
    let e = LifeguardPool::builder("postgres://u@127.0.0.1:1/db")
        .unwrap()
        .size(0)
        .build()
        .unwrap_err();
    assert!(
        matches!(e, Error::Config(ref m) if m.contains("at least 1")),
        "{e}"
    );
    // Nothing listens on port 1: start-up fails fast with the connect error.
    let e = LifeguardPool::builder("postgres://u@127.0.0.1:1/db")
        .unwrap()
        .size(2)
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::Connect { .. }), "{e}");
    // Lazily, start-up succeeds and calls fail at their deadline saying why.
    let pool = LifeguardPool::builder("postgres://u@127.0.0.1:1/db")
        .unwrap()
        .size(2)
        .lazy(true)
        .acquire_timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let start = Instant::now();
    let e = pool.query("SELECT 1", &[]).unwrap_err();
    assert!(start.elapsed() < HANG);
    assert!(matches!(e, Error::Unavailable { .. }), "{e}");
    assert!(e.to_string().contains("database unavailable"), "{e}");
    let e = pool.acquire().unwrap_err();
    assert!(matches!(e, Error::Unavailable { .. }), "{e}");
}

#[test]
fn dropping_the_last_handle_closes_the_connections() {
    let db = lifeguard::testkit::TestDatabase::create().unwrap();
    let pool = LifeguardPool::builder(db.url())
        .unwrap()
        .size(3)
        .application_name("lg-drop-test")
        .build()
        .unwrap();
    let admin = db.connect().unwrap();
    let count = || -> i64 {
        admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lg-drop-test'",
                &[],
            )
            .unwrap()
            .get(0)
    };
    assert_eq!(count(), 3);
    let clone = pool.clone();
    let guard = clone.acquire().unwrap();
    drop(clone);
    assert_eq!(count(), 3, "a handle remains");
    drop(pool);
    // Idle connections close now; the guard's closes when it is dropped.
    wait_until(|| count() == 1);
    assert!(
        guard.query("SELECT 1", &[]).is_ok(),
        "a held guard keeps working"
    );
    drop(guard);
    wait_until(|| count() == 0);
}

fn wait_until(mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG;
    while !f() {
        assert!(Instant::now() < deadline, "condition never became true");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn max_lifetime_rotation_never_drops_work() {
    let pool = pool_with(|b| {
        b.size(2)
            .max_lifetime(Some(Duration::from_secs(1)))
            .acquire_timeout(Duration::from_secs(30))
    });
    let first: i32 = pool
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let p = pool.pool().clone();
    let errors = Arc::new(AtomicUsize::new(0));
    let e2 = errors.clone();
    let pids = common::within(Duration::from_secs(120), move || {
        let stop = Instant::now() + Duration::from_millis(2500);
        let pids = Arc::new(Mutex::new(std::collections::HashSet::new()));
        let hs: Vec<_> = (0..20)
            .map(|i| {
                let p = p.clone();
                let e2 = e2.clone();
                let pids = pids.clone();
                may::go!(move || {
                    while Instant::now() < stop {
                        let r = if i % 5 == 0 {
                            p.transaction(|tx| {
                                tx.query_one("SELECT pg_backend_pid(), pg_sleep(0.01)", &[])
                            })
                        } else {
                            p.query_one("SELECT pg_backend_pid(), pg_sleep(0.005)", &[])
                        };
                        match r {
                            Ok(r) => {
                                pids.lock().unwrap().insert(r.get::<_, i32>(0));
                            }
                            Err(e) => {
                                eprintln!("{e}");
                                e2.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        pids.lock().unwrap().len()
    });
    assert_eq!(
        errors.load(Ordering::Relaxed),
        0,
        "rotation failed work in flight"
    );
    assert!(pids > 2, "connections were rotated ({pids} backends seen)");
    assert!(
        pool.metrics_text()
            .contains("lifeguard_reconnects_total{pool=\"default\"}")
    );
    let _ = first;
}

#[test]
fn testkit_one_liners_with_fixtures_and_rollback() {
    let pool = lifeguard::test_pool!("tests/fixtures/items.sql");
    assert_eq!(count(&*pool), 3);
    let url = pool.database().url().to_owned();
    drop(pool);
    assert!(
        lifeguard::client::connect(&url).is_err(),
        "the test database is dropped with the pool"
    );

    let tx = lifeguard::test_transaction!("tests/fixtures/items.sql");
    assert_eq!(count(&tx), 3);
    assert_eq!(tx.transaction_status(), TransactionStatus::InTransaction);
    tx.execute("DELETE FROM items", &[]).unwrap();
    assert_eq!(count(&tx), 0);
    drop(tx);

    let bad = TestPool::new().unwrap();
    let e = bad
        .load_fixtures(&["tests/fixtures/does-not-exist.sql"])
        .unwrap_err();
    assert!(e.to_string().contains("does-not-exist.sql"), "{e}");
    let dir = std::env::temp_dir().join(format!("lg-fixture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.sql");
    std::fs::write(
        &broken,
        "CREATE TABLE x (id int); INSERT INTO nope VALUES (1);",
    )
    .unwrap();
    let e = bad.load_fixtures(&[&broken]).unwrap_err();
    assert!(
        e.to_string().contains("broken.sql") && e.to_string().contains("nope"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn coalesced_reads_keep_each_callers_result_and_error() {
    // Reads from many coroutines are grouped under one Sync per connection. A failing
    // statement must fail only its own caller, and a statement with side effects must take
    // effect exactly once for every caller told it succeeded, even when its group failed.
    let pool = pool_with(|b| b.size(2).acquire_timeout(Duration::from_secs(30)));
    pool.batch_execute(
        "CREATE TABLE log (n int8 PRIMARY KEY);
         CREATE FUNCTION logged_div(n int8, d int8) RETURNS int8 LANGUAGE sql AS
           $$ INSERT INTO log VALUES (n); SELECT n / d $$;",
    )
    .unwrap();
    let p = pool.pool().clone();
    let results = common::within(Duration::from_secs(120), move || {
        let hs: Vec<_> = (0..2_000i64)
            .map(|n| {
                let p = p.clone();
                may::go!(move || {
                    let d: i64 = if n % 37 == 5 { 0 } else { 1 };
                    (n, d, p.query_one("SELECT logged_div($1, $2)", &[&n, &d]))
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    let mut ok = HashSet::new();
    for (n, d, r) in results {
        match (d, r) {
            (1, Ok(row)) => {
                assert_eq!(row.get::<_, i64>(0), n);
                ok.insert(n);
            }
            (0, Err(e)) => assert_eq!(
                e.code().map(|c| c.code().to_owned()),
                Some("22012".into()),
                "{e}"
            ),
            (d, r) => panic!("n={n} d={d}: {r:?}"),
        }
    }
    assert_eq!(ok.len(), 2_000 - (0..2_000).filter(|n| n % 37 == 5).count());
    let logged: HashSet<i64> = pool
        .query("SELECT n FROM log", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        logged, ok,
        "side effects exactly once per acknowledged call"
    );
}

#[test]
fn a_lone_read_goes_out_alone_and_a_burst_is_coalesced() {
    let pool = pool_with(|b| b.size(1).acquire_timeout(Duration::from_secs(30)));
    let sql = "SELECT $1::int4, transaction_timestamp()::text, pg_sleep($2::float8)::text";
    let grouped = || pool.acquire().unwrap().coalesced_statements();
    for i in 0..20i32 {
        let row = pool.query_one(sql, &[&i, &0.0f64]).unwrap();
        assert_eq!(row.get::<_, i32>(0), i);
    }
    assert_eq!(grouped(), 0, "reads one at a time were grouped");

    // The first reads hold the connection for a while, so the rest queue behind them.
    let p = pool.pool().clone();
    let results = common::within(Duration::from_secs(120), move || {
        let hs: Vec<_> = (0..300i32)
            .map(|i| {
                let p = p.clone();
                may::go!(move || {
                    let secs = if i < 2 { 0.05f64 } else { 0.0 };
                    let row = p.query_one(sql, &[&i, &secs]).unwrap();
                    (i, row.get::<_, i32>(0), row.get::<_, String>(1))
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    for (i, got, _) in &results {
        assert_eq!(i, got, "a caller got another caller's row");
    }
    let n = grouped();
    assert!(n > 0 && n <= 300, "{n} statements were sent in groups");
    // Members of a group share one implicit transaction, hence its start time.
    let started: HashSet<&str> = results.iter().map(|(_, _, t)| t.as_str()).collect();
    assert!(started.len() < 300, "no two reads ran in one group");
}

#[test]
fn a_statement_timeout_in_a_coalesced_group_fails_only_the_slow_statement() {
    let pool = pool_with(|b| {
        b.size(1)
            .statement_timeout(Some(Duration::from_millis(700)))
            .acquire_timeout(Duration::from_secs(30))
    });
    let sql = "SELECT $1::int4, pg_sleep($2::float8)";
    pool.query_one(sql, &[&0i32, &0.0f64]).unwrap(); // learn that it is a SELECT
    let p = pool.pool().clone();
    let results = common::within(Duration::from_secs(120), move || {
        let hs: Vec<_> = (0..40i32)
            .map(|i| {
                let p = p.clone();
                may::go!(move || {
                    let secs = if i == 7 { 5.0f64 } else { 0.0 };
                    (
                        i,
                        p.query_one(sql, &[&i, &secs]).map(|r| r.get::<_, i32>(0)),
                    )
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    let mut ok = 0;
    for (i, r) in results {
        match r {
            Ok(v) => {
                assert_ne!(i, 7, "the slow statement was not cut off");
                assert_eq!(v, i);
                ok += 1;
            }
            Err(e) => assert!(e.is_timeout(), "coroutine {i}: {e}"),
        }
    }
    assert!(ok >= 20, "only {ok} of 39 fast statements succeeded");
}

#[test]
fn a_begin_sent_as_a_single_statement_loses_no_other_write() {
    // `BEGIN` belongs in pool.begin(); sent as a single statement it would leave a shared
    // connection inside a transaction. The pool takes the connection out of shared use and
    // commits what ran in it (those callers were told their writes succeeded).
    let pool = pool_with(|b| b.size(1).coalesce_reads(false));
    pool.batch_execute("CREATE TABLE items (id int8 PRIMARY KEY)")
        .unwrap();
    pool.batch_execute("BEGIN").unwrap();
    for id in 0..20 {
        add(&*pool, id).unwrap();
    }
    let admin = pool.database().connect().unwrap();
    wait_until(|| {
        let (n,): (i64,) = admin
            .query_one_as("SELECT count(*) FROM items", &[])
            .unwrap();
        n == 20
    });
    let g = pool.acquire().unwrap();
    assert_eq!(g.transaction_status(), TransactionStatus::Idle);
}

#[test]
fn a_guards_statement_timeout_does_not_outlive_it() {
    let pool = pool_with(|b| b.size(1));
    {
        let g = pool.acquire().unwrap();
        g.set_statement_timeout(Some(Duration::from_millis(1)));
    }
    pool.query("SELECT pg_sleep(0.05)", &[])
        .expect("the guard's 1 ms deadline was reset on return");
}

#[test]
fn close_fails_waiters_and_later_calls() {
    let pool = pool_with(|b| b.size(1).acquire_timeout(Duration::from_secs(30)));
    let held = pool.acquire().unwrap();
    let p = pool.pool().clone();
    let waiter = may::go!(move || p.acquire().map(drop));
    let deadline = Instant::now() + HANG;
    while pool.status().waiting == 0 {
        assert!(Instant::now() < deadline, "the waiter never queued");
        std::thread::sleep(Duration::from_millis(2));
    }
    pool.close();
    assert!(pool.is_closed());
    assert!(matches!(waiter.join().unwrap(), Err(Error::PoolClosed)));
    assert!(matches!(
        pool.query("SELECT 1", &[]),
        Err(Error::PoolClosed)
    ));
    assert!(matches!(pool.acquire(), Err(Error::PoolClosed)));
    assert!(
        held.query("SELECT 1", &[]).is_ok(),
        "a held guard keeps working"
    );
    drop(held);
    assert_eq!(pool.status().open, 0);
}
