//! The Rust side of the TLS interop scenario (`cargo xtask interop`, scenario 4; see
//! docs/interop.md). Not a general tool.
//!
//! ```text
//! interop_tls certs --dir DIR
//! interop_tls esme --addr 127.0.0.1:PORT (--ca FILE | --pin FILE) --out FILE
//! ```
//!
//! `certs` writes a fresh private CA (`DIR/ca.crt`) and a server certificate it signed for
//! `127.0.0.1` and `localhost` (`DIR/server.crt`, key in `DIR/server.key`), generated now
//! with rcgen: no key is ever committed. It also writes a self-signed certificate marked as
//! a CA, as `openssl req -x509` makes it (`DIR/selfsigned.crt`, `DIR/selfsigned.key`), the
//! kind SMSCs hand out, for the pinned run.
//!
//! `esme` connects with TLS and the default provider (which offers `X25519MLKEM768` first),
//! trusting only the CA in FILE (`--ca`), or exactly the certificate in FILE (`--pin`), binds as transceiver (system_id `tlsesme`, password
//! `tlspw`), sends one `submit_sm` and an `enquire_link`, and unbinds. It writes one
//! JSON object to FILE: what the handshake negotiated (`Client::tls_info`), the message id
//! the SMSC gave and the response statuses; the interop script checks them against what the
//! node-smpp TLS server saw. Exits 1 (after writing an `error` field) when a step fails.

#![allow(clippy::print_stderr)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{json, Value};
use smpp_client::{Client, ClientConfig, TlsClientConfig};
use smpp_pdu::{Body, EnquireLink, SubmitSm};
use smpp_session::BindKind;

#[path = "../../smpp-smsc/tests/pki/mod.rs"]
mod pki;

const SYSTEM_ID: &str = "tlsesme";
const PASSWORD: &str = "tlspw";

/// Writes `name` into `dir`.
fn write(dir: &Path, name: &str, text: &str) -> Result<(), String> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

fn certs(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let p = pki::pki(&["127.0.0.1", "localhost"]);
    write(dir, "ca.crt", &p.ca)?;
    write(dir, "server.crt", &p.cert)?;
    write(dir, "server.key", &p.key)?;
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .map_err(|e| e.to_string())?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    write(dir, "selfsigned.crt", &cert.pem())?;
    write(dir, "selfsigned.key", &key.serialize_pem())
}

/// How the SMSC's certificate is checked.
enum Trust<'a> {
    Ca(&'a Path),
    Pin(&'a Path),
}

/// Binds over TLS, submits, keeps alive, unbinds; fills `report` as it goes.
fn esme(addr: SocketAddr, trust: Trust<'_>, report: &mut Value) -> Result<(), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let tls = match trust {
        Trust::Ca(ca) => {
            TlsClientConfig::with_ca_pem(&read(ca)?).map_err(|e| format!("--ca: {e}"))?
        }
        Trust::Pin(cert) => {
            let pins =
                smpp_client::CertPin::from_pem(&read(cert)?).map_err(|e| format!("--pin: {e}"))?;
            TlsClientConfig::pinned(pins, false).map_err(|e| format!("--pin: {e}"))?
        }
    };
    let config = ClientConfig::new(BindKind::Transceiver, SYSTEM_ID, PASSWORD)
        .response_timeout(Duration::from_secs(5))
        .enquire_link_interval(None)
        .tls(tls);
    let client = Client::connect(addr, config).map_err(|e| format!("TLS bind: {e}"))?;
    let info = client
        .tls_info()
        .ok_or("the client reports no TLS session after a TLS bind")?;
    report["tls"] = json!({
        "version": info.version,
        "cipher_suite": info.cipher_suite,
        "key_exchange_group": info.key_exchange_group,
    });
    let submit = SubmitSm {
        source_addr_ton: 5,
        source_addr_npi: 0,
        source_addr: "TlsInterop".into(),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: "447700900777".into(),
        short_message: b"over TLS".as_slice().into(),
        ..Default::default()
    };
    let resp = client
        .request(Body::from(submit))
        .map_err(|e| format!("submit_sm: {e}"))?;
    report["submit_status"] = json!(resp.command_status.0);
    report["message_id"] = match &resp.body {
        Body::SubmitSmResp(r) => json!(String::from_utf8_lossy(&r.message_id.0)),
        other => return Err(format!("submit_sm answered with {:?}", other.command_id())),
    };
    let resp = client
        .request(Body::from(EnquireLink::default()))
        .map_err(|e| format!("enquire_link: {e}"))?;
    report["enquire_link_status"] = json!(resp.command_status.0);
    client.unbind().map_err(|e| format!("unbind: {e}"))?;
    report["unbound"] = json!(true);
    Ok(())
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: interop_tls certs --dir DIR\n       \
         interop_tls esme --addr 127.0.0.1:PORT (--ca FILE | --pin FILE) --out FILE"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    match args.first().map(String::as_str) {
        Some("certs") => {
            let Some(dir) = value("--dir") else {
                return usage();
            };
            match certs(Path::new(&dir)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("interop_tls certs: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("esme") => {
            let (Some(addr), Some(out)) = (value("--addr"), value("--out")) else {
                return usage();
            };
            let (ca, pin) = (value("--ca"), value("--pin"));
            let trust = match (&ca, &pin) {
                (Some(ca), None) => Trust::Ca(Path::new(ca)),
                (None, Some(pin)) => Trust::Pin(Path::new(pin)),
                _ => return usage(),
            };
            let addr: SocketAddr = match addr.parse() {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("interop_tls: --addr {addr}: {e}");
                    return ExitCode::from(2);
                }
            };
            let mut report = json!({});
            let outcome = esme(addr, trust, &mut report);
            if let Err(e) = &outcome {
                eprintln!("interop_tls esme: {e}");
                report["error"] = json!(e);
            }
            if let Err(e) = std::fs::write(&out, report.to_string()) {
                eprintln!("interop_tls: writing {out}: {e}");
                return ExitCode::FAILURE;
            }
            if outcome.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        _ => usage(),
    }
}
