//! Peers that reset their connection right after connecting (a port scan, a flapping load
//! balancer) do not leak entries: the listener keeps accepting.
//!
//! The reset needs `SO_LINGER` 0, which std does not offer: hence libc and `unsafe`.

#![allow(unsafe_code)]

use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Duration;

use smpp_transport::{Config, Transport};

/// Connects and closes with a reset (RST) instead of a FIN.
fn connect_and_reset(addr: SocketAddr) {
    let s = TcpStream::connect(addr).unwrap();
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor, a valid option value of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    drop(s);
}

#[test]
fn connections_reset_before_accept_do_not_use_up_the_connection_limit() {
    let server = Transport::spawn(Config {
        max_connections: 10,
        ..Config::default()
    })
    .unwrap();
    let listener = server
        .listen(
            "127.0.0.1:0".parse().unwrap(),
            smpp_session::Config::default(),
        )
        .unwrap();
    let addr = listener.local_addr();
    // Some of these resets land before the loop accepts (the race the test is about);
    // the rest are accepted, then closed.
    for _ in 0..200 {
        connect_and_reset(addr);
    }
    while let Ok(Some(c)) = listener.accept_timeout(Duration::from_millis(200)) {
        drop(c);
    }
    // Ten ordinary connections still fit under the limit of ten.
    let held: Vec<TcpStream> = (0..10).map(|_| TcpStream::connect(addr).unwrap()).collect();
    for i in 0..10 {
        assert!(
            listener
                .accept_timeout(Duration::from_secs(3))
                .unwrap()
                .is_some(),
            "connection {i} was refused: entries leaked"
        );
    }
    drop(held);
    server.shutdown();
}
