//! Throwaway PostgreSQL servers.

use std::fmt::Write as _;
use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::error::{IoContext, TestkitError};
use super::process::{self, RunAs, ServerProcess, Supervised};
use super::{POLL_INTERVAL, is_executable, lock};

/// Server name used in errors.
const SERVER: &str = "PostgreSQL";
/// Name of the superuser created by initdb.
const SUPERUSER: &str = "postgres";
/// Address the server listens on.
const HOST: &str = "127.0.0.1";
/// Attempts at finding a port nobody else grabs between our probe and the server's bind.
/// Signal for a fast shutdown (roll back sessions, checkpoint, exit).
const FAST_SHUTDOWN: &str = "INT";
/// Signal for an immediate shutdown (no checkpoint; the data dir is thrown away anyway).
const IMMEDIATE_SHUTDOWN: &str = "QUIT";
/// How long a shutdown may take before the server is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// File, in the data dir, holding the settings we manage (included from postgresql.conf).
const MANAGED_CONF: &str = "lifeguard.conf";
/// Log line written by the postmaster when it handles SIGHUP.
const RELOAD_LOG_LINE: &str = "received SIGHUP, reloading configuration files";

/// Options for a throwaway PostgreSQL server; see [`PgServer::builder`].
#[derive(Debug, Clone)]
pub struct PgServerBuilder {
    settings: Vec<(String, String)>,
    hba: Option<Vec<String>>,
    password: Option<String>,
    host_auth: String,
    tls: Option<(PathBuf, PathBuf)>,
    listen_tcp: bool,
    start_timeout: Duration,
}

impl Default for PgServerBuilder {
    fn default() -> Self {
        Self {
            settings: Vec::new(),
            hba: None,
            password: None,
            host_auth: "trust".to_owned(),
            tls: None,
            listen_tcp: true,
            start_timeout: Duration::from_secs(60),
        }
    }
}

impl PgServerBuilder {
    /// Adds a `postgresql.conf` setting (the value is quoted for you); later calls win.
    #[must_use]
    pub fn setting(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((key.into(), value.into()));
        self
    }

    /// Replaces the whole `pg_hba.conf` with these lines.
    #[must_use]
    pub fn hba<I, S>(mut self, lines: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.hba = Some(lines.into_iter().map(Into::into).collect());
        self
    }

    /// Gives the `postgres` superuser a password (authentication stays `trust` unless
    /// [`Self::host_auth`] or [`Self::hba`] say otherwise); URLs then include it.
    #[must_use]
    pub fn superuser_password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Sets initdb's `--auth-host` method (default `trust`; local socket auth stays `trust`).
    #[must_use]
    pub fn host_auth(mut self, method: impl Into<String>) -> Self {
        self.host_auth = method.into();
        self
    }

    /// Enables TLS with a PEM certificate and key, copied into the data directory.
    #[must_use]
    pub fn tls(mut self, cert_pem: impl AsRef<Path>, key_pem: impl AsRef<Path>) -> Self {
        self.tls = Some((cert_pem.as_ref().to_owned(), key_pem.as_ref().to_owned()));
        self
    }

    /// Whether to listen on 127.0.0.1 (default `true`); the Unix socket is always available.
    #[must_use]
    pub fn listen_tcp(mut self, listen: bool) -> Self {
        self.listen_tcp = listen;
        self
    }

    /// How long to wait for the server to accept connections (default 60 s).
    #[must_use]
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Runs initdb in a fresh temporary directory and starts the server.
    pub fn start(self) -> Result<PgServer, TestkitError> {
        let bin_dir = locate_bin_dir()?;
        let run_as = server_user()?;
        let dir = super::create_server_dir("pg")?;
        // From here on, dropping `server` removes the directory, also on errors.
        let mut server = PgServer::new(dir, bin_dir, run_as, &self);
        server.init(&self)?;
        server.first_start(&self)?;
        Ok(server)
    }
}

/// A throwaway PostgreSQL server, stopped and deleted on drop (or when this process dies).
#[derive(Debug)]
pub struct PgServer {
    dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    bin_dir: PathBuf,
    log_file: PathBuf,
    port: u16,
    password: Option<String>,
    listen_tcp: bool,
    run_as: Option<RunAs>,
    start_timeout: Duration,
    process: Supervised,
}

impl PgServer {
    /// Starts a server with default options.
    pub fn start() -> Result<Self, TestkitError> {
        Self::builder().start()
    }

    /// Returns a builder for a server with custom options.
    #[must_use]
    pub fn builder() -> PgServerBuilder {
        PgServerBuilder::default()
    }

    /// The process-wide server shared by all tests, started on first use; it is stopped and
    /// deleted when the process exits (including panics, aborts and `kill -9`).
    pub fn shared() -> Result<&'static PgServer, TestkitError> {
        static SHARED: Mutex<Option<&'static PgServer>> = Mutex::new(None);
        let mut shared = lock(&SHARED);
        if let Some(server) = *shared {
            return Ok(server);
        }
        let server: &'static PgServer = Box::leak(Box::new(Self::start()?));
        *shared = Some(server);
        Ok(server)
    }

    /// TCP port of the server (also the number in its Unix socket's name).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Host the server listens on: `127.0.0.1`.
    pub fn host(&self) -> &str {
        HOST
    }

    /// Directory holding the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The data directory (PGDATA).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Directory of the PostgreSQL binaries in use.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Path of a PostgreSQL program (e.g. `pgbench`, `psql`) of the same installation.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// The server log file.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// Name of the superuser: `postgres`.
    pub fn superuser(&self) -> &str {
        SUPERUSER
    }

    /// The superuser password, if one was set.
    pub fn superuser_password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// TCP connection URL for database `db`: `postgres://postgres@127.0.0.1:PORT/DB`.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://{}@{HOST}:{}/{}",
            self.userinfo(),
            self.port,
            super::percent_encode(db)
        )
    }

    /// Unix-socket connection URL: `postgres://postgres@/DB?host=SOCKET_DIR&port=PORT`.
    pub fn socket_url(&self, db: &str) -> String {
        format!(
            "postgres://{}@/{}?host={}&port={}",
            self.userinfo(),
            super::percent_encode(db),
            super::percent_encode(&self.socket_dir.to_string_lossy()),
            self.port
        )
    }

    /// Process id of the postmaster, `None` while stopped.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Fast shutdown (like `pg_ctl stop -m fast`), waiting for the server to exit; keeps the
    /// data directory so [`Self::start_again`] can bring it back. No-op when stopped.
    pub fn stop(&self) -> Result<(), TestkitError> {
        self.process.stop(FAST_SHUTDOWN, STOP_TIMEOUT)
    }

    /// Starts a stopped server again on the same data directory and port. No-op when running.
    pub fn start_again(&self) -> Result<(), TestkitError> {
        self.process.start_again(|| self.spawn_same_port())
    }

    /// Fast shutdown followed by a start on the same port (like `pg_ctl restart -m fast`).
    pub fn restart_fast(&self) -> Result<(), TestkitError> {
        self.stop()?;
        self.start_again()
    }

    /// Replaces `pg_hba.conf` with `lines`; call [`Self::reload_config`] to apply it.
    pub fn write_hba<I, S>(&self, lines: I) -> Result<(), TestkitError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut text = String::new();
        for line in lines {
            text.push_str(line.as_ref());
            text.push('\n');
        }
        self.write_owned(&self.data_dir.join("pg_hba.conf"), text.as_bytes())
    }

    /// Makes the server re-read its configuration files (SIGHUP) and waits until it has.
    pub fn reload_config(&self) -> Result<(), TestkitError> {
        let before = self.count_reloads();
        self.process
            .with_running(|running| running.signal("HUP"))
            .ok_or(TestkitError::NotRunning { server: SERVER })??;
        let timeout = Duration::from_secs(10);
        if process::wait_for(timeout, || self.count_reloads() > before) {
            return Ok(());
        }
        Err(TestkitError::Timeout {
            server: SERVER,
            what: "configuration reload",
            timeout,
        })
    }

    /// Creates the server value (nothing started yet).
    fn new(dir: PathBuf, bin_dir: PathBuf, run_as: Option<RunAs>, opts: &PgServerBuilder) -> Self {
        let data_dir = dir.join("data");
        Self {
            socket_dir: dir.join("socket"),
            log_file: data_dir.join("postgres.log"),
            data_dir,
            dir,
            bin_dir,
            port: 0,
            password: opts.password.clone(),
            listen_tcp: opts.listen_tcp,
            run_as,
            start_timeout: opts.start_timeout,
            process: Supervised::default(),
        }
    }

    /// `user[:password]`, percent-encoded, for URLs.
    fn userinfo(&self) -> String {
        match &self.password {
            Some(password) => format!("{SUPERUSER}:{}", super::percent_encode(password)),
            None => SUPERUSER.to_owned(),
        }
    }

    /// Creates the data and socket directories, runs initdb and writes configuration.
    fn init(&self, opts: &PgServerBuilder) -> Result<(), TestkitError> {
        self.make_server_dir(&self.data_dir, 0o700)?;
        self.make_server_dir(&self.socket_dir, 0o755)?;
        self.initdb(opts)?;
        self.configure(opts)
    }

    /// Creates a directory owned by the server user with `mode`.
    fn make_server_dir(&self, path: &Path, mode: u32) -> Result<(), TestkitError> {
        fs::create_dir(path).context(|| format!("creating {}", path.display()))?;
        self.chown_and_chmod(path, mode)
    }

    /// Hands `path` to the server user and sets its permission bits.
    fn chown_and_chmod(&self, path: &Path, mode: u32) -> Result<(), TestkitError> {
        if let Some(user) = self.run_as {
            std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
                .context(|| format!("changing owner of {}", path.display()))?;
        }
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .context(|| format!("setting permissions of {}", path.display()))
    }

    /// Writes a file readable only by the server user (mode 0600).
    fn write_owned(&self, path: &Path, contents: &[u8]) -> Result<(), TestkitError> {
        fs::write(path, contents).context(|| format!("writing {}", path.display()))?;
        self.chown_and_chmod(path, 0o600)
    }

    /// Runs initdb as the server user.
    fn initdb(&self, opts: &PgServerBuilder) -> Result<(), TestkitError> {
        let pwfile = self.dir.join("pwfile");
        let mut cmd = process::command(&self.bin("initdb"), self.run_as)?;
        cmd.current_dir(&self.dir)
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-U", SUPERUSER, "--no-sync", "-E", "UTF8", "--locale=C"])
            .arg("--auth-local=trust")
            .arg(format!("--auth-host={}", opts.host_auth));
        if let Some(password) = &opts.password {
            self.write_owned(&pwfile, format!("{password}\n").as_bytes())?;
            cmd.arg(format!("--pwfile={}", pwfile.display()));
        }
        let result = process::run_checked(&mut cmd);
        if opts.password.is_some() {
            let _ = fs::remove_file(&pwfile);
        }
        result.map(drop)
    }

    /// Writes pg_hba.conf, TLS files and the include of our managed settings file.
    fn configure(&self, opts: &PgServerBuilder) -> Result<(), TestkitError> {
        if let Some(lines) = &opts.hba {
            self.write_hba(lines)?;
        }
        if let Some((cert, key)) = &opts.tls {
            self.copy_owned(cert, "server.crt")?;
            self.copy_owned(key, "server.key")?;
        }
        let conf = self.data_dir.join("postgresql.conf");
        let mut text =
            fs::read_to_string(&conf).context(|| format!("reading {}", conf.display()))?;
        let _ = write!(text, "\ninclude '{MANAGED_CONF}'\n");
        fs::write(&conf, text).context(|| format!("writing {}", conf.display()))
    }

    /// Copies a file into the data directory as `name`, owned by the server user, mode 0600.
    fn copy_owned(&self, from: &Path, name: &str) -> Result<(), TestkitError> {
        let contents = fs::read(from).context(|| format!("reading {}", from.display()))?;
        self.write_owned(&self.data_dir.join(name), &contents)
    }

    /// Writes the managed settings file for the current port.
    fn write_managed_conf(&self, opts: &PgServerBuilder) -> Result<(), TestkitError> {
        let mut settings: Vec<(String, String)> = [
            ("fsync", "off"),
            ("synchronous_commit", "off"),
            ("full_page_writes", "off"),
            ("max_connections", "300"),
            ("shared_buffers", "128MB"),
            ("max_wal_size", "4GB"),
            ("logging_collector", "off"),
            ("log_destination", "stderr"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
        settings.extend(opts.settings.iter().cloned());
        settings.extend(self.managed_settings(opts.tls.is_some()));
        let mut text = String::from("# Written by the lifeguard testkit.\n");
        for (key, value) in settings {
            let _ = writeln!(text, "{key} = '{}'", value.replace('\'', "''"));
        }
        self.write_owned(&self.data_dir.join(MANAGED_CONF), text.as_bytes())
    }

    /// Settings the testkit relies on, written after the user's so they cannot be overridden.
    fn managed_settings(&self, tls: bool) -> Vec<(String, String)> {
        let listen = if self.listen_tcp { HOST } else { "" };
        let mut settings = vec![
            ("listen_addresses".to_owned(), listen.to_owned()),
            ("port".to_owned(), self.port.to_string()),
            (
                "unix_socket_directories".to_owned(),
                self.socket_dir.to_string_lossy().into_owned(),
            ),
        ];
        if tls {
            settings.push(("ssl".to_owned(), "on".to_owned()));
            settings.push(("ssl_cert_file".to_owned(), "server.crt".to_owned()));
            settings.push(("ssl_key_file".to_owned(), "server.key".to_owned()));
        }
        settings
    }

    /// First start: picks a free port, retrying with another one if it gets taken meanwhile.
    fn first_start(&mut self, opts: &PgServerBuilder) -> Result<(), TestkitError> {
        let process = super::retry_on_port_conflict(
            || {
                self.port = super::free_port()?;
                self.write_managed_conf(opts)?;
                self.spawn_and_wait()
            },
            || {},
        )?;
        self.process.set(process);
        Ok(())
    }

    /// Starts on the existing port, retrying briefly if the port is momentarily busy.
    fn spawn_same_port(&self) -> Result<ServerProcess, TestkitError> {
        super::retry_on_port_conflict(
            || self.spawn_and_wait(),
            || may::coroutine::sleep(Duration::from_millis(200)),
        )
    }

    /// Spawns the postmaster and waits until it accepts connections.
    fn spawn_and_wait(&self) -> Result<ServerProcess, TestkitError> {
        let mut cmd = process::command(&self.bin("postgres"), self.run_as)?;
        cmd.arg("-D").arg(&self.data_dir);
        let log_start = fs::metadata(&self.log_file).map_or(0, |m| m.len());
        let mut process = ServerProcess::spawn(cmd, &self.dir, &self.log_file, IMMEDIATE_SHUTDOWN)?;
        super::record_server_pid(&self.dir, process.pid(), IMMEDIATE_SHUTDOWN)?;
        match self.wait_ready(&mut process) {
            Ok(()) => Ok(process),
            Err(err) => {
                let _ = process.stop(IMMEDIATE_SHUTDOWN, STOP_TIMEOUT);
                Err(super::narrow_log_tail(err, &self.log_file, log_start))
            }
        }
    }

    /// Polls until the server accepts connections, it exits, or the start timeout passes.
    fn wait_ready(&self, process: &mut ServerProcess) -> Result<(), TestkitError> {
        let deadline = Instant::now() + self.start_timeout;
        loop {
            if let Some(status) = process.exit_status()? {
                return Err(self.exited_error(status));
            }
            if self.accepts_connections(process.pid()) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(TestkitError::StartTimeout {
                    server: SERVER,
                    timeout: self.start_timeout,
                    log: self.log_file.clone(),
                    log_tail: super::log_tail(&self.log_file, 30),
                });
            }
            may::coroutine::sleep(POLL_INTERVAL);
        }
    }

    /// Whether postmaster `pid` reports ready and its socket(s) accept connections.
    fn accepts_connections(&self, pid: u32) -> bool {
        if !postmaster_ready(&self.data_dir, pid) {
            return false;
        }
        let socket = self
            .socket_dir
            .join(format!(".s.PGSQL.{}", self.port))
            .exists();
        if self.listen_tcp {
            let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
            socket && TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
        } else {
            socket
        }
    }

    /// Builds the error for a server that exited during startup.
    fn exited_error(&self, status: std::process::ExitStatus) -> TestkitError {
        TestkitError::ExitedDuringStartup {
            server: SERVER,
            status,
            log: self.log_file.clone(),
            log_tail: super::log_tail(&self.log_file, 30),
        }
    }

    /// How many configuration reloads the log shows.
    fn count_reloads(&self) -> usize {
        fs::read_to_string(&self.log_file).map_or(0, |log| log.matches(RELOAD_LOG_LINE).count())
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let stopped = self.process.stop(IMMEDIATE_SHUTDOWN, STOP_TIMEOUT);
        if let Err(err) = stopped {
            tracing::warn!(%err, "stopping PostgreSQL on drop failed");
        }
        super::remove_server_dir(&self.dir);
    }
}

/// Whether `postmaster.pid` names `pid` and (PostgreSQL 10+) says `ready`.
fn postmaster_ready(data_dir: &Path, pid: u32) -> bool {
    let Ok(text) = fs::read_to_string(data_dir.join("postmaster.pid")) else {
        return false;
    };
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    // Line 8 is the postmaster's status; it is written only once start-up has progressed,
    // so a missing line means "not yet".
    lines.first() == Some(&pid.to_string().as_str())
        && lines
            .get(7)
            .is_some_and(|status| *status == "ready" || *status == "standby")
}

/// The user to run PostgreSQL as: `postgres` when we are root (initdb refuses root).
fn server_user() -> Result<Option<RunAs>, TestkitError> {
    if process::euid()? != 0 {
        return Ok(None);
    }
    match process::lookup_user("postgres")? {
        Some(user) => Ok(Some(user)),
        None => Err(TestkitError::MissingUser {
            user: "postgres".to_owned(),
            hint: "PostgreSQL refuses to run as root; install the `postgresql` package \
                   (which creates the user) or run as a non-root user"
                .to_owned(),
        }),
    }
}

/// Finds a directory holding `initdb` and `postgres`: `$PATH` first, then the highest
/// version under `/usr/lib/postgresql/*/bin`.
fn locate_bin_dir() -> Result<PathBuf, TestkitError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .find(|dir| has_server_binaries(dir))
        .map(|dir| resolve_installation(&dir))
        .or_else(highest_debian_bin_dir)
        .ok_or_else(|| TestkitError::NotInstalled {
            what: "PostgreSQL server binaries".to_owned(),
            programs: "initdb, postgres".to_owned(),
            hint: "install them with `apt-get install postgresql` (as root or with sudo), \
                   or put the directory containing them on PATH"
                .to_owned(),
        })
}

/// Follows a symlinked `postgres` (e.g. `/usr/local/bin/postgres`) to the directory of the
/// real installation, which also holds `pg_isready`, `pgbench` and friends.
fn resolve_installation(dir: &Path) -> PathBuf {
    dir.join("postgres")
        .canonicalize()
        .ok()
        .and_then(|real| real.parent().map(Path::to_path_buf))
        .filter(|real_dir| has_server_binaries(real_dir))
        .unwrap_or_else(|| dir.to_path_buf())
}

/// Whether `dir` contains executable `initdb` and `postgres`.
fn has_server_binaries(dir: &Path) -> bool {
    is_executable(&dir.join("initdb")) && is_executable(&dir.join("postgres"))
}

/// The `bin` directory of the highest PostgreSQL version under `/usr/lib/postgresql`.
fn highest_debian_bin_dir() -> Option<PathBuf> {
    fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let version = parse_version(&entry.file_name().to_string_lossy())?;
            let bin = entry.path().join("bin");
            has_server_binaries(&bin).then_some((version, bin))
        })
        .max()
        .map(|(_, bin)| bin)
}

/// Parses a version directory name such as `15` or `9.6`.
fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Whether `/proc/<pid>` shows a live (non-zombie) process.
    fn alive(pid: u32) -> bool {
        super::super::proc_alive(pid)
    }

    /// Runs `pg_isready` against the server's TCP address.
    fn pg_isready(server: &PgServer) -> bool {
        Command::new(server.bin("pg_isready"))
            .args(["-h", server.host(), "-p", &server.port().to_string()])
            .output()
            .is_ok_and(|out| out.status.success())
    }

    #[test]
    fn parses_versions() {
        assert_eq!(parse_version("15"), Some(vec![15]));
        assert_eq!(parse_version("9.6"), Some(vec![9, 6]));
        assert_eq!(parse_version("common"), None);
        assert!(parse_version("10") > parse_version("9.6"));
    }

    #[test]
    fn starts_restarts_and_cleans_up() {
        let server = PgServer::start().expect("start PostgreSQL");
        let port = server.port();
        assert!(TcpStream::connect((server.host(), port)).is_ok());
        assert!(pg_isready(&server), "pg_isready failed");
        assert!(
            server
                .socket_dir()
                .join(format!(".s.PGSQL.{port}"))
                .exists()
        );
        assert_eq!(
            server.url("app db"),
            format!("postgres://postgres@127.0.0.1:{port}/app%20db")
        );
        assert!(server.socket_url("x").contains("?host=%2F"));

        let old_pid = server.pid().expect("running");
        server.restart_fast().expect("restart");
        let new_pid = server.pid().expect("running after restart");
        assert_ne!(old_pid, new_pid);
        assert!(!alive(old_pid));
        assert_eq!(server.port(), port);
        assert!(pg_isready(&server), "pg_isready after restart failed");

        let dir = server.dir.clone();
        drop(server);
        assert!(!alive(new_pid), "postmaster {new_pid} survived drop");
        assert!(!dir.exists(), "{} survived drop", dir.display());
    }

    /// Runs `psql` with `url`, returning the trimmed output of `sql` or stderr on failure.
    fn psql(server: &PgServer, url: &str, sql: &str) -> Result<String, String> {
        let out = Command::new(server.bin("psql"))
            .args([url, "-XAtc", sql])
            .env_remove("PGPASSWORD")
            .output()
            .map_err(|err| err.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    #[test]
    fn password_hba_settings_and_tls() {
        let Some(certs) = self_signed_cert() else {
            eprintln!("openssl not available; skipping");
            return;
        };
        let server = PgServer::builder()
            .setting("work_mem", "8MB")
            .superuser_password("s3cr:t")
            .hba([
                "local all all trust",
                "host all all 127.0.0.1/32 scram-sha-256",
            ])
            .tls(certs.join("cert.pem"), certs.join("key.pem"))
            .start()
            .expect("start PostgreSQL");
        let _ = fs::remove_dir_all(&certs);
        let url = server.url("postgres");
        assert!(url.starts_with("postgres://postgres:s3cr%3At@127.0.0.1:"));
        let tls_url = format!("{url}?sslmode=require");
        let sql = "select current_setting('work_mem') || ' ' || ssl \
                   from pg_stat_ssl where pid = pg_backend_pid()";
        assert_eq!(psql(&server, &tls_url, sql).as_deref(), Ok("8MB true"));
        let wrong = format!(
            "postgres://postgres:nope@127.0.0.1:{}/postgres",
            server.port()
        );
        assert!(psql(&server, &wrong, "select 1").is_err());
        assert_eq!(
            psql(&server, &server.socket_url("postgres"), "select 1").as_deref(),
            Ok("1")
        );
    }

    /// Writes a self-signed certificate and key for 127.0.0.1 into a fresh directory.
    fn self_signed_cert() -> Option<PathBuf> {
        let dir =
            std::env::temp_dir().join(format!("lifeguard-testkit-cert-{}", std::process::id()));
        fs::create_dir_all(&dir).ok()?;
        let status = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=127.0.0.1", "-keyout"])
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .output()
            .ok()?
            .status;
        status.success().then_some(dir)
    }

    #[test]
    fn unix_socket_only_stop_start_again_and_reload() {
        let server = PgServer::builder()
            .listen_tcp(false)
            .start()
            .expect("start PostgreSQL");
        assert!(TcpStream::connect((server.host(), server.port())).is_err());
        let url = server.socket_url("postgres");
        assert_eq!(psql(&server, &url, "select 1").as_deref(), Ok("1"));

        server.stop().expect("stop");
        assert_eq!(server.pid(), None);
        assert!(psql(&server, &url, "select 1").is_err());
        server.stop().expect("second stop is a no-op");
        server.start_again().expect("start again");
        assert!(server.pid().is_some());
        assert_eq!(psql(&server, &url, "select 1").as_deref(), Ok("1"));

        server
            .write_hba(["local all all reject"])
            .expect("write hba");
        server.reload_config().expect("reload");
        assert!(psql(&server, &url, "select 1").is_err());
    }

    #[test]
    fn shared_server_is_reused() {
        let a = PgServer::shared().expect("shared");
        let b = PgServer::shared().expect("shared");
        assert!(std::ptr::eq(a, b));
        assert!(pg_isready(a));
    }
}
