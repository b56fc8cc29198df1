//! Throwaway Redis servers.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::error::TestkitError;
use super::process::{ServerProcess, Supervised};
use super::{POLL_INTERVAL, find_program, lock};

/// Server name used in errors.
const SERVER: &str = "Redis";
/// Address the server listens on.
const HOST: &str = "127.0.0.1";
/// Attempts at finding a port nobody else grabs between our probe and the server's bind.
/// Redis shuts down cleanly on SIGTERM (nothing is saved: persistence is off).
const SHUTDOWN: &str = "TERM";
/// How long a shutdown may take before the server is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the server to answer `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A throwaway Redis server without persistence, stopped and deleted on drop (or when this
/// process dies).
#[derive(Debug)]
pub struct RedisServer {
    dir: PathBuf,
    socket_path: PathBuf,
    log_file: PathBuf,
    bin: PathBuf,
    port: u16,
    process: Supervised,
}

impl RedisServer {
    /// Starts a server on a free port in a fresh temporary directory.
    pub fn start() -> Result<Self, TestkitError> {
        let bin = locate_redis_server()?;
        let dir = super::create_server_dir("redis")?;
        // From here on, dropping `server` removes the directory, also on errors.
        let mut server = Self {
            socket_path: dir.join("redis.sock"),
            log_file: dir.join("redis.log"),
            dir,
            bin,
            port: 0,
            process: Supervised::default(),
        };
        server.first_start()?;
        Ok(server)
    }

    /// The process-wide server shared by all tests, started on first use; it is stopped and
    /// deleted when the process exits (including panics, aborts and `kill -9`).
    pub fn shared() -> Result<&'static RedisServer, TestkitError> {
        static SHARED: Mutex<Option<&'static RedisServer>> = Mutex::new(None);
        let mut shared = lock(&SHARED);
        if let Some(server) = *shared {
            return Ok(server);
        }
        let server: &'static RedisServer = Box::leak(Box::new(Self::start()?));
        *shared = Some(server);
        Ok(server)
    }

    /// TCP port of the server.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Host the server listens on: `127.0.0.1`.
    pub fn host(&self) -> &str {
        HOST
    }

    /// Connection URL: `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://{HOST}:{}", self.port)
    }

    /// Path of the server's Unix socket.
    pub fn socket_path(&self) -> &Path {
        &self.socket_path
    }

    /// The server's working directory (removed on drop).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server log file.
    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    /// Process id of the server, `None` while stopped.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// Shuts the server down and waits for it to exit. No-op when stopped.
    pub fn stop(&self) -> Result<(), TestkitError> {
        self.process.stop(SHUTDOWN, STOP_TIMEOUT)
    }

    /// Starts a stopped server again on the same port (empty: nothing is persisted).
    /// No-op when running.
    pub fn start_again(&self) -> Result<(), TestkitError> {
        self.process.start_again(|| self.spawn_same_port())
    }

    /// First start: picks a free port, retrying with another one if it gets taken meanwhile.
    fn first_start(&mut self) -> Result<(), TestkitError> {
        let process = super::retry_on_port_conflict(
            || {
                self.port = super::free_port()?;
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

    /// Spawns `redis-server` and waits until it answers `PING`.
    fn spawn_and_wait(&self) -> Result<ServerProcess, TestkitError> {
        let log_start = std::fs::metadata(&self.log_file).map_or(0, |m| m.len());
        let mut process =
            ServerProcess::spawn(self.command(), &self.dir, &self.log_file, SHUTDOWN)?;
        super::record_server_pid(&self.dir, process.pid(), SHUTDOWN)?;
        match self.wait_ready(&mut process) {
            Ok(()) => Ok(process),
            Err(err) => {
                let _ = process.stop("KILL", STOP_TIMEOUT);
                Err(super::narrow_log_tail(err, &self.log_file, log_start))
            }
        }
    }

    /// The `redis-server` command line: no persistence, loopback only, Unix socket in `dir`.
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", HOST, "--save", "", "--appendonly", "no"])
            .args(["--daemonize", "no", "--logfile", ""])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--unixsocket")
            .arg(&self.socket_path);
        cmd
    }

    /// Polls until the server answers `PING`, it exits, or the start timeout passes.
    fn wait_ready(&self, process: &mut ServerProcess) -> Result<(), TestkitError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = process.exit_status()? {
                return Err(TestkitError::ExitedDuringStartup {
                    server: SERVER,
                    status,
                    log: self.log_file.clone(),
                    log_tail: super::log_tail(&self.log_file, 30),
                });
            }
            if ping(self.port) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(TestkitError::StartTimeout {
                    server: SERVER,
                    timeout: START_TIMEOUT,
                    log: self.log_file.clone(),
                    log_tail: super::log_tail(&self.log_file, 30),
                });
            }
            may::coroutine::sleep(POLL_INTERVAL);
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let stopped = self.process.stop(SHUTDOWN, STOP_TIMEOUT);
        if let Err(err) = stopped {
            tracing::warn!(%err, "stopping Redis on drop failed");
        }
        super::remove_server_dir(&self.dir);
    }
}

/// Sends `PING` over RESP and reports whether the answer is `+PONG`.
fn ping(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let timeout = Some(Duration::from_secs(1));
    if stream.set_read_timeout(timeout).is_err() || stream.set_write_timeout(timeout).is_err() {
        return false;
    }
    if stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

/// Finds `redis-server` on `$PATH` or in `/usr/bin`.
fn locate_redis_server() -> Result<PathBuf, TestkitError> {
    find_program("redis-server").ok_or_else(|| TestkitError::NotInstalled {
        what: "Redis server".to_owned(),
        programs: "redis-server".to_owned(),
        hint: "install it with `apt-get install redis-server` (as root or with sudo)".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_pings_and_cleans_up() {
        let server = RedisServer::start().expect("start Redis");
        let port = server.port();
        assert!(ping(port));
        assert_eq!(server.url(), format!("redis://127.0.0.1:{port}"));
        assert!(server.socket_path().exists());

        let old_pid = server.pid().expect("running");
        server.stop().expect("stop");
        assert!(!super::super::proc_alive(old_pid));
        assert!(!ping(port));
        server.start_again().expect("start again");
        assert!(ping(port));
        assert_eq!(server.port(), port);

        let pid = server.pid().expect("running");
        let dir = server.dir().to_path_buf();
        drop(server);
        assert!(!super::super::proc_alive(pid), "redis {pid} survived drop");
        assert!(!dir.exists(), "{} survived drop", dir.display());
    }

    #[test]
    fn reports_a_taken_port() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = taken.local_addr().expect("addr").port();
        let dir = super::super::create_server_dir("redis").expect("dir");
        let server = RedisServer {
            socket_path: dir.join("redis.sock"),
            log_file: dir.join("redis.log"),
            bin: locate_redis_server().expect("redis-server"),
            dir,
            port,
            process: Supervised::default(),
        };
        let err = server.spawn_and_wait().expect_err("port is taken");
        assert!(super::super::is_port_conflict(&err), "{err}");
        assert!(err.to_string().contains("Address already in use"), "{err}");
    }

    #[test]
    fn shared_server_is_reused() {
        let a = RedisServer::shared().expect("shared");
        let b = RedisServer::shared().expect("shared");
        assert!(std::ptr::eq(a, b));
        assert!(ping(a.port()));
    }
}
