//! The migration runner: plain SQL files, a tracking table with checksums, and a PostgreSQL
//! advisory lock so that any number of runners (one per replica of a service, say) apply
//! each migration exactly once.
//!
//! Migrations are folders `migrations/<version>_<name>/` holding an `up.sql` and a
//! `down.sql`; the version is a UTC timestamp such as `20261124183000` and orders them. An
//! `up.sql` (or `down.sql`) whose first line is `-- lifeguard:no-transaction` runs statement
//! by statement outside a transaction (for `CREATE INDEX CONCURRENTLY`); every other one runs
//! in a transaction committed together with its tracking row, so it is applied completely or
//! not at all.
//!
//! The tracking table (`lifeguard_migrations` in the current schema unless configured) holds
//! one row per applied migration: `version`, `name`, `checksum` (SHA-256 of the LF-normalized
//! `up.sql`), `applied_at`, `execution_time_ms` and `success` (false for a no-transaction
//! migration that failed part-way).
//!
//! ```no_run
//! use lifeguard::migrate::{Migrations, Migrator};
//!
//! let mut client = lifeguard::connect("postgres://app@127.0.0.1/app")?;
//! let migrator = Migrator::new(Migrations::from_dir("migrations")?);
//! for m in migrator.run(&mut client)? {
//!     println!("applied {}_{} in {:?}", m.version, m.name, m.elapsed);
//! }
//! let status = migrator.status(&client)?;
//! assert!(status.pending.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The runner needs one connection for itself (the advisory lock is a session lock, and it
//! opens transactions): it takes a `&mut` [`Client`](crate::Client) or a pool guard
//! ([`PoolConnection`](crate::pool::PoolConnection)), or acquires one from a pool with
//! [`Migrator::run_with_pool`]. The connection's own statement deadline, if it has one,
//! applies to every statement of a migration.

mod error;
mod runner;
mod source;
mod split;

pub use error::MigrateError;
pub use runner::{
    AppliedMigration, ChangedMigration, Executed, MigrationConnection, Migrator, Redone, Repaired,
    Status,
};
pub use source::{Migration, Migrations, NO_TRANSACTION_MARKER, checksum};
