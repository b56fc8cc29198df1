//! Migration benchmark: `lifeguard diff` and `lifeguard migrate run` on a schema of 200 tables
//! × 15 columns, each table with two indexes and a foreign key to the one before it.
//!
//! 1. the first `diff` (nothing applied yet: scratch server, declarations applied and read
//!    back, the plan written as migrations);
//! 2. `migrate run` of that migration into a fresh database;
//! 3. `diff` again with the migrations replayed (the usual case: nothing to write);
//! 4. `diff` against the live database (drift check).
//!
//! ```text
//! cargo run --release --example bench_migrate -- [tables] [repeats]
//! ```

use std::fmt::Write as _;
use std::time::{Instant, SystemTime};

use lifeguard::migrate::{Migrations, Migrator};
use lifeguard::schema_diff::{DiffRequest, plan, write_migrations};
use lifeguard::testkit::PgServer;

#[path = "support/pgbench.rs"]
#[allow(dead_code)]
mod pgbench;
use pgbench::median;

fn schema(tables: usize) -> String {
    let mut s = String::from("lifeguard::table! {\n    use lifeguard::sql_types::*;\n\n");
    for t in 0..tables {
        let _ = writeln!(s, "    #[index(on(c_int, c_time))]");
        let _ = writeln!(s, "    #[index(on(c_text), where = \"c_flag\")]");
        if t > 0 {
            let _ = writeln!(
                s,
                "    #[foreign_key((parent_id) references t{}(id), on_delete = cascade)]",
                t - 1
            );
        }
        let _ = writeln!(s, "    t{t} (id) {{");
        let _ = writeln!(s, "        #[identity]\n        id -> Int8,");
        let _ = writeln!(s, "        parent_id -> Nullable<Int8>,");
        let _ = writeln!(s, "        #[max_length = 80]\n        c_name -> Varchar,");
        let _ = writeln!(s, "        c_text -> Text,");
        let _ = writeln!(s, "        #[default = \"0\"]\n        c_int -> Int4,");
        let _ = writeln!(s, "        c_big -> Nullable<Int8>,");
        let _ = writeln!(s, "        c_num -> Numeric,");
        let _ = writeln!(s, "        #[default = \"false\"]\n        c_flag -> Bool,");
        let _ = writeln!(
            s,
            "        #[default = \"now()\"]\n        c_time -> Timestamptz,"
        );
        let _ = writeln!(s, "        c_date -> Nullable<Date>,");
        let _ = writeln!(s, "        c_uuid -> Nullable<Uuid>,");
        let _ = writeln!(s, "        c_json -> Nullable<Jsonb>,");
        let _ = writeln!(s, "        c_tags -> Array<Text>,");
        let _ = writeln!(
            s,
            "        #[check = \"c_float >= 0\"]\n        c_float -> Float8,"
        );
        let _ = writeln!(s, "        c_bytes -> Nullable<Bytea>,");
        let _ = writeln!(s, "    }}\n");
    }
    s.push_str("}\n");
    s
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let tables: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    let repeats: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3);
    let dir = std::env::temp_dir().join(format!("lifeguard-bench-migrate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let schema_file = dir.join("schema.rs");
    std::fs::write(&schema_file, schema(tables))?;
    let server = PgServer::start()?;

    let (mut first, mut run, mut again, mut drift) = (vec![], vec![], vec![], vec![]);
    for r in 0..repeats {
        let migrations = dir.join(format!("migrations-{r}"));
        let request = DiffRequest {
            schema_file: schema_file.clone(),
            migrations_dir: migrations.clone(),
            database_url: None,
            allow_destructive: false,
        };
        let t = Instant::now();
        let d = plan(&request)?;
        write_migrations(&d.plan, &migrations, "init", SystemTime::now())?;
        first.push(t.elapsed().as_secs_f64());
        let steps = d.plan.steps.len();

        let db = format!("bench_{r}");
        lifeguard::client::connect(&server.url("postgres"))?
            .batch_execute(&format!("CREATE DATABASE {db}"))?;
        let url = server.url(&db);
        let mut client = lifeguard::client::connect(&url)?;
        let t = Instant::now();
        Migrator::new(Migrations::from_dir(&migrations)?).run(&mut client)?;
        run.push(t.elapsed().as_secs_f64());

        let t = Instant::now();
        let d2 = plan(&request)?;
        again.push(t.elapsed().as_secs_f64());
        assert!(d2.plan.is_empty(), "the replayed migrations converge");

        let t = Instant::now();
        let d3 = plan(&DiffRequest {
            database_url: Some(url),
            ..request
        })?;
        drift.push(t.elapsed().as_secs_f64());
        assert!(d3.plan.is_empty(), "the live database converges");
        if r == 0 {
            println!(
                "schema: {tables} tables × 15 columns, 2 indexes, 1 check and 1 foreign key each; first plan: {steps} steps"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("| step (median of {repeats}) | seconds |");
    println!("|---|---:|");
    println!(
        "| first `diff`: scratch server, declarations applied and read back, plan written | {:.2} |",
        median(first)
    );
    println!("| `migrate run` of that migration | {:.2} |", median(run));
    println!(
        "| `diff` again, migrations replayed into a scratch server (nothing to write) | {:.2} |",
        median(again)
    );
    println!(
        "| `diff --database-url` against the migrated database (nothing to write) | {:.2} |",
        median(drift)
    );
    Ok(())
}
