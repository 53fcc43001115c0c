//! Consuming one vCPU's FIFO queues (the rules are in the module docs).

use super::{EventWord, FifoShared, CAS_RETRIES, READY_MASK};
use crate::xen::event_channel::{EVTCHN_FIFO_LINK_MASK, EVTCHN_FIFO_MAX_QUEUES};

/// One vCPU's private consumer state (Linux keeps the same per CPU): the next
/// port of each queue (0: read HEAD from the control block) and the READY bits
/// taken from Xen and not yet drained.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Consumer {
    head: [u32; EVTCHN_FIFO_MAX_QUEUES],
    ready: u32,
}

impl Consumer {
    pub const fn new() -> Self {
        Consumer {
            head: [0; EVTCHN_FIFO_MAX_QUEUES],
            ready: 0,
        }
    }
    /// READY bits taken from Xen are still to be served (a scan ran out of budget).
    pub fn has_work(&self) -> bool {
        self.ready != 0
    }
    fn end_queue(&mut self, priority: usize) {
        self.head[priority] = 0;
        self.ready &= !(1 << priority);
    }
}

/// A HEAD or LINK that names a port without an event word: whoever wrote it
/// broke the protocol. The queue is dropped from there; the next READY restarts
/// it from the control block's HEAD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadLink {
    pub priority: u8,
    /// The port whose LINK named it; 0 when it was the control block's HEAD.
    pub from: u32,
    pub port: u32,
    /// Ports that had event words at the time.
    pub nr_ports: u32,
}

impl core::fmt::Display for BadLink {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.from {
            0 => write!(f, "HEAD of priority {}", self.priority)?,
            p => write!(f, "LINK of port {p} (priority {})", self.priority)?,
        }
        write!(
            f,
            " names port {}, beyond the {} ports with event words",
            self.port, self.nr_ports
        )
    }
}

/// What one [`scan`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanReport {
    /// Events handed to the handler.
    pub delivered: u32,
    /// Queue steps taken (events unlinked, delivered or not).
    pub steps: u32,
    /// The budget ran out with READY bits left: scan again later.
    pub more: bool,
    /// Words whose update did not settle within [`CAS_RETRIES`] attempts.
    pub stuck: u32,
    /// HEAD/LINK values beyond the event array, and the first of them.
    pub bad_links: u32,
    pub first_bad: Option<BadLink>,
}

impl ScanReport {
    fn bad(&mut self, priority: usize, from: u32, port: u32, nr_ports: u32) {
        self.bad_links += 1;
        self.first_bad.get_or_insert(BadLink {
            priority: priority as u8,
            from,
            port,
            nr_ports,
        });
    }
}

/// Serves this vCPU's queues, highest priority first, handing every event
/// that is PENDING and not MASKED to `handle` once (PENDING cleared first).
/// `nr_ports` is how many ports have event words; at most `budget` queue
/// steps are taken (then `more` is set and `c` remembers where it stopped).
pub fn scan<S: FifoShared>(
    s: &S,
    c: &mut Consumer,
    nr_ports: u32,
    budget: u32,
    handle: &mut impl FnMut(u32),
) -> ScanReport {
    let mut r = ScanReport::default();
    c.ready |= s.swap_ready() & READY_MASK;
    while c.ready != 0 {
        if r.steps >= budget {
            r.more = true;
            break;
        }
        r.steps += 1;
        consume_one(
            s,
            c,
            c.ready.trailing_zeros() as usize,
            nr_ports,
            &mut r,
            handle,
        );
        c.ready |= s.swap_ready() & READY_MASK;
    }
    r
}

/// Takes the first event of queue `priority`.
fn consume_one<S: FifoShared>(
    s: &S,
    c: &mut Consumer,
    priority: usize,
    nr_ports: u32,
    r: &mut ScanReport,
    handle: &mut impl FnMut(u32),
) {
    // Reached the tail last time: HEAD from the control block (Acquire: the
    // event words Xen wrote before HEAD are visible).
    let port = match c.head[priority] {
        0 => s.head(priority),
        p => p,
    };
    if port == 0 || port >= nr_ports {
        if port != 0 {
            r.bad(priority, 0, port, nr_ports);
        }
        return c.end_queue(priority);
    }
    match unlink(s, port) {
        None => {
            r.stuck += 1;
            return c.end_queue(priority);
        }
        Some(0) => c.end_queue(priority),
        Some(next) if next >= nr_ports => {
            r.bad(priority, port, next, nr_ports);
            c.end_queue(priority);
        }
        Some(next) => c.head[priority] = next,
    }
    match take_pending(s, port) {
        Some(true) => {
            r.delivered += 1;
            handle(port);
        }
        Some(false) => {}
        None => r.stuck += 1,
    }
}

/// Clears LINKED and LINK in one cmpxchg; returns the LINK it held (0 when the
/// word was not LINKED: the queue ends there). `None`: the word never settled.
fn unlink<S: FifoShared>(s: &S, port: u32) -> Option<u32> {
    let mut w = s.load(port);
    for _ in 0..CAS_RETRIES {
        if !EventWord(w).linked() {
            return Some(0);
        }
        let new = w & !(EventWord::LINKED | EVTCHN_FIFO_LINK_MASK);
        match s.compare_exchange(port, w, new) {
            Ok(_) => return Some(EventWord(w).link()),
            Err(now) => w = now,
        }
    }
    None
}

/// Clears PENDING iff it is set and MASKED is not (a masked event stays held);
/// returns whether it did. `None`: the word never settled.
fn take_pending<S: FifoShared>(s: &S, port: u32) -> Option<bool> {
    let mut w = EventWord(s.load(port));
    for _ in 0..CAS_RETRIES {
        if !w.pending() || w.masked() {
            return Some(false);
        }
        match s.compare_exchange(port, w.0, w.0 & !EventWord::PENDING) {
            Ok(_) => return Some(true),
            Err(now) => w = EventWord(now),
        }
    }
    None
}
