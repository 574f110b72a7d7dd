//! `Client`: `smpp_client::Client` for Python. Every call that waits lets the GIL go; the
//! long ones (`next_event`, `send_many`) wait in slices and look at Ctrl-C between them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use smpp_client::{ClientConfig, OutgoingText, StoreHandle, TextOptions};
use smpp_pdu::address::{Npi, Ton};
use smpp_pdu::text::Encoding;
use smpp_session::BindKind;

use crate::errors::{raise, to_py};
use crate::event::Event;

/// How long a wait runs before Ctrl-C is looked at.
const SLICE: Duration = Duration::from_millis(100);

/// An SMPP client (ESME) bound to one SMSC; see the package documentation.
///
/// `Client(addr, system_id, password, bind="trx", window=64, **options)` connects and
/// binds at once (raising `BindError`, `ConnectionError` or `TimeoutError`). Options:
/// `system_type`, `timeout` (response timeout, seconds), `enquire_link` (seconds, `None`
/// for none), `reconnect` (bool), `store` (`"sqlite:PATH"` or `"redis://HOST:PORT[/DB]"`),
/// `account` (the SMSC account name ids belong to, with a shared store), `tls` (bool),
/// `ca` (a PEM file), `server_name`, `pin_cert` (the SMSC's own certificate, a PEM file or
/// a list of them), `pin_sha256` (its fingerprint, or a list), `allow_expired`,
/// `insecure` (no check, with a warning at every connect), `client_cert` and `client_key`
/// (mutual TLS); any TLS option turns TLS on (see docs/tls.md), `reassembly` (bool, on by default),
/// `report_timeout` (seconds a report may wait for its receipts), `max_rate` (submits per
/// second), `track` (follow every message to a `"report"` event, on by default; a bulk
/// sender that wants no reports turns it off, since reports wait until they are read),
/// `max_unread` (events kept for `next_event`, 65,536 by default: past that, reading from
/// the SMSC pauses, and sends wait up to `timeout` and then raise `SmppError` unsent).
#[pyclass(module = "smpp_rs", frozen)]
pub(crate) struct Client {
    /// `None` once closed. Each call takes its own reference, so that another thread may
    /// close the client while one waits in it.
    inner: Mutex<Option<Arc<smpp_client::Client>>>,
    window: usize,
}

fn bind_kind(bind: &str) -> PyResult<BindKind> {
    match bind {
        "tx" | "transmitter" => Ok(BindKind::Transmitter),
        "rx" | "receiver" => Ok(BindKind::Receiver),
        "trx" | "transceiver" => Ok(BindKind::Transceiver),
        other => Err(PyValueError::new_err(format!(
            "bind must be \"tx\", \"rx\" or \"trx\", not {other:?}"
        ))),
    }
}

/// The longest duration taken (about 31 years): later instants overflow the clock.
const MAX_SECONDS: f64 = 1e9;

fn seconds(what: &str, s: f64) -> PyResult<Duration> {
    if s > MAX_SECONDS {
        return Err(PyValueError::new_err(format!(
            "{what} must be at most {MAX_SECONDS} seconds, not {s}"
        )));
    }
    Duration::try_from_secs_f64(s).map_err(|_| {
        PyValueError::new_err(format!("{what} must be a number of seconds >= 0, not {s}"))
    })
}

impl Client {
    fn client(&self, py: Python<'_>) -> PyResult<Arc<smpp_client::Client>> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| raise(py, "ConnectionError", "the client is closed".into(), &[]))
    }
}

/// TON and NPI given one field at a time, applied once all fields are read.
#[derive(Default)]
struct Addressing {
    source: (Option<u8>, Option<u8>),
    dest: (Option<u8>, Option<u8>),
}

impl Addressing {
    fn apply(self, mut o: TextOptions) -> TextOptions {
        if self.source != (None, None) {
            o = o.source_ton_npi(
                Ton(self.source.0.unwrap_or(0)),
                Npi(self.source.1.unwrap_or(0)),
            );
        }
        if self.dest != (None, None) {
            o = o.dest_ton_npi(Ton(self.dest.0.unwrap_or(0)), Npi(self.dest.1.unwrap_or(0)));
        }
        o
    }
}

/// `registered_delivery`: a bool (a receipt or none) or the octet itself.
fn registered_delivery(o: TextOptions, v: Option<&Bound<'_, PyAny>>) -> PyResult<TextOptions> {
    let Some(v) = v else {
        return Ok(o.registered_delivery(0));
    };
    if let Ok(b) = v.extract::<bool>() {
        return Ok(o.registered_delivery(u8::from(b)));
    }
    let octet = v.extract::<u8>().map_err(|_| {
        PyTypeError::new_err("registered_delivery is a bool or an int from 0 to 255")
    })?;
    Ok(o.registered_delivery(octet))
}

/// A string, or a list of strings (`pin_cert`, `pin_sha256`).
fn str_or_list(name: &str, v: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<String>> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    if let Ok(one) = v.extract::<String>() {
        return Ok(vec![one]);
    }
    v.extract::<Vec<String>>()
        .map_err(|_| PyTypeError::new_err(format!("{name} is a string or a list of strings")))
}

/// One named field of a text's options (see `send_text`).
fn field(
    o: TextOptions,
    key: &str,
    v: &Bound<'_, PyAny>,
    addressing: &mut Addressing,
) -> PyResult<TextOptions> {
    let int = |name: &str| -> PyResult<u8> {
        v.extract::<u8>()
            .map_err(|_| PyTypeError::new_err(format!("{name} is an int from 0 to 255")))
    };
    let secs = |name: &str| -> PyResult<Duration> { seconds(name, v.extract::<f64>()?) };
    Ok(match key {
        "data_coding" => o.data_coding(int(key)?),
        "priority" => o.priority(int(key)?),
        "protocol_id" => o.protocol_id(int(key)?),
        "esm_class" => o.esm_class(int(key)?),
        "service_type" => o.service_type(v.extract::<String>()?),
        "replace_if_present" => o.replace_if_present(v.extract::<bool>()?),
        "validity" => o.valid_for(secs(key)?),
        "schedule" => o.deliver_in(secs(key)?),
        "report_timeout" => o.report_timeout(secs(key)?),
        "timeout" => o.timeout(secs(key)?),
        "encoding" => o.encoding(match v.extract::<String>()?.as_str() {
            "gsm7" => Encoding::Gsm7,
            "gsm7-packed" => Encoding::Gsm7Packed,
            "ascii" => Encoding::Ascii,
            "latin1" => Encoding::Latin1,
            "ucs2" => Encoding::Ucs2,
            other => {
                return Err(PyValueError::new_err(format!(
                    "encoding is gsm7, gsm7-packed, ascii, latin1 or ucs2, not {other:?}"
                )))
            }
        }),
        "source_ton" => {
            addressing.source.0 = Some(int(key)?);
            o
        }
        "source_npi" => {
            addressing.source.1 = Some(int(key)?);
            o
        }
        "dest_ton" => {
            addressing.dest.0 = Some(int(key)?);
            o
        }
        "dest_npi" => {
            addressing.dest.1 = Some(int(key)?);
            o
        }
        other => {
            return Err(PyTypeError::new_err(format!(
                "unknown field {other:?} (data_coding, priority, protocol_id, esm_class, \
                 service_type, replace_if_present, validity, schedule, report_timeout, \
                 timeout, encoding, source_ton, source_npi, dest_ton, dest_npi)"
            )))
        }
    })
}

/// The options of one text: `reference`, `registered_delivery` and the named fields.
fn text_options(
    reference: Option<String>,
    rd: Option<&Bound<'_, PyAny>>,
    fields: Option<&Bound<'_, PyDict>>,
) -> PyResult<TextOptions> {
    let mut o = registered_delivery(TextOptions::default(), rd)?;
    if let Some(r) = reference {
        o = o.reference(r);
    }
    let mut addressing = Addressing::default();
    if let Some(fields) = fields {
        for (k, v) in fields.iter() {
            o = field(o, &k.extract::<String>()?, &v, &mut addressing)?;
        }
    }
    Ok(addressing.apply(o))
}

/// One message of `send_many`: a dict with `source`, `destination` and `text`, and
/// optionally `reference`, `registered_delivery` and any field `send_text` takes (read in
/// one pass over the dict).
fn outgoing(item: &Bound<'_, PyAny>) -> PyResult<OutgoingText> {
    let d = item
        .cast::<PyDict>()
        .map_err(|_| PyTypeError::new_err("send_many takes dicts"))?;
    let (mut source, mut destination, mut text) = (None, None, None);
    let mut rd = None;
    let mut o = TextOptions::default();
    let mut addressing = Addressing::default();
    for (k, v) in d.iter() {
        let key = k.cast::<pyo3::types::PyString>()?;
        match &*key.to_cow()? {
            "source" => source = Some(v.extract::<String>()?),
            "destination" => destination = Some(v.extract::<String>()?),
            "text" => text = Some(v.extract::<String>()?),
            "reference" => o = o.reference(v.extract::<String>()?),
            "registered_delivery" => rd = Some(v),
            other => o = field(o, other, &v, &mut addressing)?,
        }
    }
    let need = |v: Option<String>, k: &str| {
        v.ok_or_else(|| PyTypeError::new_err(format!("a message needs {k:?}")))
    };
    let o = addressing.apply(registered_delivery(o, rd.as_ref())?);
    Ok(OutgoingText::new(
        need(source, "source")?,
        need(destination, "destination")?,
        need(text, "text")?,
    )
    .options(o))
}

#[pymethods]
impl Client {
    #[new]
    #[pyo3(signature = (
        addr, system_id, password, bind = "trx", window = 64, *, system_type = None,
        timeout = 10.0, enquire_link = Some(30.0), reconnect = false, store = None,
        account = None, tls = false, ca = None, server_name = None, reassembly = true,
        report_timeout = None, max_rate = None, track = true, pin_cert = None,
        pin_sha256 = None, allow_expired = false, insecure = false, client_cert = None,
        client_key = None, max_unread = 65_536
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        addr: String,
        system_id: String,
        password: String,
        bind: &str,
        window: usize,
        system_type: Option<String>,
        timeout: f64,
        enquire_link: Option<f64>,
        reconnect: bool,
        store: Option<String>,
        account: Option<String>,
        tls: bool,
        ca: Option<String>,
        server_name: Option<String>,
        reassembly: bool,
        report_timeout: Option<f64>,
        max_rate: Option<f64>,
        track: bool,
        pin_cert: Option<&Bound<'_, PyAny>>,
        pin_sha256: Option<&Bound<'_, PyAny>>,
        allow_expired: bool,
        insecure: bool,
        client_cert: Option<String>,
        client_key: Option<String>,
        max_unread: usize,
    ) -> PyResult<Client> {
        let mut config = ClientConfig::new(bind_kind(bind)?, system_id, password)
            .window(window.max(1))
            .response_timeout(seconds("timeout", timeout)?)
            .enquire_link_interval(
                enquire_link
                    .map(|s| seconds("enquire_link", s))
                    .transpose()?,
            );
        if let Some(t) = system_type {
            config.bind.system_type = t;
        }
        if reconnect {
            config = config.reconnect(smpp_client::Backoff::default());
        }
        if let Some(url) = &store {
            let s = py
                .detach(|| smpp_store::open(url))
                .map_err(|e| raise(py, "StoreError", format!("store {url}: {e}"), &[]))?;
            config = config.store(StoreHandle::new(s));
        }
        config.account = account;
        if !reassembly {
            config.lifecycle.reassembly = None;
        }
        config.lifecycle.tracking = track;
        config.inbound_capacity = max_unread.max(1);
        if let Some(t) = report_timeout {
            config.lifecycle.tracker.report_timeout = seconds("report_timeout", t)?;
        }
        config.max_rate = max_rate;
        // The TLS settings and their rules are the configuration file's
        // (`TlsFileConfig::client_config`); an error names the argument.
        let mut t = smpp_client::TlsFileConfig::default();
        t.ca = ca.map(Into::into);
        t.server_name = server_name;
        t.pin_cert = str_or_list("pin_cert", pin_cert)?
            .into_iter()
            .map(Into::into)
            .collect();
        t.pin_sha256 = str_or_list("pin_sha256", pin_sha256)?;
        t.allow_expired = allow_expired;
        t.insecure = insecure;
        t.client_cert = client_cert.map(Into::into);
        t.client_key = client_key.map(Into::into);
        let wanted = tls
            || t.ca.is_some()
            || !t.pin_cert.is_empty()
            || !t.pin_sha256.is_empty()
            || t.insecure
            || t.client_cert.is_some();
        if wanted {
            let tls_config = py.detach(|| t.client_config()).map_err(|e| {
                let key = if e.key.is_empty() { "tls" } else { e.key };
                raise(py, "ConfigError", format!("{key}: {}", e.message), &[])
            })?;
            config = config.tls(tls_config);
        }
        let client = py
            .detach(|| smpp_client::Client::connect_to([addr.as_str()], config))
            .map_err(|e| to_py(py, e))?;
        Ok(Client {
            inner: Mutex::new(Some(Arc::new(client))),
            window: window.max(1),
        })
    }

    /// Sends a text (split into segments when it is long) and returns the SMSC's message
    /// id of each segment. `reference` names the message in its report (one is made when
    /// none is given); `registered_delivery=True` asks for a receipt; `fields` are the
    /// other `submit_sm` settings (see the package documentation).
    #[pyo3(signature = (source, destination, text, reference = None, registered_delivery = None, **fields))]
    #[allow(clippy::too_many_arguments)]
    fn send_text(
        &self,
        py: Python<'_>,
        source: &str,
        destination: &str,
        text: &str,
        reference: Option<String>,
        registered_delivery: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Vec<String>> {
        let options = text_options(reference, registered_delivery, fields)?;
        let client = self.client(py)?;
        let sent = py
            .detach(|| client.send_text(source, destination, text, &options))
            .map_err(|e| to_py(py, e))?;
        Ok(sent.message_ids)
    }

    /// Sends every message of `messages` (dicts with `source`, `destination`, `text`, and
    /// optionally `reference`, `registered_delivery` and the fields of `send_text`),
    /// keeping the window full. Returns one result per message, in order: a dict with
    /// `reference` and `message_ids`, or the exception it failed with (not raised: the
    /// others went on). A message that cannot be read raises `TypeError` before any is
    /// sent.
    fn send_many(&self, py: Python<'_>, messages: &Bound<'_, PyAny>) -> PyResult<Py<PyList>> {
        let texts: Vec<OutgoingText> = messages
            .try_iter()?
            .map(|m| outgoing(&m?))
            .collect::<PyResult<_>>()?;
        let client = self.client(py)?;
        let out = PyList::empty(py);
        // In slices, with a look at Ctrl-C between them.
        // Big enough that the window's drain at the end of each is rare.
        let slice = (self.window * 64).max(4_096);
        let mut texts = texts.into_iter().peekable();
        while texts.peek().is_some() {
            let chunk: Vec<OutgoingText> = texts.by_ref().take(slice).collect();
            let results = py.detach(|| client.send_many(chunk, self.window));
            for r in results {
                match r {
                    Ok(sent) => {
                        let d = PyDict::new(py);
                        d.set_item("reference", sent.reference.clone())?;
                        d.set_item("message_ids", sent.message_ids.clone())?;
                        out.append(d)?;
                    }
                    Err(e) => out.append(to_py(py, e).into_value(py))?,
                }
            }
            py.check_signals()?;
        }
        Ok(out.unbind())
    }

    /// The next event (a report, a receipt, an MO message, ...), waiting at most `timeout`
    /// seconds (`None`: until one comes); `None` when none came in time. Raises
    /// `ConnectionError` once the client is closed and every event was taken.
    #[pyo3(signature = (timeout = None))]
    fn next_event(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Event>> {
        let client = self.client(py)?;
        let end = timeout
            .map(|t| seconds("timeout", t))
            .transpose()?
            .and_then(|t| Instant::now().checked_add(t));
        loop {
            let wait = match end {
                Some(end) => end.saturating_duration_since(Instant::now()).min(SLICE),
                None => SLICE,
            };
            let got = py.detach(|| client.inbound().recv_timeout(wait));
            match got {
                Ok(item) => return Ok(Some(Event::from_inbound(py, &item))),
                Err(e) if e.is_disconnected() => {
                    return Err(raise(
                        py,
                        "ConnectionError",
                        "the client is closed".into(),
                        &[],
                    ))
                }
                Err(_) => {}
            }
            py.check_signals()?;
            if end.is_some_and(|end| Instant::now() >= end) {
                return Ok(None);
            }
        }
    }

    /// Counters: PDUs sent and received, submits, responses by status, reconnects, the
    /// tracker's (`tracked`, `delivered`, `failed`, `expired`, ...), and the store's.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.client(py)?.stats();
        let d = PyDict::new(py);
        let submit = smpp_pdu::CommandId::SUBMIT_SM;
        d.set_item("connected", s.connected)?;
        d.set_item("submits", s.session.sent.count(submit))?;
        d.set_item("reconnects", s.reconnects)?;
        d.set_item("throttled_retries", s.throttled_retries)?;
        d.set_item("response_timeouts", s.session.response_timeouts)?;
        let t = &s.tracker;
        let tracker = PyDict::new(py);
        for (k, v) in [
            ("submitted", t.submitted),
            ("tracked", t.tracked),
            ("delivered", t.delivered),
            ("accepted", t.accepted),
            ("failed", t.failed),
            ("unknown", t.unknown),
            ("expired", t.expired),
            ("evicted", t.evicted),
            ("receipts_matched", t.receipts_matched),
            ("receipts_held", t.receipts_held),
            ("receipts_duplicate", t.receipts_duplicate),
            ("receipts_unmatched", t.receipts_unmatched),
        ] {
            tracker.set_item(k, v)?;
        }
        d.set_item("tracker", tracker)?;
        if let Some(st) = &s.store {
            let store = PyDict::new(py);
            for (k, v) in [
                ("written", st.written),
                ("batches", st.batches),
                ("pending", st.pending),
                ("write_errors", st.write_errors),
                ("lookups", st.lookups),
                ("adopted", st.adopted),
            ] {
                store.set_item(k, v)?;
            }
            store.set_item("last_error", st.last_error.clone())?;
            d.set_item("store", store)?;
        }
        Ok(d)
    }

    /// Unbinds and closes (waiting at most the unbind timeout). Events already received
    /// stay readable until then; a closed client raises `ConnectionError` on every call.
    fn close(&self, py: Python<'_>) {
        let taken = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(c) = taken {
            py.detach(move || {
                let _ = c.unbind();
                drop(c);
            });
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "Client(window={}, {})",
            self.window,
            if self.inner.lock().is_ok_and(|i| i.is_some()) {
                "open"
            } else {
                "closed"
            }
        )
    }
}
