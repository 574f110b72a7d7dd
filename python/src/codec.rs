//! `decode(bytes) -> dict` and `encode(dict) -> bytes`: the codec, in the JSON shape of
//! `smpp decode` (the codec's own `json` writer and `json_in` reader; Python's `json`
//! module moves the text across).

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use smpp_pdu::Pdu;

use crate::errors::raise;

/// One whole PDU's octets as a dict: `command`, `command_id`, `command_status`,
/// `sequence_number`, every body field by its specification name, `tlvs`, and `receipt`
/// for a delivery receipt. Raises `InvalidPdu` (a `ValueError`) for octets that are not
/// exactly one PDU.
#[pyfunction]
pub(crate) fn decode<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let (pdu, used) = match Pdu::decode(data) {
        Ok(Some(d)) => d,
        Ok(None) => {
            return Err(raise(
                py,
                "InvalidPdu",
                format!("{} octets are not a whole PDU", data.len()),
                &[],
            ))
        }
        Err(e) => return Err(raise(py, "InvalidPdu", e.to_string(), &[])),
    };
    if used != data.len() {
        return Err(raise(
            py,
            "InvalidPdu",
            format!(
                "{} octets follow the PDU ({used} octets): give one PDU",
                data.len() - used
            ),
            &[],
        ));
    }
    let text = smpp_pdu::json::pdu_object(&pdu);
    py.import("json")?.call_method1("loads", (text,))
}

/// A dict in the shape `decode` gives (derived members may be left out) to the PDU's
/// octets. Raises `InvalidPdu` naming the member (`.field`) that is wrong.
#[pyfunction]
pub(crate) fn encode<'py>(
    py: Python<'py>,
    pdu: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyBytes>> {
    let text: String = py
        .import("json")?
        .call_method1("dumps", (pdu,))?
        .extract()?;
    match smpp_pdu::json_in::encode_json(&text) {
        Ok(bytes) => Ok(PyBytes::new(py, &bytes)),
        Err(e) => {
            let field = e.field.clone().into_pyobject(py)?.into_any().unbind();
            Err(raise(py, "InvalidPdu", e.to_string(), &[("field", field)]))
        }
    }
}
