//! The Python package `smpp_rs` (distribution `smpp-rs`): this repository's blocking client
//! (`smpp_client::Client`, with its lifecycle layer and stores), its test SMSC
//! (`smpp_smsc::Smsc`) and its codec, for Python. A face only: every rule lives in the Rust
//! crates; this crate turns Python arguments into their calls and their results into
//! Python objects, and lets the GIL go while it waits (a call that waits long looks at
//! Ctrl-C between slices of its wait).
//!
//! The extension module is `smpp_rs._native`; `smpp_rs/__init__.py` re-exports it with the
//! exceptions (written in Python, so that `smpp_rs.TimeoutError` can also be the built-in
//! `TimeoutError`) and the type stubs.

mod client;
mod codec;
mod errors;
mod event;
mod smsc;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::Client>()?;
    m.add_class::<event::Event>()?;
    m.add_class::<smsc::Smsc>()?;
    m.add_function(wrap_pyfunction!(codec::decode, m)?)?;
    m.add_function(wrap_pyfunction!(codec::encode, m)?)?;
    Ok(())
}
