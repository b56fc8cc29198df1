//! Connection configuration, from a `postgres://` URL or a libpq `key=value` string.
//!
//! Passwords are kept out of `Debug` output, logs and error messages.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::error::{Error, Result};

/// How TLS is negotiated, with libpq's meanings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Never use TLS.
    Disable,
    /// Use TLS if the server offers it, without verifying the certificate (libpq's default).
    #[default]
    Prefer,
    /// Require TLS; verify the certificate only if `sslrootcert` is given (as libpq does).
    Require,
    /// Require TLS and a certificate signed by a trusted CA.
    VerifyCa,
    /// Require TLS, a trusted certificate, and that it names the host.
    VerifyFull,
}

impl FromStr for SslMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<SslMode> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(Error::Config(format!(
                    "sslmode `{other}` is not one of disable, prefer, require, verify-ca, verify-full"
                )));
            }
        })
    }
}

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A host name or IP address, reached over TCP.
    Tcp(String),
    /// A directory holding the server's Unix-domain socket (`.s.PGSQL.<port>`).
    Unix(PathBuf),
}

impl Host {
    fn parse(s: &str) -> Host {
        if s.starts_with('/') {
            Host::Unix(PathBuf::from(s))
        } else {
            Host::Tcp(s.trim_start_matches('[').trim_end_matches(']').to_owned())
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Tcp(h) => f.write_str(h),
            Host::Unix(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Everything needed to open a connection.
///
/// ```
/// use lifeguard::client::{Config, SslMode};
/// let cfg: Config = "postgres://app:s3cret@db.internal:6432/shop?sslmode=require&application_name=api"
///     .parse()
///     .unwrap();
/// assert_eq!(cfg.get_dbname(), Some("shop"));
/// assert_eq!(cfg.get_ssl_mode(), SslMode::Require);
/// assert!(!format!("{cfg:?}").contains("s3cret"));
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) user: Option<String>,
    pub(crate) password: Option<Vec<u8>>,
    pub(crate) dbname: Option<String>,
    pub(crate) options: Option<String>,
    pub(crate) application_name: Option<String>,
    pub(crate) ssl_mode: SslMode,
    pub(crate) ssl_root_cert: Option<PathBuf>,
    pub(crate) hosts: Vec<Host>,
    pub(crate) ports: Vec<u16>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) keepalives: bool,
    pub(crate) keepalives_idle: Duration,
    pub(crate) keepalives_interval: Option<Duration>,
    pub(crate) keepalives_retries: Option<u32>,
    pub(crate) statement_cache_capacity: usize,
    pub(crate) statement_timeout: Option<Duration>,
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("dbname", &self.dbname)
            .field("options", &self.options)
            .field("application_name", &self.application_name)
            .field("ssl_mode", &self.ssl_mode)
            .field("ssl_root_cert", &self.ssl_root_cert)
            .field("hosts", &self.hosts)
            .field("ports", &self.ports)
            .field("connect_timeout", &self.connect_timeout)
            .field("keepalives", &self.keepalives)
            .field("keepalives_idle", &self.keepalives_idle)
            .field("statement_cache_capacity", &self.statement_cache_capacity)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

impl Config {
    /// An empty configuration: localhost:5432, the OS user, no TLS preference beyond `prefer`.
    pub fn new() -> Config {
        Config {
            user: None,
            password: None,
            dbname: None,
            options: None,
            application_name: None,
            ssl_mode: SslMode::Prefer,
            ssl_root_cert: None,
            hosts: Vec::new(),
            ports: Vec::new(),
            connect_timeout: Some(Duration::from_secs(10)),
            keepalives: true,
            keepalives_idle: Duration::from_secs(120),
            keepalives_interval: None,
            keepalives_retries: None,
            statement_cache_capacity: 256,
            statement_timeout: None,
        }
    }

    /// Sets the user name.
    pub fn user(&mut self, user: impl Into<String>) -> &mut Config {
        self.user = Some(user.into());
        self
    }

    /// Sets the password.
    pub fn password(&mut self, password: impl AsRef<[u8]>) -> &mut Config {
        self.password = Some(password.as_ref().to_vec());
        self
    }

    /// Sets the database name.
    pub fn dbname(&mut self, dbname: impl Into<String>) -> &mut Config {
        self.dbname = Some(dbname.into());
        self
    }

    /// Sets command-line options for the server, e.g. `-c search_path=app`.
    pub fn options(&mut self, options: impl Into<String>) -> &mut Config {
        self.options = Some(options.into());
        self
    }

    /// Sets `application_name`, shown in `pg_stat_activity`.
    pub fn application_name(&mut self, name: impl Into<String>) -> &mut Config {
        self.application_name = Some(name.into());
        self
    }

    /// Sets the TLS mode.
    pub fn ssl_mode(&mut self, mode: SslMode) -> &mut Config {
        self.ssl_mode = mode;
        self
    }

    /// Sets the PEM file of CA certificates trusted for `verify-ca` / `verify-full`.
    pub fn ssl_root_cert(&mut self, path: impl Into<PathBuf>) -> &mut Config {
        self.ssl_root_cert = Some(path.into());
        self
    }

    /// Adds a host: a name or IP for TCP, or an absolute directory path for a Unix socket.
    pub fn host(&mut self, host: &str) -> &mut Config {
        self.hosts.push(Host::parse(host));
        self
    }

    /// Adds a Unix-socket directory.
    pub fn host_path(&mut self, dir: impl Into<PathBuf>) -> &mut Config {
        self.hosts.push(Host::Unix(dir.into()));
        self
    }

    /// Adds a port (one for all hosts, or one per host).
    pub fn port(&mut self, port: u16) -> &mut Config {
        self.ports.push(port);
        self
    }

    /// Bounds the whole connect: TCP handshake, TLS and authentication. `None` waits forever.
    pub fn connect_timeout(&mut self, timeout: Option<Duration>) -> &mut Config {
        self.connect_timeout = timeout;
        self
    }

    /// Enables or disables TCP keepalive (on by default).
    pub fn keepalives(&mut self, on: bool) -> &mut Config {
        self.keepalives = on;
        self
    }

    /// Idle time before the first keepalive probe (default 2 minutes).
    pub fn keepalives_idle(&mut self, idle: Duration) -> &mut Config {
        self.keepalives_idle = idle;
        self
    }

    /// How many prepared statements each connection keeps (default 256; 0 disables caching).
    pub fn statement_cache_capacity(&mut self, capacity: usize) -> &mut Config {
        self.statement_cache_capacity = capacity;
        self
    }

    /// A deadline for every statement; on expiry the statement is cancelled on the server.
    pub fn statement_timeout(&mut self, timeout: Option<Duration>) -> &mut Config {
        self.statement_timeout = timeout;
        self
    }

    /// The configured user, if any.
    pub fn get_user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The user name that will be sent: the configured one, else `$PGUSER`, `$USER`, `postgres`.
    pub fn effective_user(&self) -> String {
        self.user
            .clone()
            .or_else(|| std::env::var("PGUSER").ok())
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "postgres".to_owned())
    }

    /// The database name that will be requested (defaults to the user name).
    pub fn effective_dbname(&self) -> String {
        self.dbname.clone().unwrap_or_else(|| self.effective_user())
    }

    /// The configured database name, if any.
    pub fn get_dbname(&self) -> Option<&str> {
        self.dbname.as_deref()
    }

    /// Whether a password is configured (the password itself is never exposed).
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    /// The TLS mode.
    pub fn get_ssl_mode(&self) -> SslMode {
        self.ssl_mode
    }

    /// The hosts, in the order they are tried.
    pub fn get_hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// The ports.
    pub fn get_ports(&self) -> &[u16] {
        &self.ports
    }

    /// The application name.
    pub fn get_application_name(&self) -> Option<&str> {
        self.application_name.as_deref()
    }

    /// The connect timeout.
    pub fn get_connect_timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }

    /// The statement cache capacity.
    pub fn get_statement_cache_capacity(&self) -> usize {
        self.statement_cache_capacity
    }

    /// The default statement timeout.
    pub fn get_statement_timeout(&self) -> Option<Duration> {
        self.statement_timeout
    }

    /// The (host, port) pairs to try, defaults applied.
    pub(crate) fn targets(&self) -> Result<Vec<(Host, u16)>> {
        let hosts = if self.hosts.is_empty() {
            vec![Host::Tcp("localhost".to_owned())]
        } else {
            self.hosts.clone()
        };
        let ports = match self.ports.len() {
            0 => vec![5432; hosts.len()],
            1 => vec![self.ports[0]; hosts.len()],
            n if n == hosts.len() => self.ports.clone(),
            n => {
                return Err(Error::Config(format!(
                    "{n} ports given for {} hosts: give one port, or one per host",
                    hosts.len()
                )));
            }
        };
        Ok(hosts.into_iter().zip(ports).collect())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "user" => {
                self.user(value);
            }
            "password" => {
                self.password(value);
            }
            "dbname" => {
                self.dbname(value);
            }
            "options" => {
                self.options(value);
            }
            "application_name" => {
                self.application_name(value);
            }
            "sslmode" => {
                self.ssl_mode(value.parse()?);
            }
            "sslrootcert" => {
                self.ssl_root_cert(value);
            }
            "host" => {
                for h in value.split(',').filter(|h| !h.is_empty()) {
                    self.host(h);
                }
            }
            "port" => {
                for p in value.split(',') {
                    self.port(parse_num::<u16>(key, p)?);
                }
            }
            "connect_timeout" => {
                let secs = parse_num::<u64>(key, value)?;
                self.connect_timeout((secs > 0).then(|| Duration::from_secs(secs)));
            }
            "keepalives" => {
                self.keepalives(parse_num::<u8>(key, value)? != 0);
            }
            "keepalives_idle" => {
                self.keepalives_idle(Duration::from_secs(parse_num(key, value)?));
            }
            "keepalives_interval" => {
                self.keepalives_interval = Some(Duration::from_secs(parse_num(key, value)?));
            }
            "keepalives_count" => {
                self.keepalives_retries = Some(parse_num(key, value)?);
            }
            "statement_cache_capacity" => {
                self.statement_cache_capacity(parse_num(key, value)?);
            }
            "statement_timeout_ms" => {
                let ms = parse_num::<u64>(key, value)?;
                self.statement_timeout((ms > 0).then(|| Duration::from_millis(ms)));
            }
            other => {
                return Err(Error::Config(format!(
                    "unknown connection parameter `{other}` (known: host, port, user, password, dbname, \
                     sslmode, sslrootcert, application_name, connect_timeout, options, keepalives, \
                     keepalives_idle, keepalives_interval, keepalives_count, statement_cache_capacity, \
                     statement_timeout_ms)"
                )));
            }
        }
        Ok(())
    }

    fn parse_url(s: &str) -> Result<Config> {
        let rest = s
            .strip_prefix("postgres://")
            .or_else(|| s.strip_prefix("postgresql://"))
            .ok_or_else(|| {
                Error::Config("a URL must start with postgres:// or postgresql://".into())
            })?;
        let mut cfg = Config::new();
        let (rest, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (rest, None),
        };
        let (userinfo, hostlist) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if let Some(userinfo) = userinfo {
            let (user, pass) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                cfg.user(percent_decode("user", user)?);
            }
            if let Some(pass) = pass {
                cfg.password(percent_decode("password", pass)?);
            }
        }
        for hp in hostlist.split(',').filter(|s| !s.is_empty()) {
            let (host, port) = split_host_port(hp)?;
            if !host.is_empty() {
                cfg.host(&percent_decode("host", host)?);
            }
            if let Some(port) = port {
                cfg.port(parse_num("port", port)?);
            }
        }
        if let Some(path) = path.filter(|p| !p.is_empty()) {
            cfg.dbname(percent_decode("dbname", path)?);
        }
        if let Some(query) = query {
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').ok_or_else(|| {
                    Error::Config(format!("URL parameter `{pair}` has no `=value`"))
                })?;
                let v = percent_decode(k, &v.replace('+', " "))?;
                cfg.set(k, &v)?;
            }
        }
        Ok(cfg)
    }

    fn parse_conninfo(s: &str) -> Result<Config> {
        let mut cfg = Config::new();
        let mut chars = s.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek().is_none() {
                break;
            }
            let mut key = String::new();
            while let Some(&c) = chars.peek() {
                if c == '=' || c.is_whitespace() {
                    break;
                }
                key.push(c);
                chars.next();
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            if chars.next() != Some('=') {
                return Err(Error::Config(format!(
                    "conninfo key `{key}` is not followed by `=`"
                )));
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let mut value = String::new();
            if chars.peek() == Some(&'\'') {
                chars.next();
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => value.push(c),
                            None => break,
                        },
                        Some(c) => value.push(c),
                        None => {
                            return Err(Error::Config(format!(
                                "unterminated quoted value for conninfo key `{key}`"
                            )));
                        }
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    chars.next();
                    if c == '\\' {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    } else {
                        value.push(c);
                    }
                }
            }
            cfg.set(&key, &value)?;
        }
        Ok(cfg)
    }
}

impl FromStr for Config {
    type Err = Error;

    /// Parses a `postgres://` / `postgresql://` URL or a `key=value` conninfo string.
    fn from_str(s: &str) -> Result<Config> {
        let s = s.trim();
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Config::parse_url(s)
        } else if s.contains('=') || s.is_empty() {
            Config::parse_conninfo(s)
        } else {
            Err(Error::Config(
                "expected a postgres:// URL or key=value pairs such as `host=localhost dbname=app`"
                    .into(),
            ))
        }
    }
}

fn split_host_port(hp: &str) -> Result<(&str, Option<&str>)> {
    if let Some(rest) = hp.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| Error::Config(format!("unterminated IPv6 address in `{hp}`")))?;
        let port = after.strip_prefix(':');
        return Ok((host, port));
    }
    Ok(match hp.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (hp, None),
    })
}

fn parse_num<T: FromStr>(key: &str, value: &str) -> Result<T> {
    value.trim().parse().map_err(|_| {
        Error::Config(format!(
            "`{key}` must be a non-negative number, got `{value}`"
        ))
    })
}

fn percent_decode(what: &str, s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error::Config(format!("bad percent-encoding in the {what}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::Config(format!("the {what} is not valid UTF-8")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_url() {
        let c: Config = "postgresql://us%40r:p%3Ass@[::1]:6543/my%20db?sslmode=verify-full&application_name=api&connect_timeout=3&options=-c%20search_path%3Dapp&sslrootcert=/ca.pem"
            .parse()
            .unwrap();
        assert_eq!(c.user.as_deref(), Some("us@r"));
        assert_eq!(c.password.as_deref(), Some(&b"p:ss"[..]));
        assert_eq!(c.hosts, vec![Host::Tcp("::1".into())]);
        assert_eq!(c.ports, vec![6543]);
        assert_eq!(c.dbname.as_deref(), Some("my db"));
        assert_eq!(c.ssl_mode, SslMode::VerifyFull);
        assert_eq!(c.application_name.as_deref(), Some("api"));
        assert_eq!(c.connect_timeout, Some(Duration::from_secs(3)));
        assert_eq!(c.options.as_deref(), Some("-c search_path=app"));
        assert_eq!(c.ssl_root_cert, Some(PathBuf::from("/ca.pem")));
    }

    #[test]
    fn parses_unix_socket_in_query() {
        let c: Config = "postgres://postgres@/db?host=%2Ftmp%2Fpg&port=5433"
            .parse()
            .unwrap();
        assert_eq!(c.hosts, vec![Host::Unix("/tmp/pg".into())]);
        assert_eq!(
            c.targets().unwrap(),
            vec![(Host::Unix("/tmp/pg".into()), 5433)]
        );
    }

    #[test]
    fn parses_conninfo_with_quotes() {
        let c: Config = "host=localhost port=5433 user=bob password='it\\'s secret' dbname = app"
            .parse()
            .unwrap();
        assert_eq!(c.password.as_deref(), Some(&b"it's secret"[..]));
        assert_eq!(c.dbname.as_deref(), Some("app"));
        assert_eq!(c.ports, vec![5433]);
    }

    #[test]
    fn rejects_bad_input_with_a_clear_message() {
        let e = "postgres://h/db?sslmode=sometimes"
            .parse::<Config>()
            .unwrap_err();
        assert!(e.to_string().contains("sslmode `sometimes`"), "{e}");
        let e = "postgres://h/db?colour=blue".parse::<Config>().unwrap_err();
        assert!(
            e.to_string()
                .contains("unknown connection parameter `colour`"),
            "{e}"
        );
        let e = "postgres://h:port/db".parse::<Config>().unwrap_err();
        assert!(e.to_string().contains("`port` must be"), "{e}");
        assert!("mysql://x".parse::<Config>().is_err());
        assert!("host='unterminated".parse::<Config>().is_err());
    }

    #[test]
    fn debug_hides_the_password() {
        let c: Config = "postgres://u:topsecret@h/db".parse().unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("topsecret"));
        assert!(d.contains("<redacted>"));
    }
}
