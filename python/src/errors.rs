//! Rust errors as the package's Python exceptions (defined in `smpp_rs/_errors.py`, so
//! that they can also derive from the built-in `TimeoutError`, `ConnectionError` and
//! `ValueError`).

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use smpp_client::Error;
use smpp_pdu::json::status_name;

/// An instance of `smpp_rs._errors.<class>` with `message`, and the attributes given.
pub(crate) fn raise(
    py: Python<'_>,
    class: &str,
    message: String,
    attrs: &[(&str, Py<PyAny>)],
) -> PyErr {
    let made = (|| -> PyResult<PyErr> {
        let module = py.import("smpp_rs._errors")?;
        let value = module.getattr(class)?.call1((message.clone(),))?;
        for (name, v) in attrs {
            value.setattr(*name, v.bind(py))?;
        }
        Ok(PyErr::from_value(value))
    })();
    made.unwrap_or_else(|e| PyRuntimeError::new_err(format!("{message} ({e})")))
}

/// A client error as the exception a Python caller catches: `BindError`, `SubmitError`
/// (with `.status`, the status name), `TimeoutError`, `ConnectionError`, `StoreError`
/// (with `.message_ids` when the message went out), `ConfigError`, `InvalidMessage`
/// (text, addresses, times, references a message cannot be sent with), else `SmppError`.
pub(crate) fn to_py(py: Python<'_>, e: Error) -> PyErr {
    let text = e.to_string();
    let none = || py.None();
    // The `.status` of a BindError or SubmitError: the status name.
    let status = |s: smpp_pdu::CommandStatus| {
        status_name(s)
            .into_pyobject(py)
            .map_or_else(|_| none(), |v| v.into_any().unbind())
    };
    match e {
        Error::BindRejected(s) => raise(py, "BindError", text, &[("status", status(s))]),
        Error::Status(s) => raise(py, "SubmitError", text, &[("status", status(s))]),
        Error::Timeout => raise(py, "TimeoutError", text, &[]),
        Error::Connect(_)
        | Error::Disconnected
        | Error::Closed
        | Error::NotSent
        | Error::NoBind => raise(py, "ConnectionError", text, &[]),
        Error::NotDurable(sent, _) => {
            let ids = sent
                .message_ids
                .clone()
                .into_pyobject(py)
                .map_or_else(|_| none(), |v| v.into_any().unbind());
            raise(py, "StoreError", text, &[("message_ids", ids)])
        }
        Error::Store(_) => raise(py, "StoreError", text, &[]),
        Error::Config(_) => raise(py, "ConfigError", text, &[]),
        Error::Text(_)
        | Error::SourceAddress(_)
        | Error::DestAddress(_)
        | Error::Time(_)
        | Error::Track(_)
        | Error::Encode(_)
        | Error::Segments(_) => raise(py, "InvalidMessage", text, &[]),
        Error::InboundFull(n) => raise(
            py,
            "SmppError",
            format!(
                "not sent: {n} events are waiting to be read; call next_event \
                 (or create the client with track=False)"
            ),
            &[],
        ),
        _ => raise(py, "SmppError", text, &[]),
    }
}
