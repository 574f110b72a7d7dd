//! The drive loop of [`DirectClient`]: one round of timers, writing and reading (each
//! bounded by the call's deadline and the next timer), and how the stream's timeouts are
//! kept.

use std::io::{self, ErrorKind};

use super::*;

/// Octets read from the stream per call.
pub(super) const READ_CHUNK: usize = 64 * 1024;

/// The shortest wait handed to the stream (the standard library's TCP stream refuses a zero
/// timeout).
const MIN_WAIT: Duration = Duration::from_millis(1);

/// How far past the wanted time a timeout already set on the stream may reach and still be
/// kept (saves a system call per turn; the session's timers are far coarser).
const SLACK: Duration = Duration::from_millis(1);

impl<S: Read + Write + Timeouts> DirectClient<S> {
    /// One round: timers and the backlog, write, read (bounded by `deadline` and the next
    /// timer), timers again. With `prompt`, a round that has events before it reads
    /// returns without reading (a `poll` returns them at once); `bind` and `unbind` read
    /// regardless.
    pub(super) fn turn(&mut self, deadline: Instant, prompt: bool) {
        self.core.handle_timeout(Instant::now());
        let wake = self.next_wake(deadline);
        self.write_out(wake);
        if self.core.is_closed() || (prompt && self.core.queued_events() > 0) {
            return;
        }
        self.read_in(wake);
        // What the input was answered with (a deliver_sm_resp, an enquire_link_resp) goes
        // out now, before the caller gets the events and perhaps does not poll for a
        // while: an SMSC waiting for its answer would resend or give up.
        if self.core.has_transmit() {
            self.write_out(self.next_wake(deadline));
        }
    }

    /// The earliest of `deadline` and the core's next deadline.
    pub(super) fn next_wake(&self, deadline: Instant) -> Instant {
        self.core
            .poll_timeout()
            .map_or(deadline, |t| t.min(deadline))
    }

    /// Writes the session's output, as much as the stream takes before `wake`.
    pub(super) fn write_out(&mut self, wake: Instant) {
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        }
        self.core.poll_transmit(&mut self.out);
        if self.out_pos == self.out.len() {
            // Nothing of ours, but a TLS stream may still hold records a blocked write left
            // (a flush of a plain stream does nothing).
            self.flush_stream();
            return;
        }
        let now = Instant::now();
        if let Some(t) = keep_or_set(self.write_timeout, wake.saturating_duration_since(now)) {
            if let Err(e) = self.stream.set_write_timeout(Some(t)) {
                self.core.handle_io_error(now, e);
                return;
            }
            self.write_timeout = Some(t);
        }
        while self.out_pos < self.out.len() {
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(0) => {
                    self.core
                        .handle_io_error(now, io::Error::from(ErrorKind::WriteZero));
                    return;
                }
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_wait(&e) => break,
                Err(e) => {
                    self.core.handle_io_error(Instant::now(), e);
                    return;
                }
            }
        }
        self.flush_stream();
    }

    /// Flushes the stream (a TLS stream writes its records).
    pub(super) fn flush_stream(&mut self) {
        match self.stream.flush() {
            Ok(()) => {}
            Err(e) if is_wait(&e) || e.kind() == ErrorKind::Interrupted => {}
            Err(e) => self.core.handle_io_error(Instant::now(), e),
        }
    }

    /// Reads once, waiting at most until `wake`, and feeds the session.
    pub(super) fn read_in(&mut self, wake: Instant) {
        let now = Instant::now();
        if let Some(t) = keep_or_set(self.read_timeout, wake.saturating_duration_since(now)) {
            if let Err(e) = self.stream.set_read_timeout(Some(t)) {
                self.core.handle_io_error(now, e);
                return;
            }
            self.read_timeout = Some(t);
        }
        match self.stream.read(&mut self.buf) {
            Ok(0) => self.core.handle_eof(Instant::now()),
            Ok(n) => self.core.handle_input(Instant::now(), &self.buf[..n]),
            Err(e) if is_wait(&e) || e.kind() == ErrorKind::Interrupted => {}
            Err(e) => self.core.handle_io_error(Instant::now(), e),
        }
    }
}

/// Whether an I/O error only says that the wait ended.
pub(super) fn is_wait(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// The timeout to set on the stream for a wait of `want`, or `None` to keep `current`
/// (when it ends no later than `SLACK` after `want` and not before half of it: a system
/// call saved per round).
pub(super) fn keep_or_set(current: Option<Duration>, want: Duration) -> Option<Duration> {
    let want = want.max(MIN_WAIT);
    match current {
        Some(c) if c <= want + SLACK && c * 2 >= want => None,
        _ => Some(want),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_is_kept_while_it_is_close_enough() {
        let ms = Duration::from_millis;
        assert_eq!(keep_or_set(None, ms(100)), Some(ms(100)));
        assert_eq!(keep_or_set(Some(ms(100)), ms(100)), None);
        assert_eq!(keep_or_set(Some(ms(100)), ms(99)), None, "within the slack");
        assert_eq!(keep_or_set(Some(ms(100)), ms(50)), Some(ms(50)), "too long");
        assert_eq!(keep_or_set(Some(ms(100)), ms(200)), None, "half of it");
        assert_eq!(
            keep_or_set(Some(ms(100)), ms(201)),
            Some(ms(201)),
            "too short"
        );
        assert_eq!(
            keep_or_set(None, Duration::ZERO),
            Some(MIN_WAIT),
            "never zero"
        );
    }
}
