//! The bad-input matrix against the test SMSC: malformed PDUs, PDUs in the wrong state and
//! responses to requests never sent, written by a raw TCP peer on 127.0.0.1. Each row
//! states the answer the specification asks for (reference §12.4: a `generic_nack` and a
//! close when framing is lost, the request's own response with the field's status for a
//! malformed body, `ESME_RINVBNDSTS` / `ESME_RALYBND` for the wrong state, nothing for a
//! response nobody asked for). After every row a fresh, well-behaved session must still
//! bind and submit, so one bad peer never stops the SMSC from serving the others.
//!
//! Every read is bounded by a deadline; the whole matrix runs on one SMSC in about a second.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use smpp_pdu::{CommandId, CommandStatus as S};
use smpp_smsc::{Smsc, SmscConfig, User};

/// Longest wait for any one answer.
const WAIT: Duration = Duration::from_secs(5);

/// Sequence number of every row's PDU.
const SEQ: u32 = 0x0000_0777;
/// Sequence number of the `enquire_link` that proves a connection is still served.
const PROBE_SEQ: u32 = 0x0000_0999;

// ----- raw PDU building -----

/// A PDU with the given header fields and body; `command_length` computed.
fn pdu(id: CommandId, status: u32, seq: u32, body: &[u8]) -> Vec<u8> {
    with_len(16 + body.len() as u32, id.0, status, seq, body)
}

/// A PDU whose `command_length` is given as is.
fn with_len(len: u32, id: u32, status: u32, seq: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(16 + body.len());
    for x in [len, id, status, seq] {
        v.extend_from_slice(&x.to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

/// A C-octet string with its NUL.
fn c(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// `n` octets of `'9'` without a NUL.
fn long(n: usize) -> Vec<u8> {
    vec![b'9'; n]
}

/// A TLV.
fn tlv(tag: u16, value: &[u8]) -> Vec<u8> {
    let mut v = tag.to_be_bytes().to_vec();
    v.extend_from_slice(&(value.len() as u16).to_be_bytes());
    v.extend_from_slice(value);
    v
}

fn bind_body(system_id: &[u8], password: &[u8], system_type: &[u8]) -> Vec<u8> {
    let mut v = system_id.to_vec();
    v.extend_from_slice(password);
    v.extend_from_slice(system_type);
    v.extend_from_slice(&[0x34, 0, 0]);
    v.extend_from_slice(&c(""));
    v
}

/// The fields of a `submit_sm` body, each as raw octets (C strings with their NUL).
struct Submit {
    service_type: Vec<u8>,
    source_addr: Vec<u8>,
    destination_addr: Vec<u8>,
    esm_class: u8,
    schedule: Vec<u8>,
    validity: Vec<u8>,
    sm_length: u8,
    short_message: Vec<u8>,
    tlvs: Vec<u8>,
    /// source TON, NPI, destination TON, NPI.
    ton_npi: [u8; 4],
    priority: u8,
    registered_delivery: u8,
    replace_if_present: u8,
}

impl Default for Submit {
    fn default() -> Self {
        Submit {
            service_type: c(""),
            source_addr: c("12345"),
            destination_addr: c("447700900123"),
            esm_class: 0,
            schedule: c(""),
            validity: c(""),
            sm_length: 5,
            short_message: b"hello".to_vec(),
            tlvs: Vec::new(),
            ton_npi: [0, 0, 1, 1],
            priority: 0,
            registered_delivery: 0,
            replace_if_present: 0,
        }
    }
}

impl Submit {
    fn body(&self) -> Vec<u8> {
        let mut v = self.service_type.clone();
        v.extend_from_slice(&self.ton_npi[..2]);
        v.extend_from_slice(&self.source_addr);
        v.extend_from_slice(&self.ton_npi[2..]);
        v.extend_from_slice(&self.destination_addr);
        v.extend_from_slice(&[self.esm_class, 0, self.priority]);
        v.extend_from_slice(&self.schedule);
        v.extend_from_slice(&self.validity);
        v.extend_from_slice(&[
            self.registered_delivery,
            self.replace_if_present,
            0,
            0,
            self.sm_length,
        ]);
        v.extend_from_slice(&self.short_message);
        v.extend_from_slice(&self.tlvs);
        v
    }

    fn pdu(&self) -> Vec<u8> {
        pdu(CommandId::SUBMIT_SM, 0, SEQ, &self.body())
    }
}

/// A `submit_multi` body with these destination octets (number_of_dests first).
fn submit_multi(dests: &[u8]) -> Vec<u8> {
    let mut v = c("");
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&c("12345"));
    v.extend_from_slice(dests);
    v.extend_from_slice(&[0, 0, 0]);
    v.extend_from_slice(&c(""));
    v.extend_from_slice(&c(""));
    v.extend_from_slice(&[0, 0, 0, 0, 2]);
    v.extend_from_slice(b"hi");
    pdu(CommandId::SUBMIT_MULTI, 0, SEQ, &v)
}

/// A `data_sm` with these TLV octets.
fn data_sm(tlvs: &[u8]) -> Vec<u8> {
    let mut v = c("");
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&c("12345"));
    v.extend_from_slice(&[1, 1]);
    v.extend_from_slice(&c("447700900123"));
    v.extend_from_slice(&[0, 0, 0]);
    v.extend_from_slice(tlvs);
    pdu(CommandId::DATA_SM, 0, SEQ, &v)
}

fn query_sm(message_id: &[u8]) -> Vec<u8> {
    let mut v = message_id.to_vec();
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&c("12345"));
    pdu(CommandId::QUERY_SM, 0, SEQ, &v)
}

// ----- raw PDU reading -----

#[derive(Debug, PartialEq, Eq)]
enum Got {
    Pdu { id: CommandId, status: S, seq: u32 },
    Eof,
    Timeout,
}

fn read_exact_by(s: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> Result<(), Got> {
    let mut n = 0;
    while n < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Got::Timeout);
        }
        s.set_read_timeout(Some(left)).expect("set timeout");
        match s.read(&mut buf[n..]) {
            Ok(0) => return Err(Got::Eof),
            Ok(k) => n += k,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(Got::Timeout)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A reset after the peer closed with our unread octets pending is a close.
            Err(_) => return Err(Got::Eof),
        }
    }
    Ok(())
}

/// The next PDU's header (its body is read and dropped), or why there is none.
fn read_pdu(s: &mut TcpStream, deadline: Instant) -> Got {
    let mut h = [0u8; 16];
    if let Err(g) = read_exact_by(s, &mut h, deadline) {
        return g;
    }
    let word = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let len = word(0) as usize;
    assert!(
        (16..=65_536).contains(&len),
        "SMSC wrote command_length {len}"
    );
    let mut body = vec![0u8; len - 16];
    if let Err(g) = read_exact_by(s, &mut body, deadline) {
        return g;
    }
    Got::Pdu {
        id: CommandId(word(4)),
        status: S(word(8)),
        seq: word(12),
    }
}

// ----- the matrix -----

/// What the SMSC must do with a row's octets.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Answer with this PDU and status, echoing the row's sequence number; keep serving.
    Answer(CommandId, S),
    /// Answer with this PDU and status, then close the connection.
    AnswerClose(CommandId, S),
    /// `generic_nack` with this status (sequence number `seq`), then close: framing is lost.
    NackClose(S, u32),
    /// No answer at all (a response nobody asked for); keep serving.
    Silent,
}

/// The session state a row starts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pre {
    /// Connected, not bound.
    Open,
    /// Bound as a transceiver.
    Bound,
    /// Bound as a receiver.
    BoundRx,
}

struct Row {
    name: &'static str,
    pre: Pre,
    bytes: Vec<u8>,
    expect: Expect,
}

fn row(name: &'static str, pre: Pre, bytes: Vec<u8>, expect: Expect) -> Row {
    Row {
        name,
        pre,
        bytes,
        expect,
    }
}

fn rows() -> Vec<Row> {
    use Expect::*;
    use Pre::*;
    let id = |x: u32| CommandId(x);
    let bind = |id: &str, pw: &str| bind_body(&c(id), &c(pw), &c(""));
    let mut v = vec![
        // Framing: command_length below 16 or above the cap (64 KiB) loses the stream.
        row(
            "command_length 0",
            Bound,
            with_len(0, 0x4, 0, SEQ, &[]),
            NackClose(S::ESME_RINVCMDLEN, SEQ),
        ),
        row(
            "command_length 15",
            Bound,
            with_len(15, 0x4, 0, SEQ, &[]),
            NackClose(S::ESME_RINVCMDLEN, SEQ),
        ),
        row(
            "command_length 1, unbound",
            Open,
            with_len(1, 0x9, 0, SEQ, &[]),
            NackClose(S::ESME_RINVCMDLEN, SEQ),
        ),
        row(
            "command_length 64 KiB + 1",
            Bound,
            with_len(65_537, 0x4, 0, SEQ, &[]),
            NackClose(S::ESME_RINVCMDLEN, SEQ),
        ),
        row(
            "command_length 0x7FFFFFFF",
            Bound,
            with_len(0x7FFF_FFFF, 0x4, 0, SEQ, &[]),
            NackClose(S::ESME_RINVCMDLEN, SEQ),
        ),
        row(
            "command_length 0xFFFFFFFF",
            Open,
            with_len(u32::MAX, 0x9, 0, SEQ, &[]),
            NackClose(S::ESME_RINVCMDLEN, SEQ),
        ),
        // Unknown command ids: generic_nack ESME_RINVCMDID, and the session goes on.
        row(
            "unknown command_id 0x000000FF",
            Bound,
            pdu(id(0xFF), 0, SEQ, &[]),
            Answer(CommandId::GENERIC_NACK, S::ESME_RINVCMDID),
        ),
        row(
            "unknown command_id 0x00010200 with a body",
            Bound,
            pdu(id(0x0001_0200), 0, SEQ, b"abc"),
            Answer(CommandId::GENERIC_NACK, S::ESME_RINVCMDID),
        ),
        row(
            "reserved command_id 0x0000000A, unbound",
            Open,
            pdu(id(0x0A), 0, SEQ, &[]),
            Answer(CommandId::GENERIC_NACK, S::ESME_RINVCMDID),
        ),
        // The wrong state.
        row(
            "submit_sm while unbound",
            Open,
            Submit::default().pdu(),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVBNDSTS),
        ),
        row(
            "query_sm while unbound",
            Open,
            query_sm(&c("1")),
            Answer(CommandId::QUERY_SM_RESP, S::ESME_RINVBNDSTS),
        ),
        row(
            "data_sm while unbound",
            Open,
            data_sm(&[]),
            Answer(CommandId::DATA_SM_RESP, S::ESME_RINVBNDSTS),
        ),
        row(
            "unbind while unbound",
            Open,
            pdu(CommandId::UNBIND, 0, SEQ, &[]),
            Answer(CommandId::UNBIND_RESP, S::ESME_RINVBNDSTS),
        ),
        row(
            "bind_transceiver while bound",
            Bound,
            pdu(
                CommandId::BIND_TRANSCEIVER,
                0,
                SEQ,
                &bind("alice", "secret"),
            ),
            Answer(CommandId::BIND_TRANSCEIVER_RESP, S::ESME_RALYBND),
        ),
        row(
            "bind_receiver while bound",
            Bound,
            pdu(CommandId::BIND_RECEIVER, 0, SEQ, &bind("alice", "secret")),
            Answer(CommandId::BIND_RECEIVER_RESP, S::ESME_RALYBND),
        ),
        row(
            "deliver_sm from the ESME",
            Bound,
            pdu(CommandId::DELIVER_SM, 0, SEQ, &Submit::default().body()),
            Answer(CommandId::DELIVER_SM_RESP, S::ESME_RINVBNDSTS),
        ),
        row(
            "outbind from the ESME",
            Open,
            pdu(
                CommandId::OUTBIND,
                0,
                SEQ,
                &bind_body(&c("alice"), &c("secret"), &[])[..13],
            ),
            Answer(CommandId::GENERIC_NACK, S::ESME_RINVBNDSTS),
        ),
        row(
            "alert_notification from the ESME",
            Bound,
            pdu(CommandId::ALERT_NOTIFICATION, 0, SEQ, &[0, 0, 0, 0, 0, 0]),
            Answer(CommandId::GENERIC_NACK, S::ESME_RINVBNDSTS),
        ),
        // Responses to requests never sent: dropped, never answered.
        row(
            "submit_sm_resp for nothing",
            Bound,
            pdu(CommandId::SUBMIT_SM_RESP, 0, SEQ, &c("1")),
            Silent,
        ),
        row(
            "deliver_sm_resp for an unknown sequence number",
            Bound,
            pdu(CommandId::DELIVER_SM_RESP, 0, 0x7FFF_FFFF, &c("")),
            Silent,
        ),
        row(
            "enquire_link_resp for nothing",
            Open,
            pdu(CommandId::ENQUIRE_LINK_RESP, 0, SEQ, &[]),
            Silent,
        ),
        row(
            "generic_nack for nothing",
            Bound,
            pdu(CommandId::GENERIC_NACK, S::ESME_RINVCMDID.0, SEQ, &[]),
            Silent,
        ),
        row(
            "bind_transceiver_resp sent to the SMSC",
            Open,
            pdu(CommandId::BIND_TRANSCEIVER_RESP, 0, SEQ, &c("x")),
            Silent,
        ),
        // Malformed bodies: the request's own response with the field's status.
        row(
            "bind: system_id without NUL past 16 octets",
            Open,
            pdu(
                CommandId::BIND_TRANSCEIVER,
                0,
                SEQ,
                &bind_body(&long(20), &c("secret"), &c("")),
            ),
            Answer(CommandId::BIND_TRANSCEIVER_RESP, S::ESME_RINVSYSID),
        ),
        row(
            "bind: password over 8 characters",
            Open,
            pdu(
                CommandId::BIND_TRANSMITTER,
                0,
                SEQ,
                &bind_body(&c("alice"), &long(12), &c("")),
            ),
            Answer(CommandId::BIND_TRANSMITTER_RESP, S::ESME_RINVPASWD),
        ),
        row(
            "bind: system_type over 12 characters",
            Open,
            pdu(
                CommandId::BIND_RECEIVER,
                0,
                SEQ,
                &bind_body(&c("alice"), &c("secret"), &long(20)),
            ),
            Answer(CommandId::BIND_RECEIVER_RESP, S::ESME_RINVSYSTYP),
        ),
        row(
            "bind: body cut after system_id",
            Open,
            pdu(CommandId::BIND_TRANSCEIVER, 0, SEQ, &c("alice")),
            Answer(CommandId::BIND_TRANSCEIVER_RESP, S::ESME_RINVCMDLEN),
        ),
        row(
            "bind: unknown system_id",
            Open,
            pdu(
                CommandId::BIND_TRANSCEIVER,
                0,
                SEQ,
                &bind("mallory", "secret"),
            ),
            Answer(CommandId::BIND_TRANSCEIVER_RESP, S::ESME_RINVSYSID),
        ),
        row(
            "bind: wrong password",
            Open,
            pdu(CommandId::BIND_TRANSCEIVER, 0, SEQ, &bind("alice", "wrong")),
            Answer(CommandId::BIND_TRANSCEIVER_RESP, S::ESME_RINVPASWD),
        ),
        row(
            "submit_sm: service_type without NUL",
            Bound,
            Submit {
                service_type: long(9),
                ..Default::default()
            }
            .pdu(),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVSERTYP),
        ),
        row(
            "submit_sm: source_addr over 20 characters",
            Bound,
            Submit {
                source_addr: long(25),
                ..Default::default()
            }
            .pdu(),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVSRCADR),
        ),
        row(
            "submit_sm: destination_addr over 20 characters",
            Bound,
            Submit {
                destination_addr: long(30),
                ..Default::default()
            }
            .pdu(),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVDSTADR),
        ),
        row(
            "submit_sm: schedule_delivery_time of 10 characters",
            Bound,
            Submit {
                schedule: c("2601011200"),
                ..Default::default()
            }
            .pdu(),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVSCHED),
        ),
        row(
            "submit_sm: validity_period of 5 characters",
            Bound,
            Submit {
                validity: c("00001"),
                ..Default::default()
            }
            .pdu(),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVEXPIRY),
        ),
        row(
            "submit_sm: sm_length past the end of the body",
            Bound,
            Submit {
                sm_length: 200,
                ..Default::default()
            }
            .pdu(),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVMSGLEN),
        ),
        row(
            "submit_sm: sm_length shorter than the text (rest is no TLV)",
            Bound,
            Submit {
                sm_length: 2,
                ..Default::default()
            }
            .pdu(),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVOPTPARSTREAM),
        ),
        row(
            "submit_sm: body cut inside the fixed fields",
            Bound,
            pdu(
                CommandId::SUBMIT_SM,
                0,
                SEQ,
                &Submit::default().body()[..20],
            ),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVCMDLEN),
        ),
        row(
            "submit_sm: empty body",
            Bound,
            pdu(CommandId::SUBMIT_SM, 0, SEQ, &[]),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVCMDLEN),
        ),
        row(
            "submit_sm: TLV length past the end",
            Bound,
            Submit {
                tlvs: [0x02, 0x04, 0x00, 0x10, 0x00, 0x01].to_vec(),
                ..Default::default()
            }
            .pdu(),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVOPTPARSTREAM),
        ),
        row(
            "submit_sm: 3 stray octets after the TLVs",
            Bound,
            Submit {
                tlvs: [tlv(0x0204, &[0, 1]), vec![1, 2, 3]].concat(),
                ..Default::default()
            }
            .pdu(),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVOPTPARSTREAM),
        ),
        row(
            "submit_multi: number_of_dests 0",
            Bound,
            submit_multi(&[0]),
            Answer(CommandId::SUBMIT_MULTI_RESP, S::ESME_RINVNUMDESTS),
        ),
        row(
            "submit_multi: dest_flag 3",
            Bound,
            submit_multi(&[1, 3, 1, 1, b'1', 0]),
            Answer(CommandId::SUBMIT_MULTI_RESP, S::ESME_RINVDESTFLAG),
        ),
        row(
            "submit_multi: dl_name without NUL",
            Bound,
            submit_multi(&[
                1, 2, b'x', b'x', b'x', b'x', b'x', b'x', b'x', b'x', b'x', b'x', b'x', b'x', b'x',
                b'x', b'x', b'x', b'x', b'x', b'x', b'x', b'x',
            ]),
            Answer(CommandId::SUBMIT_MULTI_RESP, S::ESME_RINVDLNAME),
        ),
        row(
            "data_sm: TLV length past the end",
            Bound,
            data_sm(&[0x04, 0x24, 0x01, 0x00, b'x']),
            Answer(CommandId::DATA_SM_RESP, S::ESME_RINVOPTPARSTREAM),
        ),
        row(
            "query_sm: message_id over 64 characters",
            Bound,
            query_sm(&long(80)),
            Answer(CommandId::QUERY_SM_RESP, S::ESME_RINVMSGID),
        ),
        row(
            "query_sm: unknown message_id",
            Bound,
            query_sm(&c("no-such-id")),
            Answer(CommandId::QUERY_SM_RESP, S::ESME_RQUERYFAIL),
        ),
        row(
            "cancel_sm: body cut after message_id",
            Bound,
            pdu(CommandId::CANCEL_SM, 0, SEQ, &[c(""), c("1")].concat()),
            Answer(CommandId::CANCEL_SM_RESP, S::ESME_RINVCMDLEN),
        ),
        row(
            "submit_sm on a receiver bind",
            BoundRx,
            Submit::default().pdu(),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVBNDSTS),
        ),
        row(
            // Every body may end in TLVs (5.0 responses carry congestion_state), so octets
            // after the (empty) mandatory part are a broken TLV stream.
            "enquire_link with a stray body octet",
            Bound,
            pdu(CommandId::ENQUIRE_LINK, 0, SEQ, &[0]),
            Answer(CommandId::ENQUIRE_LINK_RESP, S::ESME_RINVOPTPARSTREAM),
        ),
    ];
    v.push(row(
        "submit_sm: user_message_reference TLV of 1 octet",
        Bound,
        Submit {
            tlvs: tlv(0x0204, &[7]),
            ..Default::default()
        }
        .pdu(),
        Answer(CommandId::SUBMIT_SM_RESP, S::ESME_RINVPARLEN),
    ));
    v.push(row(
        "data_sm: source_port TLV of 3 octets",
        Bound,
        data_sm(&tlv(0x020A, &[0, 1, 2])),
        Answer(CommandId::DATA_SM_RESP, S::ESME_RINVPARLEN),
    ));
    v.push(row(
        "submit_sm: an unknown vendor TLV is ignored",
        Bound,
        Submit {
            tlvs: tlv(0x1401, b"vendor"),
            ..Default::default()
        }
        .pdu(),
        Answer(CommandId::SUBMIT_SM_RESP, S::ESME_ROK),
    ));
    // Field checks of a strict SMSC (smpp_smsc::checks), one row each: well-formed PDUs
    // whose values a real SMSC refuses, answered with the field's status.
    let sm = |f: &dyn Fn(&mut Submit)| {
        let mut x = Submit::default();
        f(&mut x);
        x.pdu()
    };
    let refused = |name: &'static str, bytes: Vec<u8>, status: S| {
        row(
            name,
            Bound,
            bytes,
            Answer(CommandId::SUBMIT_SM_RESP, status),
        )
    };
    v.extend([
        refused(
            "check: schedule_delivery_time month 13",
            sm(&|x| x.schedule = c("261331235959000+")),
            S::ESME_RINVSCHED,
        ),
        refused(
            "check: schedule_delivery_time offset of 49 quarter hours",
            sm(&|x| x.schedule = c("261231235959049+")),
            S::ESME_RINVSCHED,
        ),
        refused(
            "check: schedule_delivery_time with a bad sign",
            sm(&|x| x.schedule = c("261231235959000X")),
            S::ESME_RINVSCHED,
        ),
        refused(
            "check: validity_period 30 February",
            sm(&|x| x.validity = c("260230120000000+")),
            S::ESME_RINVEXPIRY,
        ),
        refused(
            "check: relative validity_period not ending in 000R",
            sm(&|x| x.validity = c("000001000000100R")),
            S::ESME_RINVEXPIRY,
        ),
        refused(
            "check: priority_flag 4 on a 3.4 bind",
            sm(&|x| x.priority = 4),
            S::ESME_RINVPRTFLG,
        ),
        refused(
            "check: replace_if_present_flag 2",
            sm(&|x| x.replace_if_present = 2),
            S::ESME_RINVREPFLAG,
        ),
        refused(
            "check: registered_delivery reserved bit 0x80",
            sm(&|x| x.registered_delivery = 0x80),
            S::ESME_RINVREGDLVFLG,
        ),
        refused(
            "check: registered_delivery receipt value 3 on a 3.4 bind",
            sm(&|x| x.registered_delivery = 3),
            S::ESME_RINVREGDLVFLG,
        ),
        refused(
            "check: esm_class of a delivery receipt (0x04) in a submit_sm",
            sm(&|x| x.esm_class = 0x04),
            S::ESME_RINVESMCLASS,
        ),
        refused(
            "check: esm_class transaction mode in a 3.4 submit_sm",
            sm(&|x| x.esm_class = 0x02),
            S::ESME_RINVESMCLASS,
        ),
        refused(
            "check: short_message and message_payload together",
            sm(&|x| x.tlvs = tlv(0x0424, b"payload")),
            S::ESME_RINVMSGLEN,
        ),
        refused(
            "check: source_addr_ton 7",
            sm(&|x| x.ton_npi = [7, 0, 1, 1]),
            S::ESME_RINVSRCTON,
        ),
        refused(
            "check: source_addr_npi 2",
            sm(&|x| x.ton_npi = [0, 2, 1, 1]),
            S::ESME_RINVSRCNPI,
        ),
        refused(
            "check: dest_addr_ton 9",
            sm(&|x| x.ton_npi = [0, 0, 9, 1]),
            S::ESME_RINVDSTTON,
        ),
        refused(
            "check: dest_addr_npi 5",
            sm(&|x| x.ton_npi = [0, 0, 1, 5]),
            S::ESME_RINVDSTNPI,
        ),
        refused(
            "check: empty destination_addr",
            sm(&|x| x.destination_addr = c("")),
            S::ESME_RINVDSTADR,
        ),
        row(
            "check: a valid relative validity and priority 3 are accepted",
            Bound,
            sm(&|x| {
                x.validity = c("000001000000000R");
                x.priority = 3;
            }),
            Answer(CommandId::SUBMIT_SM_RESP, S::ESME_ROK),
        ),
    ]);
    // Control rows: well-formed PDUs get their normal answers in the same harness.
    v.push(row(
        "control: unbind while bound is answered, then the SMSC closes",
        Bound,
        pdu(CommandId::UNBIND, 0, SEQ, &[]),
        AnswerClose(CommandId::UNBIND_RESP, S::ESME_ROK),
    ));
    v.push(row(
        "control: a valid submit_sm",
        Bound,
        Submit::default().pdu(),
        Answer(CommandId::SUBMIT_SM_RESP, S::ESME_ROK),
    ));
    v
}

/// Binds `s` raw as `id`; panics unless bound.
fn raw_bind(s: &mut TcpStream, command: CommandId, deadline: Instant) {
    let body = bind_body(&c("alice"), &c("secret"), &c(""));
    s.write_all(&pdu(command, 0, 1, &body)).expect("write bind");
    match read_pdu(s, deadline) {
        Got::Pdu { status, seq: 1, .. } if status == S::ESME_ROK => {}
        other => panic!("raw bind failed: {other:?}"),
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// Sends an `enquire_link` and expects its response as the very next PDU: proves that the
/// connection is served and that nothing else was sent before it.
fn probe(s: &mut TcpStream, deadline: Instant) -> Result<(), String> {
    s.write_all(&pdu(CommandId::ENQUIRE_LINK, 0, PROBE_SEQ, &[]))
        .map_err(|e| format!("probe write: {e}"))?;
    match read_pdu(s, deadline) {
        Got::Pdu {
            id: CommandId::ENQUIRE_LINK_RESP,
            status: S::ESME_ROK,
            seq: PROBE_SEQ,
        } => Ok(()),
        other => Err(format!(
            "expected the probe's enquire_link_resp, got {other:?}"
        )),
    }
}

/// Runs one row on a fresh connection; the reason it failed, if it did.
fn run_row(addr: SocketAddr, r: &Row) -> Result<(), String> {
    let deadline = Instant::now() + WAIT;
    let mut s = connect(addr);
    match r.pre {
        Pre::Open => {}
        Pre::Bound => raw_bind(&mut s, CommandId::BIND_TRANSCEIVER, deadline),
        Pre::BoundRx => raw_bind(&mut s, CommandId::BIND_RECEIVER, deadline),
    }
    s.write_all(&r.bytes).map_err(|e| format!("write: {e}"))?;
    match r.expect {
        Expect::Answer(id, status) | Expect::AnswerClose(id, status) => {
            let got = read_pdu(&mut s, deadline);
            let want = Got::Pdu {
                id,
                status,
                seq: SEQ,
            };
            if got != want {
                return Err(format!("expected {want:?}, got {got:?}"));
            }
            if matches!(r.expect, Expect::AnswerClose(..)) {
                return match read_pdu(&mut s, deadline) {
                    Got::Eof => Ok(()),
                    other => Err(format!("expected a close, got {other:?}")),
                };
            }
            probe(&mut s, deadline)
        }
        Expect::NackClose(status, seq) => {
            let got = read_pdu(&mut s, deadline);
            let want = Got::Pdu {
                id: CommandId::GENERIC_NACK,
                status,
                seq,
            };
            if got != want {
                return Err(format!("expected {want:?}, got {got:?}"));
            }
            match read_pdu(&mut s, deadline) {
                Got::Eof => Ok(()),
                other => Err(format!("expected a close after the nack, got {other:?}")),
            }
        }
        Expect::Silent => probe(&mut s, deadline),
    }
}

/// A fresh session binds and submits.
fn still_serves(addr: SocketAddr) -> Result<(), String> {
    let deadline = Instant::now() + WAIT;
    let mut s = connect(addr);
    raw_bind(&mut s, CommandId::BIND_TRANSCEIVER, deadline);
    s.write_all(&Submit::default().pdu())
        .map_err(|e| e.to_string())?;
    match read_pdu(&mut s, deadline) {
        Got::Pdu {
            id: CommandId::SUBMIT_SM_RESP,
            status: S::ESME_ROK,
            seq: SEQ,
        } => Ok(()),
        other => Err(format!("a fresh session's submit got {other:?}")),
    }
}

#[test]
fn every_malformed_pdu_gets_its_specific_answer_and_the_smsc_keeps_serving() {
    // Real sockets: raw malformed octets through the session's framing and decoder.
    let _ = env_logger::builder().is_test(true).try_init();
    let smsc = Smsc::start(
        SmscConfig::default()
            .user(User::new("alice", "secret"))
            // Rows with failed binds must not lock 127.0.0.1 out (tested on its own).
            .failed_bind_limit(0, Duration::from_secs(60)),
    )
    .expect("SMSC starts");
    let addr = smsc.local_addr();
    // One long-lived session stays bound through the whole matrix and must keep working.
    let mut bystander = connect(addr);
    raw_bind(
        &mut bystander,
        CommandId::BIND_TRANSCEIVER,
        Instant::now() + WAIT,
    );
    let rows = rows();
    assert!(rows.len() >= 40, "the matrix has {} rows", rows.len());
    let mut failures = Vec::new();
    for r in &rows {
        if let Err(e) = run_row(addr, r) {
            failures.push(format!("{}: {e}", r.name));
        }
        if let Err(e) = still_serves(addr) {
            failures.push(format!("after {}: {e}", r.name));
        }
    }
    if let Err(e) = probe(&mut bystander, Instant::now() + WAIT) {
        failures.push(format!("the bystander session: {e}"));
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    let stats = smsc.stats();
    assert!(stats.open_connections >= 1);
    smsc.shutdown();
}

/// With `strict_tlvs` off, a known TLV whose value does not fit is ignored like an unknown
/// one, and the submit is accepted.
#[test]
fn lenient_tlvs_accept_a_malformed_known_tlv() {
    // Real socket: a malformed TLV in raw octets goes through the session's decoder.
    let mut cfg = SmscConfig::default().user(User::new("alice", "secret"));
    cfg.strict_tlvs = false;
    let smsc = Smsc::start(cfg).expect("SMSC starts");
    let deadline = Instant::now() + WAIT;
    let mut s = connect(smsc.local_addr());
    raw_bind(&mut s, CommandId::BIND_TRANSCEIVER, deadline);
    let submit = Submit {
        tlvs: tlv(0x0204, &[7]),
        ..Default::default()
    };
    s.write_all(&submit.pdu()).expect("write");
    assert_eq!(
        read_pdu(&mut s, deadline),
        Got::Pdu {
            id: CommandId::SUBMIT_SM_RESP,
            status: S::ESME_ROK,
            seq: SEQ
        }
    );
    assert!(SmscConfig::default().strict_tlvs);
    smsc.shutdown();
}

/// With `lenient`, the values the field checks refuse are accepted, as load tests want.
#[test]
fn lenient_mode_accepts_what_the_field_checks_refuse() {
    // Real socket: raw field octets the typed PDUs of a virtual-clock test cannot carry.
    let smsc = Smsc::start(
        SmscConfig::default()
            .user(User::new("alice", "secret"))
            .lenient(true),
    )
    .expect("SMSC starts");
    let deadline = Instant::now() + WAIT;
    let mut s = connect(smsc.local_addr());
    raw_bind(&mut s, CommandId::BIND_TRANSCEIVER, deadline);
    let bad = [
        Submit {
            schedule: c("261331235959000+"),
            ..Default::default()
        },
        Submit {
            priority: 9,
            replace_if_present: 2,
            ..Default::default()
        },
        Submit {
            tlvs: tlv(0x0424, b"payload"),
            ..Default::default()
        },
    ];
    for submit in bad {
        s.write_all(&submit.pdu()).expect("write");
        assert_eq!(
            read_pdu(&mut s, deadline),
            Got::Pdu {
                id: CommandId::SUBMIT_SM_RESP,
                status: S::ESME_ROK,
                seq: SEQ
            }
        );
    }
    assert_eq!(smsc.stats().refused, 0);
    assert!(!SmscConfig::default().lenient);
    smsc.shutdown();
}
