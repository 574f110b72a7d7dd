//! The Redis store (to be written).

use smpp_lifecycle::{Record, Store, StoreError, StoreErrorKind, StoreOp};

/// Tracked messages in Redis, shared by many processes.
#[derive(Debug)]
pub struct RedisStore {
    _url: String,
}

impl RedisStore {
    /// Connects to the Redis at `url`.
    pub fn open(url: &str) -> Result<RedisStore, StoreError> {
        Err(StoreError::new(
            StoreErrorKind::Other,
            format!("{url}: not built yet"),
        ))
    }
}

impl Store for RedisStore {
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
