//! Strict field checks for the requests an SMSC receives (reference §4, §7, §8, §12.4).
//!
//! Pure functions, no state and no clock: each takes a decoded (or built in memory) request
//! and returns the `command_status` a strict SMSC answers it with, or `Ok(())`. Checks run
//! in wire order and the first failure wins, so a PDU with several bad fields gets the
//! status of the first one.
//!
//! What the codec already refuses at decode time (C-string fields past their maximum, time
//! fields that are neither empty nor 16 characters, `sm_length` past the body,
//! `number_of_dests` 0, a `dest_flag` other than 1 or 2, a TLV longer than its value
//! type) is checked again here anyway, so that values built in memory are held to the same
//! rules; on decoded PDUs those checks simply pass.
//!
//! `version` is the bind's `interface_version`: values below `0x50` (3.4, and 3.3 or
//! earlier) get the SMPP 3.4 rules, `0x50` and above the SMPP 5.0 rules.
//!
//! Not checked here, as they need SMSC state or policy: a `validity_period` already in the
//! past (`ESME_RINVEXPIRY`, needs the clock), an unsupported `data_coding` (`ESME_RINVDCS`
//! or `ESME_RSUBMITFAIL`, an SMSC choice), unknown distribution lists (`ESME_RINVDLNAME`),
//! `sm_default_msg_id` (`ESME_RINVDFTMSGID`), and TLV values (see
//! `SmscConfig::strict_tlvs`).

use smpp_pdu::time::SmppTime;
use smpp_pdu::{
    COctetString, CommandStatus, DataSm, DestAddress, OctetString, ReplaceSm, SubmitMulti,
    SubmitSm, Tag, Tlv,
};

/// The first `interface_version` with the SMPP 5.0 rules.
const V50: u8 = 0x50;

/// Longest `source_addr` / `destination_addr` of `submit_sm`, `submit_multi` and
/// `replace_sm` (`COS(21)` without its NUL).
const ADDR_MAX: usize = 20;
/// Longest address of `data_sm` (`COS(65)` without its NUL).
const DATA_SM_ADDR_MAX: usize = 64;
/// Longest `service_type` (`COS(6)` without its NUL).
const SERVICE_TYPE_MAX: usize = 5;
/// Longest `message_payload`: its TLV length field is two octets.
const PAYLOAD_MAX: usize = 65_535;

/// Checks a `submit_sm` received on a bind of `interface_version` `version` (`0x34`,
/// `0x50`). Returns the status of the first invalid field, in wire order.
pub fn check_submit_sm(sm: &SubmitSm<'_>, version: u8) -> Result<(), CommandStatus> {
    check_service_type(&sm.service_type)?;
    check_source(
        sm.source_addr_ton,
        sm.source_addr_npi,
        &sm.source_addr,
        ADDR_MAX,
    )?;
    check_dest(
        sm.dest_addr_ton,
        sm.dest_addr_npi,
        &sm.destination_addr,
        ADDR_MAX,
    )?;
    check_esm_class(sm.esm_class, Request::SubmitSm, version)?;
    check_priority(sm.priority_flag, version)?;
    check_time(&sm.schedule_delivery_time, CommandStatus::ESME_RINVSCHED)?;
    check_time(&sm.validity_period, CommandStatus::ESME_RINVEXPIRY)?;
    check_registered_delivery(sm.registered_delivery, version)?;
    check_replace_flag(sm.replace_if_present_flag)?;
    check_message(&sm.short_message, &sm.tlvs, short_message_max(version))
}

/// Checks a `data_sm` received on a bind of `interface_version` `version`: `service_type`,
/// addresses (up to 64 characters), `esm_class`, `registered_delivery` and the
/// `message_payload` length.
pub fn check_data_sm(d: &DataSm<'_>, version: u8) -> Result<(), CommandStatus> {
    check_service_type(&d.service_type)?;
    check_source(
        d.source_addr_ton,
        d.source_addr_npi,
        &d.source_addr,
        DATA_SM_ADDR_MAX,
    )?;
    check_dest(
        d.dest_addr_ton,
        d.dest_addr_npi,
        &d.destination_addr,
        DATA_SM_ADDR_MAX,
    )?;
    check_esm_class(d.esm_class, Request::DataSm, version)?;
    check_registered_delivery(d.registered_delivery, version)?;
    // data_sm has no short_message: the payload is its only user data.
    check_message(&OctetString::EMPTY, &d.tlvs, 0)
}

/// Checks a `submit_multi` received on a bind of `interface_version` `version`: the fields
/// it shares with `submit_sm`, the number of destinations (1 to 254 in 3.4, 255 in 5.0,
/// else `ESME_RINVNUMDESTS`). Each destination is checked on its own by
/// [`check_destination`].
pub fn check_submit_multi(m: &SubmitMulti<'_>, version: u8) -> Result<(), CommandStatus> {
    check_service_type(&m.service_type)?;
    check_source(
        m.source_addr_ton,
        m.source_addr_npi,
        &m.source_addr,
        ADDR_MAX,
    )?;
    // Reference §4.7 and §14: number_of_dests is 1..=254 in 3.4 and 1..=255 in 5.0 (it is
    // one octet, so 255 is also the most a 5.0 PDU can carry).
    let max_dests = if version >= V50 { 255 } else { 254 };
    if m.dest_addresses.is_empty() || m.dest_addresses.len() > max_dests {
        return Err(CommandStatus::ESME_RINVNUMDESTS);
    }
    // Each destination is checked on its own (`check_destination`): a refused one goes
    // into `unsuccess_smes`, the others are served.
    check_esm_class(m.esm_class, Request::SubmitMulti, version)?;
    check_priority(m.priority_flag, version)?;
    check_time(&m.schedule_delivery_time, CommandStatus::ESME_RINVSCHED)?;
    check_time(&m.validity_period, CommandStatus::ESME_RINVEXPIRY)?;
    check_registered_delivery(m.registered_delivery, version)?;
    check_replace_flag(m.replace_if_present_flag)?;
    check_message(&m.short_message, &m.tlvs, short_message_max(version))
}

/// Checks one destination of a `submit_multi`: an SME address's TON, NPI and address
/// (`ESME_RINVDSTTON`, `ESME_RINVDSTNPI`, `ESME_RINVDSTADR`), a distribution list's name
/// (`ESME_RINVDLNAME`). A refused destination goes into the response's `unsuccess_smes`
/// with this status; the rest of the `submit_multi` is served.
pub fn check_destination(d: &DestAddress<'_>) -> Result<(), CommandStatus> {
    match d {
        DestAddress::SmeAddress {
            dest_addr_ton,
            dest_addr_npi,
            destination_addr,
        } => check_dest(*dest_addr_ton, *dest_addr_npi, destination_addr, ADDR_MAX),
        DestAddress::DistributionList { dl_name } => {
            // A list name is COS(21) like an address; whether the list exists is the
            // SMSC's business.
            if dl_name.is_empty() || !is_cstr(dl_name, ADDR_MAX) {
                Err(CommandStatus::ESME_RINVDLNAME)
            } else {
                Ok(())
            }
        }
    }
}

/// Checks a `replace_sm`: `source_addr` TON, NPI and length, the two times,
/// `registered_delivery`, `sm_length` and the `message_payload` (5.0) rules.
///
/// It has no version, so where 3.4 and 5.0 differ it takes the rule of 5.0, the more
/// permissive one (never refusing what a 5.0 ESME may send): `registered_delivery` receipt
/// value 3 (success only) and a 255-octet `short_message` pass; reserved bits 5-7 and
/// 256 octets or more do not.
pub fn check_replace_sm(r: &ReplaceSm<'_>) -> Result<(), CommandStatus> {
    check_source(
        r.source_addr_ton,
        r.source_addr_npi,
        &r.source_addr,
        ADDR_MAX,
    )?;
    check_time(&r.schedule_delivery_time, CommandStatus::ESME_RINVSCHED)?;
    check_time(&r.validity_period, CommandStatus::ESME_RINVEXPIRY)?;
    check_registered_delivery(r.registered_delivery, V50)?;
    check_message(&r.short_message, &r.tlvs, short_message_max(V50))
}

/// The request whose `esm_class` is checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Request {
    SubmitSm,
    SubmitMulti,
    DataSm,
}

/// Whether `v` fits a `COS(max + 1)`: at most `max` octets and no NUL inside (a NUL would
/// end the string early on the wire).
fn is_cstr(v: &COctetString<'_>, max: usize) -> bool {
    let v = v.as_bytes();
    v.len() <= max && !v.contains(&0)
}

fn check_service_type(s: &COctetString<'_>) -> Result<(), CommandStatus> {
    if is_cstr(s, SERVICE_TYPE_MAX) {
        Ok(())
    } else {
        Err(CommandStatus::ESME_RINVSERTYP)
    }
}

/// TON table (reference §7.1): 0 to 6; 7-255 reserved.
fn ton_ok(ton: u8) -> bool {
    ton <= 6
}

/// NPI table (reference §7.2). 2 is not a spec value (cloudhopper's `NPI_ISDN = 2` is a
/// library quirk), so it is refused like the other reserved values.
fn npi_ok(npi: u8) -> bool {
    matches!(npi, 0 | 1 | 3 | 4 | 6 | 8 | 9 | 10 | 14 | 18)
}

/// The originator: TON, NPI, then the address. An empty `source_addr` is allowed (the
/// SMSC supplies a default).
fn check_source(
    ton: u8,
    npi: u8,
    addr: &COctetString<'_>,
    max: usize,
) -> Result<(), CommandStatus> {
    if !ton_ok(ton) {
        return Err(CommandStatus::ESME_RINVSRCTON);
    }
    if !npi_ok(npi) {
        return Err(CommandStatus::ESME_RINVSRCNPI);
    }
    if !is_cstr(addr, max) {
        return Err(CommandStatus::ESME_RINVSRCADR);
    }
    Ok(())
}

/// A destination: TON, NPI, then the address, which must not be empty.
fn check_dest(ton: u8, npi: u8, addr: &COctetString<'_>, max: usize) -> Result<(), CommandStatus> {
    if !ton_ok(ton) {
        return Err(CommandStatus::ESME_RINVDSTTON);
    }
    if !npi_ok(npi) {
        return Err(CommandStatus::ESME_RINVDSTNPI);
    }
    if addr.is_empty() || !is_cstr(addr, max) {
        return Err(CommandStatus::ESME_RINVDSTADR);
    }
    Ok(())
}

/// `esm_class` of a request from an ESME (reference §7.3; SMPP 3.4 §5.2.12).
///
/// * Messaging mode (bits 1-0): all four values for `data_sm`; forward (transaction) mode
///   `0x02` is for `data_sm` only in 3.4, so refused in `submit_sm` and `submit_multi` on a
///   3.4 bind; 5.0 extends transaction mode to them, so it passes on a 5.0 bind.
/// * Message type (bits 5-2): an ESME may send a normal message (`0x00`), or, as the
///   recipient of an MO, its SME delivery acknowledgement (`0x08`) or manual/user
///   acknowledgement (`0x10`): the spec lists those two for `submit_sm`, `submit_multi` and
///   `data_sm`. The SMSC's own types — delivery receipt `0x04`, conversation abort `0x18`,
///   intermediate notification `0x20` — and the reserved values are refused.
/// * GSM features (bits 7-6): UDHI and reply path, in any combination.
fn check_esm_class(esm: u8, pdu: Request, version: u8) -> Result<(), CommandStatus> {
    let mode = esm & 0x03;
    if mode == 0x02 && pdu != Request::DataSm && version < V50 {
        return Err(CommandStatus::ESME_RINVESMCLASS);
    }
    match esm & 0x3C {
        0x00 | 0x08 | 0x10 => Ok(()),
        _ => Err(CommandStatus::ESME_RINVESMCLASS),
    }
}

/// `priority_flag` (reference §7.5): 0-3 in 3.4, 0-4 in 5.0.
fn check_priority(p: u8, version: u8) -> Result<(), CommandStatus> {
    let max = if version >= V50 { 4 } else { 3 };
    if p > max {
        Err(CommandStatus::ESME_RINVPRTFLG)
    } else {
        Ok(())
    }
}

/// `replace_if_present_flag` (reference §7.6): 0 or 1.
///
/// The spec offers two codes: `ESME_RINVREPFLAG` (0x54, "invalid replace_if_present_flag")
/// and `ESME_RINVSUBREP` (0x42, "invalid submit with replace"). The field's own code,
/// 0x54, is used (reference §7.6 and §12.4); 0x42 fits a well-formed replace request the
/// SMSC cannot carry out.
fn check_replace_flag(f: u8) -> Result<(), CommandStatus> {
    if f > 1 {
        Err(CommandStatus::ESME_RINVREPFLAG)
    } else {
        Ok(())
    }
}

/// `registered_delivery` (reference §7.4): bits 7-5 are reserved in every version; the
/// SMSC receipt value 3 (bits 1-0 = `11`) is reserved in 3.4 and means "receipt on success
/// only" in 5.0.
///
/// The intermediate-notification flag is taken as `0x10` (bit 4), as the 3.4 value table
/// and implementations have it, not as the "bit 5" of the 3.4 text (reference §14): a
/// request with `0x20` is refused.
fn check_registered_delivery(rd: u8, version: u8) -> Result<(), CommandStatus> {
    if rd & 0xE0 != 0 || (rd & 0x03 == 0x03 && version < V50) {
        Err(CommandStatus::ESME_RINVREGDLVFLG)
    } else {
        Ok(())
    }
}

/// A time field (reference §8): empty, or 16 characters of a valid absolute
/// (`YYMMDDhhmmsstnn+`/`-`: month 01-12, a day of that month, hour 00-23, minute and second
/// 00-59, tenths 0-9, offset 00-48 quarter hours) or relative (`YYMMDDhhmmss000R`, each
/// field 00-99) time, as [`SmppTime::parse`] reads it.
fn check_time(t: &COctetString<'_>, status: CommandStatus) -> Result<(), CommandStatus> {
    SmppTime::parse(t.as_bytes())
        .map(|_| ())
        .map_err(|_| status)
}

/// The longest `short_message`: 254 octets in 3.4, 255 in 5.0 (reference §4.5, §14).
fn short_message_max(version: u8) -> usize {
    if version >= V50 {
        255
    } else {
        254
    }
}

/// `short_message` against `max`, and the `message_payload` TLVs: each at most 65535
/// octets, and none next to a non-empty `short_message`.
///
/// Both present: the reference (§4.5, §10.4, §12.4) says they must never be used together
/// and offers `ESME_RINVMSGLEN` (0x01) or `ESME_ROPTPARNOTALLWD` (0xC1). `ESME_RINVMSGLEN`
/// is used: the TLV itself is allowed in these PDUs, what is wrong is `sm_length`, which
/// must be 0 when `message_payload` carries the message; and 0xC1 would tell the ESME the
/// SMSC does not take `message_payload` at all. A `message_payload` TLV counts as present
/// even when empty (strict reading: "if message_payload is used, sm_length must be 0").
fn check_message(
    short_message: &OctetString<'_>,
    tlvs: &[Tlv<'_>],
    max: usize,
) -> Result<(), CommandStatus> {
    if short_message.len() > max {
        return Err(CommandStatus::ESME_RINVMSGLEN);
    }
    for t in tlvs.iter().filter(|t| t.tag() == Tag::MESSAGE_PAYLOAD) {
        if !short_message.is_empty() {
            return Err(CommandStatus::ESME_RINVMSGLEN);
        }
        if let Tlv::MessagePayload(p) = t {
            if p.len() > PAYLOAD_MAX {
                return Err(CommandStatus::ESME_RINVMSGLEN);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const V34: u8 = 0x34;
    const V5: u8 = 0x50;

    fn submit() -> SubmitSm<'static> {
        SubmitSm {
            source_addr_ton: 5,
            source_addr_npi: 0,
            source_addr: "Sender".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "447700900123".into(),
            registered_delivery: 1,
            short_message: OctetString::from(&b"hello"[..]).into_owned(),
            ..SubmitSm::default()
        }
    }

    fn payload(n: usize) -> Tlv<'static> {
        Tlv::MessagePayload(OctetString::from(vec![b'x'; n]))
    }

    type Edit = fn(&mut SubmitSm<'static>);

    /// One row per check of `check_submit_sm`: what is changed in a valid `submit_sm`, the
    /// bind's version, and the expected result.
    #[test]
    fn submit_sm_table() {
        use CommandStatus as S;
        #[rustfmt::skip]
        let rows: &[(&str, Edit, u8, Result<(), CommandStatus>)] = &[
            ("valid as built", |_| {}, V34, Ok(())),
            ("valid on 5.0", |_| {}, V5, Ok(())),
            // service_type
            ("service_type CMT", |s| s.service_type = "CMT".into(), V34, Ok(())),
            ("service_type 5 chars", |s| s.service_type = "ABCDE".into(), V34, Ok(())),
            ("service_type 6 chars", |s| s.service_type = "ABCDEF".into(), V34, Err(S::ESME_RINVSERTYP)),
            // source address
            ("source TON 6", |s| s.source_addr_ton = 6, V34, Ok(())),
            ("source TON 7", |s| s.source_addr_ton = 7, V34, Err(S::ESME_RINVSRCTON)),
            ("source NPI 18", |s| s.source_addr_npi = 18, V34, Ok(())),
            ("source NPI 2", |s| s.source_addr_npi = 2, V34, Err(S::ESME_RINVSRCNPI)),
            ("source NPI 5", |s| s.source_addr_npi = 5, V34, Err(S::ESME_RINVSRCNPI)),
            ("source empty", |s| s.source_addr = COctetString::EMPTY, V34, Ok(())),
            ("source 20 chars", |s| s.source_addr = "1".repeat(20).into(), V34, Ok(())),
            ("source 21 chars", |s| s.source_addr = "1".repeat(21).into(), V34, Err(S::ESME_RINVSRCADR)),
            ("source 21 chars on 5.0", |s| s.source_addr = "1".repeat(21).into(), V5, Err(S::ESME_RINVSRCADR)),
            ("source with NUL", |s| s.source_addr = "12\u{0}3".into(), V34, Err(S::ESME_RINVSRCADR)),
            // destination address
            ("dest TON 0", |s| s.dest_addr_ton = 0, V34, Ok(())),
            ("dest TON 9", |s| s.dest_addr_ton = 9, V34, Err(S::ESME_RINVDSTTON)),
            ("dest NPI 14", |s| s.dest_addr_npi = 14, V34, Ok(())),
            ("dest NPI 7", |s| s.dest_addr_npi = 7, V34, Err(S::ESME_RINVDSTNPI)),
            ("dest 20 chars", |s| s.destination_addr = "1".repeat(20).into(), V34, Ok(())),
            ("dest 21 chars", |s| s.destination_addr = "1".repeat(21).into(), V34, Err(S::ESME_RINVDSTADR)),
            ("dest empty", |s| s.destination_addr = COctetString::EMPTY, V34, Err(S::ESME_RINVDSTADR)),
            // esm_class
            ("esm UDHI + store&forward", |s| s.esm_class = 0x43, V34, Ok(())),
            ("esm datagram + reply path", |s| s.esm_class = 0x81, V34, Ok(())),
            ("esm SME delivery ack", |s| s.esm_class = 0x08, V34, Ok(())),
            ("esm SME manual ack", |s| s.esm_class = 0x10, V34, Ok(())),
            ("esm delivery receipt", |s| s.esm_class = 0x04, V34, Err(S::ESME_RINVESMCLASS)),
            ("esm receipt + UDHI", |s| s.esm_class = 0x44, V5, Err(S::ESME_RINVESMCLASS)),
            ("esm conversation abort", |s| s.esm_class = 0x18, V34, Err(S::ESME_RINVESMCLASS)),
            ("esm intermediate", |s| s.esm_class = 0x20, V34, Err(S::ESME_RINVESMCLASS)),
            ("esm reserved type 0x0C", |s| s.esm_class = 0x0C, V34, Err(S::ESME_RINVESMCLASS)),
            ("esm reserved type 0x3C", |s| s.esm_class = 0x3C, V34, Err(S::ESME_RINVESMCLASS)),
            ("esm transaction mode 3.4", |s| s.esm_class = 0x02, V34, Err(S::ESME_RINVESMCLASS)),
            ("esm transaction mode 5.0", |s| s.esm_class = 0x02, V5, Ok(())),
            // priority_flag
            ("priority 3 on 3.4", |s| s.priority_flag = 3, V34, Ok(())),
            ("priority 4 on 3.4", |s| s.priority_flag = 4, V34, Err(S::ESME_RINVPRTFLG)),
            ("priority 4 on 5.0", |s| s.priority_flag = 4, V5, Ok(())),
            ("priority 5 on 5.0", |s| s.priority_flag = 5, V5, Err(S::ESME_RINVPRTFLG)),
            // schedule_delivery_time
            ("sched absolute +", |s| s.schedule_delivery_time = "261207120000004+".into(), V34, Ok(())),
            ("sched absolute - 48", |s| s.schedule_delivery_time = "261231235959948-".into(), V34, Ok(())),
            ("sched absolute 29 Feb leap", |s| s.schedule_delivery_time = "280229000000000+".into(), V34, Ok(())),
            ("sched relative 2 days", |s| s.schedule_delivery_time = "000002000000000R".into(), V34, Ok(())),
            ("sched relative 99s", |s| s.schedule_delivery_time = "999999999999000R".into(), V34, Ok(())),
            ("sched 15 chars", |s| s.schedule_delivery_time = "26120712000000+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched 17 chars", |s| s.schedule_delivery_time = "2612071200000004+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched month 13", |s| s.schedule_delivery_time = "261307120000004+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched month 00", |s| s.schedule_delivery_time = "260007120000004+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched day 00", |s| s.schedule_delivery_time = "261200120000004+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched 31 April", |s| s.schedule_delivery_time = "260431120000004+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched 29 Feb non-leap", |s| s.schedule_delivery_time = "270229120000004+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched hour 24", |s| s.schedule_delivery_time = "261207240000004+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched minute 60", |s| s.schedule_delivery_time = "261207126000004+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched second 60", |s| s.schedule_delivery_time = "261207120060004+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched tenths not digit", |s| s.schedule_delivery_time = "26120712000000A+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched offset 49", |s| s.schedule_delivery_time = "261207120000049+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched bad direction", |s| s.schedule_delivery_time = "261207120000004X".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched letter in year", |s| s.schedule_delivery_time = "2A1207120000004+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched relative tail 100", |s| s.schedule_delivery_time = "000002000000100R".into(), V34, Err(S::ESME_RINVSCHED)),
            ("sched relative not digits", |s| s.schedule_delivery_time = "00000200000a000R".into(), V34, Err(S::ESME_RINVSCHED)),
            // validity_period
            ("validity absolute", |s| s.validity_period = "261208120000000-".into(), V34, Ok(())),
            ("validity relative 1 h", |s| s.validity_period = "000000010000000R".into(), V34, Ok(())),
            ("validity month 13", |s| s.validity_period = "261307120000004+".into(), V34, Err(S::ESME_RINVEXPIRY)),
            ("validity 10 chars", |s| s.validity_period = "2612071200".into(), V34, Err(S::ESME_RINVEXPIRY)),
            ("validity relative tail", |s| s.validity_period = "000000010000004R".into(), V34, Err(S::ESME_RINVEXPIRY)),
            // registered_delivery
            ("regdlv all defined bits", |s| s.registered_delivery = 0x1E, V34, Ok(())),
            ("regdlv failure only", |s| s.registered_delivery = 0x02, V34, Ok(())),
            ("regdlv bit 5", |s| s.registered_delivery = 0x21, V34, Err(S::ESME_RINVREGDLVFLG)),
            ("regdlv bit 7", |s| s.registered_delivery = 0x80, V5, Err(S::ESME_RINVREGDLVFLG)),
            ("regdlv receipt 3 on 3.4", |s| s.registered_delivery = 0x03, V34, Err(S::ESME_RINVREGDLVFLG)),
            ("regdlv receipt 3 on 5.0", |s| s.registered_delivery = 0x03, V5, Ok(())),
            // replace_if_present_flag
            ("replace flag 1", |s| s.replace_if_present_flag = 1, V34, Ok(())),
            ("replace flag 2", |s| s.replace_if_present_flag = 2, V34, Err(S::ESME_RINVREPFLAG)),
            // short_message / message_payload
            ("sm 254 on 3.4", |s| s.short_message = vec![b'a'; 254].into(), V34, Ok(())),
            ("sm 255 on 3.4", |s| s.short_message = vec![b'a'; 255].into(), V34, Err(S::ESME_RINVMSGLEN)),
            ("sm 255 on 5.0", |s| s.short_message = vec![b'a'; 255].into(), V5, Ok(())),
            ("sm 256 on 5.0", |s| s.short_message = vec![b'a'; 256].into(), V5, Err(S::ESME_RINVMSGLEN)),
            (
                "payload alone",
                |s| {
                    s.short_message = OctetString::EMPTY;
                    s.tlvs.push(payload(1000));
                },
                V34,
                Ok(()),
            ),
            (
                "payload 65535",
                |s| {
                    s.short_message = OctetString::EMPTY;
                    s.tlvs.push(payload(65_535));
                },
                V34,
                Ok(()),
            ),
            (
                "payload 65536",
                |s| {
                    s.short_message = OctetString::EMPTY;
                    s.tlvs.push(payload(65_536));
                },
                V34,
                Err(S::ESME_RINVMSGLEN),
            ),
            ("short_message and payload", |s| s.tlvs.push(payload(10)), V34, Err(S::ESME_RINVMSGLEN)),
            ("short_message and empty payload", |s| s.tlvs.push(payload(0)), V34, Err(S::ESME_RINVMSGLEN)),
            // first failure in wire order wins
            (
                "two bad fields",
                |s| {
                    s.priority_flag = 9;
                    s.dest_addr_ton = 9;
                },
                V34,
                Err(S::ESME_RINVDSTTON),
            ),
        ];
        for (name, edit, version, want) in rows {
            let mut sm = submit();
            edit(&mut sm);
            assert_eq!(check_submit_sm(&sm, *version), *want, "{name}");
        }
    }

    fn data() -> DataSm<'static> {
        DataSm {
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "447700900999".into(),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: "447700900123".into(),
            tlvs: vec![payload(300)],
            ..DataSm::default()
        }
    }

    #[test]
    fn data_sm_table() {
        use CommandStatus as S;
        type DEdit = fn(&mut DataSm<'static>);
        #[rustfmt::skip]
        let rows: &[(&str, DEdit, u8, Result<(), CommandStatus>)] = &[
            ("valid as built", |_| {}, V34, Ok(())),
            ("no payload", |d| d.tlvs.clear(), V34, Ok(())),
            ("source 64 chars", |d| d.source_addr = "1".repeat(64).into(), V34, Ok(())),
            ("source 65 chars", |d| d.source_addr = "1".repeat(65).into(), V34, Err(S::ESME_RINVSRCADR)),
            ("dest 64 chars", |d| d.destination_addr = "1".repeat(64).into(), V34, Ok(())),
            ("dest 65 chars", |d| d.destination_addr = "1".repeat(65).into(), V34, Err(S::ESME_RINVDSTADR)),
            ("dest empty", |d| d.destination_addr = COctetString::EMPTY, V34, Err(S::ESME_RINVDSTADR)),
            ("service_type 6 chars", |d| d.service_type = "ABCDEF".into(), V34, Err(S::ESME_RINVSERTYP)),
            ("source TON 7", |d| d.source_addr_ton = 7, V34, Err(S::ESME_RINVSRCTON)),
            ("source NPI 11", |d| d.source_addr_npi = 11, V34, Err(S::ESME_RINVSRCNPI)),
            ("dest TON 255", |d| d.dest_addr_ton = 255, V34, Err(S::ESME_RINVDSTTON)),
            ("dest NPI 2", |d| d.dest_addr_npi = 2, V34, Err(S::ESME_RINVDSTNPI)),
            ("esm transaction mode 3.4", |d| d.esm_class = 0x02, V34, Ok(())),
            ("esm SME ack", |d| d.esm_class = 0x08, V34, Ok(())),
            ("esm delivery receipt", |d| d.esm_class = 0x04, V34, Err(S::ESME_RINVESMCLASS)),
            ("esm intermediate", |d| d.esm_class = 0x20, V5, Err(S::ESME_RINVESMCLASS)),
            ("regdlv 3 on 3.4", |d| d.registered_delivery = 3, V34, Err(S::ESME_RINVREGDLVFLG)),
            ("regdlv 3 on 5.0", |d| d.registered_delivery = 3, V5, Ok(())),
            ("regdlv bit 6", |d| d.registered_delivery = 0x40, V5, Err(S::ESME_RINVREGDLVFLG)),
            ("payload 65536", |d| d.tlvs = vec![payload(65_536)], V34, Err(S::ESME_RINVMSGLEN)),
        ];
        for (name, edit, version, want) in rows {
            let mut d = data();
            edit(&mut d);
            assert_eq!(check_data_sm(&d, *version), *want, "{name}");
        }
    }

    fn sme(ton: u8, npi: u8, addr: &str) -> DestAddress<'static> {
        DestAddress::SmeAddress {
            dest_addr_ton: ton,
            dest_addr_npi: npi,
            destination_addr: addr.to_string().into(),
        }
    }

    fn multi() -> SubmitMulti<'static> {
        SubmitMulti {
            source_addr_ton: 5,
            source_addr_npi: 0,
            source_addr: "Sender".into(),
            dest_addresses: vec![
                sme(1, 1, "447700900123"),
                DestAddress::DistributionList {
                    dl_name: "friends".into(),
                },
            ],
            short_message: OctetString::from(&b"hello"[..]).into_owned(),
            ..SubmitMulti::default()
        }
    }

    #[test]
    fn submit_multi_table() {
        use CommandStatus as S;
        type MEdit = fn(&mut SubmitMulti<'static>);
        #[rustfmt::skip]
        let rows: &[(&str, MEdit, u8, Result<(), CommandStatus>)] = &[
            ("valid as built", |_| {}, V34, Ok(())),
            ("254 dests on 3.4", |m| m.dest_addresses = vec![sme(1, 1, "1"); 254], V34, Ok(())),
            ("255 dests on 3.4", |m| m.dest_addresses = vec![sme(1, 1, "1"); 255], V34, Err(S::ESME_RINVNUMDESTS)),
            ("255 dests on 5.0", |m| m.dest_addresses = vec![sme(1, 1, "1"); 255], V5, Ok(())),
            ("256 dests on 5.0", |m| m.dest_addresses = vec![sme(1, 1, "1"); 256], V5, Err(S::ESME_RINVNUMDESTS)),
            ("no dests", |m| m.dest_addresses.clear(), V34, Err(S::ESME_RINVNUMDESTS)),
            ("dest TON 7", |m| m.dest_addresses.push(sme(7, 1, "1")), V34, Err(S::ESME_RINVDSTTON)),
            ("dest NPI 2", |m| m.dest_addresses.push(sme(1, 2, "1")), V34, Err(S::ESME_RINVDSTNPI)),
            ("dest empty", |m| m.dest_addresses.push(sme(1, 1, "")), V34, Err(S::ESME_RINVDSTADR)),
            ("dest 21 chars", |m| m.dest_addresses.push(sme(1, 1, &"1".repeat(21))), V34, Err(S::ESME_RINVDSTADR)),
            (
                "dl_name empty",
                |m| m.dest_addresses.push(DestAddress::DistributionList { dl_name: COctetString::EMPTY }),
                V34,
                Err(S::ESME_RINVDLNAME),
            ),
            (
                "dl_name 21 chars",
                |m| m.dest_addresses.push(DestAddress::DistributionList { dl_name: "d".repeat(21).into() }),
                V34,
                Err(S::ESME_RINVDLNAME),
            ),
            ("source TON 8", |m| m.source_addr_ton = 8, V34, Err(S::ESME_RINVSRCTON)),
            ("source 21 chars", |m| m.source_addr = "1".repeat(21).into(), V34, Err(S::ESME_RINVSRCADR)),
            ("service_type 6 chars", |m| m.service_type = "ABCDEF".into(), V34, Err(S::ESME_RINVSERTYP)),
            ("esm receipt", |m| m.esm_class = 0x04, V34, Err(S::ESME_RINVESMCLASS)),
            ("esm transaction 3.4", |m| m.esm_class = 0x02, V34, Err(S::ESME_RINVESMCLASS)),
            ("priority 4 on 5.0", |m| m.priority_flag = 4, V5, Ok(())),
            ("priority 4 on 3.4", |m| m.priority_flag = 4, V34, Err(S::ESME_RINVPRTFLG)),
            ("sched relative", |m| m.schedule_delivery_time = "000000003000000R".into(), V34, Ok(())),
            ("sched hour 25", |m| m.schedule_delivery_time = "261207250000004+".into(), V34, Err(S::ESME_RINVSCHED)),
            ("validity offset 60", |m| m.validity_period = "261207120000060+".into(), V34, Err(S::ESME_RINVEXPIRY)),
            ("regdlv 0x20", |m| m.registered_delivery = 0x20, V34, Err(S::ESME_RINVREGDLVFLG)),
            ("replace flag 3", |m| m.replace_if_present_flag = 3, V34, Err(S::ESME_RINVREPFLAG)),
            ("sm 255 on 3.4", |m| m.short_message = vec![0; 255].into(), V34, Err(S::ESME_RINVMSGLEN)),
            ("sm and payload", |m| m.tlvs.push(payload(3)), V34, Err(S::ESME_RINVMSGLEN)),
        ];
        for (name, edit, version, want) in rows {
            let mut m = multi();
            edit(&mut m);
            // The PDU's own checks, then each destination's (a refused one goes into
            // `unsuccess_smes`).
            let got = check_submit_multi(&m, *version)
                .and_then(|()| m.dest_addresses.iter().try_for_each(check_destination));
            assert_eq!(got, *want, "{name}");
        }
    }

    fn replace() -> ReplaceSm<'static> {
        ReplaceSm {
            message_id: "42".into(),
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: "447700900999".into(),
            short_message: OctetString::from(&b"new text"[..]).into_owned(),
            ..ReplaceSm::default()
        }
    }

    #[test]
    fn replace_sm_table() {
        use CommandStatus as S;
        type REdit = fn(&mut ReplaceSm<'static>);
        #[rustfmt::skip]
        let rows: &[(&str, REdit, Result<(), CommandStatus>)] = &[
            ("valid as built", |_| {}, Ok(())),
            ("sched absolute", |r| r.schedule_delivery_time = "261207120000004+".into(), Ok(())),
            ("validity relative", |r| r.validity_period = "000001000000000R".into(), Ok(())),
            ("sched day 32", |r| r.schedule_delivery_time = "261232120000004+".into(), Err(S::ESME_RINVSCHED)),
            ("validity bad direction", |r| r.validity_period = "261207120000004 ".into(), Err(S::ESME_RINVEXPIRY)),
            ("regdlv receipt 3", |r| r.registered_delivery = 3, Ok(())),
            ("regdlv bit 5", |r| r.registered_delivery = 0x20, Err(S::ESME_RINVREGDLVFLG)),
            ("sm 255", |r| r.short_message = vec![0; 255].into(), Ok(())),
            ("sm 256", |r| r.short_message = vec![0; 256].into(), Err(S::ESME_RINVMSGLEN)),
            ("sm and payload", |r| r.tlvs.push(payload(3)), Err(S::ESME_RINVMSGLEN)),
            ("source NPI 2", |r| r.source_addr_npi = 2, Err(S::ESME_RINVSRCNPI)),
            ("source 21 chars", |r| r.source_addr = "1".repeat(21).into(), Err(S::ESME_RINVSRCADR)),
        ];
        for (name, edit, want) in rows {
            let mut r = replace();
            edit(&mut r);
            assert_eq!(check_replace_sm(&r), *want, "{name}");
        }
    }

    /// A `submit_sm` that passes the checks also survives the codec, and the decoded copy
    /// checks the same.
    #[test]
    fn decoded_values_check_the_same() {
        let mut sm = submit();
        sm.schedule_delivery_time = "000002000000000R".into();
        sm.validity_period = "261207120000004+".into();
        let pdu = smpp_pdu::Pdu {
            command_status: CommandStatus::ESME_ROK,
            sequence_number: 7,
            body: sm.clone().into(),
        };
        let bytes = pdu.to_bytes().expect("encodes");
        let back = smpp_pdu::Pdu::decode(&bytes)
            .expect("decodes")
            .expect("whole");
        let smpp_pdu::Body::SubmitSm(d) = back.0.body else {
            panic!("not a submit_sm")
        };
        assert_eq!(check_submit_sm(&d, V34), Ok(()));
        assert_eq!(d, sm);
    }
}
