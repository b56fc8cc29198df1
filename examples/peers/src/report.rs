//! The concurrency runner's plan and loop (children interleaved with pgbench), the machine
//! description, and the Markdown and JSON reports with ratios and the targets.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use lifeguard::testkit::PgServer;
use serde_json::{Value, json};

use crate::concurrency::{self, CONTESTANTS, ChildResult};
use crate::contestants::LIFEGUARD;
use crate::suite::SuiteRow;
use crate::{BoxError, Options, median, pgbench};

/// The machine and server the figures come from.
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub mem_gib: f64,
    pub postgres: String,
    pub date: String,
    pub loadavg: String,
}

impl Machine {
    pub fn probe(admin: &lifeguard::Client) -> Result<Self, BoxError> {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kb: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let row = admin.query_one(
            "SELECT current_setting('server_version'),
                    to_char(now() AT TIME ZONE 'utc', 'YYYY-MM-DD HH24:MI \"UTC\"')",
            &[],
        )?;
        Ok(Machine {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu,
            mem_gib: mem_kb / 1024.0 / 1024.0,
            postgres: row.try_get(0)?,
            date: row.try_get(1)?,
            loadavg: std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
        })
    }

    pub fn line(&self) -> String {
        format!(
            "{} cores ({}), {:.0} GiB, PostgreSQL {} (loopback TCP, fsync off), {}; load average at start {}",
            self.cores, self.cpu, self.mem_gib, self.postgres, self.date, self.loadavg
        )
    }
}

/// Which configurations the concurrency part runs.
pub struct ConcPlan {
    pub conns: Vec<usize>,
    pub warmup: f64,
}

impl ConcPlan {
    pub fn new(o: &Options) -> Self {
        ConcPlan {
            conns: if o.quick { vec![16] } else { vec![4, 16] },
            warmup: if o.quick { 0.5 } else { 1.0 },
        }
    }

    /// C for N connections: 1, N (one caller per connection), 64, 1,000, 10,000.
    pub fn callers(&self, n: usize, quick: bool) -> Vec<usize> {
        let mut c = if quick {
            vec![1, n, 10_000]
        } else {
            vec![1, n, 64, 1_000, 10_000]
        };
        c.sort_unstable();
        c.dedup();
        c
    }
}

/// Medians of the concurrency part.
pub struct Concurrency {
    /// (contestant id, N, C) -> every repeat's result
    pub runs: BTreeMap<(usize, usize, usize), Vec<ChildResult>>,
    /// N -> (pgbench plain lookups/s per repeat, pipeline lookups/s per repeat)
    pub pgbench: BTreeMap<usize, (Vec<f64>, Vec<f64>)>,
    pub callers: BTreeMap<usize, Vec<usize>>,
    pub seconds: f64,
    pub warmup: f64,
}

fn med_of(v: &[ChildResult], f: impl Fn(&ChildResult) -> f64) -> f64 {
    median(v.iter().map(f).collect())
}

impl Concurrency {
    /// The median result of a configuration (each figure's own median).
    pub fn get(&self, k: usize, n: usize, c: usize) -> Option<ChildResult> {
        let v = self.runs.get(&(k, n, c))?;
        Some(ChildResult {
            ops_per_s: med_of(v, |r| r.ops_per_s),
            p50_us: med_of(v, |r| r.p50_us),
            p99_us: med_of(v, |r| r.p99_us),
            peak_rss_kb: med_of(v, |r| r.peak_rss_kb),
            cpu_us_per_op: med_of(v, |r| r.cpu_us_per_op),
            errors: v.iter().map(|r| r.errors).sum(),
        })
    }

    /// RSS growth per caller against C = 1, in bytes.
    pub fn per_caller(&self, k: usize, n: usize, c: usize) -> Option<f64> {
        if c <= 1 {
            return None;
        }
        let at = self.get(k, n, c)?.peak_rss_kb;
        let base = self.get(k, n, 1)?.peak_rss_kb;
        Some((at - base) * 1024.0 / c as f64)
    }

    fn pg(&self, n: usize) -> (f64, f64) {
        let (p, pp) = &self.pgbench[&n];
        (median(p.clone()), median(pp.clone()))
    }

    /// The best peer (highest throughput) at (N, C): (index, result).
    fn best_peer(&self, n: usize, c: usize) -> Option<(usize, ChildResult)> {
        (1..CONTESTANTS.len())
            .filter_map(|k| self.get(k, n, c).map(|r| (k, r)))
            .max_by(|a, b| a.1.ops_per_s.total_cmp(&b.1.ops_per_s))
    }

    /// The lowest p99 among peers at (N, C).
    fn best_peer_p99(&self, n: usize, c: usize) -> Option<(usize, f64)> {
        (1..CONTESTANTS.len())
            .filter_map(|k| self.get(k, n, c).map(|r| (k, r.p99_us)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// Runs every configuration `repeats` times: within a repeat, for each N and C, every
/// contestant once (order rotated per repeat), then pgbench plain and pipelined for N.
pub fn run_concurrency(
    server: &PgServer,
    plan: &ConcPlan,
    o: &Options,
) -> Result<Concurrency, BoxError> {
    let url = server.url("postgres");
    let dir = std::env::temp_dir().join(format!("lifeguard-peers-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let plain = dir.join("plain.sql");
    std::fs::write(
        &plain,
        format!(
            "\\set id random(1, {})\nSELECT id, name FROM users WHERE id = :id;\n",
            concurrency::ROWS
        ),
    )?;
    let pipeline = dir.join("pipeline.sql");
    let mut text = format!(
        "\\set id random(1, {})\n\\startpipeline\n",
        concurrency::ROWS
    );
    for _ in 0..64 {
        text.push_str("SELECT id, name FROM users WHERE id = :id;\n");
    }
    text.push_str("\\endpipeline\n");
    std::fs::write(&pipeline, text)?;
    let pgbench_bin = server.bin("pgbench");

    let mut out = Concurrency {
        runs: BTreeMap::new(),
        pgbench: BTreeMap::new(),
        callers: BTreeMap::new(),
        seconds: o.seconds,
        warmup: plan.warmup,
    };
    eprintln!(
        "concurrency: {} s measured after {} s warm-up per child, median of {}",
        o.seconds, plan.warmup, o.repeats
    );
    for r in 0..o.repeats {
        for &n in &plan.conns {
            let callers = plan.callers(n, o.quick);
            out.callers.insert(n, callers.clone());
            for &c in &callers {
                for j in 0..CONTESTANTS.len() {
                    let k = (j + r) % CONTESTANTS.len();
                    let res = concurrency::spawn_child(
                        CONTESTANTS[k].0,
                        c,
                        n,
                        plan.warmup,
                        o.seconds,
                        &url,
                    )?;
                    eprintln!(
                        "  repeat {} N={n:<2} C={c:<5} {:<34} {:>9.0}/s p50 {:>9.1} µs p99 {:>9.1} µs rss {:>7.1} MiB cpu {:.1} µs/op{}",
                        r + 1,
                        CONTESTANTS[k].1,
                        res.ops_per_s,
                        res.p50_us,
                        res.p99_us,
                        res.peak_rss_kb / 1024.0,
                        res.cpu_us_per_op,
                        if res.errors > 0.0 {
                            format!(" ERRORS {}", res.errors)
                        } else {
                            String::new()
                        }
                    );
                    out.runs.entry((k, n, c)).or_default().push(res);
                }
            }
            let p = pgbench::run_pgbench(&pgbench_bin, server.port(), n, &plain, o.seconds)?;
            let pp =
                pgbench::run_pgbench(&pgbench_bin, server.port(), n, &pipeline, o.seconds)? * 64.0;
            eprintln!(
                "  repeat {} N={n:<2} pgbench plain {p:.0}/s, pipeline {pp:.0}/s",
                r + 1
            );
            let e = out.pgbench.entry(n).or_default();
            e.0.push(p);
            e.1.push(pp);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(out)
}

fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v);
    let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}")
}

fn us(ns: f64) -> String {
    let u = ns / 1e3;
    if u >= 1000.0 {
        thousands(u)
    } else if u >= 100.0 {
        format!("{u:.0}")
    } else {
        format!("{u:.1}")
    }
}

fn lat(u: f64) -> String {
    if u >= 1000.0 {
        thousands(u)
    } else {
        format!("{u:.0}")
    }
}

/// The Markdown report and the JSON document.
pub fn render(
    o: &Options,
    m: &Machine,
    suite: &[SuiteRow],
    conc: Option<&Concurrency>,
    elapsed: Duration,
) -> (String, Value) {
    let mut md = String::new();
    let _ = writeln!(md, "# Lifeguard and its peers: results\n");
    let _ = writeln!(md, "Machine: {}.\n", m.line());
    let _ = writeln!(
        md,
        "Options: {}{} repeat(s), suite runs of {} s, concurrency runs of {} s; whole run {:.0} s.\n",
        if o.quick { "--quick, " } else { "" },
        o.repeats,
        o.suite_seconds,
        o.seconds,
        elapsed.as_secs_f64()
    );
    let mut targets: Vec<(String, String, Option<bool>)> = Vec::new();

    if !suite.is_empty() {
        let names: Vec<&str> = suite[0].times.iter().map(|t| t.0).collect();
        let _ = writeln!(md, "## Diesel's benchmark workloads\n");
        let _ = writeln!(
            md,
            "Median µs per operation (lower is better). Speed-up = best peer's time ÷ Lifeguard's time \
             (above 1: Lifeguard is faster).\n"
        );
        let _ = write!(md, "| workload | size |");
        for n in &names {
            let _ = write!(md, " {n} |");
        }
        let _ = writeln!(
            md,
            " best peer | speed-up entity | speed-up dsl | speed-up raw |"
        );
        let _ = write!(md, "|---|---:|");
        for _ in &names {
            let _ = write!(md, "---:|");
        }
        let _ = writeln!(md, "---|---:|---:|---:|");
        let (mut entity_ahead, mut dsl_ahead, mut raw_ahead, mut total) = (0, 0, 0, 0);
        for row in suite {
            let _ = write!(md, "| {} | {} |", row.workload, thousands(row.size as f64));
            for (_, t, _) in &row.times {
                let _ = write!(md, " {} |", us(*t));
            }
            let best = row
                .times
                .iter()
                .filter(|t| !LIFEGUARD.contains(&t.0))
                .min_by(|a, b| a.1.total_cmp(&b.1));
            let get = |name: &str| row.times.iter().find(|t| t.0 == name).map(|t| t.1);
            if let (Some(best), Some(entity), Some(dsl), Some(raw)) = (
                best,
                get("lifeguard entity"),
                get("lifeguard dsl"),
                get("lifeguard raw"),
            ) {
                let (se, sd, sr) = (best.1 / entity, best.1 / dsl, best.1 / raw);
                total += 1;
                entity_ahead += usize::from(se > 1.0);
                dsl_ahead += usize::from(sd > 1.0);
                raw_ahead += usize::from(sr > 1.0);
                let _ = writeln!(md, " {} | {se:.2} | {sd:.2} | {sr:.2} |", best.0);
            } else {
                let _ = writeln!(md, " | | | |");
            }
        }
        let _ = writeln!(md);
        targets.push((
            "Lifeguard ahead of every peer in every suite workload".into(),
            format!(
                "entity layer ahead in {entity_ahead} of {total} rows, query builder in {dsl_ahead}, \
                 raw pool in {raw_ahead}"
            ),
            Some(entity_ahead == total && dsl_ahead == total && raw_ahead == total),
        ));
    }

    let mut conc_json = Value::Null;
    if let Some(c) = conc {
        let _ = writeln!(md, "## Concurrent primary-key lookups\n");
        let _ = writeln!(
            md,
            "`SELECT id, name FROM users WHERE id = $1` over 10,000 rows, random ids, C callers in a closed loop \
             over N connections; {} s measured after {} s warm-up, each configuration in its own child \
             process; median of the repeats for each figure. Latency is per call, as the caller sees it. \
             Peak RSS is the child's VmHWM; per caller = (peak RSS at C − peak RSS at C = 1) ÷ C. \
             Client CPU is the child's user + system time over the measured window ÷ lookups: it includes \
             the load generator (two clock reads and a histogram increment per call) and competes with the \
             server for the same 2 cores.\n",
            c.seconds, c.warmup
        );
        let _ = writeln!(
            md,
            "| N | C | contestant | lookups/s | p50 µs | p99 µs | peak RSS MiB | RSS per caller | client CPU µs/lookup |"
        );
        let _ = writeln!(md, "|---:|---:|---|---:|---:|---:|---:|---:|---:|");
        for (&n, callers) in &c.callers {
            for &cc in callers {
                for (k, (_, name)) in CONTESTANTS.iter().enumerate() {
                    let Some(r) = c.get(k, n, cc) else { continue };
                    let per = c
                        .per_caller(k, n, cc)
                        .map_or("–".into(), |b| format!("{:.1} KiB", b / 1024.0));
                    let name = if k == 0 {
                        format!("**{name}**")
                    } else {
                        name.to_string()
                    };
                    let _ = writeln!(
                        md,
                        "| {n} | {} | {name} | {} | {} | {} | {:.1} | {per} | {:.1} |{}",
                        thousands(cc as f64),
                        thousands(r.ops_per_s),
                        lat(r.p50_us),
                        lat(r.p99_us),
                        r.peak_rss_kb / 1024.0,
                        r.cpu_us_per_op,
                        if r.errors > 0.0 {
                            format!(" {} errors", r.errors)
                        } else {
                            String::new()
                        }
                    );
                }
            }
        }
        let _ = writeln!(md);
        let _ = writeln!(
            md,
            "Ratios (above 1: Lifeguard is better): throughput = Lifeguard ÷ best peer; p99 = lowest peer p99 ÷ Lifeguard p99; against pgbench = Lifeguard lookups/s ÷ pgbench's with N clients.\n"
        );
        let _ = writeln!(
            md,
            "| N | C | best peer | Lifeguard ÷ best peer | lowest-p99 peer | p99 ratio | ÷ pgbench plain | ÷ pgbench pipeline |"
        );
        let _ = writeln!(md, "|---:|---:|---|---:|---|---:|---:|---:|");
        let mut ahead = (0, 0);
        let mut json_rows = Vec::new();
        for (&n, callers) in &c.callers {
            let (pg, pp) = c.pg(n);
            for &cc in callers {
                let (Some(lg), Some((bk, best)), Some((pk, p99))) =
                    (c.get(0, n, cc), c.best_peer(n, cc), c.best_peer_p99(n, cc))
                else {
                    continue;
                };
                ahead.1 += 1;
                ahead.0 += usize::from(lg.ops_per_s > best.ops_per_s);
                let _ = writeln!(
                    md,
                    "| {n} | {} | {} | {:.2} | {} | {:.2} | {:.2} | {:.2} |",
                    thousands(cc as f64),
                    CONTESTANTS[bk].1,
                    lg.ops_per_s / best.ops_per_s,
                    CONTESTANTS[pk].1,
                    p99 / lg.p99_us,
                    lg.ops_per_s / pg,
                    lg.ops_per_s / pp
                );
                if cc == n {
                    targets.push((
                        format!("one caller per connection (C = N = {n}) ≥ 0.9× pgbench plain"),
                        format!(
                            "{:.2}× ({} vs {} lookups/s)",
                            lg.ops_per_s / pg,
                            thousands(lg.ops_per_s),
                            thousands(pg)
                        ),
                        Some(lg.ops_per_s / pg >= 0.9),
                    ));
                }
                if cc >= 1_000 {
                    targets.push((
                        format!(
                            "C = {} over N = {n} ≥ 0.6× pgbench pipeline mode",
                            thousands(cc as f64)
                        ),
                        format!(
                            "{:.2}× ({} vs {} lookups/s)",
                            lg.ops_per_s / pp,
                            thousands(lg.ops_per_s),
                            thousands(pp)
                        ),
                        Some(lg.ops_per_s / pp >= 0.6),
                    ));
                }
                if cc == 10_000 && n == 16 {
                    targets.push((
                        "C = 10,000 over N = 16: p99 no worse than the best peer".into(),
                        format!(
                            "Lifeguard {} µs, best peer ({}) {} µs",
                            lat(lg.p99_us),
                            CONTESTANTS[pk].1,
                            lat(p99)
                        ),
                        Some(lg.p99_us <= p99),
                    ));
                    let per = c.per_caller(0, n, cc).unwrap_or(f64::NAN);
                    let peers: Vec<String> = (1..CONTESTANTS.len())
                        .filter_map(|k| {
                            c.per_caller(k, n, cc)
                                .map(|b| format!("{} {:.1} KiB", CONTESTANTS[k].1, b / 1024.0))
                        })
                        .collect();
                    targets.push((
                        "memory per caller at C = 10,000, N = 16 (stated)".into(),
                        format!("Lifeguard {:.1} KiB; {}", per / 1024.0, peers.join(", ")),
                        None,
                    ));
                }
                json_rows.push(json!({"conns": n, "callers": cc}));
            }
        }
        targets.push((
            "Lifeguard ahead of every peer in every concurrency configuration".into(),
            format!("ahead in {} of {} configurations", ahead.0, ahead.1),
            Some(ahead.0 == ahead.1),
        ));
        let _ = writeln!(md);
        let _ = writeln!(
            md,
            "| N | pgbench -M prepared, N clients (lookups/s) | pgbench pipeline mode, 64 per flight (lookups/s) |"
        );
        let _ = writeln!(md, "|---:|---:|---:|");
        for &n in c.callers.keys() {
            let (pg, pp) = c.pg(n);
            let _ = writeln!(md, "| {n} | {} | {} |", thousands(pg), thousands(pp));
        }
        let _ = writeln!(md);

        let mut runs = Vec::new();
        for (&(k, n, cc), v) in &c.runs {
            runs.push(json!({
                "contestant": CONTESTANTS[k].0,
                "conns": n,
                "callers": cc,
                "median": c.get(k, n, cc).map(ChildResult::to_json),
                "rss_per_caller_bytes": c.per_caller(k, n, cc),
                "repeats": v.iter().map(|r| r.to_json()).collect::<Vec<_>>(),
            }));
        }
        conc_json = json!({
            "seconds": c.seconds,
            "warmup_seconds": c.warmup,
            "runs": runs,
            "pgbench": c.pgbench.iter().map(|(n, (p, pp))| json!({"conns": n, "plain_lookups_per_s": p, "pipeline_lookups_per_s": pp})).collect::<Vec<_>>(),
        });
    }

    let _ = writeln!(md, "## Targets (measured, not asserted)\n");
    let _ = writeln!(md, "| target | measured | met |");
    let _ = writeln!(md, "|---|---|---|");
    for (t, v, ok) in &targets {
        let ok = match ok {
            Some(true) => "yes",
            Some(false) => "no",
            None => "–",
        };
        let _ = writeln!(md, "| {t} | {v} | {ok} |");
    }

    let json = json!({
        "machine": {
            "cores": m.cores,
            "cpu": m.cpu,
            "mem_gib": m.mem_gib,
            "postgres": m.postgres,
            "date": m.date,
            "loadavg_at_start": m.loadavg,
        },
        "options": {
            "quick": o.quick,
            "repeats": o.repeats,
            "suite_seconds": o.suite_seconds,
            "seconds": o.seconds,
            "only": o.only,
        },
        "elapsed_seconds": elapsed.as_secs_f64(),
        "suite": suite.iter().map(SuiteRow::to_json).collect::<Vec<_>>(),
        "concurrency": conc_json,
        "targets": targets.iter().map(|(t, v, ok)| json!({"target": t, "measured": v, "met": ok})).collect::<Vec<_>>(),
    });
    (md, json)
}
