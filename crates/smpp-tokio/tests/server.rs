//! The tokio server (`smpp_tokio::Server`) with the built-in test SMSC and with a handler of
//! its own, served to the tokio client and to the blocking client over 127.0.0.1: binds,
//! submits with receipts, MO, many connections at once, shutdown. Every wait is bounded.

use std::time::Duration;

use smpp_pdu::{Body, CommandStatus, SubmitSm, SubmitSmResp};
use smpp_session::BindKind;
use smpp_smsc::core::{BindInfo, Ctx, Handler, Request, Verdict};
use smpp_smsc::{SmscConfig, User};
use smpp_tokio::{Client, ClientConfig, Error, InboundKind, Outcome, Server, TextOptions};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(20);

fn config(kind: BindKind, id: &str, pw: &str) -> ClientConfig {
    ClientConfig::new(kind, id, pw).response_timeout(Duration::from_secs(10))
}

#[tokio::test]
async fn the_test_smsc_on_tokio_submits_receipts_and_mo() {
    let server = Server::start(
        SmscConfig::default()
            .user(User::new("esme", "pw"))
            .receipt_delay(Duration::from_millis(20)),
    )
    .await
    .expect("listening");
    let (client, mut inbound) = Client::connect(
        server.local_addr(),
        config(BindKind::Transceiver, "esme", "pw"),
    )
    .await
    .expect("bind");
    let long = "Served by the tokio SMSC, in several parts. ".repeat(6);
    let options = TextOptions::default()
        .registered_delivery(1)
        .reference("t-1");
    let sent = client
        .send_text("MyBrand", "+447700900123", &long, &options)
        .await
        .expect("sent");
    assert!(sent.message_ids.len() > 1);
    server
        .inject_mo("esme", "447700900999", "12345", "hello from the SMSC")
        .await
        .expect("MO");
    let (mut report, mut mo) = (None, None);
    timeout(WAIT, async {
        while report.is_none() || mo.is_none() {
            match inbound.recv().await {
                Some(InboundKind::Report(r)) => report = Some(r),
                Some(InboundKind::Message { message, .. }) => mo = message.text,
                Some(_) => {}
                None => panic!("the stream ended"),
            }
        }
    })
    .await
    .expect("a report and an MO in time");
    let report = report.expect("report");
    assert_eq!(
        (report.reference.as_str(), report.outcome),
        ("t-1", Outcome::Delivered)
    );
    assert_eq!(report.segments.len(), sent.message_ids.len());
    assert_eq!(mo.as_deref(), Some("hello from the SMSC"));
    // A wrong password is refused as the test SMSC refuses it.
    let r = Client::connect(
        server.local_addr(),
        config(BindKind::Transmitter, "esme", "no"),
    )
    .await;
    assert!(
        matches!(r, Err(Error::BindRejected(CommandStatus::ESME_RINVPASWD))),
        "{r:?}"
    );
    client.unbind().await.expect("unbind");
    assert!(
        server.wait_for(WAIT, |s| s.unbinds == 1).await,
        "{:?}",
        server.stats()
    );
    assert_eq!(server.stats().submits, sent.message_ids.len() as u64);
    server.shutdown().await;
}

/// Refuses binds of `blocked`, answers every submit_sm with the id `H-` and its text.
struct Custom;

impl Handler for Custom {
    fn bind(&mut self, bind: &BindInfo<'_>, _: &mut Ctx<'_>) -> Verdict {
        if bind.system_id == "blocked" {
            Verdict::Reject(CommandStatus::ESME_RBINDFAIL)
        } else {
            Verdict::Accept
        }
    }

    fn request(&mut self, req: &Request<'_>, _: &mut Ctx<'_>) -> Verdict {
        match &req.pdu.body {
            Body::SubmitSm(sm) => {
                let text = String::from_utf8_lossy(sm.short_message.as_bytes()).into_owned();
                Verdict::Respond(
                    CommandStatus::ESME_ROK,
                    Body::from(SubmitSmResp {
                        message_id: format!("H-{text}").into(),
                        ..Default::default()
                    }),
                )
            }
            _ => Verdict::Builtin,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_serves_many_connections_of_both_client_faces() {
    let server = Server::start_with_handler(SmscConfig::default(), Custom)
        .await
        .expect("listening");
    let addr = server.local_addr();
    let r = Client::connect(addr, config(BindKind::Transmitter, "blocked", "x")).await;
    assert!(
        matches!(r, Err(Error::BindRejected(CommandStatus::ESME_RBINDFAIL))),
        "{r:?}"
    );
    // Twenty tokio clients with a hundred submits each, at once.
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..20 {
        tasks.spawn(async move {
            let (client, _inbound) =
                Client::connect(addr, config(BindKind::Transmitter, "esme", "pw"))
                    .await
                    .expect("bind");
            let calls = (0..100).map(|n| {
                let text = format!("{c}.{n}");
                let client = client.clone();
                async move {
                    let r = client
                        .submit(SubmitSm {
                            destination_addr: "1".into(),
                            short_message: text.clone().into_bytes().into(),
                            ..Default::default()
                        })
                        .await
                        .expect("answered");
                    assert_eq!(r.message_id.to_str_lossy(), format!("H-{text}"));
                }
            });
            futures::future::join_all(calls).await;
            client.unbind().await.expect("unbind");
        });
    }
    timeout(WAIT, async {
        while let Some(r) = tasks.join_next().await {
            r.expect("a client task");
        }
    })
    .await
    .expect("every client done in time");
    // The blocking client is served the same way.
    let blocking = tokio::task::spawn_blocking(move || {
        let c = smpp_client::Client::connect(
            addr,
            smpp_client::ClientConfig::new(BindKind::Transmitter, "esme", "pw"),
        )
        .expect("bind");
        let r = c
            .submit(&SubmitSm {
                destination_addr: "1".into(),
                short_message: b"blocking".to_vec().into(),
                ..Default::default()
            })
            .expect("answered");
        c.unbind().expect("unbind");
        r.message_id.to_str_lossy().into_owned()
    });
    assert_eq!(blocking.await.expect("blocking task"), "H-blocking");
    assert!(
        server.wait_for(WAIT, |s| s.unbinds == 21).await,
        "{:?}",
        server.stats()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_every_connection() {
    let server = Server::start(SmscConfig::default())
        .await
        .expect("listening");
    let (client, mut inbound) = Client::connect(
        server.local_addr(),
        config(BindKind::Transceiver, "esme", "pw"),
    )
    .await
    .expect("bind");
    server.shutdown().await;
    // The stream ends, and calls fail once the task is gone.
    assert!(timeout(WAIT, inbound.recv()).await.expect("ends").is_none());
    assert!(matches!(client.enquire_link().await, Err(Error::Closed)));
}

/// A connection the core closes right after a response (fault injection) ends cleanly:
/// the core hears of the close (the connection is no longer counted) and the client sees
/// its response, then the drop.
#[tokio::test]
async fn a_connection_closed_after_a_response_is_reported_closed() {
    let server = Server::start(SmscConfig::default().close_after(2))
        .await
        .expect("listening");
    let (client, mut inbound) = Client::connect(
        server.local_addr(),
        config(BindKind::Transceiver, "esme", "pw"),
    )
    .await
    .expect("bind");
    let r = client
        .submit(SubmitSm {
            destination_addr: "1".into(),
            ..Default::default()
        })
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert!(timeout(WAIT, inbound.recv()).await.expect("ends").is_none());
    assert!(
        server.wait_for(WAIT, |s| s.open_connections == 0).await,
        "{:?}",
        server.stats()
    );
    server.shutdown().await;
}
