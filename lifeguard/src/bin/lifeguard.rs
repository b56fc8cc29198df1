//! The `lifeguard` command: `diff`, `migrate` and `print-schema`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use clap::{Parser, Subcommand};
use lifeguard::migrate::{Migrations, Migrator};
use lifeguard::schema_diff::{DiffRequest, SchemaDiffError, plan, write_migrations};
use lifeguard_schema::diff::Phase;

/// Lifeguard: schema diffs, migrations and schema printing for PostgreSQL.
#[derive(Parser)]
#[command(name = "lifeguard", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Turn a change of schema.rs into a reviewed migration (up.sql and down.sql).
    ///
    /// Without a database URL, migrations/ is replayed into a throwaway server and schema.rs
    /// is compared with the result; with one, with that database (drift).
    Diff {
        /// The schema file.
        #[arg(long, default_value = "src/schema.rs")]
        schema: PathBuf,
        /// The migrations folder.
        #[arg(long, default_value = "migrations")]
        migrations: PathBuf,
        /// The migration's name.
        #[arg(long, default_value = "schema_change")]
        name: String,
        /// Compare with this database instead of the replayed migrations.
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
        /// Print the SQL, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write nothing; exit 2 when schema.rs and the migrations differ (for CI).
        #[arg(long)]
        check: bool,
        /// Allow steps that delete data (drop table or column, narrowing type changes).
        #[arg(long)]
        allow_destructive: bool,
    },
    /// Write a schema.rs in Lifeguard's DSL from an existing database.
    PrintSchema {
        /// The database.
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
        /// The schema to print; its tables are written without a schema prefix.
        #[arg(long, default_value = "public")]
        schema_name: String,
        /// Write to this file instead of standard output.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Apply, revert or inspect migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
        /// The migrations folder.
        #[arg(long, global = true, default_value = "migrations")]
        migrations: PathBuf,
        /// The database.
        #[arg(long, global = true, env = "DATABASE_URL")]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum MigrateAction {
    /// Apply pending migrations.
    Run,
    /// Revert the last applied migrations.
    Revert {
        /// How many.
        #[arg(long, default_value_t = 1)]
        steps: usize,
    },
    /// Revert the last migration and apply it again.
    Redo,
    /// List applied, pending, changed and missing migrations.
    Status,
    /// Re-stamp checksums from the files on disk and forget migrations missing on disk
    /// (after review).
    Repair,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

type BoxError = Box<dyn std::error::Error>;

fn run(cli: Cli) -> Result<ExitCode, BoxError> {
    match cli.command {
        Command::Diff {
            schema,
            migrations,
            name,
            database_url,
            dry_run,
            check,
            allow_destructive,
        } => {
            let request = DiffRequest {
                schema_file: schema,
                migrations_dir: migrations.clone(),
                database_url,
                allow_destructive: allow_destructive || check,
            };
            let result = match plan(&request) {
                Ok(r) => r,
                Err(SchemaDiffError::Destructive(d)) => {
                    eprintln!("nothing written: {d}");
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(e.into()),
            };
            let plan = result.plan;
            if plan.is_empty() {
                println!("schema.rs and the database agree: nothing to write");
                return Ok(ExitCode::SUCCESS);
            }
            println!("{} change(s):", plan.steps.len());
            for s in &plan.steps {
                let hazards: Vec<String> = s.hazards.iter().map(|h| h.to_string()).collect();
                println!(
                    "  {}{}{}",
                    s.summary,
                    if s.phase == Phase::Online {
                        " [online]"
                    } else {
                        ""
                    },
                    if hazards.is_empty() {
                        String::new()
                    } else {
                        format!("  (hazards: {})", hazards.join(", "))
                    }
                );
            }
            if check {
                return Ok(ExitCode::from(2));
            }
            if dry_run {
                for (phase, label) in [
                    (Phase::Transactional, "transactional"),
                    (Phase::Online, "online (no transaction)"),
                ] {
                    if let Some(s) = plan.scripts(phase) {
                        println!("\n-- ==== up.sql, {label}\n{}", s.up);
                        println!("-- ==== down.sql, {label}\n{}", s.down);
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            for folder in write_migrations(&plan, &migrations, &name, SystemTime::now())? {
                println!("wrote {}", folder.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::PrintSchema {
            database_url,
            schema_name,
            output,
        } => {
            let url = database_url.ok_or("no database: pass --database-url or set DATABASE_URL")?;
            let client = lifeguard::client::connect(&url)?;
            let catalog = lifeguard::introspect::introspect(&client, &[schema_name.as_str()])?;
            let text = lifeguard_schema::print::print_schema(
                &catalog,
                &lifeguard_schema::print::PrintOptions {
                    default_schema: schema_name,
                },
            );
            match output {
                Some(path) => {
                    std::fs::write(&path, text)
                        .map_err(|e| format!("could not write {}: {e}", path.display()))?;
                    println!("wrote {}", path.display());
                }
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate {
            action,
            migrations,
            database_url,
        } => {
            let url = database_url.ok_or("no database: pass --database-url or set DATABASE_URL")?;
            let migrator = Migrator::new(Migrations::from_dir(&migrations)?);
            let mut client = lifeguard::client::connect(&url)?;
            match action {
                MigrateAction::Run => {
                    let applied = migrator.run(&mut client)?;
                    if applied.is_empty() {
                        println!("up to date");
                    }
                    for m in applied {
                        println!("applied {}_{} in {:?}", m.version, m.name, m.elapsed);
                    }
                }
                MigrateAction::Revert { steps } => {
                    for m in migrator.revert(&mut client, steps)? {
                        println!("reverted {}_{}", m.version, m.name);
                    }
                }
                MigrateAction::Redo => match migrator.redo(&mut client)? {
                    Some(r) => println!("redone: {r:?}"),
                    None => println!("nothing applied: nothing to redo"),
                },
                MigrateAction::Status => {
                    let s = migrator.status(&client)?;
                    for m in &s.applied {
                        println!("applied  {}", m.label());
                    }
                    for m in &s.pending {
                        println!("pending  {}", m.label());
                    }
                    for m in &s.changed {
                        println!(
                            "CHANGED  {} (its up.sql changed since it was applied)",
                            m.label()
                        );
                    }
                    for m in &s.missing {
                        println!("MISSING  {} (applied, not on disk)", m.label());
                    }
                    for m in &s.failed {
                        println!("FAILED   {}", m.label());
                    }
                    if !s.is_consistent() {
                        return Ok(ExitCode::from(1));
                    }
                }
                MigrateAction::Repair => {
                    println!("{:?}", migrator.repair(&mut client)?);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
