//! The SQLite store: the conformance check, durability across close and `kill -9`, and
//! the files it must refuse (foreign, read-only, full) without a panic.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use smpp_lifecycle::{ReceiptPolicy, Record, SegmentState, StoreOp, StoredSegment};
use smpp_pdu::receipt::ReceiptState;
use smpp_store::{Durability, SqliteStore, Store, StoreErrorKind};

/// A directory of its own under the system's temp dir (the store's `-wal` and `-shm` files
/// land next to it), removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "smpp-store-test-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn record(reference: &str, submitted: u64, segments: usize) -> Record {
    Record {
        reference: reference.into(),
        receipts: ReceiptPolicy::Final,
        submitted_unix_ms: submitted,
        expires_unix_ms: submitted.saturating_add(60_000),
        segments: (0..segments)
            .map(|_| StoredSegment {
                message_id: None,
                state: SegmentState::Sending,
                err: None,
                account: None,
            })
            .collect(),
    }
}

fn set_id(reference: &str, segment: u16, key: &str) -> StoreOp {
    StoreOp::SetId {
        reference: reference.into(),
        segment,
        message_id: key.to_uppercase(),
        account: None,
        key: key.into(),
    }
}

#[test]
fn conformance_on_a_fresh_file() {
    let dir = TempDir::new("conformance");
    let mut store = SqliteStore::open(dir.file("track.db")).expect("open a new file");
    smpp_lifecycle::store::conformance(&mut store);
}

#[test]
fn the_url_form_opens_a_file() {
    let dir = TempDir::new("url");
    let path = dir.file("track.db");
    let mut store = smpp_store::open(&format!("sqlite:{}", path.display())).expect("open");
    store
        .apply(&[StoreOp::Put(record("r1", 1, 1))])
        .expect("apply");
    assert!(store.contains("r1").expect("contains"));
    assert!(path.is_file(), "the file is where the URL said");
}

#[test]
fn writes_survive_closing_and_reopening() {
    let dir = TempDir::new("reopen");
    let path = dir.file("track.db");
    {
        let mut store = SqliteStore::open(&path).expect("open");
        store
            .apply(&[
                StoreOp::Put(record("r1", 1_000, 2)),
                set_id("r1", 0, "1a"),
                StoreOp::SetState {
                    reference: "r1".into(),
                    segment: 1,
                    state: SegmentState::Final(ReceiptState::Expired),
                    err: Some("011".into()),
                },
                StoreOp::Put(record("r2", 500, 1)),
            ])
            .expect("apply");
    }
    let mut store = SqliteStore::open(&path).expect("reopen");
    let r1 = store.find("1a").expect("find").expect("r1 survived");
    assert_eq!(r1.reference, "r1");
    assert_eq!(r1.segments[0].message_id.as_deref(), Some("1A"));
    assert_eq!(r1.segments[0].state, SegmentState::Submitted);
    assert_eq!(
        r1.segments[1].state,
        SegmentState::Final(ReceiptState::Expired)
    );
    assert_eq!(r1.segments[1].err.as_deref(), Some("011"));
    let open: Vec<String> = store
        .load_open(10)
        .expect("load_open")
        .into_iter()
        .map(|r| r.reference)
        .collect();
    assert_eq!(open, ["r2", "r1"], "oldest first");
    drop(store);

    // The file is what the module docs say: inspectable, WAL, versioned.
    let conn = rusqlite::Connection::open(&path).expect("open with rusqlite");
    let version: i32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("user_version");
    assert_eq!(version, 2);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
    let states: Vec<(String, i64, String)> = conn
        .prepare("SELECT reference, idx, state FROM segments ORDER BY reference, idx")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .expect("select segments");
    assert_eq!(
        states,
        [
            ("r1".to_string(), 0, "submitted".to_string()),
            ("r1".to_string(), 1, "final:EXPIRED".to_string()),
            ("r2".to_string(), 0, "sending".to_string()),
        ]
    );
}

const CRASH_WRITER: &str = "SMPP_STORE_TEST_CRASH_WRITER";

/// Not a test of its own: the child process of `acknowledged_writes_survive_kill_9`
/// (the test binary runs itself with `CRASH_WRITER` naming the file). It writes batches
/// forever, printing `applied N` after each `apply` returned `Ok`.
#[test]
fn crash_writer_child() {
    let Ok(path) = std::env::var(CRASH_WRITER) else {
        return;
    };
    let mut store = SqliteStore::open(&path).expect("child: open");
    // The weaker mode: a process crash must lose nothing even so.
    store
        .set_durability(Durability::Process)
        .expect("child: durability");
    let mut out = std::io::stdout().lock();
    for i in 0..1_000_000u32 {
        let reference = format!("m{i}");
        let mut ops = vec![StoreOp::Put(record(&reference, u64::from(i), 4))];
        for segment in 0..4u16 {
            ops.push(set_id(&reference, segment, &format!("k{i}-{segment}")));
        }
        ops.push(StoreOp::SetState {
            reference: reference.clone(),
            segment: 3,
            state: SegmentState::Final(ReceiptState::Delivered),
            err: Some("000".into()),
        });
        store.apply(&ops).expect("child: apply");
        // The parent is gone (or killing us): stop.
        if writeln!(out, "applied {i}")
            .and_then(|()| out.flush())
            .is_err()
        {
            return;
        }
    }
}

#[cfg(unix)]
#[test]
fn acknowledged_writes_survive_kill_9() {
    use std::os::unix::process::ExitStatusExt;

    let dir = TempDir::new("crash");
    let path = dir.file("track.db");
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "crash_writer_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_WRITER, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the writer");
    let stdout = child.stdout.take().expect("the child's stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line
                .strip_prefix("applied ")
                .and_then(|n| n.parse::<u32>().ok())
            {
                if tx.send(n).is_err() {
                    break;
                }
            }
        }
    });
    // Let it write a while (bounded: a writer that never starts fails the test).
    let mut acknowledged = None;
    while acknowledged.is_none_or(|n| n < 300) {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(n) => acknowledged = Some(n),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the writer stopped acknowledging ({e}) after {acknowledged:?}");
            }
        }
    }
    child.kill().expect("SIGKILL the writer");
    let status = child.wait().expect("reap the writer");
    assert_eq!(
        status.signal(),
        Some(9),
        "the writer died of SIGKILL ({status})"
    );
    // Lines it wrote before dying are acknowledgements too.
    reader.join().expect("the reader thread");
    let last = rx.try_iter().last().or(acknowledged).expect("some acks");

    let mut store = SqliteStore::open(&path).expect("reopen after kill -9");
    for i in 0..=last {
        let found = store
            .find(&format!("k{i}-2"))
            .expect("find")
            .unwrap_or_else(|| panic!("acknowledged message m{i} lost (last ack {last})"));
        assert_eq!(found.reference, format!("m{i}"));
        assert_eq!(
            found.segments[3].state,
            SegmentState::Final(ReceiptState::Delivered)
        );
    }
    // A batch the kill interrupted is there whole or not at all.
    let open = store.load_open(usize::MAX).expect("load_open");
    assert!(open.len() as u64 > u64::from(last));
    for r in &open {
        assert_eq!(r.segments.len(), 4, "{}", r.reference);
        assert!(
            r.segments.iter().all(|s| s.message_id.is_some()),
            "{} half written: {r:?}",
            r.reference
        );
        assert_eq!(
            r.segments[3].state,
            SegmentState::Final(ReceiptState::Delivered)
        );
    }
}

#[test]
fn two_stores_on_one_file_see_each_others_writes() {
    let dir = TempDir::new("shared");
    let path = dir.file("track.db");
    let mut a = SqliteStore::open(&path).expect("open a");
    let mut b = SqliteStore::open(&path).expect("open b");
    a.apply(&[
        StoreOp::Put(record("from-a", 1, 1)),
        set_id("from-a", 0, "aa"),
    ])
    .expect("a writes");
    assert_eq!(
        b.find("aa")
            .expect("b finds")
            .map(|r| r.reference)
            .as_deref(),
        Some("from-a")
    );
    b.apply(&[StoreOp::Remove {
        reference: "from-a".into(),
        keys: vec!["aa".into()],
    }])
    .expect("b removes");
    assert!(!a.contains("from-a").expect("a looks"), "a sees b's remove");
}

#[test]
fn a_writer_held_past_the_busy_timeout_is_unavailable_then_recovers() {
    let dir = TempDir::new("busy");
    let path = dir.file("track.db");
    let mut store = SqliteStore::open(&path).expect("open");
    store
        .set_busy_timeout(Duration::from_millis(100))
        .expect("busy timeout");
    // Another process's writer, mid-transaction.
    let other = rusqlite::Connection::open(&path).expect("other connection");
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let err = store
        .apply(&[StoreOp::Put(record("r1", 1, 1))])
        .expect_err("the file is locked");
    assert_eq!(err.kind, StoreErrorKind::Unavailable, "{err}");
    assert!(err.is_transient());
    assert!(err.message.contains("track.db"), "names the file: {err}");
    // Reads do not wait for the writer.
    assert!(!store.contains("r1").expect("read while locked"));
    other.execute_batch("COMMIT").expect("release");
    store
        .apply(&[StoreOp::Put(record("r1", 1, 1))])
        .expect("writes again");
    assert!(store.contains("r1").expect("contains"));
}

#[cfg(unix)]
/// Whether permission bits stop this process from writing (not so for root, or with
/// CAP_DAC_OVERRIDE): tried on a real file rather than guessed from the user id.
fn permission_bits_bind(dir: &TempDir) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.file("probe");
    fs::write(&probe, b"x").expect("write the probe");
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o444)).expect("chmod the probe");
    fs::OpenOptions::new().append(true).open(&probe).is_err()
}

#[cfg(unix)]
#[test]
fn a_file_it_cannot_write_is_refused_without_a_panic() {
    use std::os::unix::fs::PermissionsExt;

    let dir = TempDir::new("readonly");
    let path = dir.file("track.db");
    {
        let mut store = SqliteStore::open(&path).expect("open");
        store
            .apply(&[StoreOp::Put(record("r1", 1, 1))])
            .expect("apply");
    }
    // Opened read-only by SQLite itself: this fails for root too (permission bits do
    // not), and it is the state SQLite puts a write-protected file in.
    let uri = format!("file:{}?mode=ro", path.display());
    let err = SqliteStore::open(&uri).expect_err("a read-only open is refused");
    assert_eq!(err.kind, StoreErrorKind::Refused, "{err}");
    assert!(err.message.contains("can only be read"), "{err}");

    // A write-protected file, where the permission bits bind this process.
    if permission_bits_bind(&dir) {
        fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).expect("chmod");
        let err = SqliteStore::open(&path).expect_err("a 0444 file is refused");
        assert_eq!(err.kind, StoreErrorKind::Refused, "{err}");
        assert!(err.message.contains("track.db"), "{err}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).expect("chmod");
        let err = SqliteStore::open(&path).expect_err("a 0000 file is refused");
        assert_eq!(err.kind, StoreErrorKind::Refused, "{err}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod back");
        let locked = dir.file("locked");
        fs::create_dir(&locked).expect("mkdir");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o555)).expect("chmod");
        let err = SqliteStore::open(locked.join("new.db")).expect_err("no creating here");
        assert_eq!(err.kind, StoreErrorKind::Refused, "{err}");
        assert!(err.message.contains("new.db"), "{err}");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).expect("chmod back");
    }

    // Paths the kernel refuses to anyone, root included: a directory, and a file under
    // a file.
    let err = SqliteStore::open(&dir.0).expect_err("a directory is no store");
    assert_eq!(err.kind, StoreErrorKind::Other, "{err}");
    assert!(err.message.contains(&*dir.0.to_string_lossy()), "{err}");
    let err = SqliteStore::open(path.join("under-a-file.db")).expect_err("not a directory");
    assert_eq!(err.kind, StoreErrorKind::Other, "{err}");
    assert!(err.message.contains("under-a-file.db"), "{err}");
}

#[test]
fn a_full_store_refuses_writes_and_goes_on_reading() {
    let dir = TempDir::new("full");
    let mut store = SqliteStore::open(dir.file("track.db")).expect("open");
    store
        .apply(&[
            StoreOp::Put(record("before", 1, 2)),
            set_id("before", 0, "b0"),
        ])
        .expect("apply");
    // As small as it can be: no room to grow.
    store.set_size_limit(0).expect("size limit");
    let batch: Vec<StoreOp> = (0..500)
        .map(|i| StoreOp::Put(record(&format!("big-{i:0>200}"), 2, 8)))
        .collect();
    let err = store.apply(&batch).expect_err("the file is full");
    assert_eq!(err.kind, StoreErrorKind::Refused, "{err}");
    assert!(err.message.contains("track.db"), "names the file: {err}");
    // None of the refused batch was written; what was there still reads.
    assert!(!store
        .contains(&format!("big-{:0>200}", 0))
        .expect("contains"));
    assert_eq!(store.load_open(1000).expect("load_open").len(), 1);
    assert_eq!(
        store
            .find("b0")
            .expect("find")
            .map(|r| r.reference)
            .as_deref(),
        Some("before")
    );
    // Room again: the same store writes.
    store.set_size_limit(1 << 30).expect("size limit");
    store.apply(&batch).expect("apply with room");
    assert_eq!(store.load_open(1000).expect("load_open").len(), 501);
}

#[test]
fn foreign_files_are_corrupt_and_left_untouched() {
    let dir = TempDir::new("foreign");

    // Not SQLite at all.
    let junk = dir.file("junk.db");
    let bytes: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(&junk, &bytes).expect("write junk");
    let err = SqliteStore::open(&junk).expect_err("junk is no store");
    assert_eq!(err.kind, StoreErrorKind::Corrupt, "{err}");
    assert!(err.message.contains("junk.db"), "{err}");
    assert_eq!(fs::read(&junk).expect("read junk"), bytes, "junk untouched");

    // Another program's database.
    let other = dir.file("other.db");
    {
        let conn = rusqlite::Connection::open(&other).expect("create other.db");
        conn.execute_batch("CREATE TABLE accounts (id INTEGER); PRAGMA user_version = 7;")
            .expect("schema of another program");
    }
    let err = SqliteStore::open(&other).expect_err("another program's file");
    assert_eq!(err.kind, StoreErrorKind::Corrupt, "{err}");
    assert!(err.message.contains("user_version 7"), "{err}");
    let conn = rusqlite::Connection::open(&other).expect("reopen other.db");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "delete", "its journal mode was not changed");
    drop(conn);

    // A store of a later version.
    let newer = dir.file("newer.db");
    drop(SqliteStore::open(&newer).expect("create"));
    rusqlite::Connection::open(&newer)
        .and_then(|c| c.execute_batch("PRAGMA user_version = 3"))
        .expect("bump the version");
    let err = SqliteStore::open(&newer).expect_err("a later schema");
    assert_eq!(err.kind, StoreErrorKind::Corrupt, "{err}");
    assert!(err.message.contains("later version"), "{err}");
}

/// A file written by the first schema (no `account` column) is brought up to date when
/// opened: its open messages are still found, and segments can now keep their account.
#[test]
fn a_store_of_schema_1_is_upgraded_in_place() {
    let dir = TempDir::new("upgrade");
    let path = dir.file("track.db");
    {
        let conn = rusqlite::Connection::open(&path).expect("create");
        conn.execute_batch(
            "CREATE TABLE messages (reference TEXT PRIMARY KEY NOT NULL, receipts TEXT NOT NULL,
                 submitted_unix_ms INTEGER NOT NULL, expires_unix_ms INTEGER NOT NULL) WITHOUT ROWID;
             CREATE INDEX messages_by_submitted ON messages (submitted_unix_ms);
             CREATE INDEX messages_by_expiry ON messages (expires_unix_ms);
             CREATE TABLE segments (reference TEXT NOT NULL, idx INTEGER NOT NULL, message_id TEXT,
                 state TEXT NOT NULL, err TEXT, PRIMARY KEY (reference, idx)) WITHOUT ROWID;
             CREATE TABLE ids (id_key TEXT PRIMARY KEY NOT NULL, reference TEXT NOT NULL,
                 idx INTEGER NOT NULL) WITHOUT ROWID;
             CREATE INDEX ids_by_reference ON ids (reference);
             INSERT INTO messages VALUES ('old', 'final', 1000, 61000);
             INSERT INTO segments VALUES ('old', 0, '0001A', 'submitted', NULL);
             INSERT INTO ids VALUES ('1a', 'old', 0);
             PRAGMA application_id = 1397575760;
             PRAGMA user_version = 1;",
        )
        .expect("a schema-1 store");
    }
    let mut store = SqliteStore::open(&path).expect("a schema-1 file opens");
    let old = store
        .find("1a")
        .expect("find")
        .expect("its message is kept");
    assert_eq!(old.reference, "old");
    assert_eq!(old.segments[0].message_id.as_deref(), Some("0001A"));
    assert_eq!(old.segments[0].account, None);
    let sep = smpp_lifecycle::ids::ACCOUNT_SEPARATOR;
    store
        .apply(&[
            StoreOp::Put(record("new", 2_000, 1)),
            StoreOp::SetId {
                reference: "new".into(),
                segment: 0,
                message_id: "1A".into(),
                account: Some("smsc-b".into()),
                key: format!("smsc-b{sep}1a"),
            },
        ])
        .expect("write with an account");
    drop(store);
    let version: i32 = rusqlite::Connection::open(&path)
        .and_then(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
        .expect("user_version");
    assert_eq!(version, 2);
    let mut store = SqliteStore::open(&path).expect("reopen");
    let new = store
        .find(&format!("smsc-b{sep}1a"))
        .expect("find")
        .expect("the account's key");
    assert_eq!(new.reference, "new");
    assert_eq!(new.segments[0].account.as_deref(), Some("smsc-b"));
    assert_eq!(
        store
            .find("1a")
            .expect("find")
            .map(|r| r.reference)
            .as_deref(),
        Some("old"),
        "the same id without an account is another key"
    );
}

#[test]
fn a_row_it_never_writes_is_corrupt_on_read() {
    let dir = TempDir::new("badrow");
    let path = dir.file("track.db");
    let mut store = SqliteStore::open(&path).expect("open");
    store
        .apply(&[StoreOp::Put(record("r1", 1, 1)), set_id("r1", 0, "1a")])
        .expect("apply");
    rusqlite::Connection::open(&path)
        .and_then(|c| {
            c.execute_batch("UPDATE segments SET state = 'molten' WHERE reference = 'r1'")
        })
        .expect("spoil a row");
    let err = store.find("1a").expect_err("a state it never writes");
    assert_eq!(err.kind, StoreErrorKind::Corrupt, "{err}");
    assert!(err.message.contains("molten"), "{err}");
    let err = store.load_open(10).expect_err("the same row, listed");
    assert_eq!(err.kind, StoreErrorKind::Corrupt, "{err}");
}

#[test]
fn ids_behave_as_in_the_memory_store() {
    let dir = TempDir::new("ids");
    let mut store = SqliteStore::open(dir.file("track.db")).expect("open");
    store
        .apply(&[
            StoreOp::Put(record("old", 1, 1)),
            StoreOp::Put(record("new", 2, 1)),
            set_id("old", 0, "dup"),
            // A resubmitted segment: both of its ids find it.
            set_id("old", 0, "second"),
            // An SMSC that reuses ids: the later message has it.
            set_id("new", 0, "dup"),
            // A segment that does not exist indexes nothing.
            set_id("old", 5, "nowhere"),
            set_id("missing", 0, "ghost"),
        ])
        .expect("apply");
    let reference =
        |store: &mut SqliteStore, key: &str| store.find(key).expect("find").map(|r| r.reference);
    assert_eq!(reference(&mut store, "dup").as_deref(), Some("new"));
    assert_eq!(reference(&mut store, "second").as_deref(), Some("old"));
    assert_eq!(reference(&mut store, "nowhere"), None);
    assert_eq!(reference(&mut store, "ghost"), None);
    // Removing the old message leaves the id the new one holds.
    store
        .apply(&[StoreOp::Remove {
            reference: "old".into(),
            keys: vec!["dup".into(), "second".into()],
        }])
        .expect("remove");
    assert_eq!(reference(&mut store, "dup").as_deref(), Some("new"));
    assert_eq!(reference(&mut store, "second"), None);
}

#[test]
fn times_beyond_sqlite_integers_mean_never() {
    let dir = TempDir::new("never");
    let mut store = SqliteStore::open(dir.file("track.db")).expect("open");
    let mut forever = record("forever", u64::MAX - 1, 1);
    forever.expires_unix_ms = u64::MAX;
    store.apply(&[StoreOp::Put(forever)]).expect("apply");
    assert_eq!(store.purge_expired(u64::MAX, 0).expect("purge"), 0);
    let open = store.load_open(10).expect("load_open");
    assert_eq!(open[0].expires_unix_ms, u64::MAX);
    assert_eq!(
        open[0].submitted_unix_ms,
        u64::MAX,
        "clamped, read as never"
    );
}

#[test]
fn purge_forgets_expired_messages_and_their_ids() {
    let dir = TempDir::new("purge");
    let mut store = SqliteStore::open(dir.file("track.db")).expect("open");
    store
        .apply(&[
            StoreOp::Put(record("early", 0, 2)),
            set_id("early", 1, "e1"),
            StoreOp::Put(record("late", 100_000, 1)),
        ])
        .expect("apply");
    // early expires at 60,000: not before 60,000 + grace.
    assert_eq!(store.purge_expired(65_000, 5_000).expect("purge"), 0);
    assert_eq!(store.purge_expired(65_001, 5_000).expect("purge"), 1);
    assert!(!store.contains("early").expect("contains"));
    assert_eq!(store.find("e1").expect("find"), None);
    assert!(store.contains("late").expect("contains"));
    assert_eq!(
        store.purge_expired(1_000, 5_000).expect("purge"),
        0,
        "now < grace"
    );
}

#[test]
fn stores_opening_a_new_file_at_once_all_succeed() {
    let dir = TempDir::new("race");
    let path = dir.file("track.db");
    let start = std::sync::Arc::new(std::sync::Barrier::new(8));
    let openers: Vec<_> = (0..8)
        .map(|i| {
            let (path, start) = (path.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut store = SqliteStore::open(&path)?;
                store.apply(&[StoreOp::Put(record(&format!("r{i}"), i, 1))])
            })
        })
        .collect();
    for opener in openers {
        let result = opener.join().expect("an opener panicked");
        assert_eq!(result, Ok(()), "one schema, created once, for all");
    }
    let mut store = SqliteStore::open(&path).expect("open");
    assert_eq!(store.load_open(100).expect("load_open").len(), 8);
}
