//! The accepted messages the SMSC remembers (for `query_sm`, `cancel_sm`, `replace_sm`
//! and its receipts), at most [`crate::SmscConfig::max_messages`], oldest forgotten first.
//!
//! Kept for speed: one message is remembered and one forgotten per `submit_sm`, so the map
//! is keyed by ids stored inside the table (the ids the SMSC makes are short) and hashed
//! with foldhash. With `String` keys and SipHash, comparing keys behind their pointers in a
//! table of 100,000 was a sixth of the SMSC's time per message.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use super::Message;

/// Ids up to this many octets are kept in the key itself.
const INLINE: usize = 38;

/// A message id as a map key: inline when short, boxed otherwise.
#[derive(Clone)]
pub(crate) enum MsgKey {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<str>),
}

impl MsgKey {
    pub(crate) fn new(id: &str) -> MsgKey {
        if id.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..id.len()].copy_from_slice(id.as_bytes());
            MsgKey::Inline {
                len: id.len() as u8,
                buf,
            }
        } else {
            MsgKey::Heap(id.into())
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Cut from a `&str` at its own length: always UTF-8.
            MsgKey::Inline { len, buf } => std::str::from_utf8(&buf[..*len as usize]).unwrap_or(""),
            MsgKey::Heap(s) => s,
        }
    }
}

// Hash and equality are the `str`'s, so that a map of keys is looked up with a `&str`.
impl Hash for MsgKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq for MsgKey {
    fn eq(&self, other: &MsgKey) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for MsgKey {}

impl Borrow<str> for MsgKey {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

/// The remembered messages by id, and their order.
#[derive(Default)]
pub(crate) struct Messages {
    by_id: HashMap<MsgKey, Message, foldhash::fast::RandomState>,
    order: VecDeque<MsgKey>,
}

impl Messages {
    /// Remembers `m` under `id`, forgetting the oldest when `max` are kept.
    pub(crate) fn remember(&mut self, max: usize, id: &str, m: Message) {
        if self.order.len() >= max.max(1) {
            if let Some(old) = self.order.pop_front() {
                self.by_id.remove(&old);
            }
        }
        let key = MsgKey::new(id);
        self.order.push_back(key.clone());
        self.by_id.insert(key, m);
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Message> {
        self.by_id.get(id)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Message> {
        self.by_id.get_mut(id)
    }

    /// Every message with its id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Message)> {
        self.by_id.iter().map(|(k, m)| (k.as_str(), m))
    }

    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(n: usize) -> Message {
        Message {
            system_id: None,
            final_state: None,
            source_addr: n.to_string(),
            destination_addr: String::new(),
        }
    }

    #[test]
    fn the_oldest_is_forgotten_and_long_ids_are_kept_too() {
        let mut m = Messages::default();
        let long = "x".repeat(INLINE + 5);
        m.remember(3, &long, message(0));
        m.remember(3, "1", message(1));
        m.remember(3, "0000000002", message(2));
        assert_eq!(m.get(&long).map(|m| m.source_addr.as_str()), Some("0"));
        m.remember(3, "3", message(3));
        assert!(m.get(&long).is_none(), "the oldest went");
        assert_eq!(m.len(), 3);
        assert_eq!(
            m.get("0000000002").map(|m| m.source_addr.as_str()),
            Some("2")
        );
        assert!(m.get("2").is_none(), "ids are compared as written");
        let mut ids: Vec<&str> = m.iter().map(|(id, _)| id).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["0000000002", "1", "3"]);
    }
}
