//! `smpp encode`: JSON objects in (the format `smpp decode` prints), one hex line per PDU
//! out; the reading is the codec's ([`smpp_pdu::json_in`]).

use std::io::BufRead;
use std::process::ExitCode;

use crate::out::outln;
use clap::Args;
use smpp_pdu::json::Object;
use smpp_pdu::json_in::encode_json;

/// `smpp encode`: JSON lines (as `smpp decode` prints them) to hex.
#[derive(Args, Debug)]
pub(crate) struct EncodeArgs {
    /// JSON objects, one PDU each. None, or '-': one object per line on stdin (blank
    /// lines and lines starting with # are skipped).
    #[arg(value_name = "JSON")]
    inputs: Vec<String>,
}

/// Encodes every input (arguments, or stdin lines when there are none); exit 1 if any
/// input could not be encoded.
pub(crate) fn run(a: &EncodeArgs) -> ExitCode {
    let args = a.inputs.as_slice();
    let mut ok = true;
    if args.is_empty() || args == ["-"] {
        let stdin = std::io::stdin();
        for (n, line) in stdin.lock().lines().enumerate() {
            match line {
                Ok(line) if line.trim().is_empty() || line.trim_start().starts_with('#') => {}
                Ok(line) => ok &= encode_input(n + 1, &line),
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
            ok &= encode_input(n + 1, arg);
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Encodes one JSON object and prints its hex, or prints an error object; whether it
/// worked.
fn encode_input(input: usize, text: &str) -> bool {
    match encode_json(text) {
        Ok(bytes) => {
            outln!("{}", smpp_pdu::json::hex(&bytes));
            true
        }
        Err(f) => {
            let mut o = Object::new();
            o.num("input", input as u64)
                .str("error", &f.message)
                .str("field", &f.field);
            outln!("{}", o.finish());
            false
        }
    }
}
