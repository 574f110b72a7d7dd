//! Conversion of borrowed values into owned (`'static`) ones.

use crate::codec::{COctetString, OctetString, Password};
use crate::ids::CommandStatus;

/// Turns a value that may borrow from an input buffer into one that owns its data.
pub(crate) trait IntoStatic {
    type Static;
    fn into_static(self) -> Self::Static;
}

macro_rules! copy_static {
    ($($t:ty),*) => {$(
        impl IntoStatic for $t {
            type Static = $t;
            fn into_static(self) -> $t {
                self
            }
        }
    )*};
}

copy_static!(u8, u16, u32, bool, CommandStatus, Option<u8>);

impl IntoStatic for COctetString<'_> {
    type Static = COctetString<'static>;
    fn into_static(self) -> Self::Static {
        self.into_owned()
    }
}

impl IntoStatic for OctetString<'_> {
    type Static = OctetString<'static>;
    fn into_static(self) -> Self::Static {
        self.into_owned()
    }
}

impl IntoStatic for Password<'_> {
    type Static = Password<'static>;
    fn into_static(self) -> Self::Static {
        self.into_owned()
    }
}

impl<T: IntoStatic> IntoStatic for Vec<T> {
    type Static = Vec<T::Static>;
    fn into_static(self) -> Self::Static {
        self.into_iter().map(IntoStatic::into_static).collect()
    }
}
