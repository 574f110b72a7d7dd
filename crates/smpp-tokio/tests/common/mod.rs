//! What the tokio crate's integration tests share.

#![allow(dead_code)] // each test file uses its part

use std::time::Duration;

use smpp_tokio::InboundKind;
use tokio::time::timeout;

/// How long a test waits for anything.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// The next report on the stream (skipping receipts and the rest), within [`WAIT`].
pub(crate) async fn report(inbound: &mut smpp_tokio::Inbound) -> smpp_tokio::Report {
    timeout(WAIT, async {
        while let Some(item) = inbound.recv().await {
            if let InboundKind::Report(r) = item {
                return r;
            }
        }
        panic!("the stream ended before a report");
    })
    .await
    .expect("a report in time")
}
