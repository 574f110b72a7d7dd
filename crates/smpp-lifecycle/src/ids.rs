//! Canonical message-id keys: the rules of [`smpp_pdu::receipt::message_ids_match`] made
//! into hash keys, so a receipt finds its segment in O(1) whatever form each side wrote
//! the id in.
//!
//! An id is indexed under up to three keys, tried in this order:
//! 1. its text, trimmed, lower-cased and without leading zeros (`"0000000A1"` -> `"a1"`);
//! 2. its value read as a decimal number, when it is all digits;
//! 3. its value read as a hexadecimal number, when it is all hex digits.
//!
//! Two ids match when they share a key, which is exactly when `message_ids_match` says
//! they do: same text up to case and leading zeros, or one side's decimal value equal to
//! the other side's hexadecimal value (`"0000000010"` in a `submit_sm_resp` and `id:16`
//! in a receipt name the same message). Numbers have a key space of their own, so the
//! decimal reading of one id and the hexadecimal reading of another meet there.

/// One form under which a message id is indexed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdKey {
    /// The id's text, trimmed, lower-cased, leading zeros removed (`"0"` when all zeros).
    Text(Box<str>),
    /// The id's value as a number (its decimal or its hexadecimal reading).
    Number(u128),
}

/// The keys of one id, at most three, in the order a lookup tries them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdKeys {
    keys: [Option<IdKey>; 3],
}

impl IdKeys {
    /// The keys of `id`; none for an empty (or all-blank) id, which names no message.
    pub fn of(id: &str) -> IdKeys {
        let id = id.trim();
        let mut out = IdKeys::default();
        if id.is_empty() {
            return out;
        }
        let stripped = id.trim_start_matches('0');
        let text = if stripped.is_empty() {
            "0".to_string()
        } else {
            stripped.to_ascii_lowercase()
        };
        out.keys[0] = Some(IdKey::Text(text.into_boxed_str()));
        let decimal = id
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| id.parse::<u128>().ok())
            .flatten();
        let hex = id
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
            .then(|| u128::from_str_radix(id, 16).ok())
            .flatten();
        out.keys[1] = decimal.map(IdKey::Number);
        if hex != decimal {
            out.keys[2] = hex.map(IdKey::Number);
        }
        out
    }

    /// The keys, in lookup order.
    pub fn iter(&self) -> impl Iterator<Item = &IdKey> {
        self.keys.iter().flatten()
    }

    /// The text key (the first), if the id was not empty.
    pub fn text(&self) -> Option<&IdKey> {
        self.keys[0].as_ref()
    }

    /// Whether the id was empty.
    pub fn is_empty(&self) -> bool {
        self.keys[0].is_none()
    }

    /// Whether two ids share a key (and so name the same message).
    pub fn meets(&self, other: &IdKeys) -> bool {
        self.iter().any(|k| other.iter().any(|o| o == k))
    }
}
