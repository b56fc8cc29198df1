//! Coroutine-aware sockets: TCP (with NODELAY and keepalive) and Unix-domain, and name
//! resolution that never blocks a `may` worker thread.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use may::net::TcpStream;
use may::os::unix::net::UnixStream;

use super::config::{Config, Host};
use super::error::{Error, Result};

/// A connected byte stream to the server.
pub(crate) enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// What a connection was opened to: used again by cancel requests.
#[derive(Debug, Clone)]
pub(crate) enum Endpoint {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp(a) => write!(f, "{a}"),
            Endpoint::Unix(p) => write!(f, "{}", p.display()),
        }
    }
}

impl Socket {
    pub(crate) fn try_clone(&self) -> io::Result<Socket> {
        Ok(match self {
            Socket::Tcp(s) => Socket::Tcp(s.try_clone()?),
            Socket::Unix(s) => Socket::Unix(s.try_clone()?),
        })
    }

    pub(crate) fn shutdown(&self) {
        // Errors mean the socket is already gone, which is what we want.
        let _ = match self {
            Socket::Tcp(s) => s.shutdown(Shutdown::Both),
            Socket::Unix(s) => s.shutdown(Shutdown::Both),
        };
    }

    /// Whether bytes (or end of stream) wait to be read, without waiting: may's sockets are
    /// non-blocking underneath, so the peek returns at once.
    pub(crate) fn input_pending(&self) -> bool {
        let mut byte = [std::mem::MaybeUninit::<u8>::uninit(); 1];
        let r = match self {
            Socket::Tcp(s) => socket2::SockRef::from(s.inner()).peek(&mut byte),
            Socket::Unix(s) => socket2::SockRef::from(s.inner()).peek(&mut byte),
        };
        !matches!(r, Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Bounds reads only.
    pub(crate) fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => s.set_read_timeout(t),
            Socket::Unix(s) => s.set_read_timeout(t),
        }
    }

    /// Bounds every read and write (used during start-up so a connect deadline holds).
    pub(crate) fn set_timeouts(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
            Socket::Unix(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.read(buf),
            Socket::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => s.write(buf),
            Socket::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Opens a socket to `host:port` before `deadline`.
pub(crate) fn connect_socket(
    cfg: &Config,
    host: &Host,
    port: u16,
    deadline: Option<Instant>,
) -> Result<(Socket, Endpoint)> {
    match host {
        Host::Unix(dir) => {
            let path = dir.join(format!(".s.PGSQL.{port}"));
            let s = UnixStream::connect(&path).map_err(|e| Error::Connect {
                target: path.display().to_string(),
                reason: e.to_string(),
            })?;
            Ok((Socket::Unix(s), Endpoint::Unix(path)))
        }
        Host::Tcp(name) => {
            let addrs = resolve(name, port, deadline)?;
            let mut last = None;
            for addr in addrs {
                match connect_tcp(addr, deadline) {
                    Ok(s) => {
                        configure_tcp(&s, cfg).map_err(|e| Error::Connect {
                            target: addr.to_string(),
                            reason: format!("could not set socket options: {e}"),
                        })?;
                        return Ok((Socket::Tcp(s), Endpoint::Tcp(addr)));
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(last.unwrap_or_else(|| Error::Connect {
                target: format!("{name}:{port}"),
                reason: "the host name resolved to no address".into(),
            }))
        }
    }
}

/// Connects to a resolved address (used by cancel requests too).
pub(crate) fn connect_endpoint(endpoint: &Endpoint, deadline: Option<Instant>) -> Result<Socket> {
    match endpoint {
        Endpoint::Tcp(addr) => connect_tcp(*addr, deadline).map(Socket::Tcp),
        Endpoint::Unix(path) => {
            UnixStream::connect(path)
                .map(Socket::Unix)
                .map_err(|e| Error::Connect {
                    target: path.display().to_string(),
                    reason: e.to_string(),
                })
        }
    }
}

fn connect_tcp(addr: SocketAddr, deadline: Option<Instant>) -> Result<TcpStream> {
    let res = match deadline {
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Connect {
                    target: addr.to_string(),
                    reason: "connect timeout expired".into(),
                });
            }
            TcpStream::connect_timeout(&addr, left)
        }
        None => TcpStream::connect(addr),
    };
    res.map_err(|e| Error::Connect {
        target: addr.to_string(),
        reason: if e.kind() == io::ErrorKind::TimedOut {
            "connect timeout expired".into()
        } else {
            e.to_string()
        },
    })
}

fn configure_tcp(s: &TcpStream, cfg: &Config) -> io::Result<()> {
    s.set_nodelay(true)?;
    if cfg.keepalives {
        let mut ka = socket2::TcpKeepalive::new().with_time(cfg.keepalives_idle);
        if let Some(i) = cfg.keepalives_interval {
            ka = ka.with_interval(i);
        }
        if let Some(r) = cfg.keepalives_retries {
            ka = ka.with_retries(r);
        }
        socket2::SockRef::from(s.inner()).set_tcp_keepalive(&ka)?;
    }
    Ok(())
}

/// Resolves a host name. IP literals need no lookup; names are resolved on a helper thread
/// (the system resolver blocks) while the calling coroutine waits without blocking its worker.
fn resolve(name: &str, port: u16, deadline: Option<Instant>) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if name == "localhost" {
        return Ok(vec![
            SocketAddr::from(([127, 0, 0, 1], port)),
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)),
        ]);
    }
    let (tx, rx) = may::sync::mpsc::channel();
    let owned = name.to_owned();
    std::thread::Builder::new()
        .name("lifeguard-dns".into())
        .spawn(move || {
            let r = (owned.as_str(), port)
                .to_socket_addrs()
                .map(|a| a.collect::<Vec<_>>());
            let _ = tx.send(r);
        })
        .map_err(|e| Error::Connect {
            target: format!("{name}:{port}"),
            reason: format!("could not start a resolver thread: {e}"),
        })?;
    let got = match deadline {
        Some(d) => rx
            .recv_timeout(d.saturating_duration_since(Instant::now()))
            .map_err(|_| "name resolution timed out".to_owned()),
        None => rx.recv().map_err(|_| "name resolution failed".to_owned()),
    };
    match got {
        Ok(Ok(addrs)) => Ok(addrs),
        Ok(Err(e)) => Err(Error::Connect {
            target: format!("{name}:{port}"),
            reason: format!("could not resolve host name: {e}"),
        }),
        Err(reason) => Err(Error::Connect {
            target: format!("{name}:{port}"),
            reason,
        }),
    }
}
