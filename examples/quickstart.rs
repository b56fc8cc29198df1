//! Lifeguard's quick start: connect, create a table, insert, query, run a transaction,
//! share one pipelined connection between many coroutines, send an explicit batch,
//! round-trip a LISTEN/NOTIFY, serve 1,000 coroutines from a `LifeguardPool` of 4
//! connections and print its metrics, then run typed queries declared with `table!`, and
//! the same table through the entity layer (models, records, pagination).
//!
//! With `DATABASE_URL` set it uses that database; otherwise it starts a throwaway
//! PostgreSQL server of its own (removed when the program ends).
//!
//! ```text
//! cargo run --release --example quickstart
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use lifeguard::LifeExecutor;
use lifeguard::client::{self, Client};
use lifeguard::entity::prelude::*;
use lifeguard::pool::LifeguardPool;
use lifeguard::query::dsl::*;
use lifeguard::testkit::PgServer;

lifeguard::table! {
    /// The people of the quick start.
    quickstart_people (id) {
        id -> Int8,
        name -> Text,
        score -> Int4,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    may::config().set_workers(2);
    // Keep the throwaway server (if any) alive until the end of main.
    let (_server, url) = match std::env::var("DATABASE_URL") {
        Ok(url) => {
            println!("using DATABASE_URL");
            (None, url)
        }
        Err(_) => {
            println!("no DATABASE_URL: starting a throwaway PostgreSQL server ...");
            let server = PgServer::start()?;
            println!(
                "  server listening on 127.0.0.1:{} (data in {})",
                server.port(),
                server.data_dir().display()
            );
            let url = server.url("postgres");
            (Some(server), url)
        }
    };

    let mut client = client::connect(&url)?;
    println!(
        "connected: PostgreSQL {}, backend pid {}",
        client.parameter("server_version").unwrap_or_default(),
        client.backend_pid()
    );

    client.batch_execute(
        "DROP TABLE IF EXISTS quickstart_people;
         CREATE TABLE quickstart_people (
             id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             name  text NOT NULL UNIQUE,
             score int  NOT NULL DEFAULT 0
         )",
    )?;
    println!("created table quickstart_people");

    for (name, score) in [("ada", 36), ("grace", 85), ("linus", 54)] {
        let id: i64 = client
            .query_one(
                "INSERT INTO quickstart_people (name, score) VALUES ($1, $2) RETURNING id",
                &[&name, &score],
            )?
            .get("id");
        println!("inserted {name} with id {id}");
    }

    for row in client.query(
        "SELECT name, score FROM quickstart_people WHERE score > $1 ORDER BY score DESC",
        &[&40i32],
    )? {
        println!(
            "  {:<6} {:>3}",
            row.get::<_, &str>("name"),
            row.get::<_, i32>("score")
        );
    }

    let e = client
        .execute("INSERT INTO quickstart_people (name) VALUES ('ada')", &[])
        .unwrap_err();
    println!(
        "a duplicate name fails with SQLSTATE {} (unique violation: {})",
        e.code().map(|c| c.to_string()).unwrap_or_default(),
        e.is_unique_violation()
    );

    transfer(&mut client)?;
    pipelined(client)?;
    listen_notify(&url)?;
    let pool = pooled(&url)?;
    typed(&pool)?;
    entities(&pool)?;
    println!("done");
    Ok(())
}

/// A transaction: both updates or neither.
fn transfer(client: &mut Client) -> Result<(), client::Error> {
    let tx = client.transaction()?;
    tx.execute(
        "UPDATE quickstart_people SET score = score - 10 WHERE name = $1",
        &[&"grace"],
    )?;
    tx.execute(
        "UPDATE quickstart_people SET score = score + 10 WHERE name = $1",
        &[&"ada"],
    )?;
    tx.commit()?;
    let ada: i32 = client
        .query_one(
            "SELECT score FROM quickstart_people WHERE name = 'ada'",
            &[],
        )?
        .get(0);
    println!("transaction committed: ada now has {ada}");

    let tx = client.transaction()?;
    tx.execute("DELETE FROM quickstart_people", &[])?;
    drop(tx); // dropped without commit: rolled back
    let n: i64 = client
        .query_one("SELECT count(*) FROM quickstart_people", &[])?
        .get(0);
    println!("a dropped transaction rolled back: still {n} people");
    Ok(())
}

/// Many coroutines share one connection; their statements are pipelined.
fn pipelined(client: Client) -> Result<(), client::Error> {
    let client = Arc::new(client);
    let coroutines = 64;
    let per = 500;
    let start = Instant::now();
    let handles: Vec<_> = (0..coroutines)
        .map(|i: i32| {
            let c = client.clone();
            may::go!(move || -> Result<(), client::Error> {
                for j in 0..per {
                    let v: i32 = c
                        .query_one("SELECT $1::int4 + 1", &[&(i * per + j)])?
                        .get(0);
                    assert_eq!(v, i * per + j + 1, "every caller gets its own answer");
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().expect("coroutine panicked")?;
    }
    let total = coroutines * per;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{coroutines} coroutines ran {total} queries over one shared connection in {:.0} ms ({:.0} queries/s)",
        secs * 1000.0,
        total as f64 / secs
    );

    let mut batch = client.batch();
    batch
        .add("SELECT count(*) FROM quickstart_people", &[])
        .add("SELECT max(score) FROM quickstart_people", &[])
        .add(
            "SELECT name FROM quickstart_people ORDER BY id LIMIT 1",
            &[],
        );
    let results = batch.run()?;
    let count: i64 = results[0].as_ref().map_err(Clone::clone)?.rows[0].get(0);
    let max: i32 = results[1].as_ref().map_err(Clone::clone)?.rows[0].get(0);
    let first: String = results[2].as_ref().map_err(Clone::clone)?.rows[0].get(0);
    println!("a batch of 3 statements in one flight: count={count}, max={max}, first={first}");
    Ok(())
}

/// LISTEN on one connection, NOTIFY from another.
fn listen_notify(url: &str) -> Result<(), client::Error> {
    let listener = client::connect(url)?;
    let sender = client::connect(url)?;
    listener.listen("quickstart")?;
    sender.notify("quickstart", "hello from the other connection")?;
    match listener
        .notifications()
        .recv_timeout(Duration::from_secs(5))?
    {
        Some(n) => println!(
            "received NOTIFY on '{}' from pid {}: {}",
            n.channel, n.process_id, n.payload
        ),
        None => println!("no notification arrived within 5 s"),
    }
    Ok(())
}

/// A pool: 1,000 coroutines share 4 connections (single statements pipeline on them; no
/// checkout), a transaction takes one alone, and the metrics say what happened.
fn pooled(url: &str) -> Result<LifeguardPool, client::Error> {
    let pool = LifeguardPool::builder(url)?.size(4).build()?;
    let (grace,): (i32,) = pool.query_one_as(
        "SELECT score FROM quickstart_people WHERE name = 'grace'",
        &[],
    )?;
    let start = Instant::now();
    let handles: Vec<_> = (0..1_000i32)
        .map(|i| {
            let pool = pool.clone();
            may::go!(move || -> Result<i32, client::Error> {
                let (score,): (i32,) = pool.query_one_as(
                    "SELECT score + $1 FROM quickstart_people WHERE name = 'grace'",
                    &[&i],
                )?;
                Ok(score - i)
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("coroutine panicked")?, grace);
    }
    println!(
        "pool: 1,000 coroutines over {} connections answered in {:?}",
        pool.status().size,
        start.elapsed()
    );
    let renamed = pool.transaction(|tx| {
        tx.execute(
            "UPDATE quickstart_people SET name = 'linus t.' WHERE name = 'linus'",
            &[],
        )
    })?;
    println!("pool transaction committed ({renamed} row renamed)");
    for line in pool
        .metrics_text()
        .lines()
        .filter(|l| l.starts_with("lifeguard_") && !l.contains("_bucket") && !l.contains("_sum{"))
    {
        println!("  {line}");
    }
    Ok(pool)
}

/// Typed queries over the `table!` declaration: checked at compile time, values bound.
fn typed(pool: &LifeguardPool) -> Result<(), client::Error> {
    use quickstart_people as people;
    let id: i64 = insert_into(people::table)
        .values((people::name.eq("barbara"), people::score.eq(71)))
        .returning(people::id)
        .get_result(pool)?;
    println!("typed insert: barbara has id {id}");
    let top = people::table
        .select((people::name, people::score))
        .filter(people::score.gt(50))
        .order_by(people::score.desc());
    println!("typed select, as SQL: {}", top.clone().to_sql().sql);
    let rows: Vec<(String, i32)> = top.load(pool)?;
    println!("  scores over 50: {rows:?}");
    let bumped = update(people::table.filter(people::name.eq("barbara")))
        .set(people::score.eq(people::score + 10))
        .execute(pool)?;
    let total: Option<i64> = people::table.select(sum(people::score)).get_result(pool)?;
    println!(
        "typed update: {bumped} row; {} people, scores summing to {}",
        people::table.count(pool)?,
        total.unwrap_or(0)
    );
    Ok(())
}

/// The same table through the entity layer: `table!` generated `Model` (a row) and `Record`
/// (a change set) for it.
fn entities(pool: &LifeguardPool) -> Result<(), client::Error> {
    use quickstart_people as people;
    let mut rec = people::Record::new();
    rec.name.set("carmen");
    rec.score.set(64);
    let carmen: people::Model = rec.insert(pool)?;
    println!("entity insert: {carmen:?}");
    let mut edit = carmen.into_record();
    edit.score.set(99);
    let updated = edit.update(pool)?.expect("one field changed");
    println!("entity update (only `score` sent): {updated:?}");
    let best = people::Entity::find()
        .filter(people::score.ge(70))
        .order_by(people::score.desc())
        .one(pool)?;
    println!("entity find, best score: {best:?}");
    let pages = people::Entity::find().paginate(pool, 2);
    println!(
        "entity pages of 2: {} pages; page 0: {:?}",
        pages.num_pages()?,
        pages
            .fetch_page(0)?
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
    );
    Ok(())
}
