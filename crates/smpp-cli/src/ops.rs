//! The other operations an ESME performs, one subcommand each: `query`, `cancel`,
//! `replace`, `submit-multi`, `data-sm` and `enquire`. Each binds (to the embedded SMSC
//! without --addr), does its one thing, prints a readable line (or one JSON object with
//! --json) and unbinds. Exit 0 on success, 1 when the SMSC refuses or does not answer, 2 on
//! a usage error.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use smpp_client::Client;
use smpp_pdu::address::{Npi, Ton};
use smpp_pdu::json::push_str;
use smpp_pdu::receipt::ReceiptState;
use smpp_pdu::text::{self, TextConfig};
use smpp_pdu::tlv::Tlv;
use smpp_pdu::{Body, CancelSm, DataSm, DestAddress, EnquireLink, QuerySm, ReplaceSm, SubmitMulti};
use smpp_session::BindKind;

use crate::common::{self, Connection};
use crate::fields::{self, PduFields, StoreFields};
use crate::out::{errln, outln, state_tone, tinted, Tone};

/// An address and its TON/NPI: as given with both set, else classified (`+` digits as
/// international, letters as alphanumeric, digits as unknown/ISDN).
#[derive(Args, Clone, Debug)]
pub(crate) struct Source {
    /// The originator address of the message(s) concerned.
    #[arg(long = "from", value_name = "ADDR", default_value = "")]
    from: String,
    /// TON of --from (with --source-npi, the address goes as given).
    #[arg(long, value_name = "N", value_parser = fields::byte)]
    source_ton: Option<u8>,
    /// NPI of --from.
    #[arg(long, value_name = "N", value_parser = fields::byte)]
    source_npi: Option<u8>,
}

impl Source {
    fn resolve(&self) -> Result<(u8, u8, String), String> {
        address(&self.from, self.source_ton, self.source_npi).map_err(|e| format!("--from: {e}"))
    }
}

/// An address with its TON/NPI, as [`Source`] says (digits as unknown/ISDN).
fn address(a: &str, ton: Option<u8>, npi: Option<u8>) -> Result<(u8, u8, String), String> {
    fields::address(a, ton, npi, (Ton::UNKNOWN, Npi::ISDN))
}

/// `smpp query`: the state of a message.
#[derive(Args, Debug)]
pub(crate) struct QueryArgs {
    /// The message id the SMSC gave.
    #[arg(long, value_name = "ID")]
    id: String,
    #[command(flatten)]
    source: Source,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    conn: Connection,
}

/// `smpp cancel`: cancel a message not delivered yet.
#[derive(Args, Debug)]
pub(crate) struct CancelArgs {
    /// The message id the SMSC gave.
    #[arg(long, value_name = "ID")]
    id: String,
    #[command(flatten)]
    source: Source,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    conn: Connection,
}

/// `smpp replace`: replace the text of a message not delivered yet.
#[derive(Args, Debug)]
pub(crate) struct ReplaceArgs {
    /// The message id the SMSC gave.
    #[arg(long, value_name = "ID")]
    id: String,
    /// The new text (GSM 7-bit when it fits, else UCS-2).
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    text: String,
    #[command(flatten)]
    source: Source,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    conn: Connection,
}

/// `smpp submit-multi`: one message to several destinations.
#[derive(Args, Debug)]
pub(crate) struct SubmitMultiArgs {
    /// A destination (repeat it, up to 254).
    #[arg(long, value_name = "ADDR", required = true)]
    to: Vec<String>,
    /// The text (one PDU: at most 254 octets once encoded).
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    text: String,
    #[command(flatten)]
    source: Source,
    /// Ask for delivery receipts (registered_delivery 1).
    #[arg(long)]
    registered_delivery: bool,
    #[command(flatten)]
    pdu: PduFields,
    #[command(flatten)]
    stored: StoreFields,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    conn: Connection,
}

/// `smpp data-sm`: a message as `data_sm` (the text in `message_payload`).
#[derive(Args, Debug)]
pub(crate) struct DataSmArgs {
    /// The destination.
    #[arg(long, value_name = "ADDR")]
    to: String,
    /// The text.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    text: String,
    #[command(flatten)]
    source: Source,
    /// Ask for delivery receipts (registered_delivery 1).
    #[arg(long)]
    registered_delivery: bool,
    #[command(flatten)]
    pdu: PduFields,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    conn: Connection,
}

/// `smpp enquire`: bind, send `enquire_link` N times, print each round trip.
#[derive(Args, Debug)]
pub(crate) struct EnquireArgs {
    /// How many `enquire_link`s (one at a time).
    #[arg(long, value_name = "N", default_value = "3", value_parser = common::at_least_one)]
    count: u64,
    /// Print one JSON object per round trip and a summary.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    conn: Connection,
}

/// Binds as a transceiver: to `--addr`, or to an embedded SMSC.
fn bind(sub: &str, conn: &Connection) -> Result<(Client, Option<smpp_smsc::Smsc>), String> {
    if let Err(e) = conn.check() {
        crate::usage_error(sub, &e);
    }
    let (addr, smsc) = conn.resolve(Duration::from_millis(200))?;
    let client = common::connect(addr, conn.config(BindKind::Transceiver)?.track(false))?;
    Ok((client, smsc))
}

/// Ends a subcommand: unbinds, prints the error if any, and gives the exit code.
fn finish(sub: &str, client: Option<Client>, r: Result<(), String>) -> ExitCode {
    if let Some(c) = client {
        let _ = c.unbind();
    }
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("smpp {sub}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one operation: bind, `f`, unbind.
fn run_op(sub: &str, conn: &Connection, f: impl FnOnce(&Client) -> Result<(), String>) -> ExitCode {
    match bind(sub, conn) {
        Ok((client, _smsc)) => {
            let r = f(&client);
            finish(sub, Some(client), r)
        }
        Err(e) => finish(sub, None, Err(e)),
    }
}

/// What failed and why; a missing response says it timed out.
fn failed(what: &str, e: &smpp_client::Error) -> String {
    match e {
        smpp_client::Error::Timeout => {
            format!("{what}: timed out ({e}; see --response-timeout)")
        }
        _ => format!("{what}: {e}"),
    }
}

/// The name of a `message_state` (the codec's table), `RESERVED` for a value it has none
/// for.
fn state_name(s: u8) -> &'static str {
    smpp_pdu::fields::enum_name(smpp_pdu::fields::MESSAGE_STATE, s).unwrap_or("RESERVED")
}

/// A JSON string literal.
fn js(s: &str) -> String {
    let mut o = String::new();
    push_str(&mut o, s);
    o
}

/// Runs `smpp query`.
pub(crate) fn query(o: &QueryArgs) -> ExitCode {
    run_op("query", &o.conn, |c| {
        let (ton, npi, from) = o.source.resolve()?;
        let r = c
            .query(&QuerySm {
                message_id: o.id.clone().into(),
                source_addr_ton: ton,
                source_addr_npi: npi,
                source_addr: from.into(),
                tlvs: vec![],
            })
            .map_err(|e| failed(&format!("query_sm {}", o.id), &e))?;
        let state = state_name(r.message_state);
        let final_date = r.final_date.to_str_lossy();
        if o.json {
            outln!(
                "{{\"event\":\"query\",\"message_id\":{},\"message_state\":{},\"state\":{},\"final_date\":{},\"error_code\":{}}}",
                js(&o.id),
                r.message_state,
                js(state),
                js(&final_date),
                r.error_code
            );
        } else {
            let line = format!(
                "{}: {state} ({}), final date {}, error code {}",
                o.id,
                r.message_state,
                if final_date.is_empty() {
                    "-"
                } else {
                    &final_date
                },
                r.error_code
            );
            let tone = state_tone(&ReceiptState::from_message_state(r.message_state));
            outln!("{}", tinted(tone, line));
        }
        Ok(())
    })
}

/// Runs `smpp cancel`.
pub(crate) fn cancel(o: &CancelArgs) -> ExitCode {
    run_op("cancel", &o.conn, |c| {
        let (ton, npi, from) = o.source.resolve()?;
        c.cancel(&CancelSm {
            message_id: o.id.clone().into(),
            source_addr_ton: ton,
            source_addr_npi: npi,
            source_addr: from.into(),
            ..Default::default()
        })
        .map_err(|e| failed(&format!("cancel_sm {}", o.id), &e))?;
        if o.json {
            outln!("{{\"event\":\"cancelled\",\"message_id\":{}}}", js(&o.id));
        } else {
            outln!("{}", tinted(Tone::Good, format!("{}: cancelled", o.id)));
        }
        Ok(())
    })
}

/// The text encoded for one PDU: GSM 7-bit unpacked when it fits, else UCS-2; with its
/// `data_coding`.
fn encode_one(t: &str) -> Result<(Vec<u8>, u8), String> {
    let config = TextConfig::default();
    let encoding = text::choose(t, &config);
    let data_coding = config.data_coding(encoding).unwrap_or(match encoding {
        text::Encoding::Ucs2 => 8,
        text::Encoding::Latin1 => 3,
        _ => 0,
    });
    let bytes = text::encode(t, encoding).map_err(|e| format!("--text: {e:?}"))?;
    Ok((bytes, data_coding))
}

/// Runs `smpp replace`.
pub(crate) fn replace(o: &ReplaceArgs) -> ExitCode {
    run_op("replace", &o.conn, |c| {
        let (ton, npi, from) = o.source.resolve()?;
        let (bytes, _) = encode_one(&o.text)?;
        if bytes.len() > 254 {
            return Err("--text: too long for one replace_sm (254 octets)".into());
        }
        c.replace(&ReplaceSm {
            message_id: o.id.clone().into(),
            source_addr_ton: ton,
            source_addr_npi: npi,
            source_addr: from.into(),
            short_message: bytes.into(),
            ..Default::default()
        })
        .map_err(|e| failed(&format!("replace_sm {}", o.id), &e))?;
        if o.json {
            outln!("{{\"event\":\"replaced\",\"message_id\":{}}}", js(&o.id));
        } else {
            outln!("{}", tinted(Tone::Good, format!("{}: replaced", o.id)));
        }
        Ok(())
    })
}

/// Runs `smpp submit-multi`.
pub(crate) fn submit_multi(o: &SubmitMultiArgs) -> ExitCode {
    run_op("submit-multi", &o.conn, |c| {
        let (ton, npi, from) = o.source.resolve()?;
        let (bytes, data_coding) = encode_one(&o.text)?;
        if bytes.len() > 254 {
            return Err("--text: too long for one submit_multi (254 octets)".into());
        }
        if o.to.len() > 254 {
            return Err("--to: at most 254 destinations".into());
        }
        let dests =
            o.to.iter()
                .map(|t| {
                    let (t_ton, t_npi, addr) = address(t, o.pdu.dest_ton, o.pdu.dest_npi)
                        .map_err(|e| format!("--to {t}: {e}"))?;
                    Ok(DestAddress::SmeAddress {
                        dest_addr_ton: t_ton,
                        dest_addr_npi: t_npi,
                        destination_addr: addr.into(),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
        let (validity, schedule) = o.stored.times()?;
        let r = c
            .submit_multi(&SubmitMulti {
                service_type: o.pdu.service_type.clone().unwrap_or_default().into(),
                source_addr_ton: ton,
                source_addr_npi: npi,
                source_addr: from.into(),
                dest_addresses: dests,
                esm_class: o.pdu.esm_class.unwrap_or(0),
                protocol_id: o.stored.protocol_id.unwrap_or(0),
                priority_flag: o.stored.priority.unwrap_or(0),
                schedule_delivery_time: schedule.into(),
                validity_period: validity.into(),
                registered_delivery: u8::from(o.registered_delivery),
                data_coding: o.pdu.data_coding.unwrap_or(data_coding),
                short_message: bytes.into(),
                tlvs: o.pdu.tlvs.clone(),
                ..Default::default()
            })
            .map_err(|e| failed("submit_multi", &e))?;
        let id = r.message_id.to_str_lossy().into_owned();
        let failed: Vec<(String, u32)> = r
            .unsuccess_smes
            .iter()
            .map(|u| {
                (
                    u.destination_addr.to_str_lossy().into_owned(),
                    u.error_status_code.0,
                )
            })
            .collect();
        if o.json {
            let list: Vec<String> = failed
                .iter()
                .map(|(a, s)| format!("{{\"to\":{},\"status\":{s}}}", js(a)))
                .collect();
            outln!(
                "{{\"event\":\"submitted\",\"message_id\":{},\"destinations\":{},\"unsuccess\":[{}]}}",
                js(&id),
                o.to.len(),
                list.join(",")
            );
        } else {
            let line = format!(
                "submitted to {} destination(s): message id {id}",
                o.to.len() - failed.len()
            );
            outln!("{}", tinted(Tone::Good, line));
            for (a, s) in &failed {
                outln!(
                    "{}",
                    tinted(Tone::Bad, format!("  not to {a}: status 0x{s:08X}"))
                );
            }
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(format!("{} destination(s) refused", failed.len()))
        }
    })
}

/// Runs `smpp data-sm`.
pub(crate) fn data_sm(o: &DataSmArgs) -> ExitCode {
    run_op("data-sm", &o.conn, |c| {
        let (ton, npi, from) = o.source.resolve()?;
        let (d_ton, d_npi, to) =
            address(&o.to, o.pdu.dest_ton, o.pdu.dest_npi).map_err(|e| format!("--to: {e}"))?;
        let (bytes, data_coding) = encode_one(&o.text)?;
        let r = c
            .data_sm(&DataSm {
                source_addr_ton: ton,
                source_addr_npi: npi,
                source_addr: from.into(),
                dest_addr_ton: d_ton,
                dest_addr_npi: d_npi,
                destination_addr: to.into(),
                service_type: o.pdu.service_type.clone().unwrap_or_default().into(),
                esm_class: o.pdu.esm_class.unwrap_or(0),
                registered_delivery: u8::from(o.registered_delivery),
                data_coding: o.pdu.data_coding.unwrap_or(data_coding),
                tlvs: std::iter::once(Tlv::MessagePayload(bytes.into()))
                    .chain(o.pdu.tlvs.iter().cloned())
                    .collect(),
            })
            .map_err(|e| failed("data_sm", &e))?;
        let id = r.message_id.to_str_lossy().into_owned();
        if o.json {
            outln!("{{\"event\":\"submitted\",\"message_id\":{}}}", js(&id));
        } else {
            outln!(
                "{}",
                tinted(Tone::Good, format!("submitted as data_sm: message id {id}"))
            );
        }
        Ok(())
    })
}

/// Runs `smpp enquire`.
pub(crate) fn enquire(o: &EnquireArgs) -> ExitCode {
    run_op("enquire", &o.conn, |c| {
        let mut times = Vec::new();
        for i in 1..=o.count {
            let t = Instant::now();
            c.request(Body::from(EnquireLink::default()))
                .map_err(|e| failed(&format!("enquire_link {i}"), &e))?;
            let rtt = t.elapsed();
            times.push(rtt);
            let us = rtt.as_secs_f64() * 1e6;
            if o.json {
                outln!("{{\"event\":\"enquire_link\",\"n\":{i},\"rtt_us\":{us:.0}}}");
            } else {
                outln!("enquire_link {i}: {us:.0} us");
            }
        }
        times.sort();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let (min, med, max) = (times[0], times[times.len() / 2], times[times.len() - 1]);
        if o.json {
            outln!(
                "{{\"event\":\"summary\",\"count\":{},\"min_us\":{:.0},\"median_us\":{:.0},\"max_us\":{:.0}}}",
                times.len(),
                us(min),
                us(med),
                us(max)
            );
        } else {
            outln!(
                "{} round trip(s): min {:.0} us, median {:.0} us, max {:.0} us",
                times.len(),
                us(min),
                us(med),
                us(max)
            );
        }
        Ok(())
    })
}
