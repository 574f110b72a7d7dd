//! A small custom SMSC on the handler API: one account, a queue that is full for every
//! third submit, its own message ids, and an echo of every text back to the sender as an
//! MO message. Everything it does not decide (enquire_link, receipts, query_sm, ...) is
//! the built-in test SMSC's.
//!
//! Run it with `cargo run -p smpp-smsc --example custom_smsc`, then for instance
//! `smpp send --addr 127.0.0.1:2775 --system-id shop --password secret --to 447700900123 --text hi`.

#![allow(clippy::print_stdout)] // an example that says where it listens

use smpp_pdu::{Body, CommandStatus, DeliverSm, SubmitSmResp};
use smpp_smsc::core::{BindInfo, Ctx, Handler, Request, Verdict};
use smpp_smsc::{Smsc, SmscConfig};

/// The custom behaviour.
pub(crate) struct Shop {
    submits: u64,
}

impl Handler for Shop {
    fn bind(&mut self, bind: &BindInfo<'_>, _ctx: &mut Ctx<'_>) -> Verdict {
        match (bind.system_id, bind.password) {
            ("shop", b"secret") => Verdict::Accept,
            ("shop", _) => Verdict::Reject(CommandStatus::ESME_RINVPASWD),
            _ => Verdict::Reject(CommandStatus::ESME_RINVSYSID),
        }
    }

    fn request(&mut self, req: &Request<'_>, ctx: &mut Ctx<'_>) -> Verdict {
        let Body::SubmitSm(sm) = &req.pdu.body else {
            return Verdict::Builtin;
        };
        self.submits += 1;
        if self.submits % 3 == 0 {
            return Verdict::Reject(CommandStatus::ESME_RMSGQFUL);
        }
        // The text comes back as an MO message, when the shop has a receiving bind.
        let echo = DeliverSm {
            source_addr: sm.destination_addr.clone(),
            destination_addr: sm.source_addr.clone(),
            short_message: sm.short_message.clone(),
            data_coding: sm.data_coding,
            ..Default::default()
        };
        let _ = ctx.deliver(&req.system_id, echo.into_owned());
        let id = format!("shop-{}", ctx.new_message_id());
        let resp = SubmitSmResp {
            message_id: id.into(),
            tlvs: vec![],
        };
        Verdict::Respond(CommandStatus::ESME_ROK, resp.into())
    }
}

/// Starts the shop's SMSC on `addr`.
pub(crate) fn start(addr: std::net::SocketAddr) -> smpp_smsc::Result<Smsc> {
    Smsc::start_with_handler(SmscConfig::default().addr(addr), Shop { submits: 0 })
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let smsc = start("127.0.0.1:2775".parse()?)?;
    println!("custom SMSC on {}; Ctrl-C stops it", smsc.local_addr());
    loop {
        std::thread::sleep(std::time::Duration::from_secs(60));
        println!("{:?}", smsc.stats());
    }
}
