//! Opening a connection: socket, TLS negotiation, start-up message, authentication
//! (trust, cleartext, MD5, SCRAM-SHA-256).

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::{self, sasl};
use postgres_protocol::message::{backend::Message, frontend};

use super::config::{Config, Host, SslMode};
use super::error::{DbError, Error, Result, SqlState};
use super::pipeline::{self, error_from_body, log_notice, take_message};
use super::socket::{Endpoint, Socket, connect_socket};
use super::tls::{self, Transport};

/// Stack (in machine words) for the coroutine that runs the TLS handshake and SCRAM, which
/// need more than a default `may` coroutine stack.
const CONNECT_STACK_WORDS: usize = 0x8000;

/// A finished start-up: the split stream and what the server told us.
pub(crate) struct Established {
    pub(crate) pipe: Arc<pipeline::Pipe>,
    pub(crate) process_id: i32,
    pub(crate) secret_key: i32,
    pub(crate) endpoint: Endpoint,
    pub(crate) parameters: Arc<std::sync::Mutex<Vec<(String, String)>>>,
    pub(crate) notifications: may::sync::mpsc::Receiver<super::notify::Notification>,
}

/// Connects, trying each host in turn, within the configured connect timeout.
pub(crate) fn establish(cfg: &Config) -> Result<Established> {
    let cfg = cfg.clone();
    // SAFETY: may requires `unsafe` to spawn; the closure owns its data and uses no
    // thread-local storage across yields.
    let handle = unsafe {
        may::coroutine::Builder::new()
            .name("lifeguard-connect".into())
            .stack_size(CONNECT_STACK_WORDS)
            .spawn(move || establish_here(&cfg))
    }
    .map_err(|e| Error::closed(format!("could not start the connect coroutine: {e}")))?;
    handle
        .join()
        .unwrap_or_else(|_| Err(Error::protocol("the connect coroutine panicked")))
}

fn establish_here(cfg: &Config) -> Result<Established> {
    let deadline = cfg.connect_timeout.map(|t| Instant::now() + t);
    let tls_config = tls::client_config(cfg)?;
    let mut last = None;
    for (host, port) in cfg.targets()? {
        match connect_one(cfg, tls_config.clone(), &host, port, deadline) {
            Ok(est) => return Ok(est),
            Err(e) if e.is_connectivity() => {
                tracing::debug!(%host, port, error = %e, "connect attempt failed");
                last = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::Config("no host to connect to".into())))
}

fn connect_one(
    cfg: &Config,
    tls_config: Option<Arc<rustls::ClientConfig>>,
    host: &Host,
    port: u16,
    deadline: Option<Instant>,
) -> Result<Established> {
    let (sock, endpoint) = connect_socket(cfg, host, port, deadline)?;
    let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
    if left.is_some_and(|l| l.is_zero()) {
        return Err(timeout_error(&endpoint));
    }
    sock.set_timeouts(left)
        .map_err(|e| Error::io("setting socket timeouts", e))?;
    let mut transport = negotiate_tls(cfg, tls_config, host, sock, &endpoint)?;
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let user = cfg.effective_user();
    let database = cfg.effective_dbname();
    send_startup(cfg, &user, &database, &mut transport, &endpoint)?;
    authenticate(cfg, &user, &database, &mut transport, &mut buf, &endpoint)?;
    let (process_id, secret_key, params) = read_until_ready(&mut transport, &mut buf, &endpoint)?;
    transport
        .socket()
        .set_timeouts(None)
        .map_err(|e| Error::io("clearing socket timeouts", e))?;
    let (read_half, write_half) = transport
        .split()
        .map_err(|e| Error::io("splitting the connection", e))?;
    let (tx, rx) = may::sync::mpsc::channel();
    let parameters = Arc::new(std::sync::Mutex::new(params));
    let sinks = pipeline::AsyncSinks {
        notifications: tx,
        parameters: parameters.clone(),
    };
    let pipe = Arc::new(pipeline::Pipe::new(write_half, read_half, buf, sinks));
    pipeline::spawn_helper_reader(&pipe)?;
    Ok(Established {
        pipe,
        process_id,
        secret_key,
        endpoint,
        parameters,
        notifications: rx,
    })
}

fn timeout_error(endpoint: &Endpoint) -> Error {
    Error::Connect {
        target: endpoint.to_string(),
        reason: "connect timeout expired".into(),
    }
}

fn io_error(endpoint: &Endpoint, what: &str, e: std::io::Error) -> Error {
    if matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    ) {
        return timeout_error(endpoint);
    }
    Error::Connect {
        target: endpoint.to_string(),
        reason: format!("{what}: {e}"),
    }
}

fn negotiate_tls(
    cfg: &Config,
    tls_config: Option<Arc<rustls::ClientConfig>>,
    host: &Host,
    mut sock: Socket,
    endpoint: &Endpoint,
) -> Result<Transport> {
    let (Some(tls_config), Host::Tcp(name)) = (tls_config, host) else {
        return Ok(Transport::Plain(sock));
    };
    let mut msg = BytesMut::new();
    frontend::ssl_request(&mut msg);
    sock.write_all(&msg)
        .map_err(|e| io_error(endpoint, "sending SSLRequest", e))?;
    let mut answer = [0u8; 1];
    sock.read_exact(&mut answer)
        .map_err(|e| io_error(endpoint, "reading the SSLRequest answer", e))?;
    match answer[0] {
        b'S' => tls::handshake(tls_config, name, sock),
        b'N' if cfg.ssl_mode == SslMode::Prefer => Ok(Transport::Plain(sock)),
        b'N' => Err(Error::Tls(format!(
            "the server at {endpoint} does not accept TLS connections, but sslmode requires TLS"
        ))),
        other => Err(Error::protocol(format!(
            "unexpected answer {other:#x} to SSLRequest"
        ))),
    }
}

fn send_startup(
    cfg: &Config,
    user: &str,
    database: &str,
    t: &mut Transport,
    endpoint: &Endpoint,
) -> Result<()> {
    let mut params: Vec<(&str, &str)> = vec![
        ("user", user),
        ("database", database),
        ("client_encoding", "UTF8"),
    ];
    if let Some(a) = &cfg.application_name {
        params.push(("application_name", a));
    }
    if let Some(o) = &cfg.options {
        params.push(("options", o));
    }
    let mut msg = BytesMut::new();
    frontend::startup_message(params.iter().copied(), &mut msg)
        .map_err(|e| Error::Config(format!("invalid start-up parameter: {e}")))?;
    write(t, &msg, endpoint)
}

fn write(t: &mut Transport, msg: &[u8], endpoint: &Endpoint) -> Result<()> {
    t.write_all(msg)
        .and_then(|_| t.flush())
        .map_err(|e| io_error(endpoint, "sending to the server", e))
}

fn read_message(t: &mut Transport, buf: &mut BytesMut, endpoint: &Endpoint) -> Result<Message> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(m) = take_message(buf)? {
            return Ok(m);
        }
        let n = t
            .read(&mut chunk)
            .map_err(|e| io_error(endpoint, "reading from the server", e))?;
        if n == 0 {
            return Err(Error::Connect {
                target: endpoint.to_string(),
                reason: "the server closed the connection during start-up".into(),
            });
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn auth_error(
    user: &str,
    database: &str,
    reason: impl Into<String>,
    server: Option<DbError>,
) -> Error {
    Error::Auth {
        user: user.to_owned(),
        database: database.to_owned(),
        reason: reason.into(),
        server: server.map(Box::new),
    }
}

/// Turns a start-up ErrorResponse into the most specific error.
fn startup_error(user: &str, database: &str, e: DbError) -> Error {
    if e.code == SqlState::INVALID_PASSWORD
        || e.code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
    {
        let reason = e.message.clone();
        auth_error(user, database, reason, Some(e))
    } else {
        Error::db(e)
    }
}

fn authenticate(
    cfg: &Config,
    user: &str,
    database: &str,
    t: &mut Transport,
    buf: &mut BytesMut,
    endpoint: &Endpoint,
) -> Result<()> {
    let password = || {
        cfg.password.as_deref().ok_or_else(|| {
            auth_error(
                user,
                database,
                "the server asks for a password but none was configured (add it to the URL or set Config::password)",
                None,
            )
        })
    };
    loop {
        let mut out = BytesMut::new();
        match read_message(t, buf, endpoint)? {
            Message::AuthenticationOk => return Ok(()),
            Message::AuthenticationCleartextPassword => {
                frontend::password_message(password()?, &mut out)
                    .map_err(|e| Error::protocol(e.to_string()))?;
                write(t, &out, endpoint)?;
            }
            Message::AuthenticationMd5Password(body) => {
                let hashed = authentication::md5_hash(user.as_bytes(), password()?, body.salt());
                frontend::password_message(hashed.as_bytes(), &mut out)
                    .map_err(|e| Error::protocol(e.to_string()))?;
                write(t, &out, endpoint)?;
            }
            Message::AuthenticationSasl(body) => {
                let mut mechanisms = body.mechanisms();
                let mut scram = false;
                while let Some(m) = mechanisms
                    .next()
                    .map_err(|e| Error::protocol(e.to_string()))?
                {
                    scram |= m == sasl::SCRAM_SHA_256;
                }
                if !scram {
                    return Err(auth_error(
                        user,
                        database,
                        "the server offers no SASL mechanism this client supports (SCRAM-SHA-256)",
                        None,
                    ));
                }
                scram_exchange(password()?, user, database, t, buf, endpoint)?;
            }
            Message::ErrorResponse(body) => {
                return Err(startup_error(user, database, error_from_body(&body)?));
            }
            Message::AuthenticationKerberosV5
            | Message::AuthenticationScmCredential
            | Message::AuthenticationGss
            | Message::AuthenticationSspi
            | Message::AuthenticationGssContinue(_) => {
                return Err(auth_error(
                    user,
                    database,
                    "the server requires GSSAPI/SSPI/Kerberos authentication, which is not supported; use scram-sha-256, md5 or password in pg_hba.conf",
                    None,
                ));
            }
            Message::NoticeResponse(body) => {
                if let Ok(n) = DbError::parse(&mut body.fields()) {
                    log_notice(&n);
                }
            }
            _ => return Err(Error::protocol("unexpected message during authentication")),
        }
    }
}

fn scram_exchange(
    password: &[u8],
    user: &str,
    database: &str,
    t: &mut Transport,
    buf: &mut BytesMut,
    endpoint: &Endpoint,
) -> Result<()> {
    let mut scram = sasl::ScramSha256::new(password, sasl::ChannelBinding::unsupported());
    let mut out = BytesMut::new();
    frontend::sasl_initial_response(sasl::SCRAM_SHA_256, scram.message(), &mut out)
        .map_err(|e| Error::protocol(e.to_string()))?;
    write(t, &out, endpoint)?;
    let server_first = match read_message(t, buf, endpoint)? {
        Message::AuthenticationSaslContinue(body) => body.data().to_vec(),
        Message::ErrorResponse(body) => {
            return Err(startup_error(user, database, error_from_body(&body)?));
        }
        _ => return Err(Error::protocol("expected AuthenticationSASLContinue")),
    };
    scram
        .update(&server_first)
        .map_err(|e| auth_error(user, database, format!("SCRAM exchange failed: {e}"), None))?;
    out.clear();
    frontend::sasl_response(scram.message(), &mut out)
        .map_err(|e| Error::protocol(e.to_string()))?;
    write(t, &out, endpoint)?;
    match read_message(t, buf, endpoint)? {
        Message::AuthenticationSaslFinal(body) => scram.finish(body.data()).map_err(|e| {
            auth_error(
                user,
                database,
                format!("the server's SCRAM signature did not verify: {e}"),
                None,
            )
        }),
        Message::ErrorResponse(body) => Err(startup_error(user, database, error_from_body(&body)?)),
        _ => Err(Error::protocol("expected AuthenticationSASLFinal")),
    }
}

type StartupInfo = (i32, i32, Vec<(String, String)>);

fn read_until_ready(
    t: &mut Transport,
    buf: &mut BytesMut,
    endpoint: &Endpoint,
) -> Result<StartupInfo> {
    let mut key = (0, 0);
    let mut params = Vec::new();
    loop {
        match read_message(t, buf, endpoint)? {
            Message::BackendKeyData(body) => key = (body.process_id(), body.secret_key()),
            Message::ParameterStatus(body) => {
                let name = body.name().map_err(|e| Error::protocol(e.to_string()))?;
                let value = body.value().map_err(|e| Error::protocol(e.to_string()))?;
                params.push((name.to_owned(), value.to_owned()));
            }
            Message::NoticeResponse(body) => {
                if let Ok(n) = DbError::parse(&mut body.fields()) {
                    log_notice(&n);
                }
            }
            Message::ErrorResponse(body) => return Err(Error::db(error_from_body(&body)?)),
            Message::ReadyForQuery(_) => return Ok((key.0, key.1, params)),
            _ => return Err(Error::protocol("unexpected message during start-up")),
        }
    }
}
