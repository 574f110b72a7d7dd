//! The Rust side of the TLS interop scenario (`cargo xtask interop`, scenario 4; see
//! docs/interop.md). Not a general tool.
//!
//! ```text
//! interop_tls certs --dir DIR
//! interop_tls esme --addr 127.0.0.1:PORT --ca FILE --out FILE
//! ```
//!
//! `certs` writes a fresh private CA (`DIR/ca.crt`) and a server certificate it signed for
//! `127.0.0.1` and `localhost` (`DIR/server.crt`, key in `DIR/server.key`), generated now
//! with rcgen: no key is ever committed.
//!
//! `esme` connects with TLS and the default provider (which offers `X25519MLKEM768` first),
//! trusting only the CA in FILE, binds as transceiver (system_id `tlsesme`, password
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
    write(dir, "server.key", &p.key)
}

/// Binds over TLS, submits, keeps alive, unbinds; fills `report` as it goes.
fn esme(addr: SocketAddr, ca: &Path, report: &mut Value) -> Result<(), String> {
    let pem = std::fs::read(ca).map_err(|e| format!("reading {}: {e}", ca.display()))?;
    let tls = TlsClientConfig::with_ca_pem(&pem).map_err(|e| format!("--ca: {e}"))?;
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
         interop_tls esme --addr 127.0.0.1:PORT --ca FILE --out FILE"
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
            let (Some(addr), Some(ca), Some(out)) =
                (value("--addr"), value("--ca"), value("--out"))
            else {
                return usage();
            };
            let addr: SocketAddr = match addr.parse() {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("interop_tls: --addr {addr}: {e}");
                    return ExitCode::from(2);
                }
            };
            let mut report = json!({});
            let outcome = esme(addr, Path::new(&ca), &mut report);
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
