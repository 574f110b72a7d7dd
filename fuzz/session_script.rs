//! The byte format of a `session_input` script, a builder for it, and the committed seeds.
//!
//! Included by `fuzz/session_oracle.rs` (which runs scripts) and by the seed generator in
//! `crates/smpp-pdu/tests/fuzz_seeds.rs` (which writes [`seeds`] into
//! `fuzz/seeds/session_input/`). It depends on `smpp_pdu` only, so the generator does not
//! need `smpp-session`.
//!
//! # Format
//!
//! Every byte string is a valid script; missing bytes read as zero.
//!
//! - byte 0: flags ([`FLAG_FINISH`]: let the link and the timers finish before the final
//!   close);
//! - bytes 1..4: the ESME's [`Knobs`], bytes 4..7: the SMSC's;
//! - then operations: an opcode byte, `kind * 2 + side` (side 0 is the ESME, 1 the SMSC;
//!   `kind` is taken modulo [`OP_KINDS`]), followed by the operands listed at each `OP_*`
//!   constant. `u16` operands are big-endian. A duration is a `u16`: below `0x8000` in
//!   milliseconds, else `(v & 0x7FFF)` seconds.

// Each includer uses only part of this file.
#![allow(dead_code)]

use std::time::Duration;

use smpp_pdu::{
    BindTransceiver, Body, CommandId, DeliverSm, EnquireLink, GenericNack, Header, Pdu, SubmitSm,
    HEADER_LEN,
};

/// Flag: after the script, deliver the wires and run the timers until both sides close (or
/// a bounded number of rounds pass), before both are closed.
pub(crate) const FLAG_FINISH: u8 = 0x01;

/// One end of the link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Esme = 0,
    Smsc = 1,
}

impl Side {
    pub(crate) fn from_bit(b: u8) -> Side {
        if b & 1 == 0 {
            Side::Esme
        } else {
            Side::Smsc
        }
    }

    pub(crate) fn other(self) -> Side {
        match self {
            Side::Esme => Side::Smsc,
            Side::Smsc => Side::Esme,
        }
    }
}

// ----- operations -----

/// `u16 len, u8 chunk, len octets`: raw bytes into `side` (`handle_input`), in pieces of
/// `chunk` octets (0: one piece).
pub(crate) const OP_FEED: u8 = 0;
/// `u16 max, u8 chunk`: up to `max` octets of what `side` transmitted, to the other side,
/// in pieces of `chunk` octets (0: one piece).
pub(crate) const OP_TRANSFER: u8 = 1;
/// Both wires delivered completely, each in one piece (full duplex: what a side answers
/// waits for the next transfer).
pub(crate) const OP_FLUSH: u8 = 2;
/// `duration`: the clock moves on, then both sides run `handle_timeout` (once, at the end).
pub(crate) const OP_ADVANCE: u8 = 3;
/// `duration`: every deadline up to the clock plus `duration` runs in order, then both
/// sides run `handle_timeout` at the end.
pub(crate) const OP_TICK: u8 = 4;
/// The clock jumps to the earliest deadline of either side; both run `handle_timeout`.
pub(crate) const OP_NEXT_DEADLINE: u8 = 5;
/// `duration`: the clock moves on without running any timer (input may arrive late).
pub(crate) const OP_SLEEP: u8 = 6;
/// `side` runs `handle_timeout` at the current time.
pub(crate) const OP_TIMEOUT: u8 = 7;
/// `u8 kind`: `side.bind(...)` as transmitter, receiver or transceiver (`kind % 3`).
pub(crate) const OP_BIND: u8 = 8;
/// `u8 k`: `side.send_request(...)` with body [`SEND_MENU`]`[k % len]`.
pub(crate) const OP_SEND: u8 = 9;
/// `u8 status, u8 variant`: `side.send_response(...)` to its oldest pending inbound
/// request (see [`status`] and the `RESPOND_*` variants; `variant >> 2` picks a sequence
/// number when nothing is pending).
pub(crate) const OP_RESPOND: u8 = 10;
/// `u8 a`: the latest pending bind of `side` accepted (`a & 1 == 0`) or rejected with
/// [`status`]`(a >> 1)`.
pub(crate) const OP_ACCEPT: u8 = 11;
/// `side.unbind(...)`.
pub(crate) const OP_UNBIND: u8 = 12;
/// `side.close(...)`.
pub(crate) const OP_CLOSE: u8 = 13;
/// `side.handle_eof(...)`; what was on its way to `side` is lost.
pub(crate) const OP_EOF: u8 = 14;
/// `side.outbind(...)`.
pub(crate) const OP_OUTBIND: u8 = 15;
/// `u8 kind, u8 pick`: a faulty or stray response to one of the requests `side` started
/// (`pick` modulo their count plus one; the extra one is a number never used) arrives at
/// `side`: `kind % 5` is a generic_nack, a response of the wrong type, the right type with
/// a body that does not decode, an unknown response id, or a well-formed `ESME_ROK`
/// answer.
pub(crate) const OP_INJECT: u8 = 16;
/// Number of operation kinds.
pub(crate) const OP_KINDS: u8 = 17;

/// What [`OP_SEND`] sends. Either side may try any of them; the ones its role or state
/// does not allow are refused.
pub(crate) const SEND_MENU: [&str; 12] = [
    "submit_sm",
    "deliver_sm",
    "data_sm",
    "query_sm",
    "enquire_link",
    "alert_notification",
    "cancel_sm",
    "bind_transceiver",
    "unbind",
    "outbind",
    "submit_sm_resp",
    "submit_sm_long",
];

/// [`OP_SEND`] menu index of a body name.
pub(crate) fn send_index(name: &str) -> u8 {
    SEND_MENU
        .iter()
        .position(|n| *n == name)
        .unwrap_or_else(|| panic!("{name} is not in SEND_MENU")) as u8
}

/// [`OP_RESPOND`] variant: the response type the request needs.
pub(crate) const RESPOND_PROPER: u8 = 0;
/// [`OP_RESPOND`] variant: a generic_nack.
pub(crate) const RESPOND_NACK: u8 = 1;
/// [`OP_RESPOND`] variant: a response of another type.
pub(crate) const RESPOND_WRONG: u8 = 2;
/// [`OP_RESPOND`] variant: a request body instead of a response.
pub(crate) const RESPOND_REQUEST: u8 = 3;

/// Statuses [`status`] picks from for `s < 0x80`.
pub(crate) const STATUSES: [u32; 8] = [0x00, 0x08, 0x58, 0x0E, 0x0D, 0x45, 0x0F, 0x64];

/// The `command_status` an operand byte stands for: `STATUSES[s & 7]` below `0x80`, else
/// `s` itself.
pub(crate) fn status(s: u8) -> u32 {
    if s < 0x80 {
        STATUSES[usize::from(s & 7)]
    } else {
        u32::from(s)
    }
}

/// A duration operand of `ms` milliseconds (below 32 768).
pub(crate) const fn ms(ms: u16) -> u16 {
    assert!(ms < 0x8000);
    ms
}

/// A duration operand of `s` seconds (below 32 768).
pub(crate) const fn secs(s: u16) -> u16 {
    assert!(s < 0x8000);
    0x8000 | s
}

/// The duration an operand stands for.
pub(crate) fn duration(v: u16) -> Duration {
    if v & 0x8000 == 0 {
        Duration::from_millis(u64::from(v))
    } else {
        Duration::from_secs(u64::from(v & 0x7FFF))
    }
}

// ----- configuration -----

/// Window.
pub(crate) const WINDOW: [usize; 4] = [4, 1, 2, 10];
/// Response timeout, seconds.
pub(crate) const RESPONSE_TIMEOUT_S: [u64; 4] = [5, 1, 2, 30];
/// Enquire_link interval, seconds (0: disabled).
pub(crate) const ENQUIRE_LINK_INTERVAL_S: [u64; 4] = [0, 1, 5, 30];
/// Enquire_link timeout, seconds.
pub(crate) const ENQUIRE_LINK_TIMEOUT_S: [u64; 4] = [5, 1, 2, 10];
/// Bind timeout, seconds.
pub(crate) const BIND_TIMEOUT_S: [u64; 4] = [30, 2, 5, 10];
/// Inactivity timeout, seconds (0: disabled).
pub(crate) const INACTIVITY_S: [u64; 4] = [0, 3, 10, 60];
/// Unbind timeout, seconds.
pub(crate) const UNBIND_TIMEOUT_S: [u64; 4] = [5, 1, 2, 10];
/// Most inbound requests held unanswered.
pub(crate) const INBOUND_PENDING: [usize; 4] = [10, 1, 2, 3];
/// Largest `command_length` accepted.
pub(crate) const MAX_COMMAND_LENGTH: [u32; 4] = [65_536, 1024, 128, 40];
/// Timed-out sequence numbers remembered.
pub(crate) const LATE_MEMORY: [usize; 4] = [4096, 0, 1, 2];
/// First sequence number (the last one is invalid and means 1).
pub(crate) const FIRST_SEQUENCE_NUMBER: [u32; 4] = [1, 100, 0x7FFF_FFFE, 0x8000_0000];

/// One side's configuration, as indexes (0..4) into the tables above; three octets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Knobs {
    pub(crate) window: u8,
    pub(crate) response_timeout: u8,
    pub(crate) enquire_link_interval: u8,
    pub(crate) enquire_link_timeout: u8,
    pub(crate) bind_timeout: u8,
    pub(crate) inactivity: u8,
    pub(crate) unbind_timeout: u8,
    pub(crate) inbound_pending: u8,
    pub(crate) max_command_length: u8,
    pub(crate) late_memory: u8,
    pub(crate) first_sequence_number: u8,
}

impl Knobs {
    /// Reads three octets (two bits per knob; the top two bits of the last are unused).
    pub(crate) fn from_bytes(b: [u8; 3]) -> Knobs {
        let k = |byte: u8, shift: u32| (byte >> shift) & 3;
        Knobs {
            window: k(b[0], 0),
            response_timeout: k(b[0], 2),
            enquire_link_interval: k(b[0], 4),
            enquire_link_timeout: k(b[0], 6),
            bind_timeout: k(b[1], 0),
            inactivity: k(b[1], 2),
            unbind_timeout: k(b[1], 4),
            inbound_pending: k(b[1], 6),
            max_command_length: k(b[2], 0),
            late_memory: k(b[2], 2),
            first_sequence_number: k(b[2], 4),
        }
    }

    /// The three octets [`Knobs::from_bytes`] reads back.
    pub(crate) fn to_bytes(self) -> [u8; 3] {
        let k = |v: u8, shift: u32| {
            assert!(v < 4, "a knob is an index below 4");
            v << shift
        };
        [
            k(self.window, 0)
                | k(self.response_timeout, 2)
                | k(self.enquire_link_interval, 4)
                | k(self.enquire_link_timeout, 6),
            k(self.bind_timeout, 0)
                | k(self.inactivity, 2)
                | k(self.unbind_timeout, 4)
                | k(self.inbound_pending, 6),
            k(self.max_command_length, 0)
                | k(self.late_memory, 2)
                | k(self.first_sequence_number, 4),
        ]
    }
}

// ----- builder -----

/// Builds a script.
#[derive(Clone, Debug)]
pub(crate) struct Script {
    bytes: Vec<u8>,
}

impl Script {
    /// Default knobs on both sides, no flags.
    pub(crate) fn new() -> Script {
        Script::with(0, Knobs::default(), Knobs::default())
    }

    pub(crate) fn with(flags: u8, esme: Knobs, smsc: Knobs) -> Script {
        let mut bytes = vec![flags];
        bytes.extend_from_slice(&esme.to_bytes());
        bytes.extend_from_slice(&smsc.to_bytes());
        Script { bytes }
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    fn op(mut self, kind: u8, side: Side, operands: &[u8]) -> Script {
        assert!(kind < OP_KINDS);
        self.bytes.push(kind * 2 + side as u8);
        self.bytes.extend_from_slice(operands);
        self
    }

    pub(crate) fn feed(self, to: Side, bytes: &[u8], chunk: u8) -> Script {
        let len = u16::try_from(bytes.len()).expect("a feed holds at most 65 535 octets");
        let [hi, lo] = len.to_be_bytes();
        let mut s = self.op(OP_FEED, to, &[hi, lo, chunk]);
        s.bytes.extend_from_slice(bytes);
        s
    }

    pub(crate) fn transfer(self, from: Side, max: u16, chunk: u8) -> Script {
        let [hi, lo] = max.to_be_bytes();
        self.op(OP_TRANSFER, from, &[hi, lo, chunk])
    }

    pub(crate) fn flush(self) -> Script {
        self.op(OP_FLUSH, Side::Esme, &[])
    }

    /// `n` flushes.
    pub(crate) fn flushes(mut self, n: usize) -> Script {
        for _ in 0..n {
            self = self.flush();
        }
        self
    }

    pub(crate) fn advance(self, d: u16) -> Script {
        self.op(OP_ADVANCE, Side::Esme, &d.to_be_bytes())
    }

    pub(crate) fn tick(self, d: u16) -> Script {
        self.op(OP_TICK, Side::Esme, &d.to_be_bytes())
    }

    pub(crate) fn next_deadline(self) -> Script {
        self.op(OP_NEXT_DEADLINE, Side::Esme, &[])
    }

    pub(crate) fn sleep(self, d: u16) -> Script {
        self.op(OP_SLEEP, Side::Esme, &d.to_be_bytes())
    }

    pub(crate) fn timeout(self, side: Side) -> Script {
        self.op(OP_TIMEOUT, side, &[])
    }

    /// 0 transmitter, 1 receiver, 2 transceiver.
    pub(crate) fn bind(self, side: Side, kind: u8) -> Script {
        self.op(OP_BIND, side, &[kind])
    }

    pub(crate) fn send(self, side: Side, name: &str) -> Script {
        self.op(OP_SEND, side, &[send_index(name)])
    }

    pub(crate) fn respond(self, side: Side, status: u8, variant: u8) -> Script {
        self.op(OP_RESPOND, side, &[status, variant])
    }

    pub(crate) fn accept(self, side: Side) -> Script {
        self.op(OP_ACCEPT, side, &[0])
    }

    /// Rejects with [`status`]`(s)`.
    pub(crate) fn reject(self, side: Side, s: u8) -> Script {
        self.op(OP_ACCEPT, side, &[1 | (s << 1)])
    }

    pub(crate) fn unbind(self, side: Side) -> Script {
        self.op(OP_UNBIND, side, &[])
    }

    pub(crate) fn close(self, side: Side) -> Script {
        self.op(OP_CLOSE, side, &[])
    }

    pub(crate) fn eof(self, side: Side) -> Script {
        self.op(OP_EOF, side, &[])
    }

    pub(crate) fn outbind(self, side: Side) -> Script {
        self.op(OP_OUTBIND, side, &[])
    }

    pub(crate) fn inject(self, to: Side, kind: u8, pick: u8) -> Script {
        self.op(OP_INJECT, to, &[kind, pick])
    }

    /// ESME binds as `kind`, the SMSC accepts, and both see the outcome.
    pub(crate) fn bound(self, kind: u8) -> Script {
        self.bind(Side::Esme, kind)
            .flush()
            .accept(Side::Smsc)
            .flush()
    }
}

// ----- seeds -----

/// A committed seed: its file name, its bytes, and labels (see the oracle's `Trace`: event
/// names, `err:` refusals, transmitted PDU names) each side must show, in this order
/// (others may come between).
pub(crate) struct Seed {
    pub(crate) name: &'static str,
    pub(crate) bytes: Vec<u8>,
    pub(crate) esme: &'static [&'static str],
    pub(crate) smsc: &'static [&'static str],
}

/// A PDU from raw header fields and body octets, with the right `command_length`.
fn raw(command_id: u32, status: u32, seq: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    Header {
        command_length: (HEADER_LEN + body.len()) as u32,
        command_id: CommandId(command_id),
        command_status: smpp_pdu::CommandStatus(status),
        sequence_number: seq,
    }
    .encode(&mut v);
    v.extend_from_slice(body);
    v
}

fn encode(pdu: &Pdu<'_>) -> Vec<u8> {
    pdu.to_bytes()
        .unwrap_or_else(|e| panic!("seed PDU {pdu:?} does not encode: {e}"))
}

fn submit_pdu(seq: u32, text: &str) -> Vec<u8> {
    encode(&Pdu::new(
        seq,
        Body::from(SubmitSm {
            source_addr: "12345".into(),
            destination_addr: "447700900123".into(),
            short_message: text.to_string().into(),
            ..Default::default()
        }),
    ))
}

fn deliver_pdu(seq: u32, text: &str) -> Vec<u8> {
    encode(&Pdu::new(
        seq,
        Body::from(DeliverSm {
            source_addr: "447700900123".into(),
            destination_addr: "12345".into(),
            short_message: text.to_string().into(),
            ..Default::default()
        }),
    ))
}

fn bind_pdu(seq: u32) -> Vec<u8> {
    encode(&Pdu::new(
        seq,
        BindTransceiver {
            system_id: "esme".into(),
            password: "secret".into(),
            interface_version: 0x34,
            ..Default::default()
        },
    ))
}

/// Deterministic filler octets (no RNG: the seeds are committed).
fn garbage(len: usize, mut x: u32) -> Vec<u8> {
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// The `session_input` seeds, written by `cargo xtask fuzz-seeds` and checked by
/// `crates/smpp-session/tests/fuzz_seeds.rs`.
pub(crate) fn seeds() -> Vec<Seed> {
    use Side::{Esme, Smsc};
    const TX: u8 = 0;
    const RX: u8 = 1;
    const TRX: u8 = 2;
    let finish = |esme: Knobs, smsc: Knobs| Script::with(FLAG_FINISH, esme, smsc);
    let mut seeds = Vec::new();
    let mut add = |name, script: Script, esme, smsc| {
        seeds.push(Seed {
            name,
            bytes: script.into_bytes(),
            esme,
            smsc,
        })
    };

    add(
        "bind_submit_unbind",
        Script::new()
            .bound(TRX)
            .send(Esme, "submit_sm")
            .flush()
            .respond(Smsc, 0, RESPOND_PROPER)
            .flush()
            .unbind(Esme)
            .flushes(2),
        &["Bound", "Response", "Unbound", "Closed:Unbound"],
        &[
            "BindRequested",
            "Bound",
            "Request",
            "Unbound",
            "Closed:Unbound",
        ],
    );
    add(
        "bind_receiver_deliver",
        Script::new()
            .bound(RX)
            .send(Smsc, "deliver_sm")
            .send(Smsc, "data_sm")
            .send(Smsc, "alert_notification")
            .flush()
            .respond(Esme, 0, RESPOND_PROPER)
            .respond(Esme, 1, RESPOND_PROPER)
            .flush()
            .unbind(Smsc)
            .flushes(2),
        &["Bound", "Request", "Request", "Notification", "Unbound"],
        &["Bound", "Response", "Response", "Unbound", "Closed:Unbound"],
    );
    add(
        "bind_transmitter_every_request",
        Script::with(
            0,
            Knobs {
                window: 3,
                ..Knobs::default()
            },
            Knobs::default(),
        )
        .bound(TX)
        .send(Esme, "submit_sm")
        .send(Esme, "data_sm")
        .send(Esme, "query_sm")
        .send(Esme, "cancel_sm")
        .send(Esme, "enquire_link")
        .send(Esme, "deliver_sm")
        .send(Smsc, "deliver_sm")
        .flush()
        .respond(Smsc, 0, RESPOND_PROPER)
        .respond(Smsc, 1, RESPOND_PROPER)
        .respond(Smsc, 0, RESPOND_NACK)
        .respond(Smsc, 0, RESPOND_PROPER)
        .flushes(2),
        &[
            "Bound",
            "err:InvalidState",
            "Response",
            "Response",
            "Response",
            "Response",
            "Response",
        ],
        &[
            "err:InvalidState",
            "Request",
            "Request",
            "Request",
            "Request",
        ],
    );
    add(
        "bind_rejected",
        Script::new()
            .bind(Esme, TRX)
            .flush()
            .reject(Smsc, 3)
            .flush()
            .close(Esme)
            .eof(Smsc),
        &["BindRejected", "Closed:Local"],
        &["BindRequested", "Closed:PeerClosed"],
    );
    add(
        "outbind_then_bind",
        Script::new()
            .outbind(Smsc)
            .flush()
            .bind(Esme, RX)
            .flush()
            .accept(Smsc)
            .flush()
            .send(Smsc, "deliver_sm")
            .flush()
            .respond(Esme, 0, RESPOND_PROPER)
            .flush(),
        &["Outbind", "Bound", "Request"],
        &["BindRequested", "Bound", "Response"],
    );
    add(
        "window_full",
        Script::with(
            0,
            Knobs {
                window: 1,
                ..Knobs::default()
            },
            Knobs::default(),
        )
        .bound(TRX)
        .send(Esme, "submit_sm")
        .send(Esme, "submit_sm")
        .send(Esme, "alert_notification")
        .flush()
        .respond(Smsc, 0, RESPOND_PROPER)
        .flush()
        .send(Esme, "submit_sm")
        .flush(),
        &["Bound", "err:WindowFull", "Response"],
        &["Request", "Request"],
    );
    add(
        "response_timeout_then_late",
        Script::new()
            .bound(TRX)
            .send(Esme, "submit_sm")
            .flush()
            .advance(secs(6))
            .respond(Smsc, 0, RESPOND_PROPER)
            .flush(),
        &["Bound", "ResponseTimeout", "UnexpectedResponse:Late"],
        &["Request"],
    );
    add(
        "bind_timeout",
        Script::new().bind(Esme, TRX).tick(secs(31)),
        &["ResponseTimeout", "Closed:BindTimeout"],
        &["Closed:BindTimeout"],
    );
    add(
        "bind_timeout_in_one_jump",
        Script::new().bind(Esme, TRX).advance(secs(31)),
        &["RequestFailed", "Closed:BindTimeout"],
        &["Closed:BindTimeout"],
    );
    add(
        "keepalive_exchange",
        Script::with(
            0,
            Knobs {
                enquire_link_interval: 1,
                ..Knobs::default()
            },
            Knobs {
                enquire_link_interval: 2,
                ..Knobs::default()
            },
        )
        .bound(TRX)
        .next_deadline()
        .flushes(2)
        .next_deadline()
        .flushes(2)
        .tick(secs(3))
        .flushes(2)
        .unbind(Esme)
        .flushes(2),
        &["Bound", "enquire_link", "enquire_link", "unbind", "Unbound"],
        // The ESME's keep-alives keep the link busy: the SMSC's interval never runs out.
        &[
            "Bound",
            "enquire_link_resp",
            "enquire_link_resp",
            "unbind_resp",
            "Closed:Unbound",
        ],
    );
    add(
        "enquire_link_timeout",
        Script::with(
            0,
            Knobs {
                enquire_link_interval: 1,
                enquire_link_timeout: 1,
                ..Knobs::default()
            },
            Knobs::default(),
        )
        .bound(TRX)
        .send(Esme, "submit_sm")
        .tick(secs(5)),
        &["Bound", "RequestFailed", "Closed:EnquireLinkTimeout"],
        &["Bound"],
    );
    add(
        "inactivity_unbind",
        Script::with(
            FLAG_FINISH,
            Knobs {
                inactivity: 1,
                ..Knobs::default()
            },
            Knobs::default(),
        )
        .bound(TX)
        .tick(secs(4))
        .flushes(2),
        &["Bound", "Closed:Inactivity"],
        &["Bound", "Unbound", "Closed:Unbound"],
    );
    add(
        "unbind_timeout",
        Script::with(
            0,
            Knobs {
                unbind_timeout: 1,
                ..Knobs::default()
            },
            Knobs::default(),
        )
        .bound(TRX)
        .send(Esme, "submit_sm")
        .unbind(Esme)
        .tick(secs(6)),
        &[
            "Bound",
            "ResponseTimeout",
            "RequestFailed",
            "Closed:UnbindTimeout",
        ],
        &["Bound"],
    );
    add(
        "unbind_race",
        Script::new()
            .bound(TRX)
            .unbind(Esme)
            .unbind(Smsc)
            .flushes(2),
        &["Bound", "Unbound", "Closed:Unbound"],
        &["Bound", "Unbound", "Closed:Unbound"],
    );
    add(
        "garbage",
        Script::new()
            .feed(Smsc, &garbage(300, 7), 17)
            .feed(Esme, &garbage(300, 11), 0),
        &["Closed:Framing"],
        &["Closed:Framing"],
    );
    add(
        "framing_length_too_short",
        Script::new()
            .bound(TRX)
            .send(Esme, "submit_sm")
            .feed(Smsc, &[0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9], 3)
            .flushes(2)
            .eof(Esme),
        &[
            "Bound",
            "UnexpectedResponse:Unknown",
            "RequestFailed",
            "Closed:PeerClosed",
        ],
        &["Closed:Framing"],
    );
    add(
        "framing_length_over_max",
        Script::with(
            0,
            Knobs::default(),
            Knobs {
                max_command_length: 2,
                ..Knobs::default()
            },
        )
        .bound(TRX)
        .send(Esme, "submit_sm_long")
        .flush(),
        &["Bound"],
        &["Bound", "Closed:Framing"],
    );
    add(
        "huge_pdu_in_pieces",
        {
            let mut big = raw(0x0000_0099, 0, 77, &garbage(65_536 - 16, 3));
            // One more header that announces 4 GiB: framing is lost right after.
            big.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xF0]);
            big.extend_from_slice(&[0; 12]);
            let (a, b) = big.split_at(40_000);
            Script::new()
                .bound(TRX)
                .feed(Smsc, a, 251)
                .feed(Smsc, b, 97)
                .flush()
        },
        &["Bound"],
        &["Bound", "Rejected", "Closed:Framing"],
    );
    add(
        "eof_mid_pdu",
        Script::new()
            .bound(TRX)
            .send(Esme, "submit_sm")
            .transfer(Esme, 20, 7)
            .eof(Smsc)
            .eof(Esme),
        &["Bound", "RequestFailed", "Closed:PeerClosed"],
        &["Bound", "Closed:PeerClosed"],
    );
    add(
        "malformed_requests",
        {
            let mut truncated = submit_pdu(50, "cut short");
            truncated.truncate(truncated.len() - 5);
            let body = truncated[HEADER_LEN..].to_vec();
            let mut stream = raw(0x0000_0004, 0, 50, &body);
            stream.extend(raw(0x0000_0099, 0, 51, b"??"));
            stream.extend(bind_pdu(52));
            stream.extend(raw(0x0000_0004, 0, 53, &[]));
            stream.extend(encode(&Pdu::new(54, EnquireLink::default())));
            stream.extend(deliver_pdu(55, "wrong way"));
            stream.extend(submit_pdu(56, "fine"));
            Script::new()
                .bound(TRX)
                .feed(Smsc, &stream, 0)
                .respond(Smsc, 0, RESPOND_WRONG)
                .respond(Smsc, 0, RESPOND_REQUEST)
                .respond(Smsc, 2, RESPOND_PROPER)
                .respond(Smsc, 0, RESPOND_PROPER)
                .flushes(2)
        },
        &["Bound", "UnexpectedResponse:Unknown"],
        &[
            "Bound",
            "Rejected",
            "Rejected",
            "Rejected",
            "Rejected",
            "Rejected",
            "Request",
            "err:ResponseMismatch",
            "err:NotARequest",
            "err:UnknownRequest",
        ],
    );
    add(
        "faulty_responses",
        Script::new()
            .bound(TRX)
            .send(Esme, "submit_sm")
            .send(Esme, "query_sm")
            .send(Esme, "data_sm")
            .send(Esme, "cancel_sm")
            .inject(Esme, 0, 0)
            .inject(Esme, 1, 1)
            .inject(Esme, 2, 2)
            .inject(Esme, 3, 3)
            .inject(Esme, 4, 4)
            .inject(Esme, 4, 9)
            .flushes(2),
        &[
            "Bound",
            "Response",
            "RequestFailed",
            "RequestFailed",
            "UnexpectedResponse:Unknown",
            "Response",
        ],
        &["Bound"],
    );
    add(
        "bytewise_exchange",
        Script::new()
            .bind(Esme, TRX)
            .transfer(Esme, 1000, 1)
            .accept(Smsc)
            .transfer(Smsc, 1000, 1)
            .send(Esme, "submit_sm")
            .send(Esme, "submit_sm")
            .transfer(Esme, 60, 1)
            .transfer(Esme, 1000, 2)
            .respond(Smsc, 0, RESPOND_PROPER)
            .respond(Smsc, 1, RESPOND_PROPER)
            .transfer(Smsc, 1000, 1),
        &["Bound", "Response", "Response"],
        &["Bound", "Request", "Request"],
    );
    add(
        "sequence_wrap",
        Script::with(
            0,
            Knobs {
                first_sequence_number: 2,
                window: 3,
                ..Knobs::default()
            },
            Knobs {
                first_sequence_number: 3,
                ..Knobs::default()
            },
        )
        .bound(TRX)
        .send(Esme, "submit_sm")
        .send(Esme, "submit_sm")
        .send(Esme, "submit_sm")
        .flush()
        .respond(Smsc, 0, RESPOND_PROPER)
        .respond(Smsc, 0, RESPOND_PROPER)
        .respond(Smsc, 0, RESPOND_PROPER)
        .flush()
        .send(Esme, "submit_sm")
        .flush()
        .respond(Smsc, 0, RESPOND_PROPER)
        .flush(),
        &["Bound", "Response", "Response", "Response", "Response"],
        &["Bound"],
    );
    add(
        "inbound_limit",
        Script::with(
            0,
            Knobs {
                inbound_pending: 1,
                ..Knobs::default()
            },
            Knobs {
                inbound_pending: 1,
                ..Knobs::default()
            },
        )
        .bound(TRX)
        .send(Smsc, "deliver_sm")
        .send(Smsc, "deliver_sm")
        .send(Smsc, "data_sm")
        .send(Esme, "submit_sm")
        .send(Esme, "submit_sm")
        .flushes(2)
        .respond(Esme, 0, RESPOND_PROPER)
        .respond(Smsc, 0, RESPOND_PROPER)
        .flush(),
        &["Bound", "Request", "Rejected", "Rejected", "Response"],
        &["Bound", "Request", "Rejected", "Response"],
    );
    add(
        "close_with_requests_in_flight",
        Script::new()
            .bound(TRX)
            .send(Esme, "submit_sm")
            .send(Esme, "query_sm")
            .send(Smsc, "deliver_sm")
            .close(Esme)
            .send(Esme, "submit_sm")
            .flush()
            .eof(Smsc),
        &[
            "Bound",
            "RequestFailed",
            "RequestFailed",
            "Closed:Local",
            "err:Closed",
        ],
        &["Bound", "RequestFailed", "Closed:PeerClosed"],
    );
    add(
        "late_input_after_sleep",
        finish(
            Knobs {
                enquire_link_interval: 1,
                ..Knobs::default()
            },
            Knobs {
                inactivity: 1,
                ..Knobs::default()
            },
        )
        .bound(TRX)
        .send(Esme, "submit_sm")
        .sleep(secs(40))
        .flush()
        .timeout(Smsc)
        .respond(Smsc, 0, RESPOND_PROPER)
        .flush()
        .timeout(Esme),
        &["Bound"],
        &["Bound", "Request"],
    );
    add(
        "second_bind",
        Script::new()
            .bind(Esme, TX)
            .bind(Esme, RX)
            .send(Esme, "bind_transceiver")
            .feed(Smsc, &bind_pdu(40), 0)
            .flush()
            .accept(Smsc)
            .accept(Smsc)
            .flush()
            .bind(Esme, TRX)
            .feed(Smsc, &bind_pdu(41), 0)
            .outbind(Smsc)
            .flushes(2),
        &[
            "err:BindInProgress",
            "err:BindInProgress",
            "BindRejected",
            "UnexpectedResponse:Unknown",
            "UnexpectedResponse:Unknown",
            "BindRejected",
        ],
        &[
            "BindRequested",
            "Rejected",
            "Bound",
            "err:UnknownRequest",
            "Rejected",
            "err:InvalidState",
        ],
    );
    add(
        "smsc_misuse",
        Script::new()
            .bind(Smsc, TRX)
            .send(Smsc, "submit_sm")
            .send(Smsc, "submit_sm_resp")
            .respond(Smsc, 0, RESPOND_PROPER)
            .accept(Smsc)
            .unbind(Smsc)
            .send(Esme, "outbind")
            .feed(Esme, &bind_pdu(3), 0)
            .flush(),
        &["err:InvalidState", "Rejected"],
        &[
            "err:InvalidState",
            "err:InvalidState",
            "err:NotARequest",
            "err:UnknownRequest",
            "err:UnknownRequest",
            "err:InvalidState",
        ],
    );
    add(
        "generic_nack_to_bind",
        Script::new()
            .bind(Esme, TRX)
            .feed(
                Esme,
                &encode(&Pdu::response(
                    1,
                    smpp_pdu::CommandStatus(3),
                    GenericNack::default(),
                )),
                0,
            )
            .bind(Esme, TRX)
            .flush()
            .respond(Smsc, 0, RESPOND_NACK)
            .flush(),
        &["BindRejected", "BindRejected"],
        &["BindRequested"],
    );
    add(
        "finish_naturally",
        finish(
            Knobs {
                enquire_link_interval: 1,
                response_timeout: 1,
                ..Knobs::default()
            },
            Knobs {
                enquire_link_interval: 2,
                ..Knobs::default()
            },
        )
        .bound(TRX)
        .send(Esme, "submit_sm")
        .send(Smsc, "deliver_sm")
        .flush(),
        &["Bound", "Request", "ResponseTimeout"],
        &["Bound", "Request", "ResponseTimeout"],
    );
    seeds
}
