//! `lifeguard diff` as a library: read `schema.rs`, bring both sides into the catalog model,
//! plan the change, and write it as migrations.
//!
//! The desired side is the declarations applied to a scratch database and read back from
//! `pg_catalog`, so PostgreSQL normalizes it the same way as the live side. The current side
//! is a given database (drift), or, without one, `migrations/` replayed into another scratch
//! database. Scratch databases live on a throwaway server that stops when the plan is made.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lifeguard_schema::catalog::Catalog;
use lifeguard_schema::diff::{
    ColumnRename, DestructiveChange, DiffOptions, Phase, Plan, TableRename, diff,
};
use lifeguard_schema::model::TableDef;
use lifeguard_schema::parser::{ParseError, parse_schema_file};

use crate::client::{self, Client};
use crate::introspect::introspect;
use crate::migrate::{MigrateError, Migrations, Migrator};
use crate::testkit::{PgServer, TestkitError};

/// Why a diff could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SchemaDiffError {
    /// `schema.rs` could not be read (the message is `file:line:column: …`).
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// The change deletes data and was not allowed.
    #[error("{0}")]
    Destructive(#[from] DestructiveChange),
    /// The migrations could not be read or replayed.
    #[error("{0}")]
    Migrations(#[from] MigrateError),
    /// A database refused something (the declarations' DDL on the scratch database, or the
    /// introspection).
    #[error("{context}: {source}")]
    Database {
        /// What was being done.
        context: String,
        /// The error.
        source: client::Error,
    },
    /// The scratch server could not be started.
    #[error(
        "could not start a scratch PostgreSQL server (needs the server binaries, see .ci/setup): {0}"
    )]
    Scratch(#[from] TestkitError),
    /// Writing the migration files failed.
    #[error("could not write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn db_err(context: impl Into<String>) -> impl FnOnce(client::Error) -> SchemaDiffError {
    let context = context.into();
    move |source| SchemaDiffError::Database { context, source }
}

/// What to diff.
#[derive(Debug, Clone)]
pub struct DiffRequest {
    /// The `schema.rs` file.
    pub schema_file: PathBuf,
    /// The migrations folder (replayed when there is no database URL).
    pub migrations_dir: PathBuf,
    /// A database to diff against (drift) instead of the replayed migrations.
    pub database_url: Option<String>,
    /// Allow steps that delete data.
    pub allow_destructive: bool,
}

/// The plan, and the declarations it came from.
#[derive(Debug)]
pub struct SchemaDiff {
    /// The steps.
    pub plan: Plan,
    /// The declared tables.
    pub tables: Vec<TableDef>,
}

/// The schemas the declarations live in (`public` when none is named).
fn schemas_of(tables: &[TableDef]) -> Vec<String> {
    let mut v: Vec<String> = tables
        .iter()
        .map(|t| t.schema.clone().unwrap_or_else(|| "public".to_owned()))
        .collect();
    v.push("public".to_owned());
    v.sort();
    v.dedup();
    v
}

fn renames(tables: &[TableDef]) -> (Vec<TableRename>, Vec<ColumnRename>) {
    let mut t = Vec::new();
    let mut c = Vec::new();
    for table in tables {
        let schema = table.schema.clone().unwrap_or_else(|| "public".to_owned());
        if let Some(from) = &table.renamed_from {
            t.push(TableRename {
                schema: schema.clone(),
                from: from.clone(),
                to: table.name.clone(),
            });
        }
        for col in &table.columns {
            if let Some(from) = &col.renamed_from {
                c.push(ColumnRename {
                    schema: schema.clone(),
                    table: table.name.clone(),
                    from: from.clone(),
                    to: col.name.clone(),
                });
            }
        }
    }
    (t, c)
}

fn read(client: &Client, schemas: &[String], what: &str) -> Result<Catalog, SchemaDiffError> {
    let names: Vec<&str> = schemas.iter().map(String::as_str).collect();
    introspect(client, &names).map_err(db_err(format!("reading the {what} catalog")))
}

/// Applies the declarations' DDL to the empty database at `url` in one round trip and one
/// transaction; when that fails, applies the statements one by one on a second database, so
/// an error names the statement at fault, and returns that database when they all apply.
fn apply_declarations(
    admin: &Client,
    url: &str,
    check_url: &str,
    statements: &[String],
) -> Result<Client, SchemaDiffError> {
    let db = client::connect(url).map_err(db_err("connecting to the scratch database"))?;
    if db.batch_execute(&statements.join(";\n")).is_ok() {
        return Ok(db);
    }
    admin
        .batch_execute("CREATE DATABASE lifeguard_desired_check")
        .map_err(db_err("creating a scratch database"))?;
    let check = client::connect(check_url).map_err(db_err("connecting to the scratch database"))?;
    for stmt in statements {
        check.batch_execute(stmt).map_err(db_err(format!(
            "the declarations do not apply to an empty database (`{stmt}`)"
        )))?;
    }
    // The batch failed as a whole (it rolled back), so `db` is empty: read the database the
    // statements were applied to.
    Ok(check)
}

/// Plans the change from the current database (or the replayed migrations) to `schema.rs`.
///
/// This is a blocking call (it starts a server process and waits for it): call it from a
/// thread, not from a coroutine. The two sides are prepared at the same time.
pub fn plan(request: &DiffRequest) -> Result<SchemaDiff, SchemaDiffError> {
    let tables = parse_schema_file(&request.schema_file)?;
    let schemas = schemas_of(&tables);
    let statements = lifeguard_schema::ddl::create_schema_sql(&tables);
    let server = PgServer::builder().start()?;
    let admin = client::connect(&server.url("postgres"))
        .map_err(db_err("connecting to the scratch server"))?;
    for db in ["lifeguard_desired", "lifeguard_current"] {
        admin
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .map_err(db_err("creating the scratch databases"))?;
    }
    let (desired_url, check_url, replay_url) = (
        server.url("lifeguard_desired"),
        server.url("lifeguard_desired_check"),
        server.url("lifeguard_current"),
    );

    let desired_side = || -> Result<Catalog, SchemaDiffError> {
        let admin = client::connect(&server.url("postgres"))
            .map_err(db_err("connecting to the scratch server"))?;
        let db = apply_declarations(&admin, &desired_url, &check_url, &statements)?;
        read(&db, &schemas, "desired")
    };
    let current_side = || -> Result<Catalog, SchemaDiffError> {
        match &request.database_url {
            Some(url) => {
                let db = client::connect(url).map_err(db_err(format!("connecting to {url}")))?;
                read(&db, &schemas, "current")
            }
            None => {
                let mut db = client::connect(&replay_url)
                    .map_err(db_err("connecting to the replay database"))?;
                if request.migrations_dir.is_dir() {
                    Migrator::new(Migrations::from_dir(&request.migrations_dir)?)
                        .lock_wait(Duration::from_secs(10))
                        .run(&mut db)?;
                }
                read(&db, &schemas, "replayed")
            }
        }
    };
    let (desired, current) = std::thread::scope(|s| {
        let desired = s.spawn(desired_side);
        let current = current_side();
        (
            desired.join().expect("the desired side does not panic"),
            current,
        )
    });
    let (desired, current) = (desired?, current?);
    drop(admin);

    let (table_renames, column_renames) = renames(&tables);
    let plan = diff(
        &current,
        &desired,
        &DiffOptions {
            allow_destructive: request.allow_destructive,
            table_renames,
            column_renames,
        },
    )?;
    Ok(SchemaDiff { plan, tables })
}

/// The UTC timestamp `YYYYMMDDhhmmss` of `t`.
pub fn version_of(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Writes the plan as migrations in `dir`: `<version>_<name>/` for the transactional phase,
/// and `<version + 1 s>_<name>_online/` (marked no-transaction) when the plan has online
/// steps. Returns the folders written.
pub fn write_migrations(
    plan: &Plan,
    dir: &Path,
    name: &str,
    now: SystemTime,
) -> Result<Vec<PathBuf>, SchemaDiffError> {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let mut written = Vec::new();
    let mut at = now;
    for (phase, suffix) in [(Phase::Transactional, ""), (Phase::Online, "_online")] {
        let Some(scripts) = plan.scripts(phase) else {
            continue;
        };
        let folder = dir.join(format!("{}_{name}{suffix}", version_of(at)));
        at += Duration::from_secs(1);
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| SchemaDiffError::Io { path, source }
        };
        std::fs::create_dir_all(&folder).map_err(io(&folder))?;
        for (file, text) in [("up.sql", &scripts.up), ("down.sql", &scripts.down)] {
            let path = folder.join(file);
            std::fs::write(&path, text).map_err(io(&path))?;
        }
        written.push(folder);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_utc_timestamps() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_545_000); // 2026-11-24 18:30:00 UTC
        assert_eq!(version_of(t), "20261124183000");
        assert_eq!(version_of(UNIX_EPOCH), "19700101000000");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(version_of(leap), "20000229000000");
    }
}
