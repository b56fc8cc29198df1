//! What can go wrong loading or running migrations.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong loading or running migrations. Each message says what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// A file or folder could not be read.
    #[error("could not read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A folder in the migrations directory is not named `<version>_<name>`.
    #[error(
        "migration folder {} is badly named: {reason}; rename it to <version>_<name>, e.g. 20261124183000_create_users",
        path.display()
    )]
    BadFolderName {
        /// The folder.
        path: PathBuf,
        /// What is wrong with the name.
        reason: String,
    },
    /// An embedded migration (from [`Migrations::from_static`](super::Migrations::from_static))
    /// has an invalid version or name.
    #[error("{origin} is invalid: {reason}")]
    BadEmbedded {
        /// `embedded migration <version>_<name>`.
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// A migration folder has no `up.sql`.
    #[error("{} is missing: every migration folder needs an up.sql", path.display())]
    MissingUpSql {
        /// The expected `up.sql` path.
        path: PathBuf,
    },
    /// A script is not valid UTF-8.
    #[error("{} is not valid UTF-8; save it as UTF-8", path.display())]
    NotUtf8 {
        /// The script.
        path: PathBuf,
    },
    /// Two migrations have the same version.
    #[error(
        "two migrations have version {version}: {first} and {second}; give one of them a new version"
    )]
    DuplicateVersion {
        /// The version.
        version: String,
        /// Where the first one comes from.
        first: String,
        /// Where the second one comes from.
        second: String,
    },
    /// No tracking-table schema was configured and `search_path` names no existing schema.
    #[error(
        "the connection has no current schema (search_path names no existing schema); set search_path or name the schema with Migrator::schema"
    )]
    NoCurrentSchema,
    /// Another runner held the migration lock for longer than the configured wait.
    #[error(
        "another migration runner{} holds the migration lock (advisory lock {key}); gave up after waiting {waited:?}: let it finish, or raise Migrator::lock_wait",
        holder.map(|pid| format!(" (backend pid {pid})")).unwrap_or_default()
    )]
    LockTimeout {
        /// How long this runner waited.
        waited: Duration,
        /// The advisory lock key.
        key: i64,
        /// The backend process holding the lock, when it could be found.
        holder: Option<i32>,
    },
    /// Applied migrations whose `up.sql` changed since they were applied. Nothing was run.
    #[error(
        "{} applied migration(s) changed on disk since they were applied: {}; restore the original up.sql, or review the change and run repair to record the new checksum",
        changed.len(),
        changed.iter().map(|c| format!("{} (applied {}, file {})", c.label(), short(&c.applied_checksum), short(&c.file_checksum))).collect::<Vec<_>>().join(", ")
    )]
    ChecksumMismatch {
        /// The changed migrations.
        changed: Vec<super::ChangedMigration>,
    },
    /// Migrations recorded as applied in the database but not found among the files. Nothing
    /// was run.
    #[error(
        "{} migration(s) are applied in the database but missing on disk: {}; restore their folders, or run repair to forget them",
        missing.len(),
        missing.join(", ")
    )]
    MissingOnDisk {
        /// `<version>_<name>` of each.
        missing: Vec<String>,
    },
    /// A migration that runs outside a transaction failed part-way in an earlier run and is
    /// recorded as failed. Nothing was run.
    #[error(
        "migration(s) {} failed part-way outside a transaction in an earlier run and may be half-applied; finish or undo them by hand, then run repair to clear the failure record (the migration then runs again)",
        failed.join(", ")
    )]
    PreviouslyFailed {
        /// `<version>_<name>` of each.
        failed: Vec<String>,
    },
    /// A migration's script failed.
    #[error(
        "migration {migration} failed in {file}{}: {source}; {}",
        statement.map(|(i, n)| format!(" at statement {i} of {n}")).unwrap_or_default(),
        if *partial {
            "it runs outside a transaction, so the statements before the failing one stay applied (and a failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind) and it is recorded as failed: clean up the database and fix the script, then run repair"
        } else {
            "it was rolled back, nothing of it was applied; fix the script and run again"
        }
    )]
    MigrationFailed {
        /// `<version>_<name>`.
        migration: String,
        /// `up.sql` or `down.sql`.
        file: &'static str,
        /// For a script run outside a transaction: the failing statement (1-based) and the
        /// number of statements.
        statement: Option<(usize, usize)>,
        /// Whether part of the script may have been applied (outside a transaction).
        partial: bool,
        /// The database's error.
        source: Box<crate::Error>,
    },
    /// A migration to revert has no `down.sql`. Nothing was reverted.
    #[error("migration {migration} has no down.sql, so it cannot be reverted; add one")]
    Irreversible {
        /// `<version>_<name>`.
        migration: String,
    },
    /// The runner's own work (tracking table, lock) failed.
    #[error("migration runner: {0}")]
    Database(#[from] crate::Error),
}

fn short(checksum: &str) -> &str {
    checksum.get(..12).unwrap_or(checksum)
}
