//! The SQLite store (to be written).

use smpp_lifecycle::{Record, Store, StoreError, StoreErrorKind, StoreOp};

/// Tracked messages in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    _path: String,
}

impl SqliteStore {
    /// Opens (creating when missing) the store file at `path`.
    pub fn open(path: &str) -> Result<SqliteStore, StoreError> {
        Err(StoreError::new(
            StoreErrorKind::Other,
            format!("sqlite:{path}: not built yet"),
        ))
    }
}

impl Store for SqliteStore {
    fn apply(&mut self, _ops: &[StoreOp]) -> Result<(), StoreError> {
        Err(StoreError::new(StoreErrorKind::Other, "not built yet"))
    }
    fn find(&mut self, _key: &str) -> Result<Option<Record>, StoreError> {
        Err(StoreError::new(StoreErrorKind::Other, "not built yet"))
    }
    fn contains(&mut self, _reference: &str) -> Result<bool, StoreError> {
        Err(StoreError::new(StoreErrorKind::Other, "not built yet"))
    }
    fn load_open(&mut self, _limit: usize) -> Result<Vec<Record>, StoreError> {
        Err(StoreError::new(StoreErrorKind::Other, "not built yet"))
    }
    fn purge_expired(&mut self, _now: u64, _grace: u64) -> Result<usize, StoreError> {
        Err(StoreError::new(StoreErrorKind::Other, "not built yet"))
    }
}
