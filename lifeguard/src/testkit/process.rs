//! Spawning and stopping child servers, running commands as another user, and the
//! watchdog that takes a server down when the process that started it dies.
//!
//! # Death mechanism
//!
//! Every server is accompanied by a watchdog: a tiny `sh` script whose stdin is a pipe
//! whose only writer is this process (Rust opens pipes close-on-exec, so no other child
//! inherits it). The script blocks reading that pipe. Lines it reads are signal names to
//! deliver to the server (that is how [`ServerProcess::stop`] signals without `unsafe`).
//! When the pipe reaches EOF — which the kernel guarantees as soon as this process dies
//! for any reason, normal exit, panic, `abort` or `kill -9` — the watchdog sends the
//! server its shutdown signal, waits for it to exit (escalating to `SIGKILL`), and removes
//! the server's directory. Unlike `PR_SET_PDEATHSIG` this does not depend on which
//! *thread* spawned the server, so a lazily started shared server survives the test
//! thread that happened to start it.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use super::error::{IoContext, TestkitError};
use super::{POLL_INTERVAL, find_program, proc_alive};

/// The watchdog script; arguments: `$1` server pid, `$2` server dir, `$3` shutdown signal.
const WATCHDOG_SCRIPT: &str = r#"
trap '' INT HUP
pid=$1 dir=$2 sig=$3
while read -r line; do
  kill -s "$line" "$pid" 2>/dev/null
done
alive() {
  { read -r st < "/proc/$pid/stat"; } 2>/dev/null || return 1
  st=${st##*) }
  case $st in Z*) return 1 ;; esac
  case $(readlink "/proc/$pid/cwd" 2>/dev/null) in "$dir"*) return 0 ;; esac
  return 1
}
alive && kill -s "$sig" "$pid" 2>/dev/null
i=0
while alive; do
  i=$((i + 1))
  [ "$i" -eq 200 ] && kill -s KILL "$pid" 2>/dev/null
  [ "$i" -gt 400 ] && break
  sleep 0.05
done
rm -rf -- "$dir"
"#;

/// A system user a server runs as (numeric ids, as read from `/etc/passwd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunAs {
    /// User id.
    pub(crate) uid: u32,
    /// Primary group id.
    pub(crate) gid: u32,
}

/// Returns the effective uid of this process, read from the owner of `/proc/self`.
pub(crate) fn euid() -> Result<u32, TestkitError> {
    let meta = std::fs::metadata("/proc/self").context(|| "reading /proc/self".to_owned())?;
    Ok(meta.uid())
}

/// Looks up `name` in `/etc/passwd`.
pub(crate) fn lookup_user(name: &str) -> Result<Option<RunAs>, TestkitError> {
    let passwd =
        std::fs::read_to_string("/etc/passwd").context(|| "reading /etc/passwd".to_owned())?;
    Ok(passwd
        .lines()
        .find_map(|line| parse_passwd_line(line, name)))
}

/// Parses one `/etc/passwd` line, returning its ids when it describes `name`.
fn parse_passwd_line(line: &str, name: &str) -> Option<RunAs> {
    let mut fields = line.split(':');
    if fields.next()? != name {
        return None;
    }
    let _password = fields.next()?;
    let uid = fields.next()?.parse().ok()?;
    let gid = fields.next()?.parse().ok()?;
    Some(RunAs { uid, gid })
}

/// Builds a command running `program`, as `run_as` (via `setpriv`) when given.
pub(crate) fn command(program: &Path, run_as: Option<RunAs>) -> Result<Command, TestkitError> {
    let Some(user) = run_as else {
        return Ok(Command::new(program));
    };
    let setpriv = find_program("setpriv").ok_or_else(|| TestkitError::NotInstalled {
        what: "util-linux tool".to_owned(),
        programs: "setpriv".to_owned(),
        hint: "install it with `apt-get install util-linux` (needed to run servers as \
               another user when running as root)"
            .to_owned(),
    })?;
    let mut cmd = Command::new(setpriv);
    cmd.arg(format!("--reuid={}", user.uid))
        .arg(format!("--regid={}", user.gid))
        .arg("--init-groups")
        .arg("--")
        .arg(program);
    Ok(cmd)
}

/// Renders a command line for error messages.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs `cmd` to completion, failing with its stderr when it exits unsuccessfully.
pub(crate) fn run_checked(cmd: &mut Command) -> Result<Output, TestkitError> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .context(|| format!("running `{}`", describe(cmd)))?;
    if output.status.success() {
        return Ok(output);
    }
    let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if stderr.trim().is_empty() {
        stderr = String::from_utf8_lossy(&output.stdout).into_owned();
    }
    Err(TestkitError::CommandFailed {
        command: describe(cmd),
        status: output.status,
        stderr,
    })
}

/// Sends `signal` (a name such as `HUP`) to `pid` with the `kill` utility.
pub(crate) fn send_signal(pid: u32, signal: &str) -> Result<(), TestkitError> {
    run_checked(Command::new("kill").args(["-s", signal, &pid.to_string()])).map(drop)
}

/// Sends `signal` to `pid` if it is still alive, then waits up to `timeout` for it to die,
/// escalating to `SIGKILL`. Used for leftovers of dead test processes.
pub(crate) fn kill_and_wait(pid: u32, signal: &str, timeout: Duration) {
    if !proc_alive(pid) {
        return;
    }
    if let Err(err) = send_signal(pid, signal) {
        tracing::debug!(pid, %err, "signalling leftover server failed");
    }
    if wait_for(timeout, || !proc_alive(pid)) {
        return;
    }
    if let Err(err) = send_signal(pid, "KILL") {
        tracing::debug!(pid, %err, "killing leftover server failed");
    }
    wait_for(Duration::from_secs(2), || !proc_alive(pid));
}

/// Polls `done` every [`POLL_INTERVAL`] until it holds or `timeout` passes; returns whether it held.
pub(crate) fn wait_for(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        may::coroutine::sleep(POLL_INTERVAL);
    }
}

/// A running server child plus the watchdog that stops it if this process dies.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    /// The server itself (when run via `setpriv`, setpriv exec's it, so the pid is the server's).
    child: Child,
    /// The watchdog `sh` process.
    watchdog: Child,
    /// Write end of the watchdog's stdin; dropping it (or our death) triggers the watchdog.
    control: Option<ChildStdin>,
    /// Set once `child` has been reaped.
    exited: Option<ExitStatus>,
    /// Signal used when the server is dropped without an explicit stop.
    shutdown_signal: &'static str,
}

impl ServerProcess {
    /// Spawns `cmd` with stdout/stderr appended to `log`, in `dir`, guarded by a watchdog that
    /// sends `shutdown_signal` and removes `dir` when this process dies.
    pub(crate) fn spawn(
        mut cmd: Command,
        dir: &Path,
        log: &Path,
        shutdown_signal: &'static str,
    ) -> Result<Self, TestkitError> {
        let log_file = open_log(log)?;
        let log_err = log_file
            .try_clone()
            .context(|| format!("duplicating handle of {}", log.display()))?;
        cmd.current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err);
        let mut child = cmd
            .spawn()
            .context(|| format!("spawning `{}`", describe(&cmd)))?;
        match spawn_watchdog(child.id(), dir, shutdown_signal) {
            Ok((watchdog, control)) => Ok(Self {
                child,
                watchdog,
                control: Some(control),
                exited: None,
                shutdown_signal,
            }),
            Err(err) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(err)
            }
        }
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Returns the exit status if the server has exited (reaping it), `None` while it runs.
    pub(crate) fn exit_status(&mut self) -> Result<Option<ExitStatus>, TestkitError> {
        if self.exited.is_some() {
            return Ok(self.exited);
        }
        let status = self
            .child
            .try_wait()
            .context(|| format!("checking server process {}", self.child.id()))?;
        if let Some(status) = status {
            // The watchdog only signals on request or after checking the pid's cwd, so a
            // recycled pid is never hit; disarm it now that there is nothing to guard.
            self.disarm_watchdog();
            self.exited = Some(status);
        }
        Ok(status)
    }

    /// Delivers `signal` to the server through the watchdog (the server is never reaped while
    /// the watchdog is armed, so the pid cannot have been recycled).
    pub(crate) fn signal(&mut self, signal: &str) -> Result<(), TestkitError> {
        let pid = self.child.id();
        let Some(control) = self.control.as_mut() else {
            return send_signal(pid, signal);
        };
        match writeln!(control, "{signal}").and_then(|()| control.flush()) {
            Ok(()) => Ok(()),
            Err(err) => {
                // The watchdog is gone (someone killed it); signal directly instead.
                tracing::warn!(pid, %err, "server watchdog unreachable");
                self.disarm_watchdog();
                send_signal(pid, signal)
            }
        }
    }

    /// Sends `signal`, waits up to `timeout` for the server to exit, then `SIGKILL`s it.
    pub(crate) fn stop(mut self, signal: &str, timeout: Duration) -> Result<(), TestkitError> {
        self.stop_in_place(signal, timeout)
    }

    /// Shared implementation of [`Self::stop`] and `Drop`.
    fn stop_in_place(&mut self, signal: &str, timeout: Duration) -> Result<(), TestkitError> {
        if self.exit_status()?.is_none() {
            self.signal(signal)?;
            let pid = self.child.id();
            let exited = wait_for(timeout, || !matches!(self.child.try_wait(), Ok(None)));
            if !exited {
                tracing::warn!(
                    pid,
                    ?timeout,
                    signal,
                    "server did not stop in time, killing it"
                );
                let _ = self.child.kill();
            }
            let status = self
                .child
                .wait()
                .context(|| format!("waiting for server process {pid}"))?;
            self.exited = Some(status);
        }
        self.disarm_watchdog();
        Ok(())
    }

    /// Kills and reaps the watchdog without letting it act.
    fn disarm_watchdog(&mut self) {
        if self.control.is_some() {
            // SIGKILL it while its stdin is still open: closing the pipe first would make it
            // see EOF and run its owner-died branch (which deletes the server directory).
            let _ = self.watchdog.kill();
            let _ = self.watchdog.wait();
            self.control = None;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let signal = self.shutdown_signal;
        if let Err(err) = self.stop_in_place(signal, Duration::from_secs(10)) {
            tracing::warn!(%err, "stopping server process on drop failed");
        }
    }
}

/// Opens (creating or appending to) a server log file.
fn open_log(log: &Path) -> Result<File, TestkitError> {
    File::options()
        .create(true)
        .append(true)
        .open(log)
        .context(|| format!("opening log file {}", log.display()))
}

/// Starts the watchdog for server `pid`; returns it and the write end of its stdin.
fn spawn_watchdog(
    pid: u32,
    dir: &Path,
    shutdown_signal: &str,
) -> Result<(Child, ChildStdin), TestkitError> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(WATCHDOG_SCRIPT)
        .arg("lifeguard-testkit-watchdog")
        .arg(pid.to_string())
        .arg(canonical_or_self(dir))
        .arg(shutdown_signal)
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut watchdog = cmd
        .spawn()
        .context(|| "spawning the server watchdog (`sh`)".to_owned())?;
    if let Some(control) = watchdog.stdin.take() {
        return Ok((watchdog, control));
    }
    let _ = watchdog.kill();
    let _ = watchdog.wait();
    Err(TestkitError::io(
        "spawning the server watchdog",
        std::io::Error::other("no stdin pipe"),
    ))
}

/// Resolves symlinks in `dir` (the watchdog compares it with `/proc/<pid>/cwd`).
fn canonical_or_self(dir: &Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_passwd_lines() {
        let line = "postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash";
        assert_eq!(
            parse_passwd_line(line, "postgres"),
            Some(RunAs { uid: 101, gid: 104 })
        );
        assert_eq!(parse_passwd_line(line, "redis"), None);
        assert_eq!(parse_passwd_line("postgres:x:oops", "postgres"), None);
    }

    #[test]
    fn describes_commands() {
        let mut cmd = Command::new("initdb");
        cmd.args(["-D", "/tmp/x"]);
        assert_eq!(describe(&cmd), "initdb -D /tmp/x");
    }
}

/// The current process of a server that can be stopped and started again.
#[derive(Debug, Default)]
pub(crate) struct Supervised(std::sync::Mutex<Option<ServerProcess>>);

impl Supervised {
    /// Records a freshly started process.
    pub(crate) fn set(&self, process: ServerProcess) {
        *super::lock(&self.0) = Some(process);
    }

    /// Process id of the server, `None` while stopped.
    pub(crate) fn pid(&self) -> Option<u32> {
        let mut process = super::lock(&self.0);
        match process.as_mut().map(ServerProcess::exit_status) {
            Some(Ok(None)) => process.as_ref().map(ServerProcess::pid),
            _ => None,
        }
    }

    /// Sends `signal` and waits for the exit. No-op when stopped.
    pub(crate) fn stop(&self, signal: &str, timeout: Duration) -> Result<(), TestkitError> {
        let process = super::lock(&self.0).take();
        match process {
            Some(process) => process.stop(signal, timeout),
            None => Ok(()),
        }
    }

    /// Starts the server again with `spawn` unless it is running.
    pub(crate) fn start_again(
        &self,
        spawn: impl FnOnce() -> Result<ServerProcess, TestkitError>,
    ) -> Result<(), TestkitError> {
        let mut process = super::lock(&self.0);
        let running = match process.as_mut() {
            Some(running) => running.exit_status()?.is_none(),
            None => false,
        };
        if !running {
            *process = None;
            *process = Some(spawn()?);
        }
        Ok(())
    }

    /// Runs `f` on the running process; `None` when stopped.
    pub(crate) fn with_running<T>(&self, f: impl FnOnce(&mut ServerProcess) -> T) -> Option<T> {
        super::lock(&self.0).as_mut().map(f)
    }
}
