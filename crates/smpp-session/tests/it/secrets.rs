//! Passwords must not leak through `Debug` output of events (applications log events).

use smpp_session::{BindKind, BindRequest, Config, Event};

use crate::pair::Pair;

/// The password bytes in every form a `Debug` of bytes or strings could print them.
fn leaks(debug: &str, password: &str) -> bool {
    let bytes: Vec<String> = password.bytes().map(|b| b.to_string()).collect();
    debug.contains(password) || debug.contains(&bytes.join(", "))
}

#[test]
fn bind_request_debug_redacts_the_password() {
    let req = BindRequest::new(BindKind::Transceiver, "esme", "hunter2");
    assert!(!leaks(&format!("{req:?}"), "hunter2"));
}

#[test]
fn bind_requested_event_debug_redacts_the_password() {
    let mut p = Pair::default_pair();
    p.esme_bind(BindRequest::new(BindKind::Transceiver, "esme", "hunter2"))
        .unwrap();
    p.drive();
    let ev = &p.smsc_events[0];
    assert!(matches!(ev, Event::BindRequested { .. }));
    let dbg = format!("{ev:?} {ev:#?}");
    assert!(!leaks(&dbg, "hunter2"), "{dbg}");
    assert!(dbg.contains("esme"));
}

#[test]
fn outbind_event_debug_redacts_the_password() {
    let mut p = Pair::new(Config::default(), Config::default());
    let now = p.now;
    p.smsc.outbind(now, "smsc", "hunter2").unwrap();
    p.drive();
    let ev = &p.esme_events[0];
    assert!(matches!(ev, Event::Outbind { password, .. } if password.expose() == b"hunter2"));
    let dbg = format!("{ev:?} {ev:#?}");
    assert!(!leaks(&dbg, "hunter2"), "{dbg}");
}
