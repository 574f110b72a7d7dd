//! A test SMSC on the [`smpp_transport`] event loop, for integration tests, demos and load
//! experiments.
//!
//! [`Smsc::start`] listens on an address (port 0 picks a free one) and serves every ESME
//! that connects: it checks binds against configured [`User`]s, answers `submit_sm`,
//! `data_sm`, `submit_multi`, `query_sm`, `cancel_sm` and `replace_sm` with unique
//! message ids, sends delivery receipts after a delay to a bound receiver or transceiver
//! of the submitter's `system_id`, delivers MO messages injected through
//! [`Smsc::inject_mo`], answers `ESME_RTHROTTLED` above a submit rate, and records every
//! PDU it receives ([`Smsc::received`], and optionally a JSON-lines file).
//!
//! For tests of ESME error handling it injects faults on request: delayed responses,
//! unanswered `submit_sm`, connections closed or sent garbage after some PDUs
//! ([`SmscConfig::response_delay`], [`SmscConfig::drop_every`], [`SmscConfig::close_after`],
//! [`SmscConfig::garbage_after`]), and sends MO messages on a schedule
//! ([`SmscConfig::mo_schedule`]).
//!
//! For tests of receipt handling it imitates awkward SMSCs on request (all off by default):
//! receipts written before the submit's response ([`SmscConfig::receipt_before_response`]),
//! padded ids ([`IdFormat::PaddedHex`]) and a receipt text `id:` in another form than the
//! response's ([`SmscConfig::receipt_text_id`]), receipts without TLVs or without text
//! ([`SmscConfig::receipt_content`]), chosen messages failing
//! ([`SmscConfig::final_state_every`], [`SmscConfig::final_state_for_destination`]), an
//! intermediate receipt before the final one ([`SmscConfig::intermediate_receipt`]) and
//! each final receipt sent twice ([`SmscConfig::duplicate_receipts`]). For load-like
//! receipts it draws final states from a weighted mix ([`SmscConfig::state_mix`]), receipt
//! delays from a distribution ([`SmscConfig::receipt_delay_dist`]) and UUID message ids
//! ([`IdFormat::Uuid`]), all from [`SmscConfig::seed`], so a run is reproducible.
//!
//! With [`SmscConfig::tls`] (the `tls` feature, on by default) it serves SMPP over TLS with
//! a certificate chain and key: connections come to the SMSC once their handshake is done;
//! one that fails (a plaintext client, a client that refuses the certificate) is logged and
//! dropped.
//!
//! One thread runs the SMSC logic: it multiplexes the listener's accept channel, every
//! connection's event channel, the outcomes of the `deliver_sm` it sent and the API's
//! commands with a crossbeam `Select`, and wakes for due receipts by its timeout. It never
//! blocks on one connection, so one misbehaving ESME does not stall the others.
//!
//! ```no_run
//! use std::time::Duration;
//! use smpp_smsc::{IdFormat, Smsc, SmscConfig, User};
//!
//! let smsc = Smsc::start(
//!     SmscConfig::default() // 127.0.0.1, port 0
//!         .user(User::new("esme", "secret").max_binds(2))
//!         .id_format(IdFormat::Hex)
//!         .receipt_delay(Duration::from_millis(100))
//!         .max_submits_per_second(100)
//!         .log_path("pdus.jsonl"),
//! )?;
//! let addr = smsc.local_addr(); // connect ESMEs here
//! smsc.inject_mo("esme", "447700900123", "12345", "Hi")?; // needs a bound receiver of "esme"
//! let (stats, received) = (smsc.stats(), smsc.received());
//! smsc.shutdown();
//! # let _ = (addr, stats, received);
//! # Ok::<(), smpp_smsc::SmscError>(())
//! ```

#![warn(missing_docs)]

pub mod checks;
pub mod core;
mod engine;
/// The JSON of PDUs, which lives in the codec (`smpp_pdu::json`, feature `json`); kept
/// here under its old path.
pub mod json {
    pub use smpp_pdu::json::*;
}

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crossbeam_channel::Sender;
use smpp_pdu::receipt::ReceiptState;
use smpp_pdu::{CommandId, CommandStatus, Pdu};
use smpp_session::BindKind;
use smpp_transport::{ConnId, Transport, TransportError, TransportHandle};
#[cfg(feature = "tls-core")]
pub use smpp_transport::{TlsError, TlsInfo, TlsServerConfig};

/// Results of this crate.
pub type Result<T, E = SmscError> = std::result::Result<T, E>;

/// An account ESMEs bind with. Its `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The `system_id` to bind with.
    pub system_id: String,
    /// The password.
    pub password: String,
    /// The bind kinds this user may use.
    pub bind_kinds: Vec<BindKind>,
    /// How many sessions of this user may be bound at once.
    pub max_binds: usize,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("system_id", &self.system_id)
            .field("password", &"<redacted>")
            .field("bind_kinds", &self.bind_kinds)
            .field("max_binds", &self.max_binds)
            .finish()
    }
}

impl User {
    /// A user allowed every bind kind, up to 10 binds at once.
    pub fn new(system_id: impl Into<String>, password: impl Into<String>) -> User {
        User {
            system_id: system_id.into(),
            password: password.into(),
            bind_kinds: vec![
                BindKind::Transmitter,
                BindKind::Receiver,
                BindKind::Transceiver,
            ],
            max_binds: 10,
        }
    }

    /// Only these bind kinds.
    pub fn bind_kinds(mut self, kinds: &[BindKind]) -> User {
        self.bind_kinds = kinds.to_vec();
        self
    }

    /// At most this many binds at once.
    pub fn max_binds(mut self, n: usize) -> User {
        self.max_binds = n;
        self
    }
}

/// How message ids are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IdFormat {
    /// Decimal digits (`1234`).
    #[default]
    Decimal,
    /// Upper-case hexadecimal, eight digits at least (`000004D2`).
    Hex,
    /// Upper-case hexadecimal zero-padded to `width` digits at least (`width` 10:
    /// `00000004D2`), as SMSCs that write 10-, 16- or 20-digit ids do.
    PaddedHex {
        /// The least number of digits.
        width: usize,
    },
    /// Decimal zero-padded to `width` digits at least (`width` 10: `0000001234`).
    PaddedDecimal {
        /// The least number of digits.
        width: usize,
    },
    /// A random-looking version-4-shaped UUID, 36 characters in lower case
    /// (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`, `y` one of `8`, `9`, `a`, `b`), drawn from
    /// [`SmscConfig::seed`] and the message's number: the same seed gives the same ids,
    /// and two messages never share one (64 of its 122 free bits are a bijection of the
    /// number).
    Uuid,
}

impl IdFormat {
    /// The id of message number `n` ([`IdFormat::Uuid`] with seed 0).
    pub fn format(self, n: u64) -> String {
        self.format_seeded(n, 0)
    }

    /// The id of message number `n`, a [`IdFormat::Uuid`] drawn with `seed` (the other
    /// formats ignore it).
    pub fn format_seeded(self, n: u64, seed: u64) -> String {
        match self {
            IdFormat::Decimal => n.to_string(),
            IdFormat::Hex => format!("{n:08X}"),
            IdFormat::PaddedHex { width } => format!("{n:0width$X}"),
            IdFormat::PaddedDecimal { width } => format!("{n:0width$}"),
            IdFormat::Uuid => core::rng::uuid(seed, n),
        }
    }
}

/// How long after its submit a message's final receipt goes out
/// ([`SmscConfig::receipt_delay_dist`]); the random ones are drawn from
/// [`SmscConfig::seed`], one draw per accepted message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ReceiptDelay {
    /// Always this long.
    Fixed(Duration),
    /// Uniformly between `min` and `max` (both included; swapped if `max < min`).
    Uniform {
        /// The shortest delay.
        min: Duration,
        /// The longest delay.
        max: Duration,
    },
    /// Exponentially distributed with this `mean` (as message queues in front of a busy
    /// network are), but never above `cap`.
    Exponential {
        /// The mean of the uncapped distribution.
        mean: Duration,
        /// The longest delay.
        cap: Duration,
    },
}

/// How the `id:` field of a receipt's text is written ([`SmscConfig::receipt_text_id`]).
/// The `receipted_message_id` TLV always carries the id of the `submit_sm_resp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReceiptIdForm {
    /// The id as the response gave it.
    #[default]
    SameAsResponse,
    /// The message's number written in this format, whatever the response used (say
    /// decimal `id:1` for a response that said `0000000001`), as many SMSCs do.
    Format(IdFormat),
}

/// Where a receipt carries its id and state ([`SmscConfig::receipt_content`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ReceiptContent {
    /// The `id:... stat:...` text and the `receipted_message_id` and `message_state` TLVs.
    #[default]
    TextAndTlvs,
    /// The text only: no receipt TLVs, so the ESME must parse the text.
    TextOnly,
    /// The TLVs only, with an empty `short_message` (the `err:` code and the start of the
    /// message's text are not sent).
    TlvsOnly,
}

/// Which messages a [`StateRule`] applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageMatch {
    /// The n-th, 2n-th, 3n-th... message accepted with an id by `submit_sm` or `data_sm`,
    /// counted from 1 over all sessions since the start, in the order the SMSC accepted
    /// them (each segment of a long message is its own `submit_sm`; submits refused,
    /// throttled or dropped by [`SmscConfig::drop_every`] do not count). 0 matches nothing.
    Every(u64),
    /// Messages whose `destination_addr` is exactly this.
    Destination(String),
}

/// Gives chosen messages another final state than [`SmscConfig::receipt_state`]
/// ([`SmscConfig::final_state_rules`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateRule {
    /// The messages it applies to.
    pub matches: MessageMatch,
    /// Their final state (receipt `stat:`, `message_state`, and `query_sm`).
    pub state: ReceiptState,
    /// Their receipt's `err:` field (the others say `000`).
    pub err: String,
}

/// How an intermediate receipt is sent ([`SmscConfig::intermediate_receipt`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntermediateStyle {
    /// As the specification has it (reference §7.3, §7.4, §9.1): `esm_class` 0x20
    /// (intermediate delivery notification), sent only when the submit's
    /// `registered_delivery` has the intermediate-notification bit 0x10.
    Notification,
    /// Like a final receipt, `esm_class` 0x04, sent whenever the final receipt is, as many
    /// SMSCs do with `ENROUTE` or `ACCEPTD`.
    AsReceipt,
}

/// An intermediate receipt sent before the final one ([`SmscConfig::intermediate_receipt`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntermediateReceipt {
    /// Its state, usually [`ReceiptState::Enroute`] or [`ReceiptState::Accepted`].
    pub state: ReceiptState,
    /// Its `esm_class`, and when it is sent.
    pub style: IntermediateStyle,
}

/// Settings of an [`Smsc`].
#[derive(Clone, Debug)]
pub struct SmscConfig {
    /// Where to listen (port 0 picks a free port).
    pub addr: SocketAddr,
    /// The SMSC's own `system_id`, sent in bind responses.
    pub system_id: String,
    /// The accounts; when empty, every bind is accepted.
    pub users: Vec<User>,
    /// How message ids are written.
    pub id_format: IdFormat,
    /// The number of the first message id.
    pub first_id: u64,
    /// How long after a submit its delivery receipt goes out.
    pub receipt_delay: Duration,
    /// The final state receipts report (unless one of [`SmscConfig::final_state_rules`]
    /// matches the message).
    pub receipt_state: ReceiptState,
    /// Other final states for chosen messages: the first rule that matches a message gives
    /// its state and `err:` code. Empty by default.
    pub final_state_rules: Vec<StateRule>,
    /// A weighted mix of final states for the messages no rule of
    /// [`SmscConfig::final_state_rules`] matches: each accepted message draws one from
    /// [`SmscConfig::seed`] (`[(Delivered, 90), (Undeliverable, 7), (Expired, 3)]`: about
    /// 90 % `DELIVRD`), with `err:000`. Empty (or all weights 0), the default:
    /// [`SmscConfig::receipt_state`] for all.
    pub state_mix: Vec<(ReceiptState, u32)>,
    /// A distribution of receipt delays, replacing [`SmscConfig::receipt_delay`] when set
    /// (`None`, the default, keeps the fixed delay).
    pub receipt_delay_dist: Option<ReceiptDelay>,
    /// The seed of the SMSC's pseudo-random generator (a splitmix64, no wall-clock
    /// randomness): [`SmscConfig::state_mix`], [`SmscConfig::receipt_delay_dist`] and
    /// [`IdFormat::Uuid`] draw from it, so a run is reproducible. 0 by default.
    pub seed: u64,
    /// Send a submit's receipts (intermediate, final, duplicate) at once, before its
    /// response, as fast SMSCs do: on the submitting connection when it is a transceiver,
    /// else on another receiving session of its `system_id`. [`SmscConfig::receipt_delay`]
    /// does not apply; with no receiving session bound, the receipts wait as usual (see
    /// [`SmscConfig::receipt_hold`]). For `submit_sm` and `data_sm`. Off by default.
    pub receipt_before_response: bool,
    /// How the `id:` field of the receipt text is written (the response's form by default).
    pub receipt_text_id: ReceiptIdForm,
    /// Whether receipts carry their id and state in the text, the TLVs, or both (the
    /// default).
    pub receipt_content: ReceiptContent,
    /// An intermediate receipt sent right after the message is accepted (after its
    /// response, unless [`SmscConfig::receipt_before_response`]), before the final one,
    /// which still goes out [`SmscConfig::receipt_delay`] after the submit. `None` (the
    /// default) sends none.
    pub intermediate_receipt: Option<IntermediateReceipt>,
    /// Send each final receipt twice, back to back on the same connection, as SMSCs that
    /// retry do. Off by default.
    pub duplicate_receipts: bool,
    /// How long a due receipt waits for a session of the submitter's `system_id` bound to
    /// receive (a receiver may bind after the transmitter submitted) before it is dropped.
    pub receipt_hold: Duration,
    /// Answer `ESME_RTHROTTLED` to submits (`submit_sm`, `submit_multi`, `data_sm`) above
    /// this many per second, over all sessions.
    pub max_submits_per_second: Option<u32>,
    /// Write every received PDU as one JSON object per line to this file.
    pub log_path: Option<PathBuf>,
    /// At most this many PDUs are kept for [`Smsc::received`] (the oldest go first).
    pub max_records: usize,
    /// At most this many messages are remembered for `query_sm`, `cancel_sm` and
    /// `replace_sm` (the oldest go first).
    pub max_messages: usize,
    /// Fault injection: every response (bind responses included) goes out this long after
    /// the request was handled. Zero (the default) answers at once.
    pub response_delay: Duration,
    /// Fault injection: every n-th `submit_sm` (over all sessions, counting from 1) is never
    /// answered and not accepted, so the ESME sees its response timeout.
    pub drop_every: Option<u64>,
    /// Fault injection: a connection is closed once it has received this many PDUs (binds
    /// included), after the response to the last one was queued.
    pub close_after: Option<u64>,
    /// Fault injection: once a connection has received this many PDUs, the SMSC writes
    /// [`GARBAGE`] to it (after the response to the last one), which breaks the ESME's framing:
    /// it answers `generic_nack` and closes. Other connections are not affected.
    pub garbage_after: Option<u64>,
    /// MO messages injected on a schedule until shutdown (see [`MoSchedule`]).
    pub mo_schedule: Vec<MoSchedule>,
    /// How an MO text too long for one `short_message` travels ([`Smsc::inject_mo`] and
    /// [`SmscConfig::mo_schedule`]): in one `deliver_sm` with `message_payload` (the
    /// default), or as concatenated segments (UDH with an 8- or 16-bit reference, or SAR
    /// TLVs), one `deliver_sm` each, as handsets send them.
    pub mo_split: smpp_pdu::concat::SplitMethod,
    /// Failed binds allowed per peer IP address within [`SmscConfig::failed_bind_window`];
    /// once that many failed, further binds from the address are answered
    /// `ESME_RBINDFAIL` without checking the credentials and the connection is closed,
    /// until the oldest failure leaves the window. 0 disables the limit.
    pub max_failed_binds: u32,
    /// The sliding window of [`SmscConfig::max_failed_binds`], measured on the SMSC
    /// thread's clock.
    pub failed_bind_window: Duration,
    /// Answer requests carrying a TLV that the codec knows but whose value does not fit its
    /// definition (kept raw as `Tlv::Other`) with `ESME_RINVPARLEN` (reference §12.4),
    /// instead of ignoring the TLV. On by default; unknown and vendor tags are always
    /// ignored.
    pub strict_tlvs: bool,
    /// Accept requests whose fields a real SMSC refuses (a bad schedule or validity time,
    /// a priority flag out of range, `short_message` and `message_payload` together, ...;
    /// see [`checks`]) instead of answering them with the spec's status: off by default,
    /// on for load tests that send whatever they send.
    pub lenient: bool,
    /// `submit_multi` destinations (SME addresses) the SMSC refuses: each is answered in
    /// `unsuccess_smes` with `ESME_RINVDSTADR`, the other destinations are served. Empty by
    /// default.
    pub refused_destinations: Vec<String>,
    /// Distribution lists a `submit_multi` may name (`dest_flag` 2), by name, with their
    /// member addresses (TON 1, NPI 1). A list not here is answered in `unsuccess_smes`
    /// with `ESME_RINVDLNAME`. Empty by default.
    pub distribution_lists: Vec<(String, Vec<String>)>,
    /// Send receipts and MO messages as `data_sm` (built from the `deliver_sm`'s fields,
    /// the text in `message_payload`) instead of `deliver_sm`. Off by default.
    pub deliver_as_data_sm: bool,
    /// Settings of each accepted session.
    pub session: smpp_session::Config,
    /// Settings of the transport.
    pub transport: smpp_transport::Config,
    /// Serve TLS with this certificate and key; `None` for plaintext.
    #[cfg(feature = "tls-core")]
    pub tls: Option<TlsServerConfig>,
}

impl Default for SmscConfig {
    fn default() -> Self {
        SmscConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            system_id: "smpp-smsc".into(),
            users: Vec::new(),
            id_format: IdFormat::Decimal,
            first_id: 1,
            receipt_delay: Duration::from_millis(100),
            receipt_state: ReceiptState::Delivered,
            final_state_rules: Vec::new(),
            state_mix: Vec::new(),
            receipt_delay_dist: None,
            seed: 0,
            receipt_before_response: false,
            receipt_text_id: ReceiptIdForm::SameAsResponse,
            receipt_content: ReceiptContent::TextAndTlvs,
            intermediate_receipt: None,
            duplicate_receipts: false,
            mo_split: smpp_pdu::concat::SplitMethod::Payload,
            receipt_hold: Duration::from_secs(5),
            max_submits_per_second: None,
            log_path: None,
            max_records: 100_000,
            max_messages: 100_000,
            response_delay: Duration::ZERO,
            drop_every: None,
            close_after: None,
            garbage_after: None,
            mo_schedule: Vec::new(),
            max_failed_binds: 10,
            failed_bind_window: Duration::from_secs(60),
            strict_tlvs: true,
            lenient: false,
            refused_destinations: Vec::new(),
            distribution_lists: Vec::new(),
            deliver_as_data_sm: false,
            session: smpp_session::Config::default(),
            transport: smpp_transport::Config::default(),
            #[cfg(feature = "tls-core")]
            tls: None,
        }
    }
}

impl SmscConfig {
    /// Refuses `submit_multi` destination `addr` (see
    /// [`SmscConfig::refused_destinations`]).
    pub fn refuse_destination(mut self, addr: impl Into<String>) -> Self {
        self.refused_destinations.push(addr.into());
        self
    }

    /// Defines distribution list `name` with these member addresses (see
    /// [`SmscConfig::distribution_lists`]).
    pub fn distribution_list(
        mut self,
        name: impl Into<String>,
        members: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let members = members.into_iter().map(Into::into).collect();
        self.distribution_lists.push((name.into(), members));
        self
    }

    /// Sends receipts and MO messages as `data_sm` (see
    /// [`SmscConfig::deliver_as_data_sm`]).
    pub fn deliver_as_data_sm(mut self, on: bool) -> Self {
        self.deliver_as_data_sm = on;
        self
    }

    /// Serves TLS with a certificate chain and private key in PEM (see
    /// [`TlsServerConfig::from_pem`]); a bad chain or key is a [`TlsError::Config`] that
    /// says what is wrong.
    #[cfg(feature = "tls-core")]
    pub fn tls(mut self, cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsError> {
        self.tls = Some(TlsServerConfig::from_pem(cert_chain_pem, key_pem)?);
        Ok(self)
    }

    /// Listens on `addr`.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Adds an account.
    pub fn user(mut self, user: User) -> Self {
        self.users.push(user);
        self
    }

    /// Writes message ids this way.
    pub fn id_format(mut self, f: IdFormat) -> Self {
        self.id_format = f;
        self
    }

    /// Sends receipts this long after the submit.
    pub fn receipt_delay(mut self, d: Duration) -> Self {
        self.receipt_delay = d;
        self
    }

    /// Receipts report this final state.
    pub fn receipt_state(mut self, s: ReceiptState) -> Self {
        self.receipt_state = s;
        self
    }

    /// Gives every `n`-th accepted message (see [`MessageMatch::Every`]) the final `state`
    /// with `err:` code `err`, so a test can fail, say, one segment of a long message.
    /// Adds a rule to [`SmscConfig::final_state_rules`]; repeatable, the first match wins.
    pub fn final_state_every(
        mut self,
        n: u64,
        state: ReceiptState,
        err: impl Into<String>,
    ) -> Self {
        self.final_state_rules.push(StateRule {
            matches: MessageMatch::Every(n),
            state,
            err: err.into(),
        });
        self
    }

    /// Gives messages to `destination_addr` the final `state` with `err:` code `err`. Adds a
    /// rule to [`SmscConfig::final_state_rules`]; repeatable, the first match wins.
    pub fn final_state_for_destination(
        mut self,
        destination_addr: impl Into<String>,
        state: ReceiptState,
        err: impl Into<String>,
    ) -> Self {
        self.final_state_rules.push(StateRule {
            matches: MessageMatch::Destination(destination_addr.into()),
            state,
            err: err.into(),
        });
        self
    }

    /// Draws the final state of each message no rule matches from this weighted mix (see
    /// [`SmscConfig::state_mix`]).
    pub fn state_mix(mut self, mix: impl IntoIterator<Item = (ReceiptState, u32)>) -> Self {
        self.state_mix = mix.into_iter().collect();
        self
    }

    /// Draws receipt delays from `dist` (see [`SmscConfig::receipt_delay_dist`]).
    pub fn receipt_delay_dist(mut self, dist: ReceiptDelay) -> Self {
        self.receipt_delay_dist = Some(dist);
        self
    }

    /// Receipt delays uniformly between `min` and `max`.
    pub fn receipt_delay_uniform(self, min: Duration, max: Duration) -> Self {
        self.receipt_delay_dist(ReceiptDelay::Uniform { min, max })
    }

    /// Receipt delays exponentially distributed with `mean`, at most `cap`.
    pub fn receipt_delay_exponential(self, mean: Duration, cap: Duration) -> Self {
        self.receipt_delay_dist(ReceiptDelay::Exponential { mean, cap })
    }

    /// Seeds the pseudo-random generator (see [`SmscConfig::seed`]).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sends receipts before the submit's response (see
    /// [`SmscConfig::receipt_before_response`]).
    pub fn receipt_before_response(mut self, on: bool) -> Self {
        self.receipt_before_response = on;
        self
    }

    /// Writes the receipt text's `id:` this way (see [`SmscConfig::receipt_text_id`]).
    pub fn receipt_text_id(mut self, form: ReceiptIdForm) -> Self {
        self.receipt_text_id = form;
        self
    }

    /// Puts the receipt's id and state in the text, the TLVs or both (see
    /// [`SmscConfig::receipt_content`]).
    pub fn receipt_content(mut self, content: ReceiptContent) -> Self {
        self.receipt_content = content;
        self
    }

    /// Sends an intermediate receipt in `state` before each final one (see
    /// [`SmscConfig::intermediate_receipt`]).
    pub fn intermediate_receipt(mut self, state: ReceiptState, style: IntermediateStyle) -> Self {
        self.intermediate_receipt = Some(IntermediateReceipt { state, style });
        self
    }

    /// Sends long MO texts this way (see [`SmscConfig::mo_split`]).
    pub fn mo_split(mut self, split: smpp_pdu::concat::SplitMethod) -> Self {
        self.mo_split = split;
        self
    }

    /// Sends each final receipt twice (see [`SmscConfig::duplicate_receipts`]).
    pub fn duplicate_receipts(mut self, on: bool) -> Self {
        self.duplicate_receipts = on;
        self
    }

    /// Due receipts wait this long for a receiving session.
    pub fn receipt_hold(mut self, d: Duration) -> Self {
        self.receipt_hold = d;
        self
    }

    /// Throttles submits above `n` per second.
    pub fn max_submits_per_second(mut self, n: u32) -> Self {
        self.max_submits_per_second = Some(n);
        self
    }

    /// Logs received PDUs as JSON lines to `path`.
    pub fn log_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_path = Some(path.into());
        self
    }

    /// Accepts requests with fields a real SMSC refuses (see [`SmscConfig::lenient`]).
    pub fn lenient(mut self, on: bool) -> Self {
        self.lenient = on;
        self
    }

    /// Fault injection: delays every response by `d` (see [`SmscConfig::response_delay`]).
    pub fn response_delay(mut self, d: Duration) -> Self {
        self.response_delay = d;
        self
    }

    /// Fault injection: never answers every `n`-th `submit_sm` (`n` of 0 disables it).
    pub fn drop_every(mut self, n: u64) -> Self {
        self.drop_every = (n > 0).then_some(n);
        self
    }

    /// Fault injection: closes each connection after it received `n` PDUs.
    pub fn close_after(mut self, n: u64) -> Self {
        self.close_after = Some(n);
        self
    }

    /// Fault injection: sends [`GARBAGE`] to each connection after it received `n` PDUs.
    pub fn garbage_after(mut self, n: u64) -> Self {
        self.garbage_after = Some(n);
        self
    }

    /// Allows at most `max` failed binds per peer IP address within `window` (see
    /// [`SmscConfig::max_failed_binds`]; `max` of 0 disables the limit).
    pub fn failed_bind_limit(mut self, max: u32, window: Duration) -> Self {
        self.max_failed_binds = max;
        self.failed_bind_window = window;
        self
    }

    /// Injects an MO from `from` to `to` with `text` every `every` (the first one `every`
    /// after the start) to each session of `system_id` bound as receiver or transceiver at
    /// that time, until shutdown. A tick without such a session sends nothing. Repeatable.
    pub fn mo_schedule(
        mut self,
        every: Duration,
        system_id: impl Into<String>,
        from: impl Into<String>,
        to: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        self.mo_schedule.push(MoSchedule {
            every,
            system_id: system_id.into(),
            from: from.into(),
            to: to.into(),
            text: text.into(),
        });
        self
    }
}

/// The octets [`SmscConfig::garbage_after`] writes: a 16-octet header whose
/// `command_length` (5) is below the minimum of 16, so the peer loses framing at once.
pub const GARBAGE: [u8; 16] = [
    0x00, 0x00, 0x00, 0x05, 0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF,
];

/// An MO message injected on a schedule ([`SmscConfig::mo_schedule`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MoSchedule {
    /// The interval (clamped to 1 ms at least).
    pub every: Duration,
    /// The receiving sessions' `system_id`.
    pub system_id: String,
    /// The MO's `source_addr`.
    pub from: String,
    /// The MO's `destination_addr`.
    pub to: String,
    /// Its text.
    pub text: String,
}

/// Errors of the SMSC API.
#[derive(Debug)]
#[non_exhaustive]
pub enum SmscError {
    /// The transport failed (cannot listen, ...).
    Transport(TransportError),
    /// The PDU log file could not be opened.
    Io(std::io::Error),
    /// No session of this `system_id` is bound to receive.
    NoReceiver(String),
    /// The text cannot be encoded into a `deliver_sm`.
    Text(String),
    /// The SMSC has stopped.
    Stopped,
}

impl fmt::Display for SmscError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmscError::Transport(e) => write!(f, "transport: {e}"),
            SmscError::Io(e) => write!(f, "PDU log: {e}"),
            SmscError::NoReceiver(id) => {
                write!(f, "no session of system_id {id:?} is bound to receive")
            }
            SmscError::Text(e) => write!(f, "cannot encode the text: {e}"),
            SmscError::Stopped => f.write_str("the SMSC has stopped"),
        }
    }
}

impl std::error::Error for SmscError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SmscError::Transport(e) => Some(e),
            SmscError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<TransportError> for SmscError {
    fn from(e: TransportError) -> Self {
        SmscError::Transport(e)
    }
}

/// One PDU the SMSC received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// When it arrived.
    pub at: SystemTime,
    /// The connection it came on.
    pub conn: ConnId,
    /// The `system_id` the connection bound (or tried to bind) with, if any.
    pub system_id: Option<String>,
    /// Its `command_id`.
    pub command_id: CommandId,
    /// Its sequence number (0 when the session consumed the PDU and did not report it).
    pub sequence_number: u32,
    /// Its `command_status`.
    pub command_status: CommandStatus,
    /// The PDU; `None` for PDUs the session handled by itself and only reported (an
    /// `unbind` from the ESME, a PDU it rejected).
    pub pdu: Option<Pdu<'static>>,
}

impl Record {
    /// The record as one JSON object: `time_ms`, `conn`, `system_id`, `command`,
    /// `command_id`, `command_status`, `sequence_number`, and the PDU's fields when known.
    pub fn to_json(&self) -> String {
        let mut o = json::Object::new();
        let ms = self
            .at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        o.num("time_ms", ms).num("conn", self.conn);
        match &self.system_id {
            Some(id) => o.str("system_id", id),
            None => o.raw("system_id", "null"),
        };
        match &self.pdu {
            Some(pdu) => {
                json::header_members(&mut o, pdu);
                json::body_members(&mut o, &pdu.body);
            }
            None => {
                o.str("command", &json::command_name(self.command_id))
                    .str("command_id", &format!("0x{:08x}", self.command_id.0))
                    .str("command_status", &json::status_name(self.command_status))
                    .num("sequence_number", u64::from(self.sequence_number));
            }
        }
        o.finish()
    }
}

/// Counters of an [`Smsc`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted.
    pub connections: u64,
    /// Connections open now.
    pub open_connections: u64,
    /// Binds accepted.
    pub binds: u64,
    /// Binds refused (locked-out ones included).
    pub bind_rejects: u64,
    /// Binds refused because their address reached [`SmscConfig::max_failed_binds`].
    pub bind_lockouts: u64,
    /// Sessions bound now.
    pub bound: u64,
    /// Submits (`submit_sm`, `submit_multi`, `data_sm`) accepted with a message id.
    pub submits: u64,
    /// Submits answered `ESME_RTHROTTLED`.
    pub throttled: u64,
    /// `submit_sm` left unanswered by [`SmscConfig::drop_every`].
    pub dropped: u64,
    /// Connections closed by [`SmscConfig::close_after`].
    pub fault_closes: u64,
    /// Connections sent [`GARBAGE`] by [`SmscConfig::garbage_after`].
    pub garbage_sent: u64,
    /// `query_sm`, `cancel_sm` and `replace_sm` answered.
    pub other_requests: u64,
    /// Requests refused by the field checks (see [`SmscConfig::lenient`]).
    pub refused: u64,
    /// Final delivery receipts sent (each copy of a duplicated one counted).
    pub receipts_sent: u64,
    /// Intermediate receipts sent ([`SmscConfig::intermediate_receipt`]).
    pub intermediates_sent: u64,
    /// Messages whose receipts were dropped because no session of the submitter was bound
    /// to receive within [`SmscConfig::receipt_hold`].
    pub receipts_dropped: u64,
    /// MO messages sent.
    pub mo_sent: u64,
    /// `deliver_sm_resp` received with `ESME_ROK`.
    pub delivers_acked: u64,
    /// `deliver_sm` that got an error response or none.
    pub delivers_failed: u64,
    /// `unbind` requests received from ESMEs.
    pub unbinds: u64,
    /// PDUs recorded.
    pub received: u64,
}

/// What the engine and the API share.
pub(crate) struct Shared {
    pub(crate) stats: Mutex<Stats>,
    pub(crate) records: Mutex<std::collections::VecDeque<Record>>,
    pub(crate) changed: Condvar,
    /// Threads in [`Smsc::wait_for`]; changed only while `stats` is locked.
    pub(crate) waiters: std::sync::atomic::AtomicUsize,
}

impl Shared {
    /// Changes the stats and wakes [`Smsc::wait_for`] callers, if any: a notify costs a
    /// system call even when nobody waits, and this runs several times per message.
    pub(crate) fn update(&self, f: impl FnOnce(&mut Stats)) {
        let mut notify = false;
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
            // Read under the lock a waiter holds while it registers and checks its
            // condition, so a waiter either sees this change or is counted here.
            notify = self.waiters.load(std::sync::atomic::Ordering::SeqCst) > 0;
        }
        if notify {
            self.changed.notify_all();
        }
    }
}

/// Requests from the API to the engine thread.
pub(crate) enum Control {
    InjectMo {
        system_id: String,
        from: String,
        to: String,
        text: String,
        reply: Sender<Result<()>>,
    },
    SessionStats {
        reply: Sender<smpp_session::Stats>,
    },
    /// A connection the API opened to an ESME: send `outbind` on it.
    Outbind {
        conn: smpp_transport::Connection,
        system_id: String,
        password: String,
    },
    Shutdown,
}

/// A running test SMSC. Dropping it shuts it down.
pub struct Smsc {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    control: Sender<Control>,
    thread: Option<JoinHandle<()>>,
    transport: TransportHandle,
    /// Session settings of the connections it opens for outbind.
    session: smpp_session::Config,
}

impl fmt::Debug for Smsc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Smsc")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl Smsc {
    /// Starts a transport, listens on `config.addr` and starts the SMSC thread.
    pub fn start(config: SmscConfig) -> Result<Smsc> {
        Smsc::start_with(config, None)
    }

    /// Like [`Smsc::start`], with `handler` deciding binds and requests first (see
    /// [`core::Handler`]); what it leaves to the built-in behaviour is served as
    /// [`Smsc::start`] would.
    pub fn start_with_handler(config: SmscConfig, handler: impl core::Handler) -> Result<Smsc> {
        Smsc::start_with(config, Some(Box::new(handler)))
    }

    fn start_with(config: SmscConfig, handler: Option<Box<dyn core::Handler>>) -> Result<Smsc> {
        let log = match &config.log_path {
            Some(p) => Some(std::fs::File::create(p).map_err(SmscError::Io)?),
            None => None,
        };
        let transport = Transport::spawn(config.transport.clone())?;
        #[cfg(feature = "tls-core")]
        let listener = match &config.tls {
            Some(tls) => transport.listen_tls_shared(config.addr, tls, config.session.clone()),
            None => transport.listen_shared(config.addr, config.session.clone()),
        };
        #[cfg(not(feature = "tls-core"))]
        let listener = transport.listen_shared(config.addr, config.session.clone());
        let listener = match listener {
            Ok(l) => l,
            Err(e) => {
                transport.shutdown();
                return Err(e.into());
            }
        };
        let local_addr = listener.local_addr();
        let shared = Arc::new(Shared {
            stats: Mutex::new(Stats::default()),
            records: Mutex::new(std::collections::VecDeque::new()),
            changed: Condvar::new(),
            waiters: std::sync::atomic::AtomicUsize::new(0),
        });
        let (control, control_rx) = crossbeam_channel::unbounded();
        let session = config.session.clone();
        let s = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("smpp-smsc".into())
            .spawn(move || {
                let (now, wall) = engine::clocks();
                let core = match handler {
                    Some(h) => core::Core::with_boxed_handler(config, h, now, wall),
                    None => core::Core::new(config, now, wall),
                };
                engine::run(core, listener, control_rx, s, log)
            });
        let thread = match thread {
            Ok(t) => t,
            Err(e) => {
                transport.shutdown();
                return Err(SmscError::Io(e));
            }
        };
        log::info!("SMSC listening on {local_addr}");
        Ok(Smsc {
            local_addr,
            shared,
            control,
            thread: Some(thread),
            transport,
            session,
        })
    }

    /// Outbind (reference §12.6): dials an ESME listening on `addr` and sends it `outbind`
    /// with `system_id` and `password`; returns the connection's id once `outbind` is handed
    /// to the SMSC thread. The ESME then binds on that connection (as a receiver, or a
    /// transceiver in 5.0), and the bind is served as any other: the accounts decide it,
    /// and once bound the connection gets the receipts and MO messages of its `system_id`.
    /// Plain TCP; the dial is bounded by the transport's `connect_timeout`.
    pub fn outbind(
        &self,
        addr: SocketAddr,
        system_id: &str,
        password: &str,
    ) -> Result<smpp_transport::ConnId> {
        let conn = self.transport.connect_as_smsc(addr, self.session.clone())?;
        let id = conn.id();
        self.control
            .send(Control::Outbind {
                conn,
                system_id: system_id.into(),
                password: password.into(),
            })
            .map_err(|_| SmscError::Stopped)?;
        Ok(id)
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Sends an MO message (`deliver_sm`) from `from` to `to` with `text` to a session of
    /// `system_id` bound as receiver or transceiver. Returns once it is queued for sending;
    /// its `deliver_sm_resp` shows up in [`Smsc::received`] and [`Stats::delivers_acked`].
    pub fn inject_mo(&self, system_id: &str, from: &str, to: &str, text: &str) -> Result<()> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.control
            .send(Control::InjectMo {
                system_id: system_id.into(),
                from: from.into(),
                to: to.into(),
                text: text.into(),
                reply,
            })
            .map_err(|_| SmscError::Stopped)?;
        rx.recv_timeout(Duration::from_secs(10))
            .map_err(|_| SmscError::Stopped)?
    }

    /// Every PDU received so far (at most [`SmscConfig::max_records`], oldest first): binds,
    /// requests, and responses to the `deliver_sm` the SMSC sent. PDUs the session answers
    /// by itself without reporting them (`enquire_link`, and the `unbind_resp` to an unbind
    /// the SMSC started) are not seen; an ESME's `unbind` and the PDUs the session rejected
    /// are recorded without their body.
    pub fn received(&self) -> Vec<Record> {
        self.shared
            .records
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// A copy of the counters.
    pub fn stats(&self) -> Stats {
        self.shared
            .stats
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Waits until `cond` holds for the counters, at most `timeout`; whether it did.
    pub fn wait_for(&self, timeout: Duration, cond: impl Fn(&Stats) -> bool) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        let Ok(guard) = self.shared.stats.lock() else {
            return false;
        };
        self.shared.waiters.fetch_add(1, SeqCst);
        let met = match self
            .shared
            .changed
            .wait_timeout_while(guard, timeout, |s| !cond(s))
        {
            Ok((g, _)) => cond(&g),
            Err(_) => false,
        };
        // After the lock is released an `update` may still see this waiter and notify
        // once for nothing; it never misses one that waits.
        self.shared.waiters.fetch_sub(1, SeqCst);
        met
    }

    /// The session counters of every connection the SMSC has had, summed (see
    /// [`smpp_session::Stats`]): PDUs per command and status both ways (so `submit_sm`
    /// received and `submit_sm_resp` sent by status), timeouts and failures of the
    /// `deliver_sm` it sent, the requests it refused by itself, the in-flight gauges of the
    /// open connections, and the latency of its `deliver_sm`s' responses. `None` if the
    /// SMSC thread is gone.
    pub fn session_stats(&self) -> Option<smpp_session::Stats> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.control.send(Control::SessionStats { reply }).ok()?;
        rx.recv_timeout(std::time::Duration::from_secs(5)).ok()
    }

    /// Stops the SMSC: closes every connection, joins its thread and stops the transport.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.control.send(Control::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.transport.shutdown();
    }
}

impl Drop for Smsc {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop();
        }
    }
}
