//! The TCP ceiling: a client writing a pre-encoded `submit_sm` stream with a sliding window
//! and a responder answering each complete PDU with pre-encoded `submit_sm_resp` octets. No
//! SMPP rules, no decoding beyond `command_length`: what this machine moves over loopback
//! with the same octets in both directions and the same process layout.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use smpp_pdu::{CommandStatus, Pdu, SubmitSmResp};

use crate::{Limits, Measured};

/// The 128 octets every client sends (sequence number 1).
fn request() -> Vec<u8> {
    let mut out = Vec::new();
    Pdu::new(1, crate::clients::our_submit())
        .encode(&mut out)
        .expect("encode submit_sm");
    out
}

/// A `submit_sm_resp` with a 10-digit message id, as our SMSC's ids grow to (27 octets).
fn response() -> Vec<u8> {
    let mut out = Vec::new();
    Pdu::response(
        1,
        CommandStatus::ESME_ROK,
        SubmitSmResp {
            message_id: "1234567890".into(),
            tlvs: vec![],
        },
    )
    .encode(&mut out)
    .expect("encode submit_sm_resp");
    out
}

/// `echo-server`: prints its address, answers every connection until stdin closes.
pub(crate) fn server() -> ExitCode {
    let listener = match TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("echo-server: bind: {e}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(a) => println!("{a}"),
        Err(e) => {
            eprintln!("echo-server: local_addr: {e}");
            return ExitCode::FAILURE;
        }
    }
    let _ = std::io::stdout().flush();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                if let Err(e) = respond(conn) {
                    eprintln!("echo-server: {e}");
                }
            });
        }
    });
    crate::wait_for_stdin_eof();
    ExitCode::SUCCESS
}

/// Reads PDUs by their `command_length` and writes one pre-encoded response per PDU, all the
/// responses to one read in one write.
fn respond(mut conn: TcpStream) -> std::io::Result<()> {
    conn.set_nodelay(true)?;
    let one = response();
    let batch: Vec<u8> = one.repeat(256);
    let mut buf = vec![0u8; 256 * 1024];
    let mut have = 0usize;
    loop {
        let n = conn.read(&mut buf[have..])?;
        if n == 0 {
            return Ok(());
        }
        have += n;
        let mut at = 0usize;
        let mut count = 0usize;
        while have - at >= 4 {
            let len = u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]) as usize;
            if !(16..=65_536).contains(&len) {
                return Err(std::io::Error::other(format!("bad command_length {len}")));
            }
            if have - at < len {
                break;
            }
            at += len;
            count += 1;
        }
        buf.copy_within(at..have, 0);
        have -= at;
        while count > 0 {
            let k = count.min(256);
            conn.write_all(&batch[..k * one.len()])?;
            count -= k;
        }
    }
}

/// The echo client: one thread, blocking socket; writes as many requests as the window has
/// room for in one write, then reads whatever arrived and counts whole responses.
pub(crate) fn client(addr: SocketAddr, lim: Limits) -> Result<Measured, String> {
    let mut conn = TcpStream::connect(addr).map_err(|e| format!("echo: connect: {e}"))?;
    conn.set_nodelay(true)
        .map_err(|e| format!("echo: nodelay: {e}"))?;
    let one = request();
    let resp_len = response().len();
    let block = one.repeat(lim.window);
    let mut rbuf = vec![0u8; 256 * 1024];
    let mut phase = |max: u64, secs: Option<f64>| -> Result<Measured, String> {
        let start = Instant::now();
        let deadline = secs.map(Duration::from_secs_f64);
        let mut sent = 0u64;
        let mut stop = false;
        let mut sent_at: std::collections::VecDeque<Instant> =
            std::collections::VecDeque::with_capacity(lim.window);
        let mut partial = 0usize;
        let mut latencies = Vec::with_capacity(max.min(4_000_000) as usize);
        loop {
            if !stop {
                let now = Instant::now();
                if deadline.is_some_and(|d| now - start >= d) {
                    stop = true;
                }
                let room = (lim.window - sent_at.len()).min((max - sent) as usize);
                if !stop && room > 0 {
                    sent_at.extend(std::iter::repeat_n(now, room));
                    conn.write_all(&block[..room * one.len()])
                        .map_err(|e| format!("echo: write: {e}"))?;
                    sent += room as u64;
                }
                if sent >= max {
                    stop = true;
                }
            }
            if sent_at.is_empty() {
                break;
            }
            let n = conn
                .read(&mut rbuf)
                .map_err(|e| format!("echo: read: {e}"))?;
            if n == 0 {
                return Err("echo: the server closed the connection".into());
            }
            partial += n;
            let now = Instant::now();
            for _ in 0..partial / resp_len {
                let t0 = sent_at
                    .pop_front()
                    .ok_or("echo: more responses than requests")?;
                latencies.push((now - t0).as_nanos() as u64);
            }
            partial %= resp_len;
        }
        Ok(Measured {
            completed: latencies.len() as u64,
            elapsed: start.elapsed(),
            latencies,
        })
    };
    phase(lim.warmup, None)?;
    phase(lim.max, Some(lim.secs))
}

#[cfg(test)]
mod tests {
    use super::{request, response};

    /// The ceiling moves the same octets as the SMPP clients: the 128-octet submit_sm and a
    /// 27-octet submit_sm_resp, each with its own length in its header.
    #[test]
    fn the_pre_encoded_pdus_have_the_sizes_the_clients_use() {
        for (pdu, len) in [(request(), 128usize), (response(), 27)] {
            assert_eq!(pdu.len(), len);
            assert_eq!(
                u32::from_be_bytes([pdu[0], pdu[1], pdu[2], pdu[3]]) as usize,
                len
            );
        }
    }
}
