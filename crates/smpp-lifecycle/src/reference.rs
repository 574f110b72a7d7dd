//! A message's reference: the caller's name for it, shared rather than copied.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// The caller's reference of a tracked message (or the tracker's generated one).
///
/// One string shared by the tracker, its handle ([`Tracked`](crate::Tracked)), the progress
/// notes and the message's [`Report`](crate::Report), instead of a copy in each. It reads
/// like a `str`: it dereferences to one ([`Reference::as_str`] for a map keyed by `String`),
/// compares with `&str` and `String`, and a map keyed by `Reference` is looked up with a
/// `&str` ([`Borrow<str>`]).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference(Arc<str>);

impl Reference {
    /// The reference as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Reference {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Reference {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Reference {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Reference {
    fn from(s: &str) -> Reference {
        Reference(Arc::from(s))
    }
}

impl From<String> for Reference {
    fn from(s: String) -> Reference {
        Reference(Arc::from(s))
    }
}

impl From<&String> for Reference {
    fn from(s: &String) -> Reference {
        Reference(Arc::from(s.as_str()))
    }
}

impl From<Box<str>> for Reference {
    fn from(s: Box<str>) -> Reference {
        Reference(Arc::from(s))
    }
}

impl From<std::borrow::Cow<'_, str>> for Reference {
    fn from(s: std::borrow::Cow<'_, str>) -> Reference {
        Reference(Arc::from(s))
    }
}

impl From<Arc<str>> for Reference {
    fn from(s: Arc<str>) -> Reference {
        Reference(s)
    }
}

impl From<Reference> for String {
    fn from(r: Reference) -> String {
        String::from(&*r.0)
    }
}

impl From<&Reference> for String {
    fn from(r: &Reference) -> String {
        String::from(&*r.0)
    }
}

impl From<Reference> for Arc<str> {
    fn from(r: Reference) -> Arc<str> {
        r.0
    }
}

impl PartialEq<str> for Reference {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Reference {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Reference {
    fn eq(&self, other: &String) -> bool {
        &*self.0 == other.as_str()
    }
}

impl PartialEq<Reference> for str {
    fn eq(&self, other: &Reference) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Reference> for &str {
    fn eq(&self, other: &Reference) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Reference> for String {
    fn eq(&self, other: &Reference) -> bool {
        self.as_str() == &*other.0
    }
}

#[cfg(test)]
mod tests {
    use super::Reference;
    use std::collections::HashMap;

    #[test]
    fn reads_compares_and_looks_up_like_a_string() {
        let r = Reference::from("otp-42");
        assert_eq!(r, "otp-42");
        assert_eq!("otp-42", r);
        assert_eq!(r, String::from("otp-42"));
        assert_ne!(r, "otp-43");
        assert_eq!(r.len(), 6);
        assert_eq!(format!("{r} {r:?}"), "otp-42 \"otp-42\"");
        let mut by_string: HashMap<String, u32> = HashMap::new();
        by_string.insert("otp-42".into(), 7);
        assert_eq!(by_string.get(r.as_str()), Some(&7));
        let mut by_reference: HashMap<Reference, u32> = HashMap::new();
        by_reference.insert(r.clone(), 8);
        assert_eq!(by_reference.get("otp-42"), Some(&8));
        assert_eq!(String::from(r), "otp-42");
        let boxed: Box<str> = "b".into();
        assert_eq!(Reference::from(boxed), "b");
        assert_eq!(Reference::from(std::borrow::Cow::Borrowed("c")), "c");
    }
}
