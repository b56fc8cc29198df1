//! Throwaway PostgreSQL and Redis servers for tests, examples and the CLI.
//!
//! Each server lives in its own directory under [`root_dir()`] and is guarded by a watchdog
//! process that shuts it down and removes its directory as soon as the process that started
//! it dies — even through `std::process::abort` or `kill -9` — so servers returned by the
//! never-dropped `shared()` constructors do not outlive the test binary. Directories left
//! behind anyway (e.g. by a machine crash) are cleaned up by the next server start.
//!
//! Starting a server runs `initdb` and waits for child processes, which blocks the calling
//! thread for a moment: start servers (or call [`PgServer::shared`]) from a test's thread,
//! not from inside a coroutine that shares a worker with others. Polling waits park the
//! coroutine rather than the thread.

mod database;
mod error;
mod pool;
mod postgres;
mod process;
mod redis;

use std::collections::HashSet;
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

pub use database::{DATABASE_URL_ENV, REDIS_URL_ENV, TestDatabase, admin_url, redis_url};
pub use error::TestkitError;
pub use pool::{TestPool, TestTransaction};
pub use postgres::{PgServer, PgServerBuilder};
pub use redis::RedisServer;

use error::IoContext;

/// Interval of every polling loop in the testkit.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Name of the file, in each server directory, holding the owning process' pid and start time.
const OWNER_FILE: &str = "owner.pid";

/// Name of the file, in each server directory, holding the server's pid and stop signal.
const SERVER_PID_FILE: &str = "server.pid";

/// Prefixes of the server directories this module creates and cleans up.
const DIR_PREFIXES: [&str; 2] = ["pg", "redis"];

/// The directory under which every throwaway server gets its own subdirectory.
pub fn root_dir() -> PathBuf {
    std::env::temp_dir().join("lifeguard-testkit")
}

/// Locks a mutex, ignoring poisoning (a panicking test must not break the others).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Finds an executable named `name` on `$PATH`, then in the usual system directories.
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/usr/sbin", "/bin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// Whether `path` is a regular file with an execute bit set.
pub(crate) fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.mode() & 0o111 != 0)
}

/// Parses `/proc/<pid>/stat` content into (state, start time in clock ticks).
fn parse_stat(stat: &str) -> Option<(char, u64)> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_comm.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // Field 22 of the full line is the 20th after the state (field 3).
    let start_time = fields.nth(18)?.parse().ok()?;
    Some((state, start_time))
}

/// Reads the state and start time of process `pid`, `None` when it does not exist.
fn proc_stat(pid: u32) -> Option<(char, u64)> {
    parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Whether process `pid` exists and is not a zombie.
pub(crate) fn proc_alive(pid: u32) -> bool {
    proc_stat(pid).is_some_and(|(state, _)| !matches!(state, 'Z' | 'X' | 'x'))
}

/// Creates [`root_dir()`] (world-writable and sticky, like `/tmp`) and returns it.
fn prepare_root() -> Result<PathBuf, TestkitError> {
    let root = root_dir();
    match fs::create_dir(&root) {
        Ok(()) => fs::set_permissions(&root, fs::Permissions::from_mode(0o1777))
            .context(|| format!("setting permissions of {}", root.display()))?,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(err) => {
            return Err(TestkitError::io(
                format!("creating {}", root.display()),
                err,
            ));
        }
    }
    Ok(root)
}

/// Creates a fresh, empty server directory `<root>/<kind>-<pid>-<n>` containing `owner.pid`,
/// after removing the leftovers of dead processes.
pub(crate) fn create_server_dir(kind: &str) -> Result<PathBuf, TestkitError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let root = prepare_root()?;
    cleanup_leftovers();
    let pid = std::process::id();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = root.join(format!("{kind}-{pid}-{n}"));
        match fs::create_dir(&dir) {
            Ok(()) => {
                init_server_dir(&dir, pid)?;
                return Ok(dir);
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(TestkitError::io(format!("creating {}", dir.display()), err)),
        }
    }
}

/// Makes a new server directory traversable by the server user and records its owner.
fn init_server_dir(dir: &Path, pid: u32) -> Result<(), TestkitError> {
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))
        .context(|| format!("setting permissions of {}", dir.display()))?;
    let start_time = proc_stat(pid).map_or(0, |(_, start)| start);
    let path = dir.join(OWNER_FILE);
    fs::write(&path, format!("{pid}\n{start_time}\n"))
        .context(|| format!("writing {}", path.display()))
}

/// Records the pid of a started server and the signal that stops it, for leftover cleanup.
pub(crate) fn record_server_pid(dir: &Path, pid: u32, signal: &str) -> Result<(), TestkitError> {
    let path = dir.join(SERVER_PID_FILE);
    fs::write(&path, format!("{pid}\n{signal}\n")).context(|| format!("writing {}", path.display()))
}

/// Removes a server directory, logging (not failing) when that is impossible.
pub(crate) fn remove_server_dir(dir: &Path) {
    match fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(dir = %dir.display(), %err, "removing server directory failed"),
    }
}

/// Removes the server directories under [`root_dir()`] whose owning process is gone, first
/// stopping any server still running from them. Directories of live owners are never touched.
/// Runs automatically before every server start; returns how many directories were removed.
pub fn cleanup_leftovers() -> usize {
    let Ok(entries) = fs::read_dir(root_dir()) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let dir = entry.path();
        let Some(name_pid) = owner_pid_from_name(&entry.file_name().to_string_lossy()) else {
            continue;
        };
        if owner_alive(&dir, name_pid) {
            continue;
        }
        tracing::info!(dir = %dir.display(), "removing leftover test server directory");
        stop_leftover_servers(&dir);
        remove_server_dir(&dir);
        removed += usize::from(!dir.exists());
    }
    removed
}

/// Extracts the owner pid from a server directory name such as `pg-1234-0`.
fn owner_pid_from_name(name: &str) -> Option<u32> {
    let mut parts = name.split('-');
    let prefix = parts.next()?;
    let pid = parts.next()?.parse().ok()?;
    let _counter: u64 = parts.next()?.parse().ok()?;
    (DIR_PREFIXES.contains(&prefix) && parts.next().is_none()).then_some(pid)
}

/// Whether the process that created `dir` still runs (same pid *and* same start time).
fn owner_alive(dir: &Path, name_pid: u32) -> bool {
    let recorded = fs::read_to_string(dir.join(OWNER_FILE)).unwrap_or_default();
    let mut lines = recorded.lines();
    let pid = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(name_pid);
    let start_time: Option<u64> = lines.next().and_then(|l| l.trim().parse().ok());
    match proc_stat(pid) {
        None | Some(('Z' | 'X' | 'x', _)) => false,
        Some((_, actual)) => start_time.is_none_or(|st| st == 0 || st == actual),
    }
}

/// Stops servers still running from a leftover directory (only processes whose working
/// directory lies inside it, so a recycled pid is never hit).
fn stop_leftover_servers(dir: &Path) {
    let mut targets = Vec::new();
    if let Ok(text) = fs::read_to_string(dir.join(SERVER_PID_FILE)) {
        let mut lines = text.lines();
        let pid = lines.next().and_then(|l| l.trim().parse::<u32>().ok());
        let signal = lines.next().map_or("TERM", str::trim).to_owned();
        targets.extend(pid.map(|pid| (pid, signal)));
    }
    if let Ok(text) = fs::read_to_string(dir.join("data").join("postmaster.pid")) {
        let pid = text
            .lines()
            .next()
            .and_then(|l| l.trim().parse::<u32>().ok());
        targets.extend(pid.map(|pid| (pid, "QUIT".to_owned())));
    }
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    for (pid, signal) in targets {
        if runs_inside(pid, &dir) {
            process::kill_and_wait(pid, &signal, Duration::from_secs(5));
        }
    }
}

/// Whether process `pid` is alive with its working directory inside `dir`.
fn runs_inside(pid: u32, dir: &Path) -> bool {
    proc_alive(pid)
        && fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd.starts_with(dir))
}

/// Picks a currently free TCP port on 127.0.0.1, never the same one twice in this process.
pub(crate) fn free_port() -> Result<u16, TestkitError> {
    static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut handed_out = lock(&HANDED_OUT);
    let handed_out = handed_out.get_or_insert_with(HashSet::new);
    let mut last = 0;
    for _ in 0..50 {
        let listener = TcpListener::bind("127.0.0.1:0")
            .context(|| "binding 127.0.0.1:0 to find a free port".to_owned())?;
        let port = listener
            .local_addr()
            .context(|| "reading the address of a bound socket".to_owned())?
            .port();
        last = port;
        if handed_out.insert(port) {
            return Ok(port);
        }
    }
    Ok(last)
}

/// Returns the last `lines` lines of a log file (or a note when it cannot be read).
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(err) => format!("(could not read {}: {err})", path.display()),
    }
}

/// Whether a startup failure was caused by the port being taken.
/// How many ports a server start tries before giving up.
const PORT_ATTEMPTS: usize = 5;

/// Runs `attempt` until it succeeds or fails for another reason than a port taken meanwhile
/// (at most [`PORT_ATTEMPTS`] times), calling `before_retry` between attempts.
pub(crate) fn retry_on_port_conflict<T>(
    mut attempt: impl FnMut() -> Result<T, TestkitError>,
    mut before_retry: impl FnMut(),
) -> Result<T, TestkitError> {
    let mut tried = 0;
    loop {
        tried += 1;
        match attempt() {
            Err(err) if tried < PORT_ATTEMPTS && is_port_conflict(&err) => {
                tracing::debug!(%err, "port taken, retrying");
                before_retry();
            }
            result => return result,
        }
    }
}

pub(crate) fn is_port_conflict(err: &TestkitError) -> bool {
    matches!(err, TestkitError::ExitedDuringStartup { log_tail, .. }
        if log_tail.contains("Address already in use"))
}

/// Replaces the log tail of an [`TestkitError::ExitedDuringStartup`] with everything the
/// log gained since byte `offset`, i.e. what this start attempt wrote.
pub(crate) fn narrow_log_tail(err: TestkitError, log: &Path, offset: u64) -> TestkitError {
    match err {
        TestkitError::ExitedDuringStartup {
            server,
            status,
            log: log_path,
            log_tail,
        } => TestkitError::ExitedDuringStartup {
            server,
            status,
            log: log_path,
            log_tail: read_from(log, offset).unwrap_or(log_tail),
        },
        other => other,
    }
}

/// Reads a file from byte `offset` on, `None` if unreadable.
fn read_from(path: &Path, offset: u64) -> Option<String> {
    let bytes = fs::read(path).ok()?;
    let start = usize::try_from(offset).ok()?.min(bytes.len());
    Some(String::from_utf8_lossy(&bytes[start..]).into_owned())
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xF)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encodes_reserved_characters() {
        assert_eq!(percent_encode("/tmp/a b"), "%2Ftmp%2Fa%20b");
        assert_eq!(percent_encode("p@ss:w/rd"), "p%40ss%3Aw%2Frd");
        assert_eq!(percent_encode("plain-_.~1"), "plain-_.~1");
    }

    #[test]
    fn parses_owner_pid_from_dir_names() {
        assert_eq!(owner_pid_from_name("pg-1234-0"), Some(1234));
        assert_eq!(owner_pid_from_name("redis-77-12"), Some(77));
        assert_eq!(owner_pid_from_name("other-1-2"), None);
        assert_eq!(owner_pid_from_name("pg-1-2-3"), None);
        assert_eq!(owner_pid_from_name("pg-x-2"), None);
    }

    #[test]
    fn reads_own_process_stat() {
        let (state, start) = proc_stat(std::process::id()).expect("own stat");
        assert!(matches!(state, 'R' | 'S'), "state {state}");
        assert!(start > 0);
        assert!(proc_alive(std::process::id()));
    }

    #[test]
    fn parses_stat_with_spaces_in_comm() {
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987 0";
        assert_eq!(parse_stat(stat), Some(('S', 987)));
    }

    /// Env var telling the re-executed test binary how the helper test should die.
    const DEATH_MODE_VAR: &str = "LIFEGUARD_TESTKIT_DEATH_MODE";

    /// Env var naming the file where the helper test reports its servers.
    const REPORT_VAR: &str = "LIFEGUARD_TESTKIT_DEATH_REPORT";

    /// Not a real test: when re-executed by [`run_death_scenario`] it starts the shared
    /// servers, prints their pids and directories, then dies the way it was asked to.
    #[test]
    fn process_death_helper() {
        let (Ok(mode), Ok(report)) = (std::env::var(DEATH_MODE_VAR), std::env::var(REPORT_VAR))
        else {
            return;
        };
        let pg = PgServer::shared().expect("shared PostgreSQL");
        let redis = RedisServer::shared().expect("shared Redis");
        let line = format!(
            "{} {} {} {}\n",
            pg.pid().expect("pg pid"),
            redis.pid().expect("redis pid"),
            pg.data_dir().parent().expect("pg dir").display(),
            redis.dir().display()
        );
        // Written to a file: the test harness captures stdout.
        fs::write(format!("{report}.tmp"), line).expect("write report");
        fs::rename(format!("{report}.tmp"), &report).expect("publish report");
        match mode.as_str() {
            "abort" => std::process::abort(),
            "exit" => std::process::exit(0),
            "panic" => panic!("dying on purpose"),
            _ => loop {
                may::coroutine::sleep(Duration::from_secs(1));
            },
        }
    }

    /// Re-runs this test binary with only [`process_death_helper`], lets it die by `mode`
    /// (`hang` means we `kill -9` it), and checks that its servers and directories vanish.
    fn run_death_scenario(mode: &str) {
        let module = module_path!().split_once("::").map_or("", |(_, rest)| rest);
        let report = std::env::temp_dir().join(format!(
            "lifeguard-testkit-death-{}-{mode}",
            std::process::id()
        ));
        let _ = fs::remove_file(&report);
        let exe = std::env::current_exe().expect("current exe");
        let mut child = std::process::Command::new(exe)
            .args(["--exact", &format!("{module}::process_death_helper")])
            .args(["--nocapture", "--test-threads=1"])
            .env(DEATH_MODE_VAR, mode)
            .env(REPORT_VAR, &report)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn helper");
        let reported = process::wait_for(Duration::from_secs(120), || report.exists());
        let line = fs::read_to_string(&report).unwrap_or_default();
        let _ = fs::remove_file(&report);
        if mode == "hang" || !reported {
            child.kill().expect("kill -9 helper");
        }
        child.wait().expect("wait helper");
        assert!(reported, "{mode}: helper did not report its servers");
        let fields: Vec<&str> = line.split_whitespace().collect();
        let pids: Vec<u32> = fields[..2]
            .iter()
            .map(|f| f.parse().expect("pid"))
            .collect();
        let dirs: Vec<PathBuf> = fields[2..4].iter().map(PathBuf::from).collect();
        let gone = process::wait_for(Duration::from_secs(15), || {
            pids.iter().all(|&pid| !proc_alive(pid)) && dirs.iter().all(|dir| !dir.exists())
        });
        assert!(
            gone,
            "{mode}: servers {pids:?} or dirs {dirs:?} survived their owner"
        );
    }

    #[test]
    fn servers_die_with_their_process_on_kill_9() {
        run_death_scenario("hang");
    }

    #[test]
    fn servers_die_with_their_process_on_abort() {
        run_death_scenario("abort");
    }

    #[test]
    fn servers_die_with_their_process_on_exit() {
        run_death_scenario("exit");
    }

    #[test]
    fn servers_die_with_their_process_on_panic() {
        run_death_scenario("panic");
    }

    #[test]
    fn cleanup_removes_leftovers_of_dead_owners_only() {
        let root = prepare_root().expect("root");
        let mut dead = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let dead_pid = dead.id();
        dead.wait().expect("wait true");
        // Build the fake leftover elsewhere and move it in atomically, so that a concurrent
        // cleanup never sees it half-made.
        let staging = std::env::temp_dir().join(format!("lifeguard-testkit-stage-{dead_pid}"));
        fs::create_dir_all(&staging).expect("staging dir");
        fs::write(staging.join(OWNER_FILE), format!("{dead_pid}\n1\n")).expect("owner");
        let mut server = std::process::Command::new("sleep")
            .arg("60")
            .current_dir(&staging)
            .spawn()
            .expect("spawn sleep");
        record_server_pid(&staging, server.id(), "TERM").expect("server pid");
        let stale = root.join(format!("redis-{dead_pid}-999999"));
        fs::rename(&staging, &stale).expect("move leftover into place");
        let live = root.join(format!("redis-{}-999999", std::process::id()));
        fs::create_dir_all(&live).expect("live dir");
        init_server_dir(&live, std::process::id()).expect("init live dir");

        cleanup_leftovers();
        let stopped = process::wait_for(Duration::from_secs(10), || {
            matches!(server.try_wait(), Ok(Some(_)))
        });
        let _ = server.kill();
        assert!(stopped, "leftover server survived cleanup");
        assert!(!stale.exists(), "stale dir survived cleanup");
        assert!(live.exists(), "cleanup removed a live owner's dir");
        remove_server_dir(&live);
    }

    #[test]
    fn free_ports_are_distinct() {
        let a = free_port().expect("port");
        let b = free_port().expect("port");
        assert_ne!(a, b);
    }
}
