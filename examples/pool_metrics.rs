//! A pool under load, with its Prometheus metrics served over HTTP at `/metrics`.
//!
//! 200 coroutines run lookups, inserts and transactions (some failing on purpose) through a
//! `LifeguardPool` of 8 connections, while a small HTTP server on the same `may` runtime
//! answers `GET /metrics` with the pool's registry in the text exposition format.
//!
//! ```text
//! cargo run --example pool_metrics -- [seconds] [port]      # port 0: any free port
//! curl -s localhost:9187/metrics | grep ^lifeguard_     # while it runs
//! ```
//! With `DATABASE_URL` set it uses that database (it creates and drops a table
//! `lifeguard_metrics_demo`); otherwise it starts a throwaway server. At the end it fetches
//! `/metrics` itself and prints the pool's lines.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lifeguard::LifeExecutor;
use lifeguard::pool::LifeguardPool;
use lifeguard::testkit::PgServer;
use may::net::{TcpListener, TcpStream};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10);
    let port: u16 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(9187);
    may::config().set_stack_size(0x4000);

    let _server;
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            let server = PgServer::start()?;
            let url = server.url("postgres");
            _server = server;
            url
        }
    };
    let pool = LifeguardPool::builder(&url)?
        .size(8)
        .name("demo")
        .application_name("lifeguard-metrics-demo")
        .build()?;
    pool.batch_execute(
        "DROP TABLE IF EXISTS lifeguard_metrics_demo;
         CREATE TABLE lifeguard_metrics_demo (id bigserial PRIMARY KEY, v int4 NOT NULL UNIQUE)",
    )?;

    // The HTTP endpoint.
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let port = listener.local_addr()?.port(); // port 0 picks a free one
    let registry = pool.registry().clone();
    may::go!(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let registry = registry.clone();
            may::go!(move || {
                let _ = serve(stream, &registry);
            });
        }
    });
    println!(
        "serving http://127.0.0.1:{port}/metrics for {secs} s while 200 coroutines load the pool"
    );

    // The load.
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..200i32)
        .map(|w| {
            let (pool, stop) = (pool.clone(), stop.clone());
            may::go!(move || {
                let mut i = 0i32;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let v = w * 1_000_000 + i;
                    let _ = match i % 10 {
                        // A unique violation now and then: counted as class db_23.
                        0 => pool
                            .execute(
                                "INSERT INTO lifeguard_metrics_demo (v) VALUES ($1)",
                                &[&(w * 1_000_000 + 1)],
                            )
                            .map(drop),
                        1 => pool.transaction(|tx| {
                            tx.execute(
                                "INSERT INTO lifeguard_metrics_demo (v) VALUES ($1)",
                                &[&v],
                            )?;
                            tx.query_one("SELECT count(*) FROM lifeguard_metrics_demo", &[])
                                .map(drop)
                        }),
                        _ => pool
                            .query_opt("SELECT id FROM lifeguard_metrics_demo WHERE v = $1", &[&v])
                            .map(drop),
                    };
                }
            })
        })
        .collect();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(200));
    }

    // Scrape ourselves once, while the load still runs.
    let body = fetch(port)?;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    println!("GET /metrics (lifeguard lines, buckets omitted):");
    for line in body
        .lines()
        .filter(|l| l.starts_with("lifeguard_") && !l.contains("_bucket"))
    {
        println!("  {line}");
    }
    pool.execute_unprepared("DROP TABLE lifeguard_metrics_demo")?;
    Ok(())
}

/// Answers one HTTP/1.1 request: `/metrics` gets the registry, anything else 404.
fn serve(mut stream: TcpStream, registry: &lifeguard::pool::Registry) -> std::io::Result<()> {
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 || req.len() > 16 * 1024 {
            return Ok(());
        }
        req.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&req);
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = if path == "/metrics" {
        ("200 OK", lifeguard::pool::render_metrics(registry))
    } else {
        ("404 Not Found", "try /metrics\n".to_owned())
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// A minimal HTTP GET of `/metrics` on our own port.
fn fetch(port: u16) -> Result<String, BoxError> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let (head, body) = out
        .split_once("\r\n\r\n")
        .ok_or("malformed HTTP response")?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("unexpected response: {head}").into());
    }
    Ok(body.to_owned())
}
