//! Typed errors: the server's error fields with SQLSTATE, and the client's own failures.
//!
//! Errors are classified by code, never by message text: [`Error::code`] gives the SQLSTATE,
//! [`Error::is_connectivity`] tells a dead connection apart from a failed statement.

use std::fmt;
use std::io;
use std::time::Duration;

use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::ErrorFields;

/// A five-character SQLSTATE code, with constants for the classes callers test most.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SqlState([u8; 5]);

impl SqlState {
    /// `23505`: a unique constraint was violated.
    pub const UNIQUE_VIOLATION: SqlState = SqlState(*b"23505");
    /// `23503`: a foreign key constraint was violated.
    pub const FOREIGN_KEY_VIOLATION: SqlState = SqlState(*b"23503");
    /// `23502`: a NOT NULL constraint was violated.
    pub const NOT_NULL_VIOLATION: SqlState = SqlState(*b"23502");
    /// `23514`: a CHECK constraint was violated.
    pub const CHECK_VIOLATION: SqlState = SqlState(*b"23514");
    /// `40001`: the transaction could not be serialized; retry it.
    pub const SERIALIZATION_FAILURE: SqlState = SqlState(*b"40001");
    /// `40P01`: a deadlock was detected; retry the transaction.
    pub const DEADLOCK_DETECTED: SqlState = SqlState(*b"40P01");
    /// `57014`: the statement was canceled (CancelRequest or `statement_timeout`).
    pub const QUERY_CANCELED: SqlState = SqlState(*b"57014");
    /// `57P01`: the server is shutting down or the backend was terminated.
    pub const ADMIN_SHUTDOWN: SqlState = SqlState(*b"57P01");
    /// `57P02`: the server crashed.
    pub const CRASH_SHUTDOWN: SqlState = SqlState(*b"57P02");
    /// `57P03`: the server is starting up or otherwise not accepting connections.
    pub const CANNOT_CONNECT_NOW: SqlState = SqlState(*b"57P03");
    /// `28P01`: wrong password.
    pub const INVALID_PASSWORD: SqlState = SqlState(*b"28P01");
    /// `28000`: no `pg_hba.conf` entry or role not allowed to log in.
    pub const INVALID_AUTHORIZATION_SPECIFICATION: SqlState = SqlState(*b"28000");
    /// `3D000`: the database does not exist.
    pub const INVALID_CATALOG_NAME: SqlState = SqlState(*b"3D000");
    /// `42P01`: the table does not exist.
    pub const UNDEFINED_TABLE: SqlState = SqlState(*b"42P01");
    /// `42703`: the column does not exist.
    pub const UNDEFINED_COLUMN: SqlState = SqlState(*b"42703");
    /// `42601`: SQL syntax error.
    pub const SYNTAX_ERROR: SqlState = SqlState(*b"42601");
    /// `25P02`: a statement was sent inside a failed transaction.
    pub const IN_FAILED_SQL_TRANSACTION: SqlState = SqlState(*b"25P02");
    /// `55P03`: a lock could not be acquired (`lock_timeout`, `NOWAIT`).
    pub const LOCK_NOT_AVAILABLE: SqlState = SqlState(*b"55P03");
    /// `26000`: the prepared statement does not exist.
    pub const INVALID_SQL_STATEMENT_NAME: SqlState = SqlState(*b"26000");

    /// Builds a code from its five characters; `None` if `code` is not five ASCII bytes.
    pub fn from_code(code: &str) -> Option<SqlState> {
        let bytes: [u8; 5] = code.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(u8::is_ascii_alphanumeric)
            .then_some(SqlState(bytes))
    }

    /// The code as text, e.g. `"23505"`.
    pub fn code(&self) -> &str {
        // Only ASCII is ever stored (see `from_code`).
        std::str::from_utf8(&self.0).unwrap_or("?????")
    }

    /// The two-character class, e.g. `"23"` for integrity violations.
    pub fn class(&self) -> &str {
        &self.code()[..2]
    }
}

impl fmt::Debug for SqlState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SqlState({})", self.code())
    }
}

impl fmt::Display for SqlState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Where in the query text the server located an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorPosition {
    /// A 1-based character offset into the statement the client sent.
    Original(u32),
    /// An offset into a query the server generated internally (e.g. inside a function).
    Internal {
        /// 1-based character offset into `query`.
        position: u32,
        /// The internally generated query.
        query: String,
    },
}

/// An error (or notice) reported by the server, with every field it sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError {
    /// `ERROR`, `FATAL`, `PANIC`, `WARNING`, `NOTICE`, ... (not localized).
    pub severity: String,
    /// The SQLSTATE code.
    pub code: SqlState,
    /// The primary message.
    pub message: String,
    /// Optional detail.
    pub detail: Option<String>,
    /// Optional hint on what to do.
    pub hint: Option<String>,
    /// Where in the statement the error was found.
    pub position: Option<ErrorPosition>,
    /// Context (call stack) of the error.
    pub where_: Option<String>,
    /// Schema of the object involved.
    pub schema: Option<String>,
    /// Table involved.
    pub table: Option<String>,
    /// Column involved.
    pub column: Option<String>,
    /// Data type involved.
    pub datatype: Option<String>,
    /// Constraint involved.
    pub constraint: Option<String>,
    /// Server source file that reported the error.
    pub file: Option<String>,
    /// Server source line.
    pub line: Option<u32>,
    /// Server source routine.
    pub routine: Option<String>,
}

impl DbError {
    pub(crate) fn parse(fields: &mut ErrorFields<'_>) -> io::Result<DbError> {
        let mut severity = None;
        let mut code = None;
        let mut message = None;
        let mut e = DbError {
            severity: String::new(),
            code: SqlState(*b"XX000"),
            message: String::new(),
            detail: None,
            hint: None,
            position: None,
            where_: None,
            schema: None,
            table: None,
            column: None,
            datatype: None,
            constraint: None,
            file: None,
            line: None,
            routine: None,
        };
        let mut normal_position = None;
        let mut internal_position = None;
        let mut internal_query = None;
        while let Some(field) = fields.next()? {
            let value = String::from_utf8_lossy(field.value_bytes()).into_owned();
            match field.type_() {
                b'S' if severity.is_none() => severity = Some(value),
                b'V' => severity = Some(value),
                b'C' => code = SqlState::from_code(&value),
                b'M' => message = Some(value),
                b'D' => e.detail = Some(value),
                b'H' => e.hint = Some(value),
                b'P' => normal_position = value.parse::<u32>().ok(),
                b'p' => internal_position = value.parse::<u32>().ok(),
                b'q' => internal_query = Some(value),
                b'W' => e.where_ = Some(value),
                b's' => e.schema = Some(value),
                b't' => e.table = Some(value),
                b'c' => e.column = Some(value),
                b'd' => e.datatype = Some(value),
                b'n' => e.constraint = Some(value),
                b'F' => e.file = Some(value),
                b'L' => e.line = value.parse().ok(),
                b'R' => e.routine = Some(value),
                _ => {}
            }
        }
        e.severity = severity.unwrap_or_default();
        e.code = code.ok_or_else(|| io::Error::other("server error without a SQLSTATE"))?;
        e.message = message.unwrap_or_default();
        e.position = match (normal_position, internal_position, internal_query) {
            (Some(p), _, _) => Some(ErrorPosition::Original(p)),
            (None, Some(position), Some(query)) => {
                Some(ErrorPosition::Internal { position, query })
            }
            _ => None,
        };
        Ok(e)
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.severity, self.code, self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, "\nDETAIL: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nHINT: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DbError {}

/// Everything that can go wrong talking to PostgreSQL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection string or a configuration value is invalid.
    #[error("invalid connection configuration: {0}")]
    Config(String),
    /// The server could not be reached (refused, unreachable, DNS failure, timeout).
    #[error("could not connect to {target}: {reason}")]
    Connect {
        /// Host and port (or socket path) that was tried.
        target: String,
        /// What went wrong.
        reason: String,
    },
    /// The server rejected the credentials or the authentication method is unsupported.
    #[error("authentication failed for user \"{user}\" on database \"{database}\": {reason}")]
    Auth {
        /// The user name that was presented.
        user: String,
        /// The database that was requested.
        database: String,
        /// The server's or client's explanation.
        reason: String,
        /// The server's error, when it sent one (SQLSTATE 28P01, 28000 ...).
        server: Option<Box<DbError>>,
    },
    /// TLS negotiation or certificate verification failed.
    #[error("TLS error: {0}")]
    Tls(String),
    /// The connection is closed or broke; the request's outcome is unknown if it was sent.
    #[error("connection closed: {0}")]
    Closed(String),
    /// An error reported by the server for a statement.
    #[error("{0}")]
    Db(Box<DbError>),
    /// The statement exceeded its deadline.
    #[error(
        "statement timed out after {elapsed:?}{}",
        if *.cancelled { " and was cancelled on the server" } else { " while queued behind other requests on a shared connection; it may still run" }
    )]
    Timeout {
        /// How long the caller waited.
        elapsed: Duration,
        /// Whether a CancelRequest was sent for it.
        cancelled: bool,
    },
    /// A parameter could not be encoded as the type the server expects.
    #[error("parameter ${index} could not be encoded as {sql_type}: {source}")]
    ToSql {
        /// 1-based parameter number.
        index: usize,
        /// The server-side type of the parameter.
        sql_type: String,
        /// The conversion error.
        source: Box<dyn std::error::Error + Sync + Send>,
    },
    /// A column could not be decoded into the requested Rust type.
    #[error("column \"{column}\" ({sql_type}) could not be read as {rust_type}: {source}")]
    FromSql {
        /// Column name.
        column: String,
        /// The column's SQL type.
        sql_type: String,
        /// The requested Rust type.
        rust_type: &'static str,
        /// The conversion error.
        source: Box<dyn std::error::Error + Sync + Send>,
    },
    /// A column was requested by a name or index the row does not have.
    #[error("no column {0} in the result")]
    ColumnNotFound(String),
    /// The number of parameters passed does not match the statement.
    #[error("the statement expects {expected} parameters but {given} were given")]
    ParameterCount {
        /// Parameters in the statement.
        expected: usize,
        /// Parameters passed.
        given: usize,
    },
    /// `query_one`/`query_opt` found an unexpected number of rows.
    #[error("expected {expected} but the query returned {actual} rows")]
    RowCount {
        /// What was expected, e.g. "exactly one row".
        expected: &'static str,
        /// How many rows came back (2 means "two or more").
        actual: usize,
    },
    /// The server sent something the client did not expect.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// An operation the client or server does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The pool had no connection free for the caller before its acquire deadline, although
    /// the database is reachable: every connection was busy. Raise the pool size or the
    /// acquire timeout, or hold exclusive connections for less time.
    #[error(
        "no pooled connection became free within {waited:?} (pool size {size}, {pending} callers waiting); raise the pool size or acquire timeout, or release connections sooner"
    )]
    PoolTimeout {
        /// How long the caller waited.
        waited: Duration,
        /// The pool's size.
        size: usize,
        /// Callers waiting when this one gave up.
        pending: usize,
    },
    /// The pool could not reach the database before the caller's deadline: no connection is
    /// open and opening one failed with `cause`. The pool keeps retrying in the background.
    #[error("database unavailable: no connection could be opened within {waited:?}: {cause}")]
    Unavailable {
        /// How long the caller waited.
        waited: Duration,
        /// The latest connection error.
        cause: Box<Error>,
    },
    /// The pool was shut down.
    #[error("the pool is closed")]
    PoolClosed,
    /// An entity record failed validation; every failing field is listed. Nothing was sent.
    #[error("{table}: validation failed: {errors}")]
    Validation {
        /// The table.
        table: &'static str,
        /// Every failed rule.
        errors: lifeguard_schema::entity::ValidationErrors,
    },
    /// An entity hook refused the operation.
    #[error("{table}: {hook} refused: {message}")]
    Hook {
        /// The table.
        table: &'static str,
        /// The hook (`before_insert`, `after_update`, …).
        hook: &'static str,
        /// The hook's reason.
        message: String,
    },
    /// An entity update or restore found no row with the record's key (or it is
    /// soft-deleted).
    #[error("{table}: no row with key {key}")]
    RecordNotFound {
        /// The table.
        table: &'static str,
        /// The key, as `Debug` prints it.
        key: String,
    },
    /// An entity operation that needs the primary key got a record without it.
    #[error("{table}: the record's primary key is not set ({operation} needs it)")]
    MissingKey {
        /// The table.
        table: &'static str,
        /// The operation.
        operation: &'static str,
    },
}

impl Error {
    /// The SQLSTATE of a server error (including an authentication failure the server reported).
    pub fn code(&self) -> Option<SqlState> {
        self.as_db_error().map(|e| e.code)
    }

    /// The server's error fields, if the server reported this error.
    pub fn as_db_error(&self) -> Option<&DbError> {
        match self {
            Error::Db(e) => Some(e),
            Error::Auth {
                server: Some(e), ..
            } => Some(e),
            _ => None,
        }
    }

    /// True when the connection is unusable: connect failure, broken socket, server shutdown
    /// or a terminated backend (SQLSTATE class 08, 57P01–57P03). Retrying needs a new connection.
    pub fn is_connectivity(&self) -> bool {
        match self {
            Error::Connect { .. }
            | Error::Closed(_)
            | Error::Tls(_)
            | Error::Unavailable { .. } => true,
            Error::Db(e) => {
                e.code.class() == "08"
                    || e.code == SqlState::ADMIN_SHUTDOWN
                    || e.code == SqlState::CRASH_SHUTDOWN
                    || e.code == SqlState::CANNOT_CONNECT_NOW
            }
            _ => false,
        }
    }

    /// A unique constraint was violated (23505).
    pub fn is_unique_violation(&self) -> bool {
        self.code() == Some(SqlState::UNIQUE_VIOLATION)
    }

    /// A foreign key constraint was violated (23503).
    pub fn is_foreign_key_violation(&self) -> bool {
        self.code() == Some(SqlState::FOREIGN_KEY_VIOLATION)
    }

    /// The transaction could not be serialized (40001); it is safe to retry it.
    pub fn is_serialization_failure(&self) -> bool {
        self.code() == Some(SqlState::SERIALIZATION_FAILURE)
    }

    /// A deadlock was detected (40P01); it is safe to retry the transaction.
    pub fn is_deadlock(&self) -> bool {
        self.code() == Some(SqlState::DEADLOCK_DETECTED)
    }

    /// The statement was canceled on the server (57014), or timed out on the client.
    pub fn is_query_canceled(&self) -> bool {
        matches!(self, Error::Timeout { .. }) || self.code() == Some(SqlState::QUERY_CANCELED)
    }

    /// The caller's deadline passed (statement timeout, connect timeout, pool acquire).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. } | Error::PoolTimeout { .. })
    }

    /// A short, bounded name for the kind of error, used as a metrics label: `connection`,
    /// `timeout`, `pool_timeout`, `unavailable`, `pool_closed`, `db_<SQLSTATE class>` (e.g.
    /// `db_23` for integrity violations), `encode`, `decode`, `usage`, `protocol`, `config`,
    /// `auth`.
    pub fn class(&self) -> std::borrow::Cow<'static, str> {
        use std::borrow::Cow;
        match self {
            Error::Db(e) => Cow::Owned(format!("db_{}", e.code.class())),
            Error::Config(_) => Cow::Borrowed("config"),
            Error::Auth { .. } => Cow::Borrowed("auth"),
            Error::Connect { .. } | Error::Closed(_) | Error::Tls(_) => Cow::Borrowed("connection"),
            Error::Timeout { .. } => Cow::Borrowed("timeout"),
            Error::ToSql { .. } => Cow::Borrowed("encode"),
            Error::FromSql { .. } => Cow::Borrowed("decode"),
            Error::ColumnNotFound(_) | Error::ParameterCount { .. } | Error::RowCount { .. } => {
                Cow::Borrowed("usage")
            }
            Error::Protocol(_) => Cow::Borrowed("protocol"),
            Error::Unsupported(_) => Cow::Borrowed("unsupported"),
            Error::PoolTimeout { .. } => Cow::Borrowed("pool_timeout"),
            Error::Unavailable { .. } => Cow::Borrowed("unavailable"),
            Error::PoolClosed => Cow::Borrowed("pool_closed"),
            Error::Validation { .. } => Cow::Borrowed("validation"),
            Error::Hook { .. } => Cow::Borrowed("hook"),
            Error::RecordNotFound { .. } | Error::MissingKey { .. } => Cow::Borrowed("usage"),
        }
    }

    pub(crate) fn closed(reason: impl Into<String>) -> Error {
        Error::Closed(reason.into())
    }

    pub(crate) fn io(context: &str, e: io::Error) -> Error {
        Error::Closed(format!("{context}: {e}"))
    }

    pub(crate) fn protocol(what: impl Into<String>) -> Error {
        Error::Protocol(what.into())
    }

    pub(crate) fn db(e: DbError) -> Error {
        Error::Db(Box::new(e))
    }
}

impl Clone for Error {
    /// Errors that carry a boxed source are cloned as their rendered text.
    fn clone(&self) -> Self {
        match self {
            Error::Config(s) => Error::Config(s.clone()),
            Error::Connect { target, reason } => Error::Connect {
                target: target.clone(),
                reason: reason.clone(),
            },
            Error::Auth {
                user,
                database,
                reason,
                server,
            } => Error::Auth {
                user: user.clone(),
                database: database.clone(),
                reason: reason.clone(),
                server: server.clone(),
            },
            Error::Tls(s) => Error::Tls(s.clone()),
            Error::Closed(s) => Error::Closed(s.clone()),
            Error::Db(e) => Error::Db(e.clone()),
            Error::Timeout { elapsed, cancelled } => Error::Timeout {
                elapsed: *elapsed,
                cancelled: *cancelled,
            },
            Error::ColumnNotFound(s) => Error::ColumnNotFound(s.clone()),
            Error::ParameterCount { expected, given } => Error::ParameterCount {
                expected: *expected,
                given: *given,
            },
            Error::RowCount { expected, actual } => Error::RowCount {
                expected,
                actual: *actual,
            },
            Error::Protocol(s) => Error::Protocol(s.clone()),
            Error::Unsupported(s) => Error::Unsupported(s.clone()),
            Error::PoolTimeout {
                waited,
                size,
                pending,
            } => Error::PoolTimeout {
                waited: *waited,
                size: *size,
                pending: *pending,
            },
            Error::Unavailable { waited, cause } => Error::Unavailable {
                waited: *waited,
                cause: cause.clone(),
            },
            Error::PoolClosed => Error::PoolClosed,
            other => Error::Protocol(other.to_string()),
        }
    }
}

/// Shorthand for results of this client.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstate_parses_and_classifies() {
        let s = SqlState::from_code("23505").unwrap();
        assert_eq!(s, SqlState::UNIQUE_VIOLATION);
        assert_eq!(s.class(), "23");
        assert!(SqlState::from_code("2350").is_none());
        assert!(SqlState::from_code("23 05").is_none());
    }

    #[test]
    fn connectivity_classification_is_by_code() {
        let mut e = DbError {
            severity: "FATAL".into(),
            code: SqlState::ADMIN_SHUTDOWN,
            message: "terminating connection due to administrator command".into(),
            detail: None,
            hint: None,
            position: None,
            where_: None,
            schema: None,
            table: None,
            column: None,
            datatype: None,
            constraint: None,
            file: None,
            line: None,
            routine: None,
        };
        assert!(Error::db(e.clone()).is_connectivity());
        e.code = SqlState::from_code("08006").unwrap();
        assert!(Error::db(e.clone()).is_connectivity());
        e.code = SqlState::UNIQUE_VIOLATION;
        let err = Error::db(e);
        assert!(!err.is_connectivity());
        assert!(err.is_unique_violation());
        assert!(Error::closed("eof").is_connectivity());
    }
}
