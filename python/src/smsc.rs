//! `Smsc`: the test SMSC (`smpp_smsc::Smsc`) in-process, for testing ESME code from Python.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use smpp_pdu::receipt::ReceiptState;
use smpp_smsc::{SmscConfig, User};

use crate::errors::raise;

/// A test SMSC on 127.0.0.1 (a free port unless `address` says), running on threads of
/// its own until `stop()` (or the end of a `with` block).
///
/// `Smsc(users={"id": "pw"}, receipt_delay=0.0, **options)`: with `users`, only those
/// accounts bind; without, every bind is accepted. Options: `address` (`"HOST:PORT"`),
/// `receipt_state` (the final state receipts say, `"DELIVRD"` by default),
/// `receipt_before_response` (send receipts before the `submit_sm_resp`, as fast SMSCs
/// do), `first_id` (the first message id), `max_submits_per_second` (answer
/// `ESME_RTHROTTLED` above it), `mo_split` (how `inject_mo` sends a long text: `"udh"`,
/// `"udh16"`, `"sar"` or `"payload"`).
#[pyclass(module = "smpp_rs", frozen)]
pub(crate) struct Smsc {
    /// `None` once stopped. Each call takes its own reference, so that another thread may
    /// stop it meanwhile (the SMSC stops when the last reference goes).
    inner: Mutex<Option<Arc<smpp_smsc::Smsc>>>,
    /// The only account, when `users` had one: `inject_mo`'s default.
    only_user: Option<String>,
}

impl Smsc {
    fn smsc(&self, py: Python<'_>) -> PyResult<Arc<smpp_smsc::Smsc>> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| raise(py, "SmppError", "the SMSC is stopped".into(), &[]))
    }
}

#[pymethods]
impl Smsc {
    #[new]
    #[pyo3(signature = (
        users = None, receipt_delay = 0.0, *, address = "127.0.0.1:0",
        receipt_state = "DELIVRD", receipt_before_response = false, first_id = 1,
        max_submits_per_second = None, mo_split = "udh"
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        users: Option<std::collections::BTreeMap<String, String>>,
        receipt_delay: f64,
        address: &str,
        receipt_state: &str,
        receipt_before_response: bool,
        first_id: u64,
        max_submits_per_second: Option<u32>,
        mo_split: &str,
    ) -> PyResult<Smsc> {
        use smpp_pdu::concat::SplitMethod;
        let split = match mo_split {
            "udh" => SplitMethod::Udh8,
            "udh16" => SplitMethod::Udh16,
            "sar" => SplitMethod::Sar,
            "payload" => SplitMethod::Payload,
            other => {
                return Err(PyValueError::new_err(format!(
                    "mo_split is udh, udh16, sar or payload, not {other:?}"
                )))
            }
        };
        let delay = Duration::try_from_secs_f64(receipt_delay).map_err(|_| {
            PyValueError::new_err(format!(
                "receipt_delay must be seconds >= 0, not {receipt_delay}"
            ))
        })?;
        let addr = address
            .parse()
            .map_err(|e| PyValueError::new_err(format!("address {address:?}: {e}")))?;
        let mut config = SmscConfig::default().receipt_delay(delay).mo_split(split);
        config.addr = addr;
        config.receipt_state = ReceiptState::from_stat(receipt_state);
        config.receipt_before_response = receipt_before_response;
        config.first_id = first_id;
        config.max_submits_per_second = max_submits_per_second;
        let users = users.unwrap_or_default();
        let only_user = (users.len() == 1)
            .then(|| users.keys().next().cloned())
            .flatten();
        for (id, pw) in users {
            config = config.user(User::new(id, pw));
        }
        let smsc = py
            .detach(|| smpp_smsc::Smsc::start(config))
            .map_err(|e| raise(py, "SmppError", format!("the SMSC did not start: {e}"), &[]))?;
        Ok(Smsc {
            inner: Mutex::new(Some(Arc::new(smsc))),
            only_user,
        })
    }

    /// Where it listens, as `"127.0.0.1:PORT"` (give it to `Client`).
    #[getter]
    fn address(&self, py: Python<'_>) -> PyResult<String> {
        Ok(self.smsc(py)?.local_addr().to_string())
    }

    /// Sends an MO message (`deliver_sm`, split into segments when long) to the session of
    /// `system_id` bound to receive (the only account when `users` had one).
    #[pyo3(signature = (source, destination, text, system_id = None))]
    fn inject_mo(
        &self,
        py: Python<'_>,
        source: &str,
        destination: &str,
        text: &str,
        system_id: Option<String>,
    ) -> PyResult<()> {
        let Some(id) = system_id.or_else(|| self.only_user.clone()) else {
            return Err(PyValueError::new_err(
                "give system_id: the SMSC has no single account to send to",
            ));
        };
        let smsc = self.smsc(py)?;
        py.detach(|| smsc.inject_mo(&id, source, destination, text))
            .map_err(|e| raise(py, "SmppError", format!("inject_mo: {e}"), &[]))
    }

    /// Counters: connections, binds, submits, receipts sent, throttled, ...
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.smsc(py)?.stats();
        let d = PyDict::new(py);
        for (k, v) in [
            ("connections", s.connections),
            ("open_connections", s.open_connections),
            ("binds", s.binds),
            ("bind_rejects", s.bind_rejects),
            ("bound", s.bound),
            ("submits", s.submits),
            ("throttled", s.throttled),
            ("receipts_sent", s.receipts_sent),
            ("delivers_acked", s.delivers_acked),
        ] {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// Stops it: every connection is closed (once no other thread is inside one of its
    /// calls).
    fn stop(&self, py: Python<'_>) {
        let taken = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(s) = taken {
            py.detach(move || match Arc::try_unwrap(s) {
                Ok(s) => s.shutdown(),
                // Another call holds it: it stops when that call lets it go.
                Err(shared) => drop(shared),
            });
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.stop(py);
        false
    }
}
