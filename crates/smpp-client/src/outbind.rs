//! The ESME's side of outbind (reference §12.6): listen for an SMSC that dials in, wait for
//! its `outbind`, bind (as a receiver in 3.4; a transceiver too in 5.0) on that same
//! connection, and run a client on it as [`Client::connect`] would.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use log::{debug, info};
use smpp_session::Event;
use smpp_transport::{ConnEvent, Listener, Transport, TransportHandle};

use crate::{connect, Client, ClientConfig, Error};

/// A listening ESME waiting for SMSCs' outbinds: [`OutbindListener::accept`] gives a bound
/// [`Client`] per SMSC that dials in and sends `outbind`.
#[derive(Debug)]
pub struct OutbindListener {
    transport: TransportHandle,
    listener: Listener,
    config: ClientConfig,
}

impl OutbindListener {
    /// Listens on `addr` (port 0 picks a free port). `config` is the bind each accepted
    /// SMSC gets; reconnect is off for these clients (the SMSC dials, not us).
    pub fn bind(addr: SocketAddr, config: ClientConfig) -> Result<OutbindListener, Error> {
        let transport = Transport::spawn(config.transport.clone()).map_err(Error::Connect)?;
        let listener = match transport.listen_as_esme(addr, config.session.clone()) {
            Ok(l) => l,
            Err(e) => {
                transport.shutdown();
                return Err(Error::Connect(e));
            }
        };
        Ok(OutbindListener {
            transport,
            listener,
            config: ClientConfig {
                reconnect: None,
                ..config
            },
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr()
    }

    /// Waits at most `timeout` for an SMSC to connect and send `outbind`, then binds on
    /// that connection and returns the client (its inbound channel gets the SMSC's
    /// `deliver_sm` as usual). The outbind's `system_id` is logged (its password never);
    /// neither is checked: the bind that follows is what authenticates.
    /// [`Error::Timeout`] when no SMSC connected and sent outbind in time.
    pub fn accept(&self, timeout: Duration) -> Result<Client, Error> {
        let end = Instant::now() + timeout;
        let conn = self
            .listener
            .accept_timeout(timeout)
            .map_err(Error::Connect)?
            .ok_or(Error::Timeout)?;
        let peer = conn.peer_addr();
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match conn.events().recv_timeout(left) {
                Ok(ConnEvent::Session(Event::Outbind { system_id, .. })) => {
                    info!("outbind from {system_id:?} at {peer}");
                    break;
                }
                Ok(ConnEvent::Closed(_)) => return Err(Error::Disconnected),
                Ok(other) => debug!("before outbind from {peer}: {other:?}"),
                Err(_) => return Err(Error::Timeout),
            }
        }
        let conn = connect::bind_on(conn, peer, &self.config)?;
        Client::on_connection(&self.transport, conn, peer, self.config.clone())
    }
}
