//! [`Pool::send_many`]: the calling thread deals the messages out to the accounts by
//! weight (each account has a queue as deep as its binds' windows), and a thread per
//! submit-capable bind takes from its account's queue while its bind is up and sends
//! through [`Client::send_many`] with the account's window.
//!
//! A message stays in its account's queue until a bind takes it, so the queue of an
//! account whose binds are all down is dealt to the others again (it was never sent). A
//! message a bind took is resolved by that bind, once: sent, refused, or unknown when the
//! bind dropped with it in flight.

use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use smpp_session::BindKind;

use super::{Member, Pool, Resend};
use crate::{Client, Error, OutgoingText, Sent};

/// How often a waiting thread looks again (a bind coming up or going down).
const LOOK: Duration = Duration::from_millis(20);

/// How long a message waits for room in the queue of the account whose turn it is before
/// it goes to another account with room.
const SKIP_AFTER: Duration = Duration::from_millis(10);

/// A message and its place in the input.
type Item = (usize, OutgoingText);

/// A message's result from a bind: its place, the result, and a copy of the message when
/// the resend policy may send it again.
type Done = (usize, Result<Sent, Error>, Option<OutgoingText>);

impl Pool {
    /// Sends many texts over every bind that can submit, spread over the accounts by
    /// weight (an account whose queue is full, or whose binds are down, is skipped: the
    /// others take more), within each account's cap and window. Returns each message's
    /// result in input order; every message gets exactly one: [`Sent`], an error of the
    /// message itself, [`Error::Disconnected`] (in flight on a bind that dropped: outcome
    /// unknown, not resent), [`Error::NotSent`] (taken by a bind as it dropped, before it
    /// was written), or [`Error::NoBind`] (no bind came up within
    /// [`PoolOptions::failover_wait`](super::PoolOptions::failover_wait): not sent).
    ///
    /// `progress` is called from the calling thread with each result as it comes (for a
    /// progress bar); pass `|_, _| {}` for none. Read [`Pool::inbound`] meanwhile when
    /// many reports are due.
    pub fn send_many(
        &self,
        texts: impl IntoIterator<Item = OutgoingText>,
        mut progress: impl FnMut(usize, &Result<Sent, Error>),
    ) -> Vec<Result<Sent, Error>> {
        let mut got = Gather {
            results: Vec::new(),
            progress: &mut progress,
        };
        if self.closed.load(Ordering::SeqCst) {
            return texts.into_iter().map(|_| Err(Error::Closed)).collect();
        }
        let queues: Vec<(Sender<Item>, Receiver<Item>)> = self
            .accounts
            .iter()
            .map(|a| {
                let senders = a
                    .members
                    .iter()
                    .filter(|&&m| self.members[m].kind != BindKind::Receiver)
                    .count();
                crossbeam_channel::bounded((a.window * senders).max(1))
            })
            .collect();
        let (done_tx, done_rx) = crossbeam_channel::unbounded::<Done>();
        let dealt = AtomicBool::new(false);
        let keep = self.options.resend != Resend::Never;
        std::thread::scope(|s| {
            for m in self.members.iter().filter(|m| m.kind != BindKind::Receiver) {
                let rx = queues[m.account].1.clone();
                let done = done_tx.clone();
                let window = self.accounts[m.account].window;
                let dealt = &dealt;
                s.spawn(move || work(m, &rx, &done, window, dealt, keep));
            }
            drop(done_tx);
            // Deal every message out (and again: what waited at an account that went
            // down, and what the resend policy sends again) until every one is resolved.
            let mut again: VecDeque<Item> = VecDeque::new();
            let mut texts = texts.into_iter().enumerate();
            let mut waiting_since: Option<Instant> = None;
            let mut dealt_count = 0u64;
            // Messages in a queue or with a bind, not resolved yet.
            let mut open = 0usize;
            let mut resent: HashSet<usize> = HashSet::new();
            loop {
                let mut settle = |got: &mut Gather<'_, _>,
                                  again: &mut VecDeque<Item>,
                                  open: &mut usize| {
                    for (i, r, copy) in done_rx.try_iter() {
                        *open -= 1;
                        match copy {
                            Some(text) if self.options.resend.covers(&r) && resent.insert(i) => {
                                log::info!("message {i}: {r:?}; sending it again as the pool's resend policy says");
                                again.push_back((i, text));
                            }
                            _ => got.put(i, r),
                        }
                    }
                };
                settle(&mut got, &mut again, &mut open);
                let next = match again.pop_front() {
                    Some(item) => Some(item),
                    None => texts.next(),
                };
                let Some(mut item) = next else {
                    if open == 0 {
                        break;
                    }
                    // Everything dealt: wait for the results, dealing out again what an
                    // account that went down still holds.
                    open -= self.reclaim(&queues, &mut again);
                    if again.is_empty() {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    continue;
                };
                got.make_room(item.0);
                loop {
                    match self.deal(&queues, item) {
                        Ok(()) => {
                            open += 1;
                            waiting_since = None;
                            dealt_count += 1;
                            // Now and then, what waits at an account that went down.
                            if dealt_count % 256 == 0 {
                                open -= self.reclaim(&queues, &mut again);
                            }
                            break;
                        }
                        Err(back) => item = back,
                    }
                    settle(&mut got, &mut again, &mut open);
                    open -= self.reclaim(&queues, &mut again);
                    let any_up = (0..self.accounts.len()).any(|a| self.account_up(a));
                    if any_up {
                        waiting_since = None;
                    } else {
                        let since = *waiting_since.get_or_insert_with(Instant::now);
                        if since.elapsed() >= self.options.failover_wait {
                            // No bind for that long: this message and what waits are
                            // given up, not sent.
                            got.put(item.0, Err(Error::NoBind));
                            break;
                        }
                    }
                    // Full everywhere, or nothing up: wait a little for room.
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            // Every message resolved: the binds' threads end.
            dealt.store(true, Ordering::SeqCst);
            drop(queues);
            for (i, r, _) in done_rx.iter() {
                got.put(i, r);
            }
        });
        got.results
            .into_iter()
            .map(|r| r.unwrap_or(Err(Error::NoBind)))
            .collect()
    }

    /// Puts the message in the queue of the next account by weight among those up. When
    /// that queue stays full for [`SKIP_AFTER`] (the account is at its cap or its binds'
    /// windows are full), the message goes to the next account up with room instead, so
    /// that a slow account does not hold the others back; gives the message back when no
    /// account has room.
    // The message comes back by value when no account has room: boxing it would cost an
    // allocation per message for the rare case.
    #[allow(clippy::result_large_err)]
    fn deal(&self, queues: &[(Sender<Item>, Receiver<Item>)], item: Item) -> Result<(), Item> {
        let Some(a) = self
            .spread
            .lock()
            .ok()
            .and_then(|mut s| s.pick(|a| self.account_up(a)))
        else {
            return Err(item);
        };
        let item = match queues[a].0.send_timeout(item, SKIP_AFTER) {
            Ok(()) => return Ok(()),
            Err(e) => e.into_inner(),
        };
        let Some(b) = self
            .spread
            .lock()
            .ok()
            .and_then(|mut s| s.pick(|b| self.account_up(b) && !queues[b].0.is_full()))
        else {
            return Err(item);
        };
        match queues[b].0.try_send(item) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(item) | TrySendError::Disconnected(item)) => Err(item),
        }
    }

    /// Takes back what waits in the queue of an account that has no bind up, to deal it
    /// out again (none of it was sent); how many.
    fn reclaim(
        &self,
        queues: &[(Sender<Item>, Receiver<Item>)],
        again: &mut VecDeque<Item>,
    ) -> usize {
        let before = again.len();
        for (a, (_, rx)) in queues.iter().enumerate() {
            if !rx.is_empty() && !self.account_up(a) {
                again.extend(rx.try_iter());
            }
        }
        again.len() - before
    }
}

/// The results as they come, in input order, each told to the caller's progress.
struct Gather<'a, P: FnMut(usize, &Result<Sent, Error>)> {
    results: Vec<Option<Result<Sent, Error>>>,
    progress: &'a mut P,
}

impl<P: FnMut(usize, &Result<Sent, Error>)> Gather<'_, P> {
    fn make_room(&mut self, i: usize) {
        if self.results.len() <= i {
            self.results.resize_with(i + 1, || None);
        }
    }

    fn put(&mut self, i: usize, r: Result<Sent, Error>) {
        self.make_room(i);
        (self.progress)(i, &r);
        self.results[i] = Some(r);
    }
}

/// A bind's thread: while the bind is up, takes messages from its account's queue and
/// sends them through the window; when it is down, waits for it, or ends once every
/// message was dealt and the queue is empty.
fn work(
    m: &Member,
    rx: &Receiver<Item>,
    done: &Sender<Done>,
    window: usize,
    dealt: &AtomicBool,
    keep: bool,
) {
    let ended = Cell::new(false);
    while !ended.get() {
        if !m.client.is_connected() {
            if m.client.is_closed() || (dealt.load(Ordering::SeqCst) && rx.is_empty()) {
                return;
            }
            std::thread::sleep(LOOK);
            continue;
        }
        let taken = RefCell::new(Vec::new());
        let results = m.client.send_many(
            Take {
                rx,
                client: &m.client,
                taken: &taken,
                ended: &ended,
                keep,
            },
            window,
        );
        for ((i, copy), r) in taken.into_inner().into_iter().zip(results) {
            let _ = done.send((i, r, copy));
        }
    }
}

/// The messages a bind takes from its account's queue: while the bind is up, and until
/// the queue is empty and closed.
struct Take<'a> {
    rx: &'a Receiver<Item>,
    client: &'a Client,
    /// What it took: each message's place, and a copy when it may be sent again.
    taken: &'a RefCell<Vec<(usize, Option<OutgoingText>)>>,
    /// Set once the queue is empty and closed.
    ended: &'a Cell<bool>,
    /// Whether to keep a copy of each message (the pool may send it again).
    keep: bool,
}

impl Iterator for Take<'_> {
    type Item = OutgoingText;

    fn next(&mut self) -> Option<OutgoingText> {
        // Waited on while the bind is up (and for at most a while once it took some): the
        // window stays full across the messages the calling thread deals (`size_hint` tells `send_many` what is there already, so
        // that it groups those and hands over the last at once).
        loop {
            if !self.client.is_connected() {
                return None;
            }
            match self.rx.recv_timeout(LOOK) {
                Ok((i, text)) => {
                    let copy = self.keep.then(|| text.clone());
                    self.taken.borrow_mut().push((i, copy));
                    return Some(text);
                }
                // Idle for a while with messages taken: this run ends, so that their
                // results go back (the calling thread waits for every result before it
                // closes the queues).
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                    if !self.taken.borrow().is_empty() {
                        return None;
                    }
                }
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                    self.ended.set(true);
                    return None;
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.rx.len(), None)
    }
}
