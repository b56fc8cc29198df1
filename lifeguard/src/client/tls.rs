//! TLS with rustls, for every libpq `sslmode`, split into a read half and a write half.
//!
//! The rustls state machine only touches memory, so it sits behind a short-held lock; the
//! socket I/O itself happens outside that lock, in the reader coroutine or the writer.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::BytesMut;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore,
};

use super::config::{Config, SslMode};
use super::error::{Error, Result};
use super::socket::Socket;

const READ_CHUNK: usize = 64 * 1024;

/// Builds the rustls configuration for `cfg.ssl_mode` (`None` for `disable`).
pub(crate) fn client_config(cfg: &Config) -> Result<Option<Arc<ClientConfig>>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = match (&cfg.ssl_root_cert, cfg.ssl_mode) {
        (_, SslMode::Disable) => return Ok(None),
        (Some(path), _) => Some(load_roots(path)?),
        (None, SslMode::VerifyCa | SslMode::VerifyFull) => {
            return Err(Error::Config(format!(
                "sslmode={} needs the CA certificate to trust: add sslrootcert=/path/to/root.crt",
                if cfg.ssl_mode == SslMode::VerifyCa {
                    "verify-ca"
                } else {
                    "verify-full"
                }
            )));
        }
        (None, _) => None,
    };
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?;
    let algs = provider.signature_verification_algorithms;
    let verifier: Arc<dyn ServerCertVerifier> = match (roots, cfg.ssl_mode) {
        (None, _) => Arc::new(AcceptAnyCertificate(algs)),
        (Some(roots), mode) => {
            let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| Error::Tls(format!("invalid sslrootcert: {e}")))?;
            if mode == SslMode::VerifyFull {
                webpki
            } else {
                Arc::new(IgnoreHostName(webpki))
            }
        }
    };
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(Arc::new(config)))
}

fn load_roots(path: &std::path::Path) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| Error::Config(format!("cannot read sslrootcert {}: {e}", path.display())))?;
    for cert in certs {
        let cert = cert.map_err(|e| {
            Error::Config(format!(
                "sslrootcert {} is not valid PEM: {e}",
                path.display()
            ))
        })?;
        roots
            .add(cert)
            .map_err(|e| Error::Config(format!("sslrootcert {}: {e}", path.display())))?;
    }
    if roots.is_empty() {
        return Err(Error::Config(format!(
            "sslrootcert {} holds no certificate",
            path.display()
        )));
    }
    Ok(roots)
}

/// `prefer`/`require` without a root certificate: encryption without authentication, as libpq.
#[derive(Debug)]
struct AcceptAnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the host name is not checked.
#[derive(Debug)]
struct IgnoreHostName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for IgnoreHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Runs the TLS handshake over `sock` (the server already answered `S` to SSLRequest).
pub(crate) fn handshake(
    config: Arc<ClientConfig>,
    host: &str,
    mut sock: Socket,
) -> Result<Transport> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|e| Error::Tls(format!("`{host}` is not a valid TLS server name: {e}")))?;
    let mut conn = ClientConnection::new(config, name).map_err(|e| Error::Tls(e.to_string()))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| match e.get_ref() {
            Some(inner) => Error::Tls(inner.to_string()),
            None => Error::Tls(e.to_string()),
        })?;
    }
    Ok(Transport::Tls(Box::new(rustls::StreamOwned::new(
        conn, sock,
    ))))
}

/// The stream used during start-up, before it is split for pipelining.
pub(crate) enum Transport {
    Plain(Socket),
    Tls(Box<rustls::StreamOwned<ClientConnection, Socket>>),
}

impl Transport {
    pub(crate) fn socket(&self) -> &Socket {
        match self {
            Transport::Plain(s) => s,
            Transport::Tls(s) => &s.sock,
        }
    }

    /// Splits into halves that can be used from two coroutines at once.
    pub(crate) fn split(self) -> io::Result<(ReadHalf, WriteHalf)> {
        match self {
            Transport::Plain(s) => {
                let w = s.try_clone()?;
                Ok((
                    ReadHalf {
                        sock: s,
                        tls: None,
                        scratch: vec![0; READ_CHUNK],
                    },
                    WriteHalf {
                        sock: w,
                        tls: None,
                        out: Vec::new(),
                    },
                ))
            }
            Transport::Tls(stream) => {
                let stream = *stream;
                let w = stream.sock.try_clone()?;
                let tls = Arc::new(Mutex::new(stream.conn));
                Ok((
                    ReadHalf {
                        sock: stream.sock,
                        tls: Some(tls.clone()),
                        scratch: vec![0; READ_CHUNK],
                    },
                    WriteHalf {
                        sock: w,
                        tls: Some(tls),
                        out: Vec::new(),
                    },
                ))
            }
        }
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.read(buf),
            Transport::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.write(buf),
            Transport::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(s) => s.flush(),
            Transport::Tls(s) => s.flush(),
        }
    }
}

type SharedTls = Arc<Mutex<ClientConnection>>;

fn lock(tls: &SharedTls) -> MutexGuard<'_, ClientConnection> {
    tls.lock().unwrap_or_else(|p| p.into_inner())
}

/// The receiving half, owned by the connection's reader coroutine.
pub(crate) struct ReadHalf {
    sock: Socket,
    tls: Option<SharedTls>,
    scratch: Vec<u8>,
}

impl ReadHalf {
    /// Appends at least one byte of plaintext to `out`; `Ok(0)` at end of stream. The second
    /// value tells whether TLS has records of its own to send (the writer must be woken).
    pub(crate) fn read_into(&mut self, out: &mut BytesMut) -> io::Result<(usize, bool)> {
        let Some(tls) = &self.tls else {
            let n = self.sock.read(&mut self.scratch)?;
            out.extend_from_slice(&self.scratch[..n]);
            return Ok((n, false));
        };
        loop {
            {
                let mut conn = lock(tls);
                let n = drain_plaintext(&mut conn, out)?;
                if n > 0 {
                    return Ok((n, conn.wants_write()));
                }
            }
            let n = self.sock.read(&mut self.scratch)?;
            if n == 0 {
                return Ok((0, false));
            }
            let mut conn = lock(tls);
            let mut input = &self.scratch[..n];
            while !input.is_empty() {
                conn.read_tls(&mut input)?;
                let state = conn
                    .process_new_packets()
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                if state.peer_has_closed() && input.is_empty() {
                    break;
                }
            }
            let got = drain_plaintext(&mut conn, out)?;
            let closed = conn.process_new_packets().map(|s| s.peer_has_closed());
            if got > 0 {
                return Ok((got, conn.wants_write()));
            }
            if matches!(closed, Ok(true)) {
                return Ok((0, false));
            }
        }
    }

    pub(crate) fn shutdown(&self) {
        self.sock.shutdown();
    }

    /// Whether the server sent something (or closed) that nobody has read yet.
    pub(crate) fn input_pending(&self) -> bool {
        self.sock.input_pending()
    }

    /// Bounds the next reads (`None`: wait indefinitely).
    pub(crate) fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(t)
    }
}

fn drain_plaintext(conn: &mut ClientConnection, out: &mut BytesMut) -> io::Result<usize> {
    let mut total = 0;
    let mut tmp = [0u8; 4096];
    loop {
        match conn.reader().read(&mut tmp) {
            Ok(0) => return Ok(total),
            Ok(n) => {
                out.extend_from_slice(&tmp[..n]);
                total += n;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(total),
            Err(e) => return Err(e),
        }
    }
}

/// The sending half, used by whichever caller is currently flushing the write buffer.
pub(crate) struct WriteHalf {
    sock: Socket,
    tls: Option<SharedTls>,
    out: Vec<u8>,
}

impl WriteHalf {
    /// Sends `data` (plaintext) in full.
    pub(crate) fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let Some(tls) = &self.tls else {
            return self.sock.write_all(data);
        };
        {
            let mut conn = lock(tls);
            if !data.is_empty() {
                conn.writer().write_all(data)?;
            }
            self.out.clear();
            while conn.wants_write() {
                conn.write_tls(&mut self.out)?;
            }
        }
        self.sock.write_all(&self.out)
    }

    /// Whether TLS has records queued (alerts, key updates) that need sending.
    pub(crate) fn tls_wants_write(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| lock(t).wants_write())
    }

    pub(crate) fn shutdown(&self) {
        self.sock.shutdown();
    }
}
