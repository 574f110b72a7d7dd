//! Durable stores for the message lifecycle ([`smpp_lifecycle::Store`]): tracking that
//! survives a restart and spans processes.
//!
//! - [`SqliteStore`]: one file, no server (SQLite, bundled: nothing to install); see
//!   [the `sqlite` module](sqlite) for its schema and what survives which crash.
//! - [`RedisStore`]: many processes on many machines share one Redis.
//!
//! [`open`] takes the URL form the configuration and the command line use: `memory`,
//! `sqlite:PATH`, `redis://HOST:PORT[/DB]`.

#![warn(missing_docs)]

pub mod redis_store;
pub mod sqlite;

pub use redis_store::{RedisStore, RedisStoreBuilder};
pub use smpp_lifecycle::{MemoryStore, Store, StoreError, StoreErrorKind};
pub use sqlite::{Durability, SqliteStore};

/// Opens the store a URL names: `memory`, `sqlite:PATH` (the file is created when
/// missing), `redis://HOST:PORT[/DB]` (optionally `redis://:PASSWORD@HOST:PORT/DB`).
pub fn open(url: &str) -> Result<Box<dyn Store>, StoreError> {
    if url == "memory" {
        return Ok(Box::new(MemoryStore::new()));
    }
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        return Ok(Box::new(SqliteStore::open(path)?));
    }
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        return Ok(Box::new(RedisStore::open(url)?));
    }
    Err(StoreError::new(
        StoreErrorKind::Other,
        format!("unknown store {url:?}: use memory, sqlite:PATH or redis://HOST:PORT[/DB]"),
    ))
}
