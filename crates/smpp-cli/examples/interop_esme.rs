//! The Rust side of the interop run against the node-smpp SMSC (`cargo xtask interop`,
//! scenario 1; see docs/interop.md). Not a general tool.
//!
//! ```text
//! interop_esme --addr 127.0.0.1:PORT --out FILE
//! ```
//!
//! Binds as transmitter, receiver and transceiver in turn (system_id `interop`, password
//! `secret`, interface_version 0x34) with `smpp-client`, sends every request type the SMSC
//! side of node-smpp answers, and receives the receipts and MO messages it delivers. Every
//! step is written to FILE as a JSON line holding the PDU exactly as this side encoded or
//! decoded it (the objects of `smpp decode`); the interop script compares them with what
//! node-smpp logged. Exits 1 (after writing an `error` line) when a step fails.
//!
//! With `SMPP_INTEROP_FACE=tokio` the same steps go through `smpp-tokio`'s async client
//! instead of the blocking `smpp-client` (`cargo xtask interop` runs both).

#![allow(clippy::print_stderr)]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use smpp_client::{Client, ClientConfig, InboundKind, Sent, TextOptions};
use smpp_pdu::concat::SplitMethod;
use smpp_pdu::text::{self, Encoding};
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{
    Body, CancelSm, CommandStatus, DataSm, DestAddress, EnquireLink, Pdu, QuerySm, ReplaceSm,
    SubmitMulti, SubmitSm,
};
use smpp_session::BindKind;

const SYSTEM_ID: &str = "interop";
const PASSWORD: &str = "secret";
/// How long to wait for the deliveries node-smpp announces on a receiving bind.
const INBOUND_WAIT: Duration = Duration::from_secs(10);

struct Log {
    out: BufWriter<File>,
}

impl Log {
    fn line(&mut self, v: Value) -> Result<(), String> {
        writeln!(self.out, "{v}")
            .and_then(|()| self.out.flush())
            .map_err(|e| format!("writing the log: {e}"))
    }
}

fn pdu_json(pdu: &Pdu<'_>) -> Value {
    serde_json::from_str(&smpp_pdu::json::pdu_object(pdu)).expect("pdu_object writes JSON")
}

fn kind_name(kind: BindKind) -> &'static str {
    match kind {
        BindKind::Transmitter => "transmitter",
        BindKind::Receiver => "receiver",
        BindKind::Transceiver => "transceiver",
    }
}

/// The client under test: the blocking `smpp-client`, or `smpp-tokio`'s async client
/// (each call run to its end on a runtime of its own).
enum Face {
    Blocking(Client),
    Tokio {
        rt: tokio::runtime::Runtime,
        client: smpp_tokio::Client,
        inbound: smpp_tokio::Inbound,
    },
}

/// Whether `SMPP_INTEROP_FACE=tokio` asks for the async client.
fn tokio_face() -> bool {
    std::env::var("SMPP_INTEROP_FACE").is_ok_and(|v| v == "tokio")
}

impl Face {
    fn connect(addr: SocketAddr, config: ClientConfig) -> Result<Face, smpp_client::Error> {
        if !tokio_face() {
            return Client::connect(addr, config).map(Face::Blocking);
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let (client, inbound) = rt.block_on(smpp_tokio::Client::connect(addr, config))?;
        Ok(Face::Tokio {
            rt,
            client,
            inbound,
        })
    }

    fn request(&self, body: Body<'static>) -> Result<Pdu<'static>, smpp_client::Error> {
        match self {
            Face::Blocking(c) => c.request(body),
            Face::Tokio { rt, client, .. } => rt.block_on(client.request(body)),
        }
    }

    fn send_text(
        &self,
        from: &str,
        to: &str,
        text: &str,
        options: &TextOptions,
    ) -> Result<Sent, smpp_client::Error> {
        match self {
            Face::Blocking(c) => c.send_text(from, to, text, options),
            Face::Tokio { rt, client, .. } => {
                rt.block_on(client.send_text(from, to, text, options))
            }
        }
    }

    /// The next inbound item within `wait`, handed to `f`; `None` when none came.
    fn recv<R>(&mut self, wait: Duration, f: impl FnOnce(&InboundKind) -> R) -> Option<R> {
        match self {
            Face::Blocking(c) => c.inbound().recv_timeout(wait).ok().map(|i| f(i.kind())),
            Face::Tokio { rt, inbound, .. } => rt
                .block_on(async { tokio::time::timeout(wait, inbound.recv()).await })
                .ok()
                .flatten()
                .map(|k| f(&k)),
        }
    }

    fn unbind(self) -> Result<(), smpp_client::Error> {
        match self {
            Face::Blocking(c) => c.unbind().map(drop),
            Face::Tokio { rt, client, .. } => rt.block_on(client.unbind()).map(drop),
        }
    }
}

/// The PDU of an inbound item: a receipt, a message carried by one PDU, another PDU.
fn pdu_of(k: &InboundKind) -> Option<&Pdu<'static>> {
    match k {
        InboundKind::Receipt { pdu, .. } | InboundKind::Pdu { pdu, .. } => Some(pdu),
        InboundKind::Message { pdu, .. } => pdu.as_ref(),
        _ => None,
    }
}

/// The text of an inbound item: an MO message's, or another PDU's when it is text.
fn text_of(k: &InboundKind) -> Option<&str> {
    match k {
        InboundKind::Message { message, .. } => message.text.as_deref(),
        InboundKind::Pdu { text, .. } => text.as_deref(),
        _ => None,
    }
}

fn connect(addr: SocketAddr, kind: BindKind, log: &mut Log) -> Result<Face, String> {
    let mut config = ClientConfig::new(kind, SYSTEM_ID, PASSWORD)
        .response_timeout(Duration::from_secs(5))
        .enquire_link_interval(None)
        .window(16)
        // Each MO PDU is compared with node-smpp's log as it came, not reassembled.
        .reassemble(false);
    config.bind = config.bind.interface_version(0x34);
    let client = Face::connect(addr, config).map_err(|e| format!("bind {kind:?}: {e}"))?;
    log.line(json!({
        "step": "bind", "kind": kind_name(kind), "system_id": SYSTEM_ID,
        "interface_version": 0x34,
    }))?;
    Ok(client)
}

/// Sends one request, logs it with its response (the request's sequence number taken from
/// the response, which echoes it) and, for a text message, the text it carries.
fn request(
    client: &Face,
    label: &str,
    body: Body<'static>,
    text: Option<&str>,
    log: &mut Log,
) -> Result<(), String> {
    let mut sent = pdu_json(&Pdu::new(0, body.clone()));
    let resp = client.request(body).map_err(|e| format!("{label}: {e}"))?;
    sent["sequence_number"] = json!(resp.sequence_number);
    log.line(json!({
        "step": "request", "label": label, "pdu": sent, "resp": pdu_json(&resp), "text": text,
    }))
}

/// Sends a request the SMSC is expected to refuse with `expected`, logs it.
fn refused(
    client: &Face,
    label: &str,
    body: Body<'static>,
    expected: CommandStatus,
    log: &mut Log,
) -> Result<(), String> {
    let sent = pdu_json(&Pdu::new(0, body.clone()));
    match client.request(body) {
        Err(smpp_client::Error::Status(s)) if s == expected => log.line(json!({
            "step": "refused", "label": label, "pdu": sent,
            "status": smpp_pdu::json::status_name(s),
        })),
        other => Err(format!("{label}: expected {expected:?}, got {other:?}")),
    }
}

/// A one-segment `submit_sm` of `text` in `encoding`, asking for a receipt.
fn short_submit(text: &str, encoding: Encoding, data_coding: u8) -> SubmitSm<'static> {
    let bytes = text::encode(text, encoding).expect("the interop texts encode");
    SubmitSm {
        source_addr_ton: 5,
        source_addr_npi: 0,
        source_addr: "Interop".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "447700900001".into(),
        registered_delivery: 1,
        data_coding,
        short_message: bytes.into(),
        tlvs: vec![Tlv::UserMessageReference(0x1234), Tlv::SourcePort(9200)],
        ..Default::default()
    }
}

fn send_long(
    client: &Face,
    label: &str,
    text: &str,
    encoding: Encoding,
    split: SplitMethod,
    log: &mut Log,
) -> Result<(), String> {
    let options = TextOptions {
        encoding: Some(encoding),
        split,
        registered_delivery: 0,
        ..TextOptions::default()
    };
    let ids = client
        .send_text("Interop", "447700900002", text, &options)
        .map_err(|e| format!("{label}: {e}"))?;
    let data_coding = match encoding {
        Encoding::Ucs2 => 8,
        Encoding::Latin1 => 3,
        _ => 0,
    };
    let split = match split {
        SplitMethod::Udh8 => "udh8",
        SplitMethod::Udh16 => "udh16",
        SplitMethod::Sar => "sar",
        _ => "payload",
    };
    // Every segment carries these fields, and the segments' texts (without UDH) joined are
    // these octets: splitting never cuts a GSM escape or a surrogate pair.
    let octets = text::encode(text, encoding).map_err(|e| format!("{label}: {e}"))?;
    log.line(json!({
        "step": "text", "label": label, "text": text, "split": split,
        "octets": smpp_pdu::json::hex(&octets), "message_ids": ids.message_ids,
        "fields": {
            // The automatic addresses: "Interop" is alphanumeric (5/0), the digits-only
            // destination takes the configured default (1/1).
            "service_type": "", "source_addr_ton": 5,
            "source_addr_npi": 0, "source_addr": "Interop",
            "dest_addr_ton": 1, "dest_addr_npi": 1,
            "destination_addr": "447700900002", "protocol_id": 0, "priority_flag": 0,
            "schedule_delivery_time": "", "validity_period": "",
            "registered_delivery": options.registered_delivery, "replace_if_present_flag": 0,
            "data_coding": data_coding, "sm_default_msg_id": 0,
        },
    }))
}

/// Receives `n` inbound messages (receipts and MO), logging each.
fn receive(client: &mut Face, n: usize, log: &mut Log) -> Result<(), String> {
    let deadline = Instant::now() + INBOUND_WAIT;
    let mut i = 0;
    while i < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = client
            .recv(left, |kind| {
                // The wire is compared PDU by PDU: the lifecycle's reports are not
                // deliveries.
                let pdu = pdu_of(kind)?;
                let receipt = match kind {
                    InboundKind::Receipt { receipt: r, .. } => Some(
                        json!({ "id": r.id, "stat": r.state.stat(), "err": r.err, "text": r.text }),
                    ),
                    _ => None,
                };
                Some(json!({
                    "step": "inbound", "pdu": pdu_json(pdu), "text": text_of(kind),
                    "receipt": receipt,
                }))
            })
            .ok_or_else(|| format!("only {i} of {n} deliveries arrived within {INBOUND_WAIT:?}"))?;
        let Some(line) = line else { continue };
        i += 1;
        log.line(line)?;
    }
    Ok(())
}

fn unbind(client: Face, log: &mut Log) -> Result<(), String> {
    client.unbind().map_err(|e| format!("unbind: {e}"))?;
    log.line(json!({ "step": "unbind" }))
}

fn run(addr: SocketAddr, log: &mut Log) -> Result<(), String> {
    // 0. A wrong password: node-smpp refuses the bind with a header-only response.
    let mut config = ClientConfig::new(BindKind::Transmitter, SYSTEM_ID, "wrong")
        .response_timeout(Duration::from_secs(5))
        .enquire_link_interval(None);
    config.bind = config.bind.interface_version(0x34);
    match Face::connect(addr, config) {
        Err(smpp_client::Error::BindRejected(s)) => log.line(json!({
            "step": "bind_refused", "kind": "transmitter", "system_id": SYSTEM_ID,
            "status": smpp_pdu::json::status_name(s),
        }))?,
        Err(e) => return Err(format!("bind with a wrong password: {e}")),
        Ok(_) => return Err("bind with a wrong password: accepted".into()),
    }

    // 1. Transmitter: every request type, short texts in three alphabets, long texts in
    //    every split method.
    let tx = connect(addr, BindKind::Transmitter, log)?;
    let shorts = [
        ("submit_gsm", "Hello @£$ {[~]} € ^|\\ ok", Encoding::Gsm7, 0),
        (
            "submit_latin1",
            "Grüße aus Köln: ½ ¿ ñ ø",
            Encoding::Latin1,
            3,
        ),
        ("submit_ucs2", "Привет, 世界 👍 €", Encoding::Ucs2, 8),
    ];
    for (label, text, encoding, data_coding) in shorts {
        let body = Body::from(short_submit(text, encoding, data_coding));
        request(&tx, label, body, Some(text), log)?;
    }
    // node-smpp refuses destination "000"; its error responses are header-only.
    let mut sm = short_submit("To nowhere", Encoding::Gsm7, 0);
    sm.destination_addr = "000".into();
    sm.registered_delivery = 0;
    refused(
        &tx,
        "submit_refused",
        Body::from(sm),
        CommandStatus::ESME_RINVDSTADR,
        log,
    )?;
    let gsm_long = "GSM long message with extension characters {braces} [brackets] ~tilde~ \
                    €uro and more text to pass 160 septets: the quick brown fox jumps over \
                    the lazy dog 0123456789 @£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ end.";
    let ucs2_long = "Длинное сообщение UCS-2 с эмодзи 😀😃😄😁 и китайскими иероглифами \
                     你好世界, разбитое на несколько частей, чтобы проверить суррогатные \
                     пары 🎉🎊 на границах сегментов. Конец.";
    let latin1_long = "Latin-1 long message: Ça va? Größe, señor, déjà vu, smørrebrød, \
                       café crème, naïve façade - only ¡¿½¼¾ ÀÉÎÕÜ àéîõü ÿ and plain \
                       ASCII text that goes on past 140 octets.";
    send_long(
        &tx,
        "long_udh8_gsm",
        gsm_long,
        Encoding::Gsm7,
        SplitMethod::Udh8,
        log,
    )?;
    send_long(
        &tx,
        "long_udh16_ucs2",
        ucs2_long,
        Encoding::Ucs2,
        SplitMethod::Udh16,
        log,
    )?;
    send_long(
        &tx,
        "long_sar_latin1",
        latin1_long,
        Encoding::Latin1,
        SplitMethod::Sar,
        log,
    )?;
    send_long(
        &tx,
        "long_payload_gsm",
        gsm_long,
        Encoding::Gsm7,
        SplitMethod::Payload,
        log,
    )?;

    request(
        &tx,
        "query_sm",
        Body::from(QuerySm {
            message_id: "n1".into(),
            source_addr_ton: 5,
            source_addr_npi: 0,
            source_addr: "Interop".into(),
            tlvs: vec![],
        }),
        None,
        log,
    )?;
    request(
        &tx,
        "replace_sm",
        Body::from(ReplaceSm {
            message_id: "n2".into(),
            source_addr_ton: 5,
            source_addr_npi: 0,
            source_addr: "Interop".into(),
            schedule_delivery_time: "000000001000000R".into(),
            validity_period: "261231235959000+".into(),
            registered_delivery: 0,
            sm_default_msg_id: 0,
            short_message: text::encode("Replaced text", Encoding::Gsm7)
                .expect("GSM")
                .into(),
            tlvs: vec![],
        }),
        None,
        log,
    )?;
    request(
        &tx,
        "cancel_sm",
        Body::from(CancelSm {
            service_type: "".into(),
            message_id: "n3".into(),
            source_addr_ton: 5,
            source_addr_npi: 0,
            source_addr: "Interop".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "447700900001".into(),
            tlvs: vec![],
        }),
        None,
        log,
    )?;
    request(
        &tx,
        "submit_multi",
        Body::from(SubmitMulti {
            service_type: "CMT".into(),
            source_addr_ton: 5,
            source_addr_npi: 0,
            source_addr: "Interop".into(),
            dest_addresses: vec![
                DestAddress::SmeAddress {
                    dest_addr_ton: 1,
                    dest_addr_npi: 1,
                    destination_addr: "447700900003".into(),
                },
                DestAddress::SmeAddress {
                    dest_addr_ton: 1,
                    dest_addr_npi: 1,
                    destination_addr: "000".into(),
                },
                DestAddress::DistributionList {
                    dl_name: "friends".into(),
                },
            ],
            esm_class: 0,
            protocol_id: 0,
            priority_flag: 1,
            schedule_delivery_time: "".into(),
            validity_period: "".into(),
            registered_delivery: 0,
            replace_if_present_flag: 0,
            data_coding: 8,
            sm_default_msg_id: 0,
            short_message: text::encode("Hi all 👋", Encoding::Ucs2)
                .expect("UCS-2")
                .into(),
            tlvs: vec![],
        }),
        None,
        log,
    )?;
    request(
        &tx,
        "data_sm",
        Body::from(DataSm {
            service_type: "".into(),
            source_addr_ton: 5,
            source_addr_npi: 0,
            source_addr: "Interop".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "447700900004".into(),
            esm_class: 0,
            registered_delivery: 0,
            data_coding: 0,
            tlvs: vec![
                Tlv::MessagePayload(
                    text::encode("data_sm payload {GSM}", Encoding::Gsm7)
                        .expect("GSM")
                        .into(),
                ),
                Tlv::QosTimeToLive(3600),
                Tlv::MoreMessagesToSend(0),
            ],
        }),
        None,
        log,
    )?;
    request(
        &tx,
        "enquire_link",
        Body::from(EnquireLink::default()),
        None,
        log,
    )?;
    unbind(tx, log)?;

    // 2. Receiver: node-smpp delivers the three receipts of the short submits, then three MO
    //    messages (GSM, UCS-2, Latin-1 in message_payload).
    let mut rx = connect(addr, BindKind::Receiver, log)?;
    receive(&mut rx, 6, log)?;
    unbind(rx, log)?;

    // 3. Transceiver: a submit with a receipt on the same session, MO messages, a keep-alive.
    let mut trx = connect(addr, BindKind::Transceiver, log)?;
    let text = "Transceiver test";
    let body = Body::from(short_submit(text, Encoding::Gsm7, 0));
    request(&trx, "submit_trx", body, Some(text), log)?;
    receive(&mut trx, 4, log)?;
    request(
        &trx,
        "enquire_link_trx",
        Body::from(EnquireLink::default()),
        None,
        log,
    )?;
    unbind(trx, log)?;

    // 4. node-smpp drops a session whose PDU is longer than 16384 octets (it cannot read
    //    it): the request resolves as `Disconnected`, once.
    let tx = connect(addr, BindKind::Transmitter, log)?;
    let body = Body::from(DataSm {
        source_addr: "Interop".into(),
        destination_addr: "447700900005".into(),
        tlvs: vec![Tlv::MessagePayload(vec![b'x'; 17_000].into())],
        ..Default::default()
    });
    let mut sent = pdu_json(&Pdu::new(0, body.clone()));
    sent["tlvs"] = json!("(17000 octets of message_payload)");
    match tx.request(body) {
        Err(smpp_client::Error::Disconnected) => {
            log.line(json!({ "step": "dropped", "label": "data_sm_too_long", "pdu": sent }))?
        }
        other => {
            return Err(format!(
                "data_sm_too_long: expected Disconnected, got {other:?}"
            ))
        }
    }
    drop(tx);
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let (Some(addr), Some(out)) = (value("--addr"), value("--out")) else {
        eprintln!("usage: interop_esme --addr 127.0.0.1:PORT --out FILE");
        return ExitCode::from(2);
    };
    let addr: SocketAddr = match addr.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("interop_esme: --addr {addr}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut log = match File::create(&out) {
        Ok(f) => Log {
            out: BufWriter::new(f),
        },
        Err(e) => {
            eprintln!("interop_esme: creating {out}: {e}");
            return ExitCode::from(2);
        }
    };
    match run(addr, &mut log) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("interop_esme: {e}");
            let _ = log.line(json!({ "step": "error", "error": e }));
            ExitCode::FAILURE
        }
    }
}
