//! Error type of the testkit.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Everything that can go wrong while starting, driving or stopping a throwaway server.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// A required program is not installed; the message says how to install it.
    #[error("{what} not found ({programs}): {hint}")]
    NotInstalled {
        /// What was looked for, e.g. "PostgreSQL server binaries".
        what: String,
        /// The programs that were looked for, e.g. "initdb, postgres".
        programs: String,
        /// How to install it.
        hint: String,
    },

    /// The system user a server must run as (e.g. `postgres` when we are root) does not exist.
    #[error("system user `{user}` not found in /etc/passwd: {hint}")]
    MissingUser {
        /// The user name that was looked up.
        user: String,
        /// How to fix it.
        hint: String,
    },

    /// A filesystem or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, including the path involved.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A helper command (initdb, kill, ...) ran but reported failure.
    #[error("command `{command}` failed ({status}){}", fmt_output(.stderr))]
    CommandFailed {
        /// The command line that was run.
        command: String,
        /// Its exit status.
        status: ExitStatus,
        /// What it wrote to stderr (and stdout when stderr was empty).
        stderr: String,
    },

    /// A server process exited while we were waiting for it to accept connections.
    #[error("{server} exited during startup ({status}); log {log}:{}", fmt_output(.log_tail))]
    ExitedDuringStartup {
        /// Which server ("PostgreSQL", "Redis").
        server: &'static str,
        /// Its exit status.
        status: ExitStatus,
        /// The server's log file.
        log: PathBuf,
        /// The last lines of that log.
        log_tail: String,
    },

    /// A server did not accept connections within the startup timeout.
    #[error("{server} did not accept connections within {timeout:?}; log {log}:{}", fmt_output(.log_tail))]
    StartTimeout {
        /// Which server ("PostgreSQL", "Redis").
        server: &'static str,
        /// How long we waited.
        timeout: Duration,
        /// The server's log file.
        log: PathBuf,
        /// The last lines of that log.
        log_tail: String,
    },

    /// An operation needs a running server but it has been stopped.
    #[error("{server} is not running (call start_again first)")]
    NotRunning {
        /// Which server ("PostgreSQL", "Redis").
        server: &'static str,
    },

    /// Creating or dropping a test database failed.
    #[error("test database: {0}")]
    Database(crate::client::Error),

    /// A SQL fixture file failed to load.
    #[error("fixture {file} failed: {source}")]
    Fixture {
        /// The file's path.
        file: String,
        /// The server's (or connection's) error.
        source: crate::client::Error,
    },

    /// A server did not finish an operation (e.g. a configuration reload) in time.
    #[error("{server}: {what} did not complete within {timeout:?}")]
    Timeout {
        /// Which server ("PostgreSQL", "Redis").
        server: &'static str,
        /// The operation that timed out.
        what: &'static str,
        /// How long we waited.
        timeout: Duration,
    },
}

impl From<crate::client::Error> for TestkitError {
    fn from(e: crate::client::Error) -> Self {
        TestkitError::Database(e)
    }
}

impl TestkitError {
    /// Builds an [`TestkitError::Io`] with a context message.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// Formats captured output or a log tail on its own lines, or nothing when empty.
fn fmt_output(text: &str) -> String {
    let text = text.trim_end();
    if text.is_empty() {
        " (no output)".to_owned()
    } else {
        format!("\n{text}")
    }
}

/// Adds a context message to `std::io::Result`s.
pub(crate) trait IoContext<T> {
    /// Converts an I/O error into a [`TestkitError::Io`] with the context computed by `f`.
    fn context<F: FnOnce() -> String>(self, f: F) -> Result<T, TestkitError>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn context<F: FnOnce() -> String>(self, f: F) -> Result<T, TestkitError> {
        self.map_err(|source| TestkitError::io(f(), source))
    }
}
