//! Watch registrations and their event queues, one per token, so a
//! WATCH_EVENT reaches the watcher that registered its token. Queues are
//! bounded (a flood of events costs dropped events, never unbounded memory).

use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Most events kept per token; older ones are dropped (and counted).
const QUEUE_MAX: usize = 512;

/// One delivered WATCH_EVENT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The path that fired, as the daemon sent it.
    pub path: Vec<u8>,
    /// When it was read off the ring (pvclock ns).
    pub at_ns: u64,
}

struct Watcher {
    token: Vec<u8>,
    /// Registrations (paths) using this token.
    paths: Vec<Vec<u8>>,
    events: VecDeque<Event>,
}

/// Every registered watch token and its queue.
#[derive(Default)]
pub struct Watches {
    list: Vec<Watcher>,
    /// Events whose token no registration has (e.g. after UNWATCH).
    pub stray: u64,
    /// Events dropped because a queue was full.
    pub dropped: u64,
}

impl Watches {
    fn find(&mut self, token: &[u8]) -> Option<&mut Watcher> {
        self.list.iter_mut().find(|w| w.token == token)
    }

    /// Registers `path` under `token` (before WATCH is sent, so the first event is kept).
    pub fn add(&mut self, path: &[u8], token: &[u8]) {
        match self.find(token) {
            Some(w) => w.paths.push(path.to_vec()),
            None => self.list.push(Watcher {
                token: token.to_vec(),
                paths: alloc::vec![path.to_vec()],
                events: VecDeque::new(),
            }),
        }
    }

    /// Forgets one registration; the token's queue goes with its last one.
    pub fn remove(&mut self, path: &[u8], token: &[u8]) {
        if let Some(w) = self.find(token) {
            w.paths.retain(|p| p != path);
        }
        self.list.retain(|w| !w.paths.is_empty());
    }

    /// Forgets everything (RESET_WATCHES).
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// Queues an event for its token's watcher, or counts it as stray.
    pub fn deliver(&mut self, path: &[u8], token: &[u8], at_ns: u64) {
        let Some(w) = self.list.iter_mut().find(|w| w.token == token) else {
            self.stray += 1;
            return;
        };
        if w.events.len() == QUEUE_MAX {
            w.events.pop_front();
            self.dropped += 1;
        }
        w.events.push_back(Event {
            path: path.to_vec(),
            at_ns,
        });
    }

    /// The oldest queued event of `token`.
    pub fn take(&mut self, token: &[u8]) -> Option<Event> {
        self.find(token)?.events.pop_front()
    }

    /// How many events `token` has queued.
    pub fn queued(&self, token: &[u8]) -> usize {
        self.list
            .iter()
            .find(|w| w.token == token)
            .map_or(0, |w| w.events.len())
    }

    /// Drops the queued events of every token.
    pub fn flush(&mut self) {
        self.list.iter_mut().for_each(|w| w.events.clear());
    }
}
