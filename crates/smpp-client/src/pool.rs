//! A pool of binds over one or more SMSC accounts: [`Pool`].
//!
//! Each account ([`Account`]) has its addresses, credentials, bind mode (transmitter,
//! receiver, transceiver, or transmitter and receiver pairs), a number of binds, a window
//! per bind, a throughput cap shared by all its binds, and a weight. The pool's binds share
//! one lifecycle (one tracker, one reassembly, one store) and one inbound channel, so a
//! receipt that comes on a receiver bind is matched to the message a transmitter bind sent,
//! whichever account or bind it was.
//!
//! Delivery is at most once: a bind that drops is reconnected with backoff while the
//! others carry the load, and a message in flight on it when it dropped is resolved once,
//! as [`Error::Disconnected`] (the SMSC may or may not have it: "outcome unknown"), never
//! sent again by the pool. A message a bind took just as it dropped, before writing it, is
//! [`Error::NotSent`]; one that no bind took (none up for the failover wait) is
//! [`Error::NoBind`]: neither reached the SMSC, and sending them again is the caller's
//! choice. See docs/pool.md.

mod run;
mod spread;

pub use spread::Spread;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use smpp_lifecycle::{LifecycleConfig, TrackerStats};
use smpp_session::BindKind;

use crate::rate::RateLimiter;
use crate::{
    Client, ClientConfig, ClientStats, Error, Health, Inbound, ReceiptItems, Sent, ServerAddr,
    StoreHandle, TextOptions, Tracking,
};
use smpp_transport::{Transport, TransportHandle};

pub use crate::config_file::BindMode;

/// One SMSC account of a [`Pool`].
#[derive(Clone, Debug)]
pub struct Account {
    name: String,
    servers: Vec<ServerAddr>,
    config: ClientConfig,
    mode: BindMode,
    binds: usize,
    weight: u32,
    max_rate: Option<f64>,
}

impl Account {
    /// An account named `name` (for stats and logs) at `servers` (tried in turn), binding
    /// with `config`'s credentials, window and timers: one transceiver bind by default.
    /// The bind kind in `config` is replaced by the account's [`BindMode`].
    pub fn new<S: Into<ServerAddr>>(
        name: impl Into<String>,
        servers: impl IntoIterator<Item = S>,
        config: ClientConfig,
    ) -> Account {
        Account {
            name: name.into(),
            servers: servers.into_iter().map(Into::into).collect(),
            max_rate: config.max_rate,
            config,
            mode: BindMode::Trx,
            binds: 1,
            weight: 1,
        }
    }

    /// How it binds (default [`BindMode::Trx`]).
    pub fn mode(mut self, mode: BindMode) -> Account {
        self.mode = mode;
        self
    }

    /// How many binds (of each kind, for [`BindMode::TxRx`]); at least 1.
    pub fn binds(mut self, n: usize) -> Account {
        self.binds = n.max(1);
        self
    }

    /// Its share of the traffic against the other accounts (default 1).
    pub fn weight(mut self, w: u32) -> Account {
        self.weight = w.max(1);
        self
    }

    /// Submits per second for the whole account, all its binds together.
    pub fn max_rate(mut self, per_second: f64) -> Account {
        self.max_rate = Some(per_second);
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// How a [`Pool`] tracks messages and hands on what comes in.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    /// The lifecycle (tracking, reassembly, bounds, expiry).
    pub lifecycle: LifecycleConfig,
    /// A durable store for the tracking (memory only without one).
    pub store: Option<StoreHandle>,
    /// Capacity of the inbound channel (as [`ClientConfig::inbound_capacity`]).
    pub inbound_capacity: usize,
    /// Which receipts come as items of their own (as [`ClientConfig::receipt_items`]).
    pub receipt_items: ReceiptItems,
    /// How long [`Pool::send_many`] waits for a bind to come back when no bind can take a
    /// message, before giving it up as [`Error::NoBind`] (default 30 s).
    pub failover_wait: Duration,
    /// Which messages [`Pool::send_many`] sends again, once, on another bind (default
    /// [`Resend::Never`]: at most once).
    pub resend: Resend,
}

/// Which messages [`Pool::send_many`] sends again (once, on whichever bind is next) after
/// their bind dropped. A message sent again is tracked again: the first attempt's report
/// says what became of it (not sent, or unknown), and the second attempt gets a report of
/// its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resend {
    /// None: each message's result is final (at most once; the default).
    #[default]
    Never,
    /// Those that never reached an SMSC ([`Error::NotSent`]): no SMS can be duplicated.
    NotSent,
    /// Those and the ones whose outcome is unknown ([`Error::Disconnected`],
    /// [`Error::Timeout`]): the SMSC may have taken the first attempt, so a recipient may
    /// get the message twice. An explicit choice for traffic where a lost message costs
    /// more than a duplicate.
    Unknown,
}

impl Resend {
    /// Whether a message with this result is sent again.
    pub(crate) fn covers(self, r: &Result<Sent, Error>) -> bool {
        match (self, r) {
            (Resend::Never, _) => false,
            (_, Err(Error::NotSent)) => true,
            (Resend::Unknown, Err(Error::Disconnected | Error::Timeout)) => true,
            _ => false,
        }
    }
}

impl Default for PoolOptions {
    fn default() -> Self {
        let base = ClientConfig::new(BindKind::Transceiver, "", "");
        PoolOptions {
            lifecycle: base.lifecycle,
            store: None,
            inbound_capacity: base.inbound_capacity,
            receipt_items: base.receipt_items,
            failover_wait: Duration::from_secs(30),
            resend: Resend::Never,
        }
    }
}

/// One bind of the pool.
pub(crate) struct Member {
    pub(crate) client: Client,
    pub(crate) kind: BindKind,
    pub(crate) account: usize,
}

/// An account's binds and shared cap.
pub(crate) struct AccountState {
    pub(crate) name: String,
    pub(crate) weight: u32,
    pub(crate) window: usize,
    pub(crate) rate: Option<Arc<Mutex<RateLimiter>>>,
    /// Indexes into the pool's members.
    pub(crate) members: Vec<usize>,
}

/// A pool of binds over one or more SMSC accounts, sharing one tracker and one inbound
/// channel: see the [module](self) documentation.
pub struct Pool {
    pub(crate) members: Vec<Member>,
    pub(crate) accounts: Vec<AccountState>,
    spread: Mutex<Spread>,
    /// Round robin inside an account, per account.
    next_bind: Vec<std::sync::atomic::AtomicUsize>,
    inbound: Receiver<Inbound>,
    tracking: Mutex<Option<Tracking>>,
    transport: TransportHandle,
    pub(crate) options: PoolOptions,
    closed: AtomicBool,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field(
                "accounts",
                &self.accounts.iter().map(|a| &a.name).collect::<Vec<_>>(),
            )
            .field("binds", &self.members.len())
            .finish_non_exhaustive()
    }
}

/// A bind's state and counters: see [`Pool::stats`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct BindStats {
    /// Its kind.
    pub kind: BindKind,
    /// Up since when, and the last error.
    pub health: Health,
    /// Its counters (session, reconnects, throttled retries).
    pub stats: ClientStats,
}

/// An account's binds and cap: see [`Pool::stats`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AccountStats {
    /// Its name.
    pub name: String,
    /// Its cap (submits per second), if it has one.
    pub max_rate: Option<f64>,
    /// The rate allowed now: the cap, or less while the SMSC throttles.
    pub rate_now: Option<f64>,
    /// Its binds.
    pub binds: Vec<BindStats>,
}

impl BindStats {
    /// A bind's state and counters (for other faces' pools, such as `smpp-tokio`'s).
    pub fn new(kind: BindKind, health: Health, stats: ClientStats) -> BindStats {
        BindStats {
            kind,
            health,
            stats,
        }
    }
}

impl AccountStats {
    /// An account's binds and cap (for other faces' pools, such as `smpp-tokio`'s).
    pub fn new(
        name: impl Into<String>,
        max_rate: Option<f64>,
        rate_now: Option<f64>,
        binds: Vec<BindStats>,
    ) -> AccountStats {
        AccountStats {
            name: name.into(),
            max_rate,
            rate_now,
            binds,
        }
    }

    /// Submits (`submit_sm` requests) sent on its binds.
    pub fn submits(&self) -> u64 {
        self.binds
            .iter()
            .map(|b| b.stats.session.sent.count(smpp_pdu::CommandId::SUBMIT_SM))
            .sum()
    }

    /// How many of its binds are up.
    pub fn up(&self) -> usize {
        self.binds.iter().filter(|b| b.stats.connected).count()
    }
}

/// What a pool counted: per account and per bind, and its tracker's counters.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PoolStats {
    /// Every account, in configuration order.
    pub accounts: Vec<AccountStats>,
    /// The shared tracker's counters.
    pub tracker: TrackerStats,
}

impl PoolStats {
    /// A pool's counters (for other faces' pools, such as `smpp-tokio`'s).
    pub fn new(accounts: Vec<AccountStats>, tracker: TrackerStats) -> PoolStats {
        PoolStats { accounts, tracker }
    }
}

impl Pool {
    /// Binds every account's binds (on one transport thread) and returns the pool once at
    /// least one bind is up; a bind whose first connect fails keeps trying in the
    /// background, with backoff. Fails only when no bind at all came up, or the store
    /// could not be opened.
    pub fn connect(accounts: Vec<Account>, options: PoolOptions) -> Result<Pool, Error> {
        let Some(first) = accounts.first() else {
            return Err(Error::NoBind);
        };
        let transport = Transport::spawn(first.config.transport.clone()).map_err(Error::Connect)?;
        match Pool::connect_with(&transport, accounts, options) {
            Ok(p) => Ok(p),
            Err(e) => {
                transport.shutdown();
                Err(e)
            }
        }
    }

    fn connect_with(
        transport: &TransportHandle,
        accounts: Vec<Account>,
        options: PoolOptions,
    ) -> Result<Pool, Error> {
        let member_config = |a: &Account, kind: BindKind| {
            let mut c = a.config.clone();
            c.bind.kind = kind;
            c.max_rate = None;
            c.reconnect = Some(c.reconnect.unwrap_or_default());
            c.lifecycle = options.lifecycle.clone();
            c.store = options.store.clone();
            c.inbound_capacity = options.inbound_capacity;
            c.receipt_items = options.receipt_items;
            // Two accounts (two SMSCs) may give out the same ids: each bind's ids and
            // receipts belong to its account.
            c.account = Some(a.name.clone());
            c
        };
        let (wake0, wake0_rx) = crossbeam_channel::bounded(1);
        let tracking = {
            let base = member_config(&accounts[0], BindKind::Transceiver);
            Tracking::open(&base, &wake0)?
        };
        let mut first_wake = Some((wake0, wake0_rx));
        let mut members = Vec::new();
        let mut states = Vec::new();
        for (ai, a) in accounts.iter().enumerate() {
            let rate = a
                .max_rate
                .map(|r| Arc::new(Mutex::new(RateLimiter::new(r, Instant::now()))));
            let mut ids = Vec::new();
            for _ in 0..a.binds {
                for &kind in a.mode.kinds() {
                    let wake = first_wake
                        .take()
                        .unwrap_or_else(|| crossbeam_channel::bounded(1));
                    let can_submit = kind != BindKind::Receiver;
                    let client = Client::member(
                        transport,
                        a.servers.clone(),
                        member_config(a, kind),
                        &tracking,
                        rate.clone().filter(|_| can_submit),
                        wake,
                    )?;
                    ids.push(members.len());
                    members.push(Member {
                        client,
                        kind,
                        account: ai,
                    });
                }
            }
            states.push(AccountState {
                name: a.name.clone(),
                weight: a.weight,
                window: a.config.session.window,
                rate,
                members: ids,
            });
        }
        let pool = Pool {
            spread: Mutex::new(Spread::new(states.iter().map(|s| s.weight))),
            next_bind: states.iter().map(|_| Default::default()).collect(),
            accounts: states,
            inbound: tracking.in_rx.clone(),
            tracking: Mutex::new(Some(tracking)),
            transport: transport.clone(),
            options,
            members,
            closed: AtomicBool::new(false),
        };
        if !pool.members.iter().any(|m| m.client.is_connected()) {
            let why = pool
                .members
                .iter()
                .filter_map(|m| m.client.health().last_error)
                .next()
                .unwrap_or_default();
            log::warn!("no bind of the pool came up: {why}");
            pool.close();
            return Err(Error::NoBind);
        }
        Ok(pool)
    }

    /// Builds a pool from a configuration file's contents ([`PoolConfig`]), with `store`
    /// as its store (the file's `[store]` names one; opening it is the caller's, as the
    /// store crates are separate). Every address is resolved first: one that does not
    /// resolve is an error before any bind is attempted.
    ///
    /// [`PoolConfig`]: crate::PoolConfig
    pub fn from_config(
        config: &crate::PoolConfig,
        store: Option<StoreHandle>,
    ) -> Result<Pool, Error> {
        Pool::from_config_with(
            config,
            PoolOptions {
                store,
                ..PoolOptions::default()
            },
        )
    }

    /// [`Pool::from_config`] with `options` of the caller's (the store among them):
    /// which receipts come as items of their own, the inbound capacity, the lifecycle.
    pub fn from_config_with(
        config: &crate::PoolConfig,
        options: PoolOptions,
    ) -> Result<Pool, Error> {
        config.check_addresses().map_err(Error::Config)?;
        let mut accounts = Vec::new();
        for a in &config.smsc {
            let base = a
                .client_config(BindKind::Transceiver)
                .map_err(Error::Config)?;
            let mut account = Account::new(a.name.clone(), a.addr.iter(), base)
                .mode(a.bind)
                .binds(a.binds)
                .weight(a.weight);
            if let Some(r) = a.max_rate {
                account = account.max_rate(r);
            }
            accounts.push(account);
        }
        Pool::connect(accounts, options)
    }

    /// Everything that comes in on any bind: receipts, one report per tracked message,
    /// whole MO messages, ... (see [`Client::inbound`]).
    pub fn inbound(&self) -> &Receiver<Inbound> {
        &self.inbound
    }

    /// Whether an account can take a message now (a submit-capable bind of it is up).
    pub(crate) fn account_up(&self, a: usize) -> bool {
        self.accounts[a].members.iter().any(|&m| {
            let m = &self.members[m];
            m.kind != BindKind::Receiver && m.client.is_connected()
        })
    }

    /// The bind for the next message: the account by weight among those with a bind up,
    /// then its binds in turn.
    fn pick(&self) -> Option<&Member> {
        let a = self.spread.lock().ok()?.pick(|a| self.account_up(a))?;
        let binds: Vec<&Member> = self.accounts[a]
            .members
            .iter()
            .map(|&m| &self.members[m])
            .filter(|m| m.kind != BindKind::Receiver && m.client.is_connected())
            .collect();
        let n = self.next_bind[a].fetch_add(1, Ordering::Relaxed);
        binds.get(n % binds.len().max(1)).copied()
    }

    /// Sends one text on the next bind (as [`Client::send_text`] does); its report comes
    /// on [`Pool::inbound`]. [`Error::NoBind`] when no bind is up.
    pub fn send_text(
        &self,
        from: &str,
        to: &str,
        text: &str,
        options: &TextOptions,
    ) -> Result<Sent, Error> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(Error::Closed);
        }
        self.pick()
            .ok_or(Error::NoBind)?
            .client
            .send_text(from, to, text, options)
    }

    /// What every account and bind counted, and the tracker's counters.
    pub fn stats(&self) -> PoolStats {
        let now = Instant::now();
        let accounts = self
            .accounts
            .iter()
            .map(|a| {
                let (max_rate, rate_now) = match &a.rate {
                    Some(r) => match r.lock() {
                        Ok(mut r) => (Some(r.cap()), Some(r.current(now))),
                        Err(_) => (None, None),
                    },
                    None => (None, None),
                };
                AccountStats {
                    name: a.name.clone(),
                    max_rate,
                    rate_now,
                    binds: a
                        .members
                        .iter()
                        .map(|&m| {
                            let m = &self.members[m];
                            BindStats {
                                kind: m.kind,
                                health: m.client.health(),
                                stats: m.client.stats(),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        let tracker = self
            .members
            .first()
            .map(|m| m.client.stats().tracker)
            .unwrap_or_default();
        PoolStats { accounts, tracker }
    }

    /// Unbinds every bind, then ends the tracking: every open message gets its report (or,
    /// with a store, stays open there) and [`Pool::inbound`] ends once drained. A second
    /// call does nothing.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        // Every bind's unbind runs at once (each waits for its answer).
        std::thread::scope(|s| {
            for m in &self.members {
                s.spawn(|| {
                    let _ = m.client.unbind();
                });
            }
        });
        if let Some(m) = self.members.first() {
            crate::dispatch::finish_tracking(&m.client.inner);
        }
        if let Ok(mut t) = self.tracking.lock() {
            *t = None;
        }
        self.transport.shutdown();
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.close();
    }
}
