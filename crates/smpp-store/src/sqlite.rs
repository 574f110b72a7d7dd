//! The SQLite store: tracked messages in one file, shared by the processes of one machine.
//!
//! # Schema
//!
//! The file is an ordinary SQLite database (`sqlite3 track.db .schema` shows it). Its
//! header carries `PRAGMA application_id = 0x534d5050` ("SMPP") and `PRAGMA user_version`
//! = the schema version (2); [`SqliteStore::open`] refuses a file with anything else as
//! [`StoreErrorKind::Corrupt`] instead of writing into it, and brings a file of schema 1
//! (which had no `account` column) up to 2 in one transaction.
//!
//! ```sql
//! -- One row per open message.
//! CREATE TABLE messages (
//!     reference         TEXT PRIMARY KEY NOT NULL, -- the caller's reference
//!     receipts          TEXT NOT NULL,    -- policy_to_text: none | final | failure
//!     submitted_unix_ms INTEGER NOT NULL, -- ms since the Unix epoch
//!     expires_unix_ms   INTEGER NOT NULL  -- ms since the Unix epoch
//! ) WITHOUT ROWID;
//! CREATE INDEX messages_by_submitted ON messages (submitted_unix_ms); -- load_open
//! CREATE INDEX messages_by_expiry ON messages (expires_unix_ms);      -- purge_expired
//!
//! -- One row per segment of an open message.
//! CREATE TABLE segments (
//!     reference  TEXT NOT NULL,    -- messages.reference
//!     idx        INTEGER NOT NULL, -- 0-based
//!     message_id TEXT,             -- the id as the SMSC wrote it, once known
//!     state      TEXT NOT NULL,    -- state_to_text: sending, submitted, final:DELIVRD...
//!     err        TEXT,             -- the err: of its final receipt
//!     account    TEXT,             -- the SMSC account that gave message_id, if named
//!     PRIMARY KEY (reference, idx)
//! ) WITHOUT ROWID;
//!
//! -- The normalised message ids (IdKey) that find a message: one row per StoreOp::SetId.
//! CREATE TABLE ids (
//!     id_key    TEXT PRIMARY KEY NOT NULL, -- the normalised id (IdKey::store_key)
//!     reference TEXT NOT NULL,             -- messages.reference
//!     idx       INTEGER NOT NULL           -- segments.idx
//! ) WITHOUT ROWID;
//! CREATE INDEX ids_by_reference ON ids (reference);
//! ```
//!
//! Ids live in a table of their own rather than a column of `segments` so that a key
//! behaves as in [`MemoryStore`](smpp_lifecycle::MemoryStore): the last `SetId` of a key
//! wins (an SMSC that reuses ids finds the newer message), and a segment given a second id
//! (a resubmission) is found by both. A message's ids go with it, whichever `keys` its
//! [`StoreOp::Remove`] lists; a [`StoreOp::Put`] of a reference already stored replaces
//! the message, and forgets the old one's ids too (the memory store would leave them
//! finding the new message).
//!
//! Times are SQLite integers (signed 64 bits): a time past `i64::MAX` ms (the year
//! 292,278,994) is kept as `i64::MAX` and read back as `u64::MAX`, "never".
//!
//! To look inside, with the `sqlite3` shell (a reader does not disturb the writers):
//!
//! ```text
//! sqlite3 track.db 'select * from messages order by submitted_unix_ms limit 20'
//! sqlite3 track.db "select * from segments where reference = 'order-42'"
//! sqlite3 track.db "select m.* from ids join messages m using (reference) where id_key = '1a'"
//! ```
//!
//! # What survives which crash
//!
//! The file is in WAL mode (`PRAGMA journal_mode = WAL`), and each
//! [`apply`](Store::apply) is one transaction: either all of its operations are in the
//! file or none are, whatever happens.
//!
//! - **The process dies** (a panic, `kill -9`, the OOM killer): every `apply` that
//!   returned `Ok` is in the file; the next [`open`](SqliteStore::open) (or another
//!   process's next read) recovers it from the WAL. This holds in both
//!   [`Durability`] modes, because a commit is in the operating system's page cache
//!   before `apply` returns, and the page cache outlives the process.
//! - **The machine dies** (power loss, a kernel panic, a VM reset):
//!   - with [`Durability::PowerLoss`] (the default, `PRAGMA synchronous = FULL`), every
//!     `apply` that returned `Ok` is in the file too: the WAL is flushed to the disk
//!     (`fsync`) before the commit returns;
//!   - with [`Durability::Process`] (`PRAGMA synchronous = NORMAL`), the WAL is flushed
//!     only at checkpoints, so the transactions since the last one (up to about 4 MB of
//!     them, thousands of messages) may be lost. The file stays consistent: it comes
//!     back as of some earlier commit.
//! - **The disk lies** (a write cache without power-loss protection that acknowledges
//!   `fsync` early): nothing SQLite does can help; use a disk that honours flushes.
//!
//! The default is `FULL` because what the store keeps is the record of messages the SMSC
//! has (or is about to have) accepted and billed: losing it after a power cut means their
//! receipts reach a process that no longer knows them, and the application never learns
//! their outcome. Its cost is one `fsync` per transaction, not per message: the tracker
//! batches its writes, so a batch of 256 operations pays one flush. Choose
//! [`Durability::Process`] where the flush costs too much and a machine crash is an
//! accepted loss (a tmpfs, a test rig, a battery-backed host that never loses power).
//!
//! # Sharing
//!
//! Several processes (or several [`SqliteStore`]s of one process) may open the same file:
//! each sees the others' committed writes. Writers take turns (one write transaction at
//! a time, `BEGIN IMMEDIATE`); a writer that finds the file locked waits up to the busy
//! timeout (5 s unless [`SqliteStore::set_busy_timeout`] says otherwise) and then fails
//! with [`StoreErrorKind::Unavailable`]. Readers never wait for writers. The file must be
//! on a local file system: WAL needs shared memory, so not NFS.
//!
//! # Expiry
//!
//! A message stays until its report removes it ([`StoreOp::Remove`]). One whose process
//! died before it was reported stays until [`purge_expired`](Store::purge_expired)
//! forgets it. SQLite expires nothing by itself: the driver that owns the store calls
//! `purge_expired` periodically (say once a minute, with a grace period longer than the
//! time another process may still adopt the message).
//!
//! # Errors
//!
//! | SQLite says | [`StoreErrorKind`] |
//! |---|---|
//! | disk full (`SQLITE_FULL`, [`set_size_limit`](SqliteStore::set_size_limit) reached), a read-only file or file system, a file or directory this process may not use | `Refused` |
//! | locked or busy beyond the busy timeout | `Unavailable` |
//! | not a database, corrupt, or a row this version never writes | `Corrupt` |
//! | anything else (no such directory, a path that is a directory, an I/O error) | `Other` |
//!
//! Messages name the file (`sqlite:PATH`) and what was being done.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use smpp_lifecycle::store::{policy_from_text, policy_to_text, state_from_text, state_to_text};
use smpp_lifecycle::{Record, Store, StoreError, StoreErrorKind, StoreOp, StoredSegment};

/// `PRAGMA application_id` of a store file: "SMPP" in ASCII.
const APPLICATION_ID: i32 = 0x534d_5050;

/// `PRAGMA user_version` of the schema this version writes.
const SCHEMA_VERSION: i32 = 2;

/// What brings a file of schema 1 up to [`SCHEMA_VERSION`]: segments learnt their account.
const UPGRADE_FROM_1: &str = "ALTER TABLE segments ADD COLUMN account TEXT;";

/// How long a writer waits for another one before failing, unless told otherwise.
const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
CREATE TABLE messages (
    reference         TEXT PRIMARY KEY NOT NULL,
    receipts          TEXT NOT NULL,
    submitted_unix_ms INTEGER NOT NULL,
    expires_unix_ms   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX messages_by_submitted ON messages (submitted_unix_ms);
CREATE INDEX messages_by_expiry ON messages (expires_unix_ms);
CREATE TABLE segments (
    reference  TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    message_id TEXT,
    state      TEXT NOT NULL,
    err        TEXT,
    account    TEXT,
    PRIMARY KEY (reference, idx)
) WITHOUT ROWID;
CREATE TABLE ids (
    id_key    TEXT PRIMARY KEY NOT NULL,
    reference TEXT NOT NULL,
    idx       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ids_by_reference ON ids (reference);
";

const PUT_MESSAGE: &str = "INSERT INTO messages (reference, receipts, submitted_unix_ms, expires_unix_ms)
     VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (reference) DO UPDATE SET receipts = excluded.receipts,
         submitted_unix_ms = excluded.submitted_unix_ms, expires_unix_ms = excluded.expires_unix_ms";
const PUT_SEGMENT: &str =
    "INSERT INTO segments (reference, idx, message_id, state, err, account) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const SET_ID_SEGMENT: &str = "UPDATE segments SET message_id = ?3, state = ?4, account = ?5
     WHERE reference = ?1 AND idx = ?2";
const SET_ID_KEY: &str = "INSERT OR REPLACE INTO ids (id_key, reference, idx) VALUES (?1, ?2, ?3)";
const SET_STATE: &str =
    "UPDATE segments SET state = ?3, err = ?4 WHERE reference = ?1 AND idx = ?2";
const DELETE_MESSAGE: &str = "DELETE FROM messages WHERE reference = ?1";
const DELETE_SEGMENTS: &str = "DELETE FROM segments WHERE reference = ?1";
const DELETE_IDS: &str = "DELETE FROM ids WHERE reference = ?1";
const FIND_KEY: &str = "SELECT reference FROM ids WHERE id_key = ?1";
const CONTAINS: &str = "SELECT 1 FROM messages WHERE reference = ?1";
const GET_MESSAGE: &str =
    "SELECT receipts, submitted_unix_ms, expires_unix_ms FROM messages WHERE reference = ?1";
const GET_SEGMENTS: &str =
    "SELECT idx, message_id, state, err, account FROM segments WHERE reference = ?1 ORDER BY idx";
const OLDEST: &str =
    "SELECT reference FROM messages ORDER BY submitted_unix_ms, reference LIMIT ?1";
const PURGE_IDS: &str =
    "DELETE FROM ids WHERE reference IN (SELECT reference FROM messages WHERE expires_unix_ms < ?1)";
const PURGE_SEGMENTS: &str = "DELETE FROM segments WHERE reference IN
     (SELECT reference FROM messages WHERE expires_unix_ms < ?1)";
const PURGE_MESSAGES: &str = "DELETE FROM messages WHERE expires_unix_ms < ?1";

/// What an acknowledged write must survive: the trade between safety and the cost of a
/// flush per transaction (see the [module docs](self#what-survives-which-crash)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Durability {
    /// A crash of the process (`PRAGMA synchronous = NORMAL`): a power loss may lose the
    /// last transactions, never the file's consistency.
    Process,
    /// A crash of the machine too (`PRAGMA synchronous = FULL`, the default): each
    /// transaction is flushed to the disk before [`apply`](Store::apply) returns.
    #[default]
    PowerLoss,
}

/// Tracked messages in one SQLite file (see the [module docs](self) for the schema and
/// the guarantees).
pub struct SqliteStore {
    conn: Connection,
    /// The path, as messages show it.
    path: String,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What the header and the tables of a file say it is.
#[derive(Debug, PartialEq, Eq)]
enum Identity {
    /// Empty: a new file, or one created but never written.
    Empty,
    /// A store of this version.
    Current,
    /// A store of an earlier version, to bring up to this one.
    Older(i32),
    /// A store of a later version.
    Newer(i32),
    /// Something else.
    Foreign {
        application_id: i32,
        user_version: i32,
    },
}

/// What the file is, read within the caller's transaction.
fn identity(conn: &Connection) -> rusqlite::Result<Identity> {
    let application_id: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let user_version: i32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    Ok(match (application_id, user_version) {
        (0, 0) if objects == 0 => Identity::Empty,
        (APPLICATION_ID, SCHEMA_VERSION) => Identity::Current,
        (APPLICATION_ID, v) if v > SCHEMA_VERSION => Identity::Newer(v),
        (APPLICATION_ID, 1) => Identity::Older(1),
        _ => Identity::Foreign {
            application_id,
            user_version,
        },
    })
}

impl SqliteStore {
    /// Opens the store file at `path`, creating it and its schema when missing.
    ///
    /// `path` may also be an SQLite URI (`file:track.db?mode=ro`). The file is switched to
    /// WAL mode, with [`Durability::PowerLoss`] and a busy timeout of 5 s.
    ///
    /// Fails with [`StoreErrorKind::Corrupt`] when the file is not a store of this
    /// version (another program's database, random bytes, a later schema), with
    /// [`StoreErrorKind::Refused`] when it can only be read (permissions, a read-only file
    /// system), and [`StoreErrorKind::Other`] when it cannot be opened at all (a missing
    /// directory, a path that is a directory).
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path_ref = path.as_ref();
        let shown = path_ref.display().to_string();
        let conn = Connection::open(path_ref).map_err(|e| open_error(path_ref, &shown, e))?;
        let mut store = SqliteStore { conn, path: shown };
        store
            .conn
            .busy_timeout(DEFAULT_BUSY_TIMEOUT)
            .map_err(|e| store.error("set the busy timeout", e))?;
        store.conn.set_prepared_statement_cache_capacity(32);
        // SQLite opens a file it may not write read-only, silently: say so now rather than
        // at the first write.
        if store
            .conn
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(|e| store.error("open", e))?
        {
            return Err(StoreError::new(
                StoreErrorKind::Refused,
                format!(
                    "sqlite:{}: the file can only be read (permissions, a read-only file system \
                     or mode=ro): the store must write to it",
                    store.path
                ),
            ));
        }
        // Look before changing anything (the journal mode is written into the file): a
        // file of some other program is left as it was.
        // One read transaction, so that a store another process creates meanwhile is seen
        // whole or not at all (its header and tables are written in one transaction).
        let found = store
            .conn
            .unchecked_transaction()
            .and_then(|tx| identity(&tx))
            .map_err(|e| store.error("read the header", e))?;
        store.check_identity(&found)?;
        // SQLite answers a journal-mode change that would have to wait for another opener
        // (one creating the schema this moment) with "busy" at once, without its busy
        // handler (to avoid a deadlock), so the wait is here, bounded by the same timeout.
        let started = std::time::Instant::now();
        let mode: String = loop {
            match store
                .conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            {
                Ok(mode) => break mode,
                Err(e) if is_busy(&e) && started.elapsed() < DEFAULT_BUSY_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => return Err(store.error("switch to WAL mode", e)),
            }
        };
        if !mode.eq_ignore_ascii_case("wal") {
            log::warn!(
                "sqlite:{}: journal mode is {mode}, not WAL: writers block readers",
                store.path
            );
        }
        store.set_durability(Durability::default())?;
        if matches!(found, Identity::Empty | Identity::Older(_)) {
            store.create_schema()?;
        }
        log::debug!(
            "sqlite:{}: opened ({} schema {SCHEMA_VERSION}, journal {mode})",
            store.path,
            if found == Identity::Empty {
                "new"
            } else {
                "existing"
            }
        );
        Ok(store)
    }

    fn check_identity(&self, found: &Identity) -> Result<(), StoreError> {
        let why = match found {
            Identity::Empty | Identity::Current | Identity::Older(_) => return Ok(()),
            Identity::Newer(v) => format!(
                "written by a later version of smpp-store (schema {v}; this one reads schema \
                 {SCHEMA_VERSION})"
            ),
            Identity::Foreign {
                application_id,
                user_version,
            } => format!(
                "an SQLite database of something else (application_id {application_id:#x}, \
                 user_version {user_version}), not an smpp-store file: left untouched"
            ),
        };
        Err(StoreError::new(
            StoreErrorKind::Corrupt,
            format!("sqlite:{}: {why}", self.path),
        ))
    }

    /// Creates the schema of an empty file, or brings an older one up to this version,
    /// once even when several processes open it at the same time (the first to take the
    /// write lock does it, the others find it done).
    fn create_schema(&mut self) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| error(&self.path, "create the schema", e))?;
        let found = identity(&tx).map_err(|e| error(&self.path, "read the header", e))?;
        if found == Identity::Empty {
            tx.execute_batch(SCHEMA)
                .and_then(|()| tx.pragma_update(None, "application_id", APPLICATION_ID))
                .and_then(|()| tx.pragma_update(None, "user_version", SCHEMA_VERSION))
                .and_then(|()| tx.commit())
                .map_err(|e| error(&self.path, "create the schema", e))?;
            log::info!(
                "sqlite:{}: created a store (schema {SCHEMA_VERSION})",
                self.path
            );
            Ok(())
        } else if found == Identity::Older(1) {
            tx.execute_batch(UPGRADE_FROM_1)
                .and_then(|()| tx.pragma_update(None, "user_version", SCHEMA_VERSION))
                .and_then(|()| tx.commit())
                .map_err(|e| error(&self.path, "upgrade the schema", e))?;
            log::info!(
                "sqlite:{}: upgraded the store from schema 1 to {SCHEMA_VERSION}",
                self.path
            );
            Ok(())
        } else {
            drop(tx);
            self.check_identity(&found)
        }
    }

    /// The file's path, as given to [`open`](SqliteStore::open).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Chooses what an acknowledged write survives (default: [`Durability::PowerLoss`]).
    pub fn set_durability(&mut self, durability: Durability) -> Result<(), StoreError> {
        let mode = match durability {
            Durability::Process => "NORMAL",
            Durability::PowerLoss => "FULL",
        };
        self.conn
            .pragma_update(None, "synchronous", mode)
            .map_err(|e| self.error("set synchronous", e))
    }

    /// How long a write waits for another process's write to finish before failing with
    /// [`StoreErrorKind::Unavailable`] (default 5 s; at most about 24 days).
    pub fn set_busy_timeout(&mut self, timeout: Duration) -> Result<(), StoreError> {
        let timeout = timeout.min(Duration::from_millis(i32::MAX as u64));
        self.conn
            .busy_timeout(timeout)
            .map_err(|e| self.error("set the busy timeout", e))
    }

    /// Caps the file at about `bytes` (never below its current size): a write that would
    /// grow it further fails with [`StoreErrorKind::Refused`], as on a full disk, and the
    /// store goes on serving reads and the writes that fit. Returns the cap in bytes.
    /// It holds for this store's connection, until it is closed.
    pub fn set_size_limit(&mut self, bytes: u64) -> Result<u64, StoreError> {
        let page_size: i64 = self
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(|e| self.error("read the page size", e))?;
        let page_size = u64::try_from(page_size).unwrap_or(4096).max(1);
        let pages = (bytes / page_size).clamp(1, u64::from(u32::MAX));
        // A pragma takes no parameters; the number is ours.
        let pages: i64 = self
            .conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                r.get(0)
            })
            .map_err(|e| self.error("set max_page_count", e))?;
        Ok(u64::try_from(pages).unwrap_or(0).saturating_mul(page_size))
    }

    fn error(&self, doing: &str, e: rusqlite::Error) -> StoreError {
        error(&self.path, doing, e)
    }
}

/// A rusqlite error as a store error of the right kind, naming the file and the action.
fn error(path: &str, doing: &str, e: rusqlite::Error) -> StoreError {
    let kind = match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::DiskFull | ErrorCode::ReadOnly | ErrorCode::PermissionDenied => {
                StoreErrorKind::Refused
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreErrorKind::Unavailable,
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => StoreErrorKind::Corrupt,
            _ => StoreErrorKind::Other,
        },
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::InvalidColumnType(..) => StoreErrorKind::Corrupt,
        _ => StoreErrorKind::Other,
    };
    let what = match kind {
        StoreErrorKind::Unavailable => " (another writer held the file past the busy timeout)",
        _ => "",
    };
    StoreError::new(kind, format!("sqlite:{path}: {doing}: {e}{what}"))
}

/// Why a file could not be opened: SQLite says only "unable to open", so look at the path
/// to tell a refusal (permissions, a read-only file system: the place exists but this
/// process may not use it) from a path that is wrong (no such directory, a directory).
fn open_error(path: &Path, shown: &str, e: rusqlite::Error) -> StoreError {
    use std::io::ErrorKind;
    let mut err = error(shown, "open", e);
    if err.kind != StoreErrorKind::Other {
        return err;
    }
    let refused = match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {
            std::fs::File::open(path).is_err_and(|e| e.kind() == ErrorKind::PermissionDenied)
        }
        Ok(_) => false,
        // The directory is there: creating the file in it was refused.
        Err(e) if e.kind() == ErrorKind::NotFound => path
            .parent()
            .map(|d| {
                if d.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    d
                }
            })
            .is_some_and(Path::is_dir),
        Err(e) => e.kind() == ErrorKind::PermissionDenied,
    };
    if refused {
        err.kind = StoreErrorKind::Refused;
        err.message.push_str(
            " (this process may not open or create the file there: permissions or a \
             read-only file system)",
        );
    }
    err
}

fn corrupt(path: &str, what: String) -> StoreError {
    StoreError::new(StoreErrorKind::Corrupt, format!("sqlite:{path}: {what}"))
}

/// A time as SQLite keeps it (see the module docs: past `i64::MAX`, `i64::MAX`).
fn time_to_sql(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn time_from_sql(path: &str, ms: i64) -> Result<u64, StoreError> {
    match ms {
        i64::MAX => Ok(u64::MAX),
        _ => u64::try_from(ms).map_err(|_| corrupt(path, format!("a negative time ({ms})"))),
    }
}

/// The record `reference`, read within the caller's transaction.
fn load_record(
    conn: &Connection,
    path: &str,
    reference: &str,
) -> Result<Option<Record>, StoreError> {
    let read = |e| error(path, "read a message", e);
    let mut get = conn.prepare_cached(GET_MESSAGE).map_err(read)?;
    let Some((receipts, submitted, expires)) = get
        .query_row([reference], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()
        .map_err(read)?
    else {
        return Ok(None);
    };
    let receipts = policy_from_text(&receipts).ok_or_else(|| {
        corrupt(
            path,
            format!("message {reference:?}: receipt policy {receipts:?} not understood"),
        )
    })?;
    let mut segs = conn.prepare_cached(GET_SEGMENTS).map_err(read)?;
    let mut rows = segs.query([reference]).map_err(read)?;
    let mut segments = Vec::new();
    while let Some(row) = rows.next().map_err(read)? {
        let idx: i64 = row.get(0).map_err(read)?;
        let message_id: Option<String> = row.get(1).map_err(read)?;
        let state: String = row.get(2).map_err(read)?;
        let err: Option<String> = row.get(3).map_err(read)?;
        let account: Option<String> = row.get(4).map_err(read)?;
        if usize::try_from(idx).ok() != Some(segments.len()) {
            return Err(corrupt(
                path,
                format!(
                    "message {reference:?}: segment {idx} where {} was expected",
                    segments.len()
                ),
            ));
        }
        let state = state_from_text(&state).ok_or_else(|| {
            corrupt(
                path,
                format!("message {reference:?}: segment state {state:?} not understood"),
            )
        })?;
        segments.push(StoredSegment {
            message_id,
            state,
            err,
            account,
        });
    }
    Ok(Some(Record {
        reference: reference.to_string(),
        receipts,
        submitted_unix_ms: time_from_sql(path, submitted)?,
        expires_unix_ms: time_from_sql(path, expires)?,
        segments,
    }))
}

/// One operation, within the caller's transaction.
fn apply_op(conn: &Connection, op: &StoreOp) -> rusqlite::Result<()> {
    match op {
        StoreOp::Put(r) => {
            conn.prepare_cached(PUT_MESSAGE)?.execute(params![
                r.reference,
                policy_to_text(r.receipts),
                time_to_sql(r.submitted_unix_ms),
                time_to_sql(r.expires_unix_ms),
            ])?;
            // A put replaces the message: its old segments and ids go (a no-op for a new one).
            conn.prepare_cached(DELETE_SEGMENTS)?
                .execute([&r.reference])?;
            conn.prepare_cached(DELETE_IDS)?.execute([&r.reference])?;
            let mut put = conn.prepare_cached(PUT_SEGMENT)?;
            for (idx, s) in r.segments.iter().enumerate() {
                put.execute(params![
                    r.reference,
                    idx as i64,
                    s.message_id,
                    state_to_text(&s.state),
                    s.err,
                    s.account,
                ])?;
            }
        }
        StoreOp::SetId {
            reference,
            segment,
            message_id,
            account,
            key,
        } => {
            let changed = conn.prepare_cached(SET_ID_SEGMENT)?.execute(params![
                reference,
                segment,
                message_id,
                state_to_text(&smpp_lifecycle::SegmentState::Submitted),
                account,
            ])?;
            // Like the memory store: an id is indexed only for a segment that exists.
            if changed > 0 {
                conn.prepare_cached(SET_ID_KEY)?
                    .execute(params![key, reference, segment])?;
            }
        }
        StoreOp::SetState {
            reference,
            segment,
            state,
            err,
        } => {
            conn.prepare_cached(SET_STATE)?.execute(params![
                reference,
                segment,
                state_to_text(state),
                err,
            ])?;
        }
        StoreOp::Remove { reference, keys: _ } => {
            // Every id of the message goes, listed in `keys` or not: the ids table knows
            // which are its own (an id since given to a newer message is not).
            conn.prepare_cached(DELETE_IDS)?.execute([reference])?;
            conn.prepare_cached(DELETE_SEGMENTS)?.execute([reference])?;
            conn.prepare_cached(DELETE_MESSAGE)?.execute([reference])?;
        }
    }
    Ok(())
}

impl Store for SqliteStore {
    fn apply(&mut self, ops: &[StoreOp]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        let path = &self.path;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| error(path, "begin a write", e))?;
        for op in ops {
            apply_op(&tx, op)
                .map_err(|e| error(path, &format!("write message {:?}", op.reference()), e))?;
        }
        // On an error above, dropping `tx` rolls back: none of the batch is written.
        tx.commit().map_err(|e| error(path, "commit", e))
    }

    fn find(&mut self, key: &str) -> Result<Option<Record>, StoreError> {
        let path = &self.path;
        // One read transaction: the id and the message are of the same moment.
        let tx = self
            .conn
            .transaction()
            .map_err(|e| error(path, "begin a read", e))?;
        let reference: Option<String> = tx
            .prepare_cached(FIND_KEY)
            .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
            .map_err(|e| error(path, "find an id", e))?;
        match reference {
            Some(reference) => load_record(&tx, path, &reference),
            None => Ok(None),
        }
    }

    fn contains(&mut self, reference: &str) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(CONTAINS)
            .and_then(|mut s| s.exists([reference]))
            .map_err(|e| self.error("look a message up", e))
    }

    fn load_open(&mut self, limit: usize) -> Result<Vec<Record>, StoreError> {
        let path = &self.path;
        let tx = self
            .conn
            .transaction()
            .map_err(|e| error(path, "begin a read", e))?;
        let references: Vec<String> = tx
            .prepare_cached(OLDEST)
            .and_then(|mut s| {
                s.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| r.get(0))?
                    .collect()
            })
            .map_err(|e| error(path, "list open messages", e))?;
        let mut records = Vec::with_capacity(references.len());
        for reference in references {
            if let Some(record) = load_record(&tx, path, &reference)? {
                records.push(record);
            }
        }
        Ok(records)
    }

    fn purge_expired(&mut self, now_unix_ms: u64, grace_ms: u64) -> Result<usize, StoreError> {
        // expires + grace < now, i.e. expires < now - grace (nothing when now < grace).
        let Some(before) = now_unix_ms.checked_sub(grace_ms) else {
            return Ok(0);
        };
        let before = time_to_sql(before);
        let path = &self.path;
        let purge = |e| error(path, "purge expired messages", e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(purge)?;
        tx.prepare_cached(PURGE_IDS)
            .and_then(|mut s| s.execute([before]))
            .map_err(purge)?;
        tx.prepare_cached(PURGE_SEGMENTS)
            .and_then(|mut s| s.execute([before]))
            .map_err(purge)?;
        let purged = tx
            .prepare_cached(PURGE_MESSAGES)
            .and_then(|mut s| s.execute([before]))
            .map_err(purge)?;
        tx.commit().map_err(purge)?;
        if purged > 0 {
            log::debug!("sqlite:{path}: purged {purged} expired messages");
        }
        Ok(purged)
    }
}

/// Whether SQLite said the file is busy or locked by another connection.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}
