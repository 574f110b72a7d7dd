//! `smpp tls-probe`: what an SMSC's TLS port presents and negotiates, and whether the
//! certificate would be trusted with the options given.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use smpp_client::CertificateSummary;
use smpp_pdu::json::Object;

use crate::common::{addr, Addr};
use crate::out::{errln, outln};
use crate::tls_args::TlsArgs;

/// `smpp tls-probe --addr HOST:PORT`.
#[derive(Args, Debug)]
pub(crate) struct TlsProbeArgs {
    /// The SMSC's TLS port.
    #[arg(long, value_name = "HOST:PORT", value_parser = addr)]
    addr: Addr,
    /// TLS options: what the certificate is checked against.
    #[command(flatten)]
    tls: TlsArgs,
    /// How long the connection and the handshake may take.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = crate::common::seconds)]
    timeout: Duration,
    /// One JSON object instead of lines.
    #[arg(long)]
    json: bool,
}

fn cert_json(c: &CertificateSummary) -> String {
    let mut o = Object::new();
    o.str("subject", &c.subject)
        .str("issuer", &c.issuer)
        .bool("self_signed", c.self_signed())
        .bool("ca", c.is_ca)
        .str("not_before", &c.not_before)
        .str("not_after", &c.not_after)
        .raw("names", &crate::common::str_array(&c.names))
        .str("sha256", &c.sha256.to_string());
    o.finish()
}

pub(crate) fn run(a: &TlsProbeArgs) -> ExitCode {
    let mut tls_args = a.tls.clone();
    tls_args.tls = true;
    let tls = match tls_args.client_config(a.addr.host.as_deref()) {
        Ok(Some(t)) => t,
        Ok(None) => unreachable!("TLS is on"),
        Err(e) => {
            errln!("smpp tls-probe: {e}");
            return ExitCode::from(2);
        }
    };
    let probe = match smpp_client::blocking::probe_tls(a.addr.socket, &tls, a.timeout) {
        Ok(p) => p,
        Err(e) => {
            errln!("smpp tls-probe: {}: {e}", a.addr.socket);
            return ExitCode::FAILURE;
        }
    };
    let trusted = matches!(probe.verdict, Some(Ok(())));
    if a.json {
        let mut o = Object::new();
        o.str("addr", &a.addr.socket.to_string())
            .str("version", &probe.info.version)
            .str("cipher_suite", &probe.info.cipher_suite);
        match &probe.info.key_exchange_group {
            Some(g) => o.str("key_exchange", g),
            None => o.raw("key_exchange", "null"),
        };
        let chain: Vec<String> = probe
            .chain
            .iter()
            .map(|c| c.as_ref().map_or_else(|| "null".to_string(), cert_json))
            .collect();
        o.raw("chain", &format!("[{}]", chain.join(",")));
        o.bool("trusted", trusted);
        if let Some(Err(why)) = &probe.verdict {
            o.str("refused", why);
        }
        outln!("{}", o.finish());
    } else {
        outln!("connected to {}: {}", a.addr.socket, probe.info);
        for (i, c) in probe.chain.iter().enumerate() {
            let role = if i == 0 { "the SMSC's" } else { "chain" };
            match c {
                Some(c) => {
                    outln!("certificate {i} ({role}):");
                    outln!("  subject     {}", c.subject);
                    outln!(
                        "  issuer      {}{}",
                        c.issuer,
                        if c.self_signed() {
                            " (self-signed)"
                        } else {
                            ""
                        }
                    );
                    outln!("  valid       {} to {}", c.not_before, c.not_after);
                    if !c.names.is_empty() {
                        outln!("  names       {}", c.names.join(" "));
                    }
                    outln!("  CA          {}", if c.is_ca { "yes" } else { "no" });
                    outln!("  SHA-256     {}", c.sha256);
                }
                None => outln!("certificate {i} ({role}): cannot be read as X.509"),
            }
        }
        match &probe.verdict {
            Some(Ok(())) => outln!("trusted: yes, with the options given"),
            Some(Err(why)) => outln!("trusted: no: {why}"),
            None => outln!("trusted: not checked"),
        }
    }
    if trusted {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
