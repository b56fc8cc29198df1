//! CancelRequest: asks the server, over a separate connection, to cancel whatever the
//! backend is running.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use postgres_protocol::message::frontend;

use super::error::{Error, Result};
use super::socket::{Endpoint, connect_endpoint};

const CANCEL_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle that can cancel the statement running on one connection, from anywhere.
#[derive(Debug, Clone)]
pub struct CancelToken {
    pub(crate) endpoint: Endpoint,
    pub(crate) process_id: i32,
    pub(crate) secret_key: i32,
}

impl CancelToken {
    /// Sends the CancelRequest and waits (at most 5 s) for the server to take it. Whether
    /// anything was running is not reported by the protocol; a cancelled statement fails with
    /// SQLSTATE 57014.
    pub fn cancel(&self) -> Result<()> {
        let deadline = Instant::now() + CANCEL_TIMEOUT;
        let mut sock = connect_endpoint(&self.endpoint, Some(deadline))?;
        sock.set_timeouts(Some(CANCEL_TIMEOUT))
            .map_err(|e| Error::io("cancel request", e))?;
        let mut msg = BytesMut::new();
        frontend::cancel_request(self.process_id, self.secret_key, &mut msg);
        sock.write_all(&msg)
            .map_err(|e| Error::io("sending the cancel request", e))?;
        // The server closes the connection once it has processed the request.
        let mut b = [0u8; 16];
        loop {
            match sock.read(&mut b) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return Ok(()),
            }
        }
    }
}
