//! The `Rig`: a `smpp_smsc::core::Core` at virtual time `t0`, fed events and times by
//! hand, its outputs read back. No socket, no thread, no sleep: "five seconds later" is
//! `tick(5000)`.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use smpp_pdu::receipt::Receipt;
use smpp_pdu::{
    BindReceiver, BindTransceiver, BindTransmitter, Body, CommandStatus, DeliverSm, DeliverSmResp,
    Pdu, SubmitSm,
};
use smpp_session::{BindKind, Event};
use smpp_smsc::core::{Core, Output};
use smpp_smsc::{Record, SmscConfig};
use smpp_transport::{ConnEvent, Outcome};

/// The peer address every connection comes from (one address: the lockout counts it).
pub const PEER: &str = "192.0.2.7:40000";

/// The wall-clock time the core's virtual `t0` stands for.
pub fn wall0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// A core at virtual time `t0`, and helpers to drive it.
pub struct Rig {
    pub core: Core,
    pub t0: Instant,
    pub seq: u32,
    /// The records the core produced, in order (`outputs` sets them aside here).
    pub records: Vec<Record>,
}

impl Rig {
    pub fn new(config: SmscConfig) -> Rig {
        let t0 = Instant::now();
        Rig::with(Core::new(config, t0, wall0()), t0)
    }

    pub fn with(core: Core, t0: Instant) -> Rig {
        Rig {
            core,
            t0,
            seq: 0,
            records: Vec::new(),
        }
    }

    pub fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    /// Every output so far, records set aside in `records`.
    pub fn outputs(&mut self) -> Vec<Output> {
        let mut out = Vec::new();
        while let Some(o) = self.core.poll_output() {
            match o {
                Output::Record(r) => self.records.push(r),
                o => out.push(o),
            }
        }
        out
    }

    pub fn connect(&mut self, conn: u64, ms: u64) {
        let peer: SocketAddr = PEER.parse().unwrap();
        self.core.connected(self.at(ms), conn, peer);
    }

    /// A bind of `kind` on `conn` at `ms`; what the core answered.
    pub fn bind_as(
        &mut self,
        conn: u64,
        ms: u64,
        kind: BindKind,
        system_id: &str,
        password: &str,
    ) -> Vec<Output> {
        self.seq += 1;
        let (system_id, password) = (system_id.to_string(), password.to_string());
        let body: Body<'static> = match kind {
            BindKind::Transmitter => BindTransmitter {
                system_id: system_id.into(),
                password: password.into(),
                interface_version: 0x34,
                ..Default::default()
            }
            .into(),
            BindKind::Receiver => BindReceiver {
                system_id: system_id.into(),
                password: password.into(),
                interface_version: 0x34,
                ..Default::default()
            }
            .into(),
            _ => BindTransceiver {
                system_id: system_id.into(),
                password: password.into(),
                interface_version: 0x34,
                ..Default::default()
            }
            .into(),
        };
        let ev = ConnEvent::Session(Event::BindRequested {
            sequence_number: self.seq,
            pdu: Pdu::new(self.seq, body),
        });
        self.core.on_event(self.at(ms), conn, ev);
        self.outputs()
    }

    /// A transceiver bind on `conn` at `ms`.
    pub fn bind(&mut self, conn: u64, ms: u64, system_id: &str, password: &str) -> Vec<Output> {
        self.bind_as(conn, ms, BindKind::Transceiver, system_id, password)
    }

    /// Connects `conn` at `ms` and binds it as `kind`; panics unless accepted.
    pub fn bound_as(&mut self, conn: u64, ms: u64, kind: BindKind, system_id: &str, pw: &str) {
        self.connect(conn, ms);
        let out = self.bind_as(conn, ms, kind, system_id, pw);
        assert!(matches!(out[..], [Output::AcceptBind { .. }]), "{out:?}");
    }

    /// A transceiver of "esme" bound on connection `conn` at time 0.
    pub fn bound(&mut self, conn: u64) {
        self.bound_as(conn, 0, BindKind::Transceiver, "esme", "pw");
    }

    pub fn request(&mut self, conn: u64, ms: u64, body: impl Into<Body<'static>>) -> Vec<Output> {
        self.seq += 1;
        let pdu = Pdu::new(self.seq, body.into());
        self.core.on_event(
            self.at(ms),
            conn,
            ConnEvent::Session(Event::Request {
                sequence_number: self.seq,
                pdu,
            }),
        );
        self.outputs()
    }

    /// The session's report that `conn` unbound.
    pub fn unbound(&mut self, conn: u64, ms: u64) -> Vec<Output> {
        self.core
            .on_event(self.at(ms), conn, ConnEvent::Session(Event::Unbound));
        self.outputs()
    }

    pub fn tick(&mut self, ms: u64) -> Vec<Output> {
        self.core.handle_timeout(self.at(ms));
        self.outputs()
    }

    /// Runs the clock from timeout to timeout until nothing is due (or `until_ms`), the
    /// ESME acknowledging every request at once; every output with the virtual time (ms
    /// after `t0`) it came at.
    pub fn run(&mut self, until_ms: u64) -> Vec<(u64, Output)> {
        let mut got = Vec::new();
        while let Some(t) = self.core.poll_timeout() {
            if t > self.at(until_ms) {
                break;
            }
            self.core.handle_timeout(t);
            let ms = (t - self.t0).as_millis() as u64;
            // An ESME that answers at once: each request is acknowledged as it comes (the
            // core holds requests back past its outstanding limit until earlier ones
            // complete), and what that releases comes at the same time.
            let mut batch = self.outputs();
            let mut i = 0;
            while i < batch.len() {
                if let Output::Request { tag, .. } = &batch[i] {
                    let ok = Outcome::Response(Pdu::new(9, DeliverSmResp::default()));
                    self.core.on_completed(self.at(ms), *tag, ok);
                    batch.extend(self.outputs());
                }
                i += 1;
            }
            got.extend(batch.into_iter().map(|o| (ms, o)));
        }
        got
    }

    /// Acknowledges a request output (`deliver_sm_resp` `ESME_ROK`).
    pub fn ack(&mut self, ms: u64, o: &Output) {
        let Output::Request { tag, .. } = o else {
            panic!("not a request: {o:?}")
        };
        self.core.on_completed(
            self.at(ms),
            *tag,
            Outcome::Response(Pdu::new(9, DeliverSmResp::default())),
        );
        self.outputs();
    }
}

pub fn submit(rd: u8) -> SubmitSm<'static> {
    SubmitSm {
        source_addr: "12345".into(),
        destination_addr: "447700900123".into(),
        registered_delivery: rd,
        short_message: "hello".into(),
        ..Default::default()
    }
}

/// A `submit_sm` to `to` with `text`.
pub fn sm(to: &str, text: &str, rd: u8) -> SubmitSm<'static> {
    SubmitSm {
        source_addr: "12345".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: to.to_string().into(),
        registered_delivery: rd,
        short_message: text.to_string().into(),
        ..Default::default()
    }
}

/// The status and message id of a `submit_sm_resp` output.
pub fn submit_resp(o: &Output) -> (CommandStatus, String) {
    match o {
        Output::Respond {
            status,
            body: Body::SubmitSmResp(r),
            ..
        } => (*status, r.message_id.to_str_lossy().into_owned()),
        other => panic!("not a submit_sm_resp: {other:?}"),
    }
}

/// The message id of the one `submit_sm_resp` `ESME_ROK` in `out`.
pub fn ok_id(out: &[Output]) -> String {
    match out {
        [o] => {
            let (status, id) = submit_resp(o);
            assert_eq!(status, CommandStatus::ESME_ROK);
            id
        }
        other => panic!("expected one response: {other:?}"),
    }
}

/// The status of the one response in `out`.
pub fn status_of(out: &[Output]) -> CommandStatus {
    match out {
        [Output::Respond { status, .. }] => *status,
        other => panic!("{other:?}"),
    }
}

/// The `deliver_sm` of a request output, and its connection.
pub fn deliver(o: &Output) -> (u64, &DeliverSm<'static>) {
    match o {
        Output::Request {
            conn,
            body: Body::DeliverSm(d),
            ..
        } => (*conn, d),
        other => panic!("not a deliver_sm: {other:?}"),
    }
}

/// The `short_message` of a `deliver_sm` as text.
pub fn text_of(d: &DeliverSm<'_>) -> String {
    String::from_utf8_lossy(d.short_message.as_bytes()).into_owned()
}

/// The receipt carried by a `deliver_sm` request output, and the output's tag.
pub fn receipt(o: &Output) -> (u64, Receipt) {
    match o {
        Output::Request {
            tag,
            body: Body::DeliverSm(d),
            ..
        } => (*tag, Receipt::parse(&text_of(d), &d.tlvs).expect("receipt")),
        other => panic!("not a deliver_sm: {other:?}"),
    }
}
