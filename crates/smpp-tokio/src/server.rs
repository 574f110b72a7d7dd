//! [`Server`]: an SMSC on tokio, with the handler API of `smpp-smsc`. The SMSC's logic is
//! `smpp_smsc::core::Core` (the built-in test SMSC, or a [`Handler`] of the program's own);
//! one task drives it (accepts, the connections' events, the outcomes of the requests it
//! sends, its timers) and one task per connection drives that connection's SMSC
//! [`Session`](smpp_session::Session) (`server/conn.rs`).

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use log::{debug, info, warn};
use smpp_smsc::core::{Core, Handler, Output};
use smpp_smsc::{SmscConfig, SmscError, Stats};
use smpp_transport::{ConnEvent, ConnId, Outcome};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

mod conn;

use conn::ConnCmd;

/// What a connection task tells the core's task.
pub(crate) enum FromConn {
    /// An event of the connection (the last is `ConnEvent::Closed`).
    Event(ConnId, ConnEvent),
    /// The outcome of a request the core sent (`deliver_sm`, ...).
    Completed(u64, Outcome),
}

/// What the handle asks of the core's task.
enum Control {
    InjectMo {
        system_id: String,
        from: String,
        to: String,
        text: String,
        reply: oneshot::Sender<Result<(), SmscError>>,
    },
    Shutdown,
}

/// An SMSC serving ESMEs on a tokio `TcpListener`: the built-in test SMSC
/// ([`Server::start`]) or a program's own behaviour through a [`Handler`]
/// ([`Server::start_with_handler`]), exactly as `smpp_smsc::Smsc` serves them on its own
/// thread. Of [`SmscConfig`], everything but the PDU log file, TLS and the transport's
/// socket settings applies (`addr`, users, receipts, MO, faults, the sessions' settings).
///
/// Dropping it stops accepting and closes every connection.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    control: mpsc::UnboundedSender<Control>,
    stats: watch::Receiver<Stats>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Listens on `config.addr` (port 0 for any) and serves as the built-in test SMSC.
    pub async fn start(config: SmscConfig) -> Result<Server, SmscError> {
        let session = config.session.clone();
        let addr = config.addr;
        let core = Core::new(config, Instant::now(), SystemTime::now());
        Server::start_core(core, addr, session).await
    }

    /// Listens on `config.addr` and serves with `handler` deciding binds and requests
    /// (what it leaves to [`smpp_smsc::core::Verdict::Builtin`] the test SMSC decides).
    pub async fn start_with_handler(
        config: SmscConfig,
        handler: impl Handler,
    ) -> Result<Server, SmscError> {
        let session = config.session.clone();
        let addr = config.addr;
        let core = Core::with_handler(config, handler, Instant::now(), SystemTime::now());
        Server::start_core(core, addr, session).await
    }

    async fn start_core(
        core: Core,
        addr: SocketAddr,
        session: smpp_session::Config,
    ) -> Result<Server, SmscError> {
        let listener = TcpListener::bind(addr).await.map_err(SmscError::Io)?;
        let local_addr = listener.local_addr().map_err(SmscError::Io)?;
        let (control, control_rx) = mpsc::unbounded_channel();
        let (stats_tx, stats) = watch::channel(Stats::default());
        let task = tokio::spawn(run(core, listener, session, control_rx, stats_tx));
        info!("serving SMPP on {local_addr}");
        Ok(Server {
            local_addr,
            control,
            stats,
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Sends an MO message to a receiving session of `system_id` (as
    /// `smpp_smsc::Smsc::inject_mo`).
    pub async fn inject_mo(
        &self,
        system_id: &str,
        from: &str,
        to: &str,
        text: &str,
    ) -> Result<(), SmscError> {
        let (reply, rx) = oneshot::channel();
        self.control
            .send(Control::InjectMo {
                system_id: system_id.into(),
                from: from.into(),
                to: to.into(),
                text: text.into(),
                reply,
            })
            .map_err(|_| SmscError::Stopped)?;
        rx.await.unwrap_or(Err(SmscError::Stopped))
    }

    /// Its counters now.
    pub fn stats(&self) -> Stats {
        self.stats.borrow().clone()
    }

    /// Waits until its counters satisfy `cond` (at most `timeout`); whether they did.
    pub async fn wait_for(&self, timeout: Duration, cond: impl Fn(&Stats) -> bool) -> bool {
        let mut rx = self.stats.clone();
        tokio::time::timeout(timeout, async {
            loop {
                if cond(&rx.borrow_and_update()) {
                    return true;
                }
                if rx.changed().await.is_err() {
                    return cond(&rx.borrow());
                }
            }
        })
        .await
        .unwrap_or(false)
    }

    /// Stops accepting, closes every connection and waits for the SMSC's task to end.
    pub async fn shutdown(mut self) {
        let _ = self.control.send(Control::Shutdown);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Shutdown);
    }
}

/// The core's task: accepts, feeds the core every event, outcome and timeout with the
/// time, and carries out what it says.
async fn run(
    mut core: Core,
    listener: TcpListener,
    session: smpp_session::Config,
    mut control: mpsc::UnboundedReceiver<Control>,
    stats: watch::Sender<Stats>,
) {
    let (from_conns, mut events) = mpsc::unbounded_channel::<FromConn>();
    let mut conns: std::collections::HashMap<ConnId, mpsc::UnboundedSender<ConnCmd>> =
        Default::default();
    let mut next_id: ConnId = 1;
    let sleep = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(sleep);
    loop {
        let deadline = core.poll_timeout();
        if let Some(t) = deadline {
            sleep.as_mut().reset(tokio::time::Instant::from_std(t));
        }
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let id = next_id;
                    next_id += 1;
                    let (tx, rx) = mpsc::unbounded_channel();
                    conns.insert(id, tx);
                    core.connected(Instant::now(), id, peer);
                    tokio::spawn(conn::run(id, stream, session.clone(), rx, from_conns.clone()));
                }
                Err(e) => warn!("accept failed: {e}"),
            },
            Some(msg) = events.recv() => {
                let now = Instant::now();
                feed(&mut core, &mut conns, now, msg);
                // Everything else already waiting, before the outputs are carried out.
                while let Ok(msg) = events.try_recv() {
                    feed(&mut core, &mut conns, now, msg);
                }
            }
            c = control.recv() => match c {
                Some(Control::InjectMo { system_id, from, to, text, reply }) => {
                    let r = core.inject_mo(Instant::now(), &system_id, &from, &to, &text);
                    let _ = reply.send(r);
                }
                Some(Control::Shutdown) | None => break,
            },
            () = &mut sleep, if deadline.is_some() => core.handle_timeout(Instant::now()),
        }
        carry_out(&mut core, &conns);
        if core.take_stats_changed() {
            stats.send_replace(core.stats().clone());
        }
    }
    info!("SMSC stopping: closing {} connections", conns.len());
    for tx in conns.values() {
        let _ = tx.send(ConnCmd::Close);
    }
}

/// One message from a connection, to the core.
fn feed(
    core: &mut Core,
    conns: &mut std::collections::HashMap<ConnId, mpsc::UnboundedSender<ConnCmd>>,
    now: Instant,
    msg: FromConn,
) {
    match msg {
        FromConn::Event(id, ev) => {
            if matches!(ev, ConnEvent::Closed(_)) {
                conns.remove(&id);
            }
            core.on_event(now, id, ev);
        }
        FromConn::Completed(tag, outcome) => core.on_completed(now, tag, outcome),
    }
}

/// Hands what the core said to the connections it is for; a request for a connection
/// that is gone fails at once.
fn carry_out(
    core: &mut Core,
    conns: &std::collections::HashMap<ConnId, mpsc::UnboundedSender<ConnCmd>>,
) {
    let mut failed = Vec::new();
    while let Some(o) = core.poll_output() {
        let (conn, cmd) = match o {
            Output::AcceptBind {
                conn,
                sequence_number,
                system_id,
            } => (conn, ConnCmd::AcceptBind(sequence_number, system_id)),
            Output::RejectBind {
                conn,
                sequence_number,
                status,
            } => (conn, ConnCmd::RejectBind(sequence_number, status)),
            Output::Respond {
                conn,
                sequence_number,
                status,
                body,
            } => (conn, ConnCmd::Respond(sequence_number, status, body)),
            Output::Request { conn, tag, body } => (conn, ConnCmd::Request(tag, body)),
            Output::SendRaw { conn, bytes } => (conn, ConnCmd::SendRaw(bytes)),
            Output::Close { conn } => (conn, ConnCmd::Close),
            // Records are for smpp_smsc::Smsc's API and log; this server keeps neither.
            Output::Record(_) => continue,
            other => {
                debug!("not carried out here: {other:?}");
                continue;
            }
        };
        let tag = match &cmd {
            ConnCmd::Request(tag, _) => Some(*tag),
            _ => None,
        };
        let sent = conns.get(&conn).is_some_and(|tx| tx.send(cmd).is_ok());
        if !sent {
            debug!("connection {conn} is gone");
            failed.extend(tag);
        }
    }
    let now = Instant::now();
    for tag in failed {
        core.on_completed(now, tag, Outcome::Disconnected);
    }
}
