//! The Redis store: tracked messages in one Redis that many processes (on many machines)
//! share, so a receipt that reaches any of them finds its message.
//!
//! # Key layout
//!
//! Every key starts with a prefix, `smpp:` unless [`RedisStoreBuilder::prefix`] says
//! otherwise (give each deployment sharing a Redis database its own):
//!
//! | key | type | holds |
//! | --- | --- | --- |
//! | `smpp:msg:{reference}` | hash | one open message: `receipts` (`none`, `final`, `failure`), `submitted` and `expires` (ms since the Unix epoch), `segments` (how many), and per segment `i` (0-based) `seg:{i}:id` (the SMSC's id, once known), `seg:{i}:state` ([`state_to_text`]), `seg:{i}:err` (a final receipt's `err:`), `seg:{i}:key` (the normalised id it is indexed by), `seg:{i}:account` (the SMSC account that gave the id, when one was named) |
//! | `smpp:id:{key}` | string | the reference of the message one of whose segments has the normalised id `key` ([`IdKey::store_key`](smpp_lifecycle::ids::IdKey::store_key): the account's name and `\x1f` before the id when there is an account) |
//! | `smpp:open` | sorted set | every open reference, scored by `submitted`: [`Store::load_open`] reads it oldest first |
//! | `smpp:expiry` | sorted set | every open reference, scored by `expires`: [`Store::purge_expired`] reads it |
//!
//! # Guarantees
//!
//! - [`Store::apply`] sends its whole batch as one `MULTI`/`EXEC` transaction, in one
//!   round trip: other clients see all of it or none of it, and nothing of another
//!   client's runs in between. Pipelining the writes this way is what keeps tracking's
//!   throughput (one round trip per batch, not per write).
//! - Each operation runs as a small Lua script (loaded once per connection with
//!   `SCRIPT LOAD`, run with `EVALSHA`), so it is checked and applied in one step on the
//!   server: a `SetId` or `SetState` for a message that is not there (removed by another
//!   process, expired) changes nothing, as with [`MemoryStore`](smpp_lifecycle::MemoryStore),
//!   and a `Remove` deletes an id key only while it still names that message (an SMSC that
//!   reused the id for a newer message keeps its mapping).
//! - Every operation is idempotent, so a batch may be sent again: the store does that
//!   once after a lost connection (the batch may or may not have been applied before the
//!   connection broke) and after the server lost its scripts (`NOSCRIPT`).
//! - `Ok` means Redis acknowledged the batch. Whether it survives a restart of *Redis* is
//!   Redis's persistence setting: a Redis without persistence (`--save "" --appendonly
//!   no`) forgets every open message when it restarts, and receipts for those messages
//!   then match nothing. Use `appendonly yes` (with `appendfsync everysec` at most a
//!   second of writes is at risk) where that matters.
//! - Reads are not transactions: [`Store::find`] is `GET` then `HGETALL`, and a message
//!   removed in between is simply not found.
//!
//! # Several processes
//!
//! Point every ESME process at the same Redis URL (and prefix). Each process writes the
//! messages it sends; a receipt that arrives at another process is looked up with
//! [`Store::find`] and adopted there; whichever process reports the message removes it.
//! References must be unique across the processes (a reference written again replaces
//! the message it named). Redis Cluster is not supported: the scripts touch several keys
//! that would need to share a slot.
//!
//! # Expiry
//!
//! Every key expires by itself, so the records of processes that crashed do not pile up:
//! a message's keys get `PEXPIREAT` at `max(expires, now) + grace` (grace one hour unless
//! [`RedisStoreBuilder::grace`] says otherwise; `now` is this machine's clock, which only
//! matters for records whose `expires` has already passed when they are written). The two
//! sorted sets expire when the last message in them would. A member whose message expired
//! is dropped when [`Store::load_open`] meets it or [`Store::purge_expired`] passes its
//! expiry; [`Store::purge_expired`] also removes, at once, messages whose `expires` is more
//! than its grace in the past.
//!
//! # Connection
//!
//! One connection, opened with a timeout (1 s by default) and with a response timeout
//! (1 s) on every read and write: no call waits longer than about twice those. A call
//! whose connection broke reconnects and tries once more; while Redis cannot be reached,
//! calls fail at once with [`StoreErrorKind::Unavailable`] and the store tries to connect
//! again after a backoff that grows from 50 ms to 2 s, so it comes back by itself within
//! about two seconds of Redis. The password of the URL is used to authenticate and is
//! never logged nor shown by `Debug`.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use redis::{ConnectionAddr, ErrorKind, IntoConnectionInfo, RedisError, ServerErrorKind};
use smpp_lifecycle::store::{policy_from_text, policy_to_text, state_from_text, state_to_text};
use smpp_lifecycle::{Record, Store, StoreError, StoreErrorKind, StoreOp, StoredSegment};

/// The default key prefix.
pub const DEFAULT_PREFIX: &str = "smpp:";
/// How long after its expiry a message's keys are kept by default (one hour).
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3600);

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
const BACKOFF_FIRST: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// How many references one round trip of `load_open` / `purge_expired` handles.
const WINDOW: usize = 500;

/// A new message. KEYS: hash, open, expiry. ARGV: reference, submitted, expires, key
/// deadline (ms since the epoch), now (ms), then the hash's fields and values.
const PUT: &str = r"
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('PEXPIREAT', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
local left = tonumber(ARGV[4]) - tonumber(ARGV[5])
for i = 2, 3 do
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl == -1 or ttl < left then redis.call('PEXPIREAT', KEYS[i], ARGV[4]) end
end
return 1
";

/// A segment's id. KEYS: hash, id key. ARGV: reference, segment, message id, normalised
/// key, grace (ms, for a hash without a TTL), [account].
const SET_ID: &str = r"
local n = tonumber(redis.call('HGET', KEYS[1], 'segments'))
local seg = tonumber(ARGV[2])
if not n or seg >= n then return 0 end
local p = 'seg:' .. ARGV[2] .. ':'
redis.call('HSET', KEYS[1], p .. 'id', ARGV[3], p .. 'state', 'submitted', p .. 'key', ARGV[4])
if ARGV[6] then
  redis.call('HSET', KEYS[1], p .. 'account', ARGV[6])
else
  redis.call('HDEL', KEYS[1], p .. 'account')
end
redis.call('SET', KEYS[2], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then ttl = tonumber(ARGV[5]) end
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
";

/// A segment's state. KEYS: hash. ARGV: segment, state, [err].
const SET_STATE: &str = r"
local n = tonumber(redis.call('HGET', KEYS[1], 'segments'))
local seg = tonumber(ARGV[1])
if not n or seg >= n then return 0 end
local p = 'seg:' .. ARGV[1] .. ':'
redis.call('HSET', KEYS[1], p .. 'state', ARGV[2])
if ARGV[3] then
  redis.call('HSET', KEYS[1], p .. 'err', ARGV[3])
else
  redis.call('HDEL', KEYS[1], p .. 'err')
end
return 1
";

/// Forgets a message. KEYS: hash, open, expiry, then id keys named by the caller. ARGV:
/// reference, id key prefix, [cutoff: only when its expiry score is below this]. Id keys
/// (named or recorded in the hash) go only while they still name the reference. Returns
/// 1 when the hash was there.
const REMOVE: &str = r"
if ARGV[3] then
  local score = redis.call('ZSCORE', KEYS[3], ARGV[1])
  if score and tonumber(score) >= tonumber(ARGV[3]) then return 0 end
end
local keys = {}
for i = 4, #KEYS do keys[#keys + 1] = KEYS[i] end
local n = tonumber(redis.call('HGET', KEYS[1], 'segments')) or 0
for i = 0, n - 1 do
  local k = redis.call('HGET', KEYS[1], 'seg:' .. i .. ':key')
  if k then keys[#keys + 1] = ARGV[2] .. k end
end
for _, k in ipairs(keys) do
  if redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) end
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return redis.call('DEL', KEYS[1])
";

/// Drops a reference whose hash expired from the sorted sets. KEYS: hash, open, expiry.
/// ARGV: reference. Rare, so sent as text (`EVAL`).
const DROP_STALE: &str = "if redis.call('EXISTS', KEYS[1]) == 0 then \
redis.call('ZREM', KEYS[2], ARGV[1]) redis.call('ZREM', KEYS[3], ARGV[1]) end return 0";

/// The scripts' SHA1s.
struct Scripts {
    put: String,
    set_id: String,
    set_state: String,
    remove: String,
}

/// How [`RedisStore`] connects and names its keys; [`RedisStore::builder`] makes one.
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    grace: Duration,
    connect_timeout: Duration,
    response_timeout: Duration,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: only its redacted form is shown.
        f.debug_struct("RedisStoreBuilder")
            .field("url", &redact_url(&self.url))
            .field("prefix", &self.prefix)
            .field("grace", &self.grace)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

impl RedisStoreBuilder {
    /// Prefix of every key (default [`DEFAULT_PREFIX`], `smpp:`).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long after a message's expiry its keys are kept (default [`DEFAULT_GRACE`],
    /// one hour). At least one millisecond is kept.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace.max(Duration::from_millis(1));
        self
    }

    /// How long connecting (TCP, `AUTH`, `SELECT`) may take (default 1 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a reply may take (default 1 s); a call that waits longer fails with
    /// [`StoreErrorKind::Unavailable`] and the connection is dropped.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Connects. Fails with [`StoreErrorKind::Unavailable`] when Redis cannot be reached
    /// now, [`StoreErrorKind::Other`] for a URL it cannot use or credentials Redis refuses.
    pub fn open(self) -> Result<RedisStore, StoreError> {
        // The parse error is not passed on: the URL it describes may hold the password.
        let info = self.url.as_str().into_connection_info().map_err(|_| {
            StoreError::new(
                StoreErrorKind::Other,
                format!(
                    "{} is not a Redis URL (redis://[:PASSWORD@]HOST:PORT[/DB])",
                    redact_url(&self.url)
                ),
            )
        })?;
        let target = describe(&info);
        if !info.addr().is_supported() {
            return Err(StoreError::new(
                StoreErrorKind::Other,
                format!("{target}: this build has no TLS for Redis"),
            ));
        }
        let client = redis::Client::open(info).map_err(|e| {
            StoreError::new(StoreErrorKind::Other, format!("{target}: {}", e.category()))
        })?;
        let mut store = RedisStore {
            client,
            target,
            prefix: self.prefix,
            grace_ms: duration_ms(self.grace),
            connect_timeout: self.connect_timeout,
            response_timeout: self.response_timeout,
            conn: None,
            scripts: Scripts {
                put: String::new(),
                set_id: String::new(),
                set_state: String::new(),
                remove: String::new(),
            },
            failures: 0,
            next_try: None,
        };
        store.connect()?;
        Ok(store)
    }
}

/// Tracked messages in Redis, shared by many processes: see the [module](self) for the
/// key layout, what is atomic and how keys expire.
pub struct RedisStore {
    client: redis::Client,
    /// The URL without credentials, for messages and logs.
    target: String,
    prefix: String,
    grace_ms: u64,
    connect_timeout: Duration,
    response_timeout: Duration,
    /// The connection, its scripts loaded; `None` while there is none.
    conn: Option<redis::Connection>,
    /// The scripts' SHA1s, known from the first connection.
    scripts: Scripts,
    /// Connection attempts failed in a row.
    failures: u32,
    /// No connection attempt before this.
    next_try: Option<Instant>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hand-written: the client holds the password.
        f.debug_struct("RedisStore")
            .field("target", &self.target)
            .field("prefix", &self.prefix)
            .field("grace_ms", &self.grace_ms)
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[:PASSWORD@]HOST:PORT[/DB]`) with the
    /// defaults: prefix `smpp:`, one hour's grace, 1 s timeouts.
    pub fn open(url: &str) -> Result<RedisStore, StoreError> {
        RedisStore::builder(url).open()
    }

    /// A store at `url` to configure before [`RedisStoreBuilder::open`].
    pub fn builder(url: &str) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.to_string(),
            prefix: DEFAULT_PREFIX.to_string(),
            grace: DEFAULT_GRACE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
        }
    }

    /// The key of message `reference`'s hash.
    pub fn message_key(&self, reference: &str) -> String {
        format!("{}msg:{reference}", self.prefix)
    }

    /// The key that maps the normalised id `key` to its message.
    pub fn id_key(&self, key: &str) -> String {
        format!("{}id:{key}", self.prefix)
    }

    /// The key of the sorted set of open references by submission time.
    pub fn open_key(&self) -> String {
        format!("{}open", self.prefix)
    }

    /// The key of the sorted set of open references by expiry time.
    pub fn expiry_key(&self) -> String {
        format!("{}expiry", self.prefix)
    }

    /// Opens a connection and loads the scripts on it; on failure, sets the backoff.
    fn connect(&mut self) -> Result<(), StoreError> {
        match self.try_connect() {
            Ok((conn, scripts)) => {
                // A script's SHA1 is that of its text: the same on every server.
                self.scripts = scripts;
                if self.failures > 0 {
                    log::info!("redis store {}: connected again", self.target);
                } else {
                    log::debug!("redis store {}: connected", self.target);
                }
                self.failures = 0;
                self.next_try = None;
                self.conn = Some(conn);
                Ok(())
            }
            Err(e) => {
                self.failures = self.failures.saturating_add(1);
                let wait = BACKOFF_FIRST
                    .saturating_mul(1 << self.failures.min(16).saturating_sub(1))
                    .min(BACKOFF_MAX);
                self.next_try = Some(Instant::now() + wait);
                let err = self.error("connect", &e);
                if self.failures == 1 {
                    log::warn!("{err}; retrying with backoff");
                } else {
                    log::debug!("{err}; next try in {wait:?}");
                }
                Err(err)
            }
        }
    }

    fn try_connect(&self) -> Result<(redis::Connection, Scripts), RedisError> {
        let mut con = self
            .client
            .get_connection_with_timeout(self.connect_timeout)?;
        con.set_read_timeout(Some(self.response_timeout))?;
        con.set_write_timeout(Some(self.response_timeout))?;
        let shas: Vec<String> = redis::pipe()
            .cmd("SCRIPT")
            .arg("LOAD")
            .arg(PUT)
            .cmd("SCRIPT")
            .arg("LOAD")
            .arg(SET_ID)
            .cmd("SCRIPT")
            .arg("LOAD")
            .arg(SET_STATE)
            .cmd("SCRIPT")
            .arg("LOAD")
            .arg(REMOVE)
            .query(&mut con)?;
        let [put, set_id, set_state, remove]: [String; 4] = shas.try_into().map_err(|_| {
            RedisError::from((ErrorKind::UnexpectedReturnType, "SCRIPT LOAD answers"))
        })?;
        Ok((
            con,
            Scripts {
                put,
                set_id,
                set_state,
                remove,
            },
        ))
    }

    /// Runs `f` on the connection, connecting first when there is none (unless the backoff
    /// says not yet), and once more on a new connection when the first one broke or lost
    /// its scripts.
    fn with_conn<T>(
        &mut self,
        what: &str,
        mut f: impl FnMut(&mut redis::Connection) -> Result<T, RedisError>,
    ) -> Result<T, StoreError> {
        for attempt in 0..2 {
            if self.conn.is_none() {
                if attempt == 0 {
                    if let Some(at) = self.next_try {
                        let now = Instant::now();
                        if now < at {
                            return Err(StoreError::new(
                                StoreErrorKind::Unavailable,
                                format!(
                                    "redis {}: {what}: not connected (next try in {} ms)",
                                    self.target,
                                    (at - now).as_millis()
                                ),
                            ));
                        }
                    }
                }
                self.connect()?;
            }
            let Some(conn) = self.conn.as_mut() else {
                continue;
            };
            match f(conn) {
                Ok(v) => return Ok(v),
                Err(e) if breaks_connection(&e) => {
                    self.conn = None;
                    let err = self.error(what, &e);
                    if attempt == 0 && !e.is_timeout() {
                        log::warn!("{err}; reconnecting");
                        continue;
                    }
                    // A timeout is not tried again: a Redis that does not answer would
                    // make the call wait twice as long.
                    log::warn!("{err}");
                    self.failures = self.failures.max(1);
                    self.next_try = Some(Instant::now() + BACKOFF_FIRST);
                    return Err(err);
                }
                Err(e)
                    if attempt == 0 && e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) =>
                {
                    // The server lost its scripts (SCRIPT FLUSH, a failover): load them
                    // again on a new connection and run the (idempotent) call again.
                    log::warn!(
                        "redis store {}: scripts missing; loading them again",
                        self.target
                    );
                    self.conn = None;
                    continue;
                }
                Err(e) => return Err(self.error(what, &e)),
            }
        }
        Err(StoreError::new(
            StoreErrorKind::Unavailable,
            format!("redis {}: {what}: no connection", self.target),
        ))
    }

    /// A store error for a Redis error, naming the server without credentials.
    fn error(&self, what: &str, e: &RedisError) -> StoreError {
        StoreError::new(kind_of(e), format!("redis {}: {what}: {e}", self.target))
    }

    /// A key deadline for a message expiring at `expires` (ms since the epoch).
    fn deadline(&self, expires: u64) -> u64 {
        expires.max(now_unix_ms()).saturating_add(self.grace_ms)
    }

    /// The transaction that applies `ops`.
    fn transaction(&self, ops: &[StoreOp]) -> redis::Pipeline {
        let scripts = &self.scripts;
        let mut pipe = redis::pipe();
        pipe.atomic();
        let id_prefix = format!("{}id:", self.prefix);
        // The same for every write of the batch.
        let (open_key, expiry_key, now) = (self.open_key(), self.expiry_key(), now_unix_ms());
        for op in ops {
            match op {
                StoreOp::Put(r) => {
                    pipe.cmd("EVALSHA")
                        .arg(&scripts.put)
                        .arg(3)
                        .arg(self.message_key(&r.reference))
                        .arg(&open_key)
                        .arg(&expiry_key)
                        .arg(&r.reference)
                        .arg(r.submitted_unix_ms)
                        .arg(r.expires_unix_ms)
                        .arg(self.deadline(r.expires_unix_ms))
                        .arg(now)
                        .arg("receipts")
                        .arg(policy_to_text(r.receipts))
                        .arg("submitted")
                        .arg(r.submitted_unix_ms)
                        .arg("expires")
                        .arg(r.expires_unix_ms)
                        .arg("segments")
                        .arg(r.segments.len());
                    for (i, s) in r.segments.iter().enumerate() {
                        pipe.arg(format!("seg:{i}:state"))
                            .arg(state_to_text(&s.state));
                        if let Some(id) = &s.message_id {
                            pipe.arg(format!("seg:{i}:id")).arg(id);
                        }
                        if let Some(err) = &s.err {
                            pipe.arg(format!("seg:{i}:err")).arg(err);
                        }
                        if let Some(account) = &s.account {
                            pipe.arg(format!("seg:{i}:account")).arg(account);
                        }
                    }
                    pipe.ignore();
                }
                StoreOp::SetId {
                    reference,
                    segment,
                    message_id,
                    account,
                    key,
                } => {
                    pipe.cmd("EVALSHA")
                        .arg(&scripts.set_id)
                        .arg(2)
                        .arg(self.message_key(reference))
                        .arg(self.id_key(key))
                        .arg(reference)
                        .arg(segment)
                        .arg(message_id)
                        .arg(key)
                        .arg(self.grace_ms);
                    if let Some(account) = account {
                        pipe.arg(account);
                    }
                    pipe.ignore();
                }
                StoreOp::SetState {
                    reference,
                    segment,
                    state,
                    err,
                } => {
                    pipe.cmd("EVALSHA")
                        .arg(&scripts.set_state)
                        .arg(1)
                        .arg(self.message_key(reference))
                        .arg(segment)
                        .arg(state_to_text(state));
                    if let Some(err) = err {
                        pipe.arg(err);
                    }
                    pipe.ignore();
                }
                StoreOp::Remove { reference, keys } => {
                    pipe.cmd("EVALSHA")
                        .arg(&scripts.remove)
                        .arg(3 + keys.len())
                        .arg(self.message_key(reference))
                        .arg(&open_key)
                        .arg(&expiry_key);
                    for k in keys {
                        pipe.arg(self.id_key(k));
                    }
                    pipe.arg(reference).arg(&id_prefix).ignore();
                }
            }
        }
        pipe
    }

    /// Reads the hashes of `references` in one round trip; `None` where a hash is gone.
    fn read_records(
        &mut self,
        what: &str,
        references: &[String],
    ) -> Result<Vec<Option<Record>>, StoreError> {
        let keys: Vec<String> = references.iter().map(|r| self.message_key(r)).collect();
        let hashes: Vec<Vec<(String, String)>> = self.with_conn(what, |c| {
            let mut pipe = redis::pipe();
            for k in &keys {
                pipe.cmd("HGETALL").arg(k);
            }
            pipe.query(c)
        })?;
        references
            .iter()
            .zip(hashes)
            .map(|(reference, fields)| {
                if fields.is_empty() {
                    Ok(None)
                } else {
                    self.parse_record(reference, fields).map(Some)
                }
            })
            .collect()
    }

    fn parse_record(
        &self,
        reference: &str,
        fields: Vec<(String, String)>,
    ) -> Result<Record, StoreError> {
        let corrupt = |what: &str| {
            StoreError::new(
                StoreErrorKind::Corrupt,
                format!(
                    "redis {}: {}: {what}",
                    self.target,
                    self.message_key(reference)
                ),
            )
        };
        let mut receipts = None;
        let mut submitted = None;
        let mut expires = None;
        let mut count = None;
        let mut segs: Vec<(usize, String, String)> = Vec::new();
        for (field, value) in fields {
            match field.as_str() {
                "receipts" => receipts = policy_from_text(&value),
                "submitted" => submitted = value.parse::<u64>().ok(),
                "expires" => expires = value.parse::<u64>().ok(),
                "segments" => count = value.parse::<usize>().ok(),
                _ => {
                    let mut parts = field.splitn(3, ':');
                    match (parts.next(), parts.next(), parts.next()) {
                        (Some("seg"), Some(i), Some(name)) => {
                            let i = i.parse().map_err(|_| corrupt(&field))?;
                            segs.push((i, name.to_string(), value));
                        }
                        _ => return Err(corrupt(&format!("unknown field {field}"))),
                    }
                }
            }
        }
        let count = count
            .filter(|n| *n <= usize::from(u16::MAX))
            .ok_or_else(|| corrupt("no segment count"))?;
        let mut segments: Vec<Option<StoredSegment>> = vec![None; count];
        let mut ids: Vec<Option<String>> = vec![None; count];
        let mut errs: Vec<Option<String>> = vec![None; count];
        let mut accounts: Vec<Option<String>> = vec![None; count];
        for (i, name, value) in segs {
            if i >= count {
                return Err(corrupt(&format!("segment {i} of {count}")));
            }
            match name.as_str() {
                "state" => {
                    let state = state_from_text(&value)
                        .ok_or_else(|| corrupt(&format!("segment {i}'s state {value:?}")))?;
                    segments[i] = Some(StoredSegment {
                        message_id: None,
                        state,
                        err: None,
                        account: None,
                    });
                }
                "id" => ids[i] = Some(value),
                "err" => errs[i] = Some(value),
                "account" => accounts[i] = Some(value),
                "key" => {}
                _ => return Err(corrupt(&format!("segment field {name}"))),
            }
        }
        let segments = segments
            .into_iter()
            .zip(ids)
            .zip(errs)
            .zip(accounts)
            .enumerate()
            .map(|(i, (((s, id), err), account))| {
                let mut s = s.ok_or_else(|| corrupt(&format!("segment {i} has no state")))?;
                s.message_id = id;
                s.err = err;
                s.account = account;
                Ok(s)
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Record {
            reference: reference.to_string(),
            receipts: receipts.ok_or_else(|| corrupt("receipts"))?,
            submitted_unix_ms: submitted.ok_or_else(|| corrupt("submitted"))?,
            expires_unix_ms: expires.ok_or_else(|| corrupt("expires"))?,
            segments,
        })
    }

    /// Removes `references` from the sorted sets where their hash is gone (expired).
    fn drop_stale(&mut self, references: &[String]) -> Result<(), StoreError> {
        if references.is_empty() {
            return Ok(());
        }
        log::debug!(
            "redis store {}: {} expired message(s) left the open set",
            self.target,
            references.len()
        );
        let (open, expiry) = (self.open_key(), self.expiry_key());
        let keys: Vec<String> = references.iter().map(|r| self.message_key(r)).collect();
        self.with_conn("drop expired", |c| {
            let mut pipe = redis::pipe();
            for (key, reference) in keys.iter().zip(references) {
                // Only while the hash is (still) gone: a message put again meanwhile stays.
                pipe.cmd("EVAL")
                    .arg(DROP_STALE)
                    .arg(3)
                    .arg(key)
                    .arg(&open)
                    .arg(&expiry)
                    .arg(reference)
                    .ignore();
            }
            pipe.exec(c)
        })
    }
}

impl Store for RedisStore {
    fn apply(&mut self, ops: &[StoreOp]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        let pipe = self.transaction(ops);
        self.with_conn("apply", |c| pipe.exec(c))?;
        log::trace!("redis store {}: applied {} op(s)", self.target, ops.len());
        Ok(())
    }

    fn find(&mut self, key: &str) -> Result<Option<Record>, StoreError> {
        let id_key = self.id_key(key);
        let reference: Option<String> =
            self.with_conn("find", |c| redis::cmd("GET").arg(&id_key).query(c))?;
        let Some(reference) = reference else {
            return Ok(None);
        };
        Ok(self
            .read_records("find", std::slice::from_ref(&reference))?
            .pop()
            .flatten())
    }

    fn contains(&mut self, reference: &str) -> Result<bool, StoreError> {
        let key = self.message_key(reference);
        self.with_conn("contains", |c| redis::cmd("EXISTS").arg(&key).query(c))
    }

    fn load_open(&mut self, limit: usize) -> Result<Vec<Record>, StoreError> {
        let open = self.open_key();
        let mut records = Vec::new();
        let mut stale = Vec::new();
        let mut offset = 0usize;
        while records.len() < limit {
            let window = (limit - records.len()).min(WINDOW);
            let references: Vec<String> = self.with_conn("load_open", |c| {
                redis::cmd("ZRANGE")
                    .arg(&open)
                    .arg(offset)
                    .arg(offset + window - 1)
                    .query(c)
            })?;
            if references.is_empty() {
                break;
            }
            offset += references.len();
            let read_len = references.len();
            let read = self.read_records("load_open", &references)?;
            for (reference, record) in references.into_iter().zip(read) {
                match record {
                    Some(r) => records.push(r),
                    None => stale.push(reference),
                }
            }
            if read_len < window {
                break;
            }
        }
        self.drop_stale(&stale)?;
        Ok(records)
    }

    fn purge_expired(&mut self, now_unix_ms: u64, grace_ms: u64) -> Result<usize, StoreError> {
        // Like MemoryStore: gone when expires + grace < now, that is expires < now - grace.
        let Some(cutoff) = now_unix_ms.checked_sub(grace_ms) else {
            return Ok(0);
        };
        let expiry = self.expiry_key();
        let (open, id_prefix) = (self.open_key(), format!("{}id:", self.prefix));
        let remove = self.scripts.remove.clone();
        let mut purged = 0;
        loop {
            let references: Vec<String> = self.with_conn("purge_expired", |c| {
                redis::cmd("ZRANGEBYSCORE")
                    .arg(&expiry)
                    .arg("-inf")
                    .arg(format!("({cutoff}"))
                    .arg("LIMIT")
                    .arg(0)
                    .arg(WINDOW)
                    .query(c)
            })?;
            if references.is_empty() {
                break;
            }
            let keys: Vec<String> = references.iter().map(|r| self.message_key(r)).collect();
            let removed: Vec<i64> = self.with_conn("purge_expired", |c| {
                let mut pipe = redis::pipe();
                for (key, reference) in keys.iter().zip(&references) {
                    pipe.cmd("EVALSHA")
                        .arg(&remove)
                        .arg(3)
                        .arg(key)
                        .arg(&open)
                        .arg(&expiry)
                        .arg(reference)
                        .arg(&id_prefix)
                        .arg(cutoff);
                }
                pipe.query(c)
            })?;
            purged += removed.iter().filter(|n| **n > 0).count();
            if references.len() < WINDOW {
                break;
            }
        }
        if purged > 0 {
            log::info!(
                "redis store {}: purged {purged} expired message(s)",
                self.target
            );
        }
        Ok(purged)
    }
}

/// Whether the connection is of no use after `e` (to be dropped and opened anew).
fn breaks_connection(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.kind() == ErrorKind::Parse
}

/// The store error kind of a Redis error.
fn kind_of(e: &RedisError) -> StoreErrorKind {
    if breaks_connection(e) {
        return StoreErrorKind::Unavailable;
    }
    match e.kind() {
        ErrorKind::Server(
            ServerErrorKind::BusyLoading
            | ServerErrorKind::TryAgain
            | ServerErrorKind::MasterDown
            | ServerErrorKind::ClusterDown,
        ) => StoreErrorKind::Unavailable,
        ErrorKind::Server(ServerErrorKind::ReadOnly | ServerErrorKind::NoPerm) => {
            StoreErrorKind::Refused
        }
        ErrorKind::UnexpectedReturnType => StoreErrorKind::Corrupt,
        _ => match e.code() {
            Some("OOM") => StoreErrorKind::Refused,
            Some("WRONGTYPE") => StoreErrorKind::Corrupt,
            _ => StoreErrorKind::Other,
        },
    }
}

/// `redis://HOST:PORT/DB` (with `***@` where the URL had credentials): never a password.
fn describe(info: &redis::ConnectionInfo) -> String {
    let settings = info.redis_settings();
    let auth = if settings.password().is_some() || settings.username().is_some() {
        "***@"
    } else {
        ""
    };
    let host = |h: &str| {
        if h.contains(':') {
            format!("[{h}]")
        } else {
            h.to_string()
        }
    };
    match info.addr() {
        ConnectionAddr::Tcp(h, port) => {
            format!("redis://{auth}{}:{port}/{}", host(h), settings.db())
        }
        ConnectionAddr::TcpTls { host: h, port, .. } => {
            format!("rediss://{auth}{}:{port}/{}", host(h), settings.db())
        }
        ConnectionAddr::Unix(path) => format!("redis+unix://{auth}{}", path.display()),
        _ => "redis (unknown address)".to_string(),
    }
}

/// A URL with anything between `://` and the last `@` of its authority replaced.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<not a URL>".to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(duration_ms)
        .unwrap_or(0)
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("redis://:secret@127.0.0.1:6379/2"),
            "redis://***@127.0.0.1:6379/2"
        );
        assert_eq!(
            redact_url("redis://user:p@ss@host:1/0"),
            "redis://***@host:1/0"
        );
        assert_eq!(redact_url("redis://host:1/0"), "redis://host:1/0");
        let info = "redis://:secret@127.0.0.1:6390/3"
            .into_connection_info()
            .unwrap();
        assert_eq!(describe(&info), "redis://***@127.0.0.1:6390/3");
    }

    #[test]
    fn a_bad_url_is_refused_without_echoing_it() {
        let e = RedisStore::open("redis://:secret@host:notaport/0").unwrap_err();
        assert_eq!(e.kind, StoreErrorKind::Other);
        assert!(!e.message.contains("secret"), "{e}");
    }
}
