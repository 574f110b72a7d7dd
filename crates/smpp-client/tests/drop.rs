//! Dropping a client without unbinding: it unbinds with a bounded wait and leaves no
//! thread behind. These tests count threads by name, so they have their own test binary
//! and run one at a time.

mod common;

use std::time::{Duration, Instant};

use common::{poll_until, sm, threads_named, Knobs, Smsc, WAIT};
use smpp_client::{Client, ClientConfig, Error};
use smpp_session::BindKind;

#[test]
fn dropping_the_client_unbinds_and_stops_its_threads() {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let smsc = Smsc::start(Knobs::default());
    let (transports, clients) = (
        threads_named("smpp-transport"),
        threads_named("smpp-client"),
    );
    assert_eq!(transports, 1, "the SMSC's own transport");
    assert_eq!(clients, 0);

    let mut config = ClientConfig::new(BindKind::Transceiver, "esme", "pw")
        .response_timeout(Duration::from_secs(3));
    config.session.unbind_timeout = Duration::from_secs(1);
    let c = Client::connect(smsc.addr, config).unwrap();
    // A new thread names itself once it runs: wait (bounded) to see both.
    assert!(
        poll_until(WAIT, || threads_named("smpp-transport") == transports + 1
            && threads_named("smpp-client") == clients + 1),
        "{} smpp-transport, {} smpp-client",
        threads_named("smpp-transport"),
        threads_named("smpp-client")
    );
    c.submit(&sm("before the drop")).unwrap();

    let t = Instant::now();
    drop(c);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    smsc.expect("the unbind sent on drop", |s| {
        s.unbinds_received == 1 && s.closed.len() == 1
    });
    assert!(
        poll_until(WAIT, || threads_named("smpp-transport") == transports
            && threads_named("smpp-client") == clients),
        "threads left: {} smpp-transport, {} smpp-client",
        threads_named("smpp-transport"),
        threads_named("smpp-client")
    );
    smsc.stop();
    assert!(poll_until(WAIT, || threads_named("smpp-transport") == 0));
}

/// Leaves no thread behind: a failed connect (refused, bind rejected) and a client dropped
/// while its reconnect loop runs against a dead SMSC.
#[test]
fn failed_connects_and_reconnecting_clients_leave_no_threads() {
    // Serialized with the test above by a lock: both count threads by name.
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let smsc = Smsc::start(Knobs {
        credentials: Some(("esme".into(), "secret".into())),
        ..Knobs::default()
    });
    let base = threads_named("smpp-transport");
    let config = || {
        let mut c = ClientConfig::new(BindKind::Transceiver, "esme", "pw")
            .response_timeout(Duration::from_secs(3));
        c.session.unbind_timeout = Duration::from_secs(1);
        c
    };
    assert!(matches!(
        Client::connect(smsc.addr, config()),
        Err(Error::BindRejected(_))
    ));
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    assert!(matches!(
        Client::connect(closed, config()),
        Err(Error::Connect(_))
    ));
    let mut good = config().reconnect(smpp_client::Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(100),
        factor: 2.0,
        ..smpp_client::Backoff::default()
    });
    good.bind.password = "secret".into();
    let c = Client::connect(smsc.addr, good).unwrap();
    smsc.stop();
    assert!(poll_until(WAIT, || !c.is_connected()));
    let t = Instant::now();
    drop(c);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(
        poll_until(WAIT, || threads_named("smpp-transport") == base - 1
            && threads_named("smpp-client") == 0),
        "threads left: {} smpp-transport, {} smpp-client",
        threads_named("smpp-transport"),
        threads_named("smpp-client")
    );
}

static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
