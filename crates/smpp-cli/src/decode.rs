//! `smpp decode`: hex dumps in, one JSON object per PDU out.
//!
//! The objects carry every octet of the PDU (`<field>_hex` beside a C-octet string that is
//! not UTF-8), so that `smpp encode` rebuilds it exactly. Bind and outbind passwords are
//! written as `***` unless `--reveal-passwords` is given (then in clear, for an exact
//! round trip).

use std::io::BufRead;
use std::process::ExitCode;

use crate::out::outln;
use clap::Args;
use smpp_pdu::json::{self, Object};
use smpp_pdu::{Header, Pdu};

/// `smpp decode`: hex dumps to JSON lines.
#[derive(Args, Debug)]
pub(crate) struct DecodeArgs {
    /// Print bind and outbind passwords in clear (for an exact round trip through
    /// `smpp encode`); by default they print as ***.
    #[arg(long)]
    reveal_passwords: bool,
    /// Hex dumps, each holding one or more PDUs back to back (whitespace, ':' and '-'
    /// separators and a 0x prefix are ignored). None, or '-': one dump per line on stdin
    /// (blank lines and lines starting with # are skipped).
    #[arg(value_name = "HEX")]
    inputs: Vec<String>,
}

/// Decodes every input (arguments, or stdin lines when there are none); exit 1 if any
/// input was not valid hex or held a bad or incomplete PDU.
pub(crate) fn run(a: &DecodeArgs) -> ExitCode {
    let (reveal, args) = (a.reveal_passwords, a.inputs.as_slice());
    let mut ok = true;
    if args.is_empty() || args == ["-"] {
        let stdin = std::io::stdin();
        for (n, line) in stdin.lock().lines().enumerate() {
            match line {
                Ok(line) if line.trim().is_empty() || line.trim_start().starts_with('#') => {}
                Ok(line) => ok &= decode_input(n + 1, &line, reveal),
                Err(e) => {
                    let mut o = Object::new();
                    o.str("error", &format!("cannot read stdin: {e}"));
                    outln!("{}", o.finish());
                    return ExitCode::FAILURE;
                }
            }
        }
    } else {
        for (n, arg) in args.iter().enumerate() {
            ok &= decode_input(n + 1, arg, reveal);
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Parses hex, ignoring whitespace, `:` and `-` separators and a `0x` prefix.
fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let digits: Vec<u8> = s
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':' && *b != b'-')
        .collect();
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    digits
        .chunks(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16);
            let lo = (pair[1] as char).to_digit(16);
            match (hi, lo) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => Err(format!(
                    "not a hex digit in {:?}",
                    String::from_utf8_lossy(pair)
                )),
            }
        })
        .collect()
}

/// Decodes one input (possibly several PDUs back to back); whether all of it was good.
fn decode_input(input: usize, text: &str, reveal: bool) -> bool {
    let bytes = match parse_hex(text) {
        Ok(b) => b,
        Err(e) => {
            let mut o = Object::new();
            o.num("input", input as u64)
                .str("error", &format!("invalid hex: {e}"));
            outln!("{}", o.finish());
            return false;
        }
    };
    let mut at = 0;
    let mut ok = true;
    if bytes.is_empty() {
        let mut o = Object::new();
        o.num("input", input as u64).str("error", "no octets");
        outln!("{}", o.finish());
        return false;
    }
    while at < bytes.len() {
        let buf = &bytes[at..];
        match Pdu::decode(buf) {
            Ok(Some((pdu, used))) => {
                let mut o = Object::exact().reveal_passwords(reveal);
                o.num("input", input as u64).num("offset", at as u64);
                o.num("command_length", used as u64);
                json::header_members(&mut o, &pdu);
                json::body_members(&mut o, &pdu.body);
                // A form the decoder tolerates and the encoder writes otherwise (or not at
                // all): the octets as they came, for `smpp encode` to give back.
                let original = &buf[..used];
                if pdu.to_bytes().ok().as_deref() != Some(original) {
                    o.str("wire_hex", &json::hex(original));
                }
                outln!("{}", o.finish());
                at += used;
            }
            Ok(None) => {
                // `Header::peek` waits for the whole PDU; read the announced length itself.
                let announced =
                    (buf.len() >= 4).then(|| u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]));
                let mut o = Object::new();
                o.num("input", input as u64).num("offset", at as u64);
                o.str(
                    "error",
                    &match announced {
                        Some(n) => format!(
                            "incomplete PDU: command_length is {n} but the input has {} octets",
                            buf.len()
                        ),
                        None => format!("incomplete header: {} of 16 octets", buf.len()),
                    },
                )
                .str("field", "command_length")
                .str("command_status", "ESME_RINVCMDLEN");
                outln!("{}", o.finish());
                return false;
            }
            Err(e) => {
                ok = false;
                // The error object, plus what the header tells about the PDU.
                let err = json::decode_error_object(&e);
                let mut o = Object::new();
                o.num("input", input as u64).num("offset", at as u64);
                if buf.len() >= 8 {
                    let id =
                        smpp_pdu::CommandId(u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]));
                    o.str("command", &json::command_name(id));
                }
                if let Some(seq) = Header::salvage_sequence_number(buf) {
                    o.num("sequence_number", u64::from(seq));
                }
                let head = o.finish();
                // Merge the two objects: `{...head..., ...err...}`.
                outln!("{},{}", &head[..head.len() - 1], &err[1..]);
                match Header::peek(buf) {
                    Ok(Some(h)) if !e.is_fatal() && h.command_length as usize <= buf.len() => {
                        at += h.command_length as usize;
                    }
                    _ => return false,
                }
            }
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::parse_hex;

    #[test]
    fn hex_with_separators() {
        assert_eq!(parse_hex("0x00 0a:ff-10").unwrap(), [0, 10, 255, 16]);
        assert!(parse_hex("abc").is_err());
        assert!(parse_hex("zz").is_err());
    }
}
