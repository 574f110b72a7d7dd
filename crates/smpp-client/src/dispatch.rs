//! The client's background thread: inbound messages, lost connections, reconnects.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use log::{info, warn};
use smpp_pdu::CommandStatus;
use smpp_session::Event;
use smpp_transport::{ConnEvent, Connection};

use crate::connect::open_any;
use crate::inbound::{forward, inbound_of, Ack, Inbound};
use crate::Inner;

/// The client's background thread: acknowledges and forwards inbound messages, and
/// reconnects after a drop.
pub(crate) fn dispatch(inner: Arc<Inner>, inbound: Sender<Inbound>, wake: Receiver<()>) {
    let mut attempt = 0u32;
    while !inner.closing.load(Ordering::SeqCst) {
        let conn = inner.conn.read().ok().and_then(|c| c.clone());
        let Some(conn) = conn else {
            // Disconnected: reconnect if configured.
            let Some(backoff) = inner.config.reconnect else {
                return;
            };
            let delay = inner.jittered(&backoff, attempt);
            match wake.recv_timeout(delay) {
                Ok(()) | Err(RecvTimeoutError::Disconnected) => continue,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if inner.closing.load(Ordering::SeqCst) {
                return;
            }
            // Host names are resolved again, and the list is tried from its start.
            match open_any(&inner.transport, &inner.servers, &inner.config) {
                Ok((c, addr)) => {
                    info!("reconnected to {addr}");
                    if let Ok(mut a) = inner.addr.lock() {
                        *a = addr;
                    }
                    inner.reconnects.fetch_add(1, Ordering::Relaxed);
                    attempt = 0;
                    if let Ok(mut slot) = inner.conn.write() {
                        *slot = Some(c);
                    }
                }
                Err(e) => {
                    warn!("reconnect to {:?} failed: {e}", inner.servers);
                    attempt = attempt.saturating_add(1);
                }
            }
            continue;
        };
        crossbeam_channel::select! {
            recv(conn.events()) -> ev => match ev {
                Ok(ConnEvent::Session(Event::Request { sequence_number, pdu })) => {
                    let command_id = pdu.command_id();
                    let ack = Ack { conn: Arc::clone(&conn), sequence_number, command_id };
                    let item = inbound_of(pdu, &inner.config.text, if inner.config.manual_ack { Some(ack) } else {
                        ack.send(CommandStatus::ESME_ROK);
                        None
                    });
                    forward(&inner, &inbound, item);
                }
                Ok(ConnEvent::Session(Event::Notification { pdu })) => {
                    let item = inbound_of(pdu, &inner.config.text, None);
                    forward(&inner, &inbound, item);
                }
                Ok(ConnEvent::Closed(why)) => lost(&inner, &conn, &format!("{why:?}")),
                Err(_) => lost(&inner, &conn, "event channel gone"),
                Ok(_) => {}
            },
            recv(wake) -> _ => {}
        }
    }
}

/// The current connection closed: forget it, so calls fail fast and the dispatcher
/// reconnects if configured.
fn lost(inner: &Inner, conn: &Arc<Connection>, why: &str) {
    if !inner.closing.load(Ordering::SeqCst) {
        warn!("connection to {} closed: {why}", inner.peer());
    }
    if let Ok(mut slot) = inner.conn.write() {
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            *slot = None;
            // Counted once: only the call that takes the connection out of the slot.
            if let Ok(mut f) = inner.finished.lock() {
                f.merge(&conn.stats());
            }
        }
    }
}
