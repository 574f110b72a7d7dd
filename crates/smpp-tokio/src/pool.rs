//! [`Pool`]: binds over one or more SMSC accounts on tokio, from the same configuration
//! file as the blocking pool ([`smpp_client::PoolConfig`]).
//!
//! Every bind is a [`Client`] of this crate (its own task, reconnecting with backoff); all
//! of them share one lifecycle layer, so a receipt read on any receiving bind is matched to
//! the message any transmitting bind sent, and one [`Inbound`] stream carries every
//! report, receipt and MO message. Messages go to the accounts by weight (the blocking
//! pool's [`Spread`]), and within an account to its bound binds in turn.
//!
//! Delivery is at most once, as in the blocking pool: a message in flight on a bind that
//! drops resolves as [`Error::Disconnected`] (outcome unknown) and is never sent again by
//! the pool; one that a bind took but never wrote ([`Error::NotSent`]) goes to another
//! bind (a bind that is down refuses calls at once, so the pool moves them on instead of
//! waiting for that bind to come back); one that no bind could take within the failover
//! wait is [`Error::NoBind`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use log::{info, warn};
use smpp_client::pool::{AccountStats, BindStats, PoolOptions, PoolStats, Resend, Spread};
use smpp_client::{
    Backoff, ConfigError, Error, InboundKind, OutgoingText, PoolConfig, Sent, TextOptions,
    TrackerStats,
};
use smpp_pdu::{SubmitSm, SubmitSmResp};
use smpp_session::BindKind;
use tokio::sync::mpsc;

use crate::client::store::Tracking;
use crate::{Client, Inbound};

/// One bind of the pool.
struct Member {
    account: usize,
    kind: BindKind,
    client: Client,
    /// Its window (requests in flight at once).
    window: usize,
}

/// One account: its name, weight and the binds that submit.
struct Account {
    name: String,
    /// Its cap (for the whole account).
    max_rate: Option<f64>,
    submitters: Vec<usize>,
    /// The next of `submitters` to try.
    next: AtomicUsize,
}

/// Binds over several SMSC accounts, on tokio; see the [module documentation](self).
/// A message waits at most the failover wait ([`PoolOptions::failover_wait`], 30 s by
/// default) for a bind to take it.
pub struct Pool {
    members: Vec<Member>,
    accounts: Vec<Account>,
    spread: Mutex<Spread>,
    /// The lifecycle every bind shares, and the store thread when there is a store.
    tracking: Tracking,
    /// How long closing waits for the store's last writes.
    store_timeout: Duration,
    /// Where the last reports go when the pool closes.
    inbound: mpsc::Sender<InboundKind>,
    failover_wait: Duration,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("binds", &self.members.len())
            .field("up", &self.up())
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// Opens every bind of every account of `config` (each with reconnect), and returns
    /// the pool with the one stream of what every receiving bind reads. An account's
    /// `max_rate` is shared by dividing it among its transmitting binds. Fails when a bind
    /// cannot be opened (naming its account) or the file asks for what this build lacks.
    pub async fn connect(config: &PoolConfig) -> Result<(Pool, Inbound), Error> {
        Pool::connect_with(config, &PoolOptions::default()).await
    }

    /// [`Pool::connect`] with the pool-wide settings of the blocking pool's
    /// [`PoolOptions`]: the lifecycle (tracking, reassembly, bounds, expiry), the store
    /// (every bind's messages journaled there, a send answered once its records are
    /// written, open messages taken back at start and left to the store at
    /// [`Pool::close`]), the inbound stream's capacity, which receipts come as items of
    /// their own, and the failover wait. Resending is not on tokio yet: asking for it is
    /// [`Error::Config`].
    pub async fn connect_with(
        config: &PoolConfig,
        options: &PoolOptions,
    ) -> Result<(Pool, Inbound), Error> {
        let unsupported = |key: &str, what: &str| {
            Error::Config(ConfigError {
                path: None,
                line: None,
                key: Some(key.into()),
                message: format!("{what} is not supported by smpp-tokio's pool yet"),
            })
        };
        if options.resend != Resend::Never {
            return Err(unsupported("resend", "resending"));
        }
        // One lifecycle (and store thread) for every bind, with the first account's text
        // settings, as the blocking pool has it.
        let Some(first) = config.smsc.first() else {
            return Err(Error::NoBind);
        };
        let mut base = first
            .client_config(BindKind::Transceiver)
            .map_err(Error::Config)?;
        base.lifecycle = options.lifecycle.clone();
        base.store = options.store.clone();
        let tracking = Tracking::open(&base).await?;
        match Pool::open(config, options, &tracking, base.store_timeout).await {
            Ok(p) => Ok(p),
            Err(e) => {
                tracking.finish(base.store_timeout).await;
                Err(e)
            }
        }
    }

    async fn open(
        config: &PoolConfig,
        options: &PoolOptions,
        tracking: &Tracking,
        store_timeout: Duration,
    ) -> Result<(Pool, Inbound), Error> {
        let (tx, rx) = mpsc::channel(options.inbound_capacity.max(1));
        let mut members = Vec::new();
        let mut accounts = Vec::new();
        for (a, account) in config.smsc.iter().enumerate() {
            let addrs = resolve(&account.addr).await.map_err(|e| {
                Error::Config(ConfigError {
                    path: None,
                    line: None,
                    key: Some("addr".into()),
                    message: format!("account `{}`: {e}", account.name),
                })
            })?;
            let kinds = account.bind.kinds();
            let submitting =
                kinds.iter().filter(|k| **k != BindKind::Receiver).count() * account.binds.max(1);
            let mut submitters = Vec::new();
            for &kind in kinds {
                for _ in 0..account.binds.max(1) {
                    let mut cfg = account.client_config(kind).map_err(Error::Config)?;
                    cfg = cfg
                        .reconnect(Backoff::default())
                        .receipt_items(options.receipt_items);
                    cfg.max_rate = account.max_rate.map(|r| r / submitting.max(1) as f64);
                    let (client, inbound) =
                        Client::connect_on(addrs.clone(), cfg, Some(tracking.clone()))
                            .await
                            .map_err(|e| {
                                warn!("account `{}`: {kind:?} bind failed: {e}", account.name);
                                e
                            })?;
                    tokio::spawn(forward(inbound, tx.clone()));
                    if kind != BindKind::Receiver {
                        submitters.push(members.len());
                    }
                    members.push(Member {
                        account: a,
                        kind,
                        client,
                        window: account.window.max(1),
                    });
                }
            }
            info!(
                "account `{}`: {} bind(s) up",
                account.name,
                kinds.len() * account.binds.max(1)
            );
            accounts.push(Account {
                name: account.name.clone(),
                max_rate: account.max_rate,
                submitters,
                next: AtomicUsize::new(0),
            });
        }
        let spread = Spread::new(config.smsc.iter().map(|a| a.weight));
        Ok((
            Pool {
                members,
                accounts,
                spread: Mutex::new(spread),
                tracking: tracking.clone(),
                store_timeout,
                inbound: tx,
                failover_wait: options.failover_wait,
            },
            Inbound { rx },
        ))
    }

    /// Binds up now.
    pub fn up(&self) -> usize {
        self.members.iter().filter(|m| m.client.is_bound()).count()
    }

    /// The accounts' names and how many of each one's binds are up.
    pub fn accounts(&self) -> Vec<(String, usize)> {
        self.accounts
            .iter()
            .enumerate()
            .map(|(a, acc)| {
                let up = self
                    .members
                    .iter()
                    .filter(|m| m.account == a && m.client.is_bound())
                    .count();
                (acc.name.clone(), up)
            })
            .collect()
    }

    /// Per account and per bind: the cap and the rate allowed now (summed over the
    /// account's transmitting binds, which share the cap), each bind's health (bound
    /// since when, the last error) and counters; and the shared tracker's counters. A bind
    /// whose task has ended shows default counters.
    pub async fn stats(&self) -> PoolStats {
        let mut accounts = Vec::new();
        for (a, acc) in self.accounts.iter().enumerate() {
            let mut binds = Vec::new();
            let mut rate_now = None;
            for m in self.members.iter().filter(|m| m.account == a) {
                let stats = m.client.stats().await.unwrap_or_default();
                if let Some(r) = stats.rate_now {
                    rate_now = Some(rate_now.unwrap_or(0.0) + r);
                }
                binds.push(BindStats::new(m.kind, m.client.health(), stats));
            }
            accounts.push(AccountStats::new(
                acc.name.clone(),
                acc.max_rate,
                rate_now,
                binds,
            ));
        }
        PoolStats::new(accounts, self.tracker_stats())
    }

    /// Sends every text of `texts` through the pool, as [`Pool::send_text`] does each,
    /// with as many in flight at once as the transmitting binds' windows hold (so every
    /// window stays full, whichever account is faster); the results in the order of
    /// `texts`. Cancellation: dropping the future stops taking texts; those already
    /// handed to a bind go out and their results are counted as dropped.
    pub async fn send_many<I>(&self, texts: I) -> Vec<Result<Sent, Error>>
    where
        I: IntoIterator<Item = OutgoingText>,
    {
        use futures_util::StreamExt;
        let in_flight: usize = self
            .accounts
            .iter()
            .flat_map(|a| a.submitters.iter())
            .map(|&m| self.members[m].window)
            .sum();
        let mut results: Vec<(usize, Result<Sent, Error>)> =
            futures_util::stream::iter(texts.into_iter().enumerate())
                .map(|(i, t)| async move {
                    (i, self.send_text(&t.from, &t.to, &t.text, &t.options).await)
                })
                .buffer_unordered(in_flight.max(1))
                .collect()
                .await;
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }

    /// The shared tracker's counters.
    pub fn tracker_stats(&self) -> TrackerStats {
        self.tracking
            .life
            .lock()
            .map(|l| l.tracker().stats())
            .unwrap_or_default()
    }

    /// A bound transmitting bind, by account weight then in turn within the account;
    /// waits for one up to the failover wait.
    async fn pick(&self, skip: &[usize]) -> Result<usize, Error> {
        let end = Instant::now() + self.failover_wait;
        loop {
            let ready = |m: usize| !skip.contains(&m) && self.members[m].client.is_bound();
            let picked = {
                let mut spread = self.spread.lock().unwrap_or_else(|e| e.into_inner());
                spread.pick(|a| self.accounts[a].submitters.iter().any(|&m| ready(m)))
            };
            if let Some(a) = picked {
                let acc = &self.accounts[a];
                let n = acc.submitters.len();
                let start = acc.next.fetch_add(1, Ordering::Relaxed);
                if let Some(m) = (0..n)
                    .map(|i| acc.submitters[(start + i) % n])
                    .find(|&m| ready(m))
                {
                    return Ok(m);
                }
            }
            if Instant::now() >= end {
                return Err(Error::NoBind);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends a text through a bind the pool picks (see [`Client::send_text`]); its report
    /// comes on the pool's [`Inbound`] whichever bind reads its receipts. A message a bind
    /// could not write goes to another; see the module documentation for the rest.
    pub async fn send_text(
        &self,
        from: &str,
        to: &str,
        text: &str,
        options: &TextOptions,
    ) -> Result<Sent, Error> {
        let mut tried = Vec::new();
        loop {
            let m = self.pick(&tried).await?;
            match self.members[m]
                .client
                .send_text(from, to, text, options)
                .await
            {
                Err(Error::NotSent | Error::Closed) => tried.push(m),
                other => return other,
            }
        }
    }

    /// A `submit_sm` as it is (untracked), through a bind the pool picks.
    pub async fn submit(&self, sm: SubmitSm<'static>) -> Result<SubmitSmResp<'static>, Error> {
        let mut tried = Vec::new();
        loop {
            let m = self.pick(&tried).await?;
            match self.members[m].client.submit(sm.clone()).await {
                Err(Error::NotSent | Error::Closed) => tried.push(m),
                other => return other,
            }
        }
    }

    /// Unbinds every bind, then reports every message still open (expired: no receipt
    /// will be read any more) on the pool's stream, which then ends. Returns without
    /// waiting for the stream to be read.
    pub async fn close(self) {
        for m in &self.members {
            if let Err(e) = m.client.unbind().await {
                warn!(
                    "{:?} bind of `{}`: unbind: {e}",
                    m.kind, self.accounts[m.account].name
                );
            }
        }
        // What is open is reported (with a store: left to it, its last writes done).
        let items = self.tracking.finish(self.store_timeout).await;
        // Handed over by a task of their own: an application that reads its stream only
        // after `close` returns must not be kept waiting for room.
        let tx = self.inbound.clone();
        tokio::spawn(async move {
            for item in items {
                if tx.send(item).await.is_err() {
                    break;
                }
            }
        });
    }
}

/// A pool dropped without [`Pool::close`] still stops its store thread (after the writes it
/// holds); its binds unbind as their handles go.
impl Drop for Pool {
    fn drop(&mut self) {
        if let Some(link) = &self.tracking.link {
            link.stop_soon();
        }
    }
}

/// Hands a bind's inbound items to the pool's stream.
async fn forward(mut inbound: Inbound, tx: mpsc::Sender<InboundKind>) {
    while let Some(item) = inbound.recv().await {
        if tx.send(item).await.is_err() {
            return;
        }
    }
}

/// The socket addresses of `addrs` (`host:port` each), in order.
async fn resolve(addrs: &[String]) -> std::io::Result<Vec<SocketAddr>> {
    let mut out = Vec::new();
    for a in addrs {
        out.extend(tokio::net::lookup_host(a.as_str()).await?);
    }
    Ok(out)
}
