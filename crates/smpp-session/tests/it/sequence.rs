//! Sequence numbering.
//!
//! The wrap from 0x7FFF_FFFF to 1, and skipping numbers still in flight after the wrap,
//! cannot be reached through the public API in reasonable time (2^31 requests); the session
//! needs a test hook (for example a `Config` or `#[doc(hidden)]` setter for the first
//! sequence number) before those can be tested here.

use std::time::Duration;

use smpp_pdu::{Body, CommandId, EnquireLink};
use smpp_session::{BindKind, BindRequest, Config, MAX_SEQUENCE_NUMBER};

use crate::pair::{headers, submit, Pair, Side};

#[test]
fn numbers_start_at_one_and_count_up_across_every_request() {
    let mut p = Pair::new(
        Config::default().enquire_link_interval(Some(Duration::from_secs(30))),
        Config::default().enquire_link_interval(None),
    );
    p.auto_accept_bind = true;
    p.auto_smsc = true;
    assert_eq!(
        p.esme_bind(BindRequest::new(BindKind::Transceiver, "e", "p")),
        Ok(1)
    );
    p.drive();
    assert_eq!(p.esme_send(submit("a")), Ok(2));
    assert_eq!(p.esme_send(Body::from(EnquireLink::default())), Ok(3));
    p.drive();
    // A keep-alive takes the next number too.
    p.advance_to_next_timeout();
    let sent = headers(&p.esme_tx);
    assert_eq!(
        sent.last().map(|h| (h.0, h.2)),
        Some((CommandId::ENQUIRE_LINK, 4))
    );
    p.drive();
    assert_eq!(p.esme_send(submit("b")), Ok(5));
    assert_eq!(p.unbind(Side::Esme), Ok(6));
    p.drive();
    p.check_accounting(true);
    // Every number went out exactly once and none is out of range.
    let seqs: Vec<u32> = headers(&p.esme_tx).iter().map(|h| h.2).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
    assert!(seqs.iter().all(|&s| (1..=MAX_SEQUENCE_NUMBER).contains(&s)));
}
