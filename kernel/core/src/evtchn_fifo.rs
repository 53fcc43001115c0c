//! FIFO event channels (Xen's `event_fifo.c` ABI), the guest's side, over an
//! abstract view of the shared memory.
//!
//! Every port has a 32-bit event word in the domain's event array (pages the
//! guest adds with EVTCHNOP_expand_array, 1024 words each): PENDING (31),
//! MASKED (30), LINKED (29), BUSY (28) and a 17-bit LINK to the next port of
//! its queue. Each vCPU has a control block (EVTCHNOP_init_control) with one
//! READY bit and one HEAD port per priority (0 highest .. 15 lowest). To raise
//! an unmasked port Xen sets PENDING and LINKED, links the port behind its
//! queue's tail with a cmpxchg that succeeds only while the tail is still
//! LINKED, and otherwise (the guest already took the tail: the queue is empty)
//! writes HEAD and sets READY, upcalling the vCPU if that bit was clear.
//!
//! The rules the guest must keep, which [`scan`] and [`unmask`] follow
//! (Linux's events_fifo.c keeps the same ones):
//! - take READY with an exchange; serve the highest priority set, one event
//!   at a time, re-taking READY after each (a higher priority raised
//!   meanwhile goes first);
//! - a queue is walked from a private HEAD per priority; only when that is 0
//!   (the tail was reached) is HEAD read from the control block;
//! - each event is unlinked by clearing LINKED and LINK in one cmpxchg; the
//!   LINK it held is the next port, 0 means the queue is empty, and then the
//!   priority's READY bit is dropped from the private copy;
//! - the event is delivered only if PENDING and not MASKED, and PENDING is
//!   cleared (atomically, and only while unmasked) *before* its handler runs;
//! - unmasking clears MASKED with a cmpxchg that expects BUSY clear (Xen sets
//!   BUSY on the tail while it links to it); a port found PENDING is unmasked
//!   by Xen instead (EVTCHNOP_unmask), which also links it, so its edge is
//!   never lost.
//!
//! HEAD and LINK values come from another domain's writes: one naming a port
//! without an event word is reported as a [`BadLink`], never followed. The
//! work of one [`scan`] is bounded, so no value Xen writes can make it spin.

mod choose;
mod consume;
#[cfg(test)]
mod model;
mod pages;
#[cfg(test)]
mod tests;

pub use choose::{choose_abi, wants_fifo, FifoUnavailable};
pub use consume::{scan, BadLink, Consumer, ScanReport};
pub use pages::FifoPages;

use crate::xen::event_channel::{
    EVTCHN_FIFO_BUSY, EVTCHN_FIFO_EVENT_WORDS_PER_PAGE, EVTCHN_FIFO_LINKED, EVTCHN_FIFO_LINK_MASK,
    EVTCHN_FIFO_MASKED, EVTCHN_FIFO_MAX_EVENT_ARRAY_PAGES, EVTCHN_FIFO_MAX_QUEUES,
    EVTCHN_FIFO_PENDING, EVTCHN_FIFO_PRIORITY_MIN,
};

/// One `event_word_t` as read from the event array (an integer: Xen writes it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventWord(pub u32);

impl EventWord {
    pub const PENDING: u32 = 1 << EVTCHN_FIFO_PENDING;
    pub const MASKED: u32 = 1 << EVTCHN_FIFO_MASKED;
    pub const LINKED: u32 = 1 << EVTCHN_FIFO_LINKED;
    pub const BUSY: u32 = 1 << EVTCHN_FIFO_BUSY;
    /// What every word of a page is set to before the page is given to Xen
    /// (Linux's `init_array_page`): masked, so no port fires before it is bound.
    pub const INITIAL: Self = Self(Self::MASKED);

    pub fn pending(self) -> bool {
        self.0 & Self::PENDING != 0
    }
    pub fn masked(self) -> bool {
        self.0 & Self::MASKED != 0
    }
    pub fn linked(self) -> bool {
        self.0 & Self::LINKED != 0
    }
    pub fn busy(self) -> bool {
        self.0 & Self::BUSY != 0
    }
    /// The next port of the queue (meaningful while LINKED).
    pub fn link(self) -> u32 {
        self.0 & EVTCHN_FIFO_LINK_MASK
    }
}

/// The READY bits that name a queue (bits 16..31 mean nothing and are ignored).
pub const READY_MASK: u32 = (1 << EVTCHN_FIFO_MAX_QUEUES) - 1;

/// Atomic access to the FIFO ABI's shared memory as one vCPU sees it: the
/// domain's event array and this vCPU's control block. Each method is one
/// atomic access (Acquire on loads, a `lock`-prefixed instruction for the
/// read-modify-writes). This module only passes ports below the `nr_ports`
/// its caller gives it, so an implementation never reaches a missing page.
pub trait FifoShared {
    /// `port`'s event word.
    fn load(&self, port: u32) -> u32;
    /// cmpxchg on `port`'s word: `Ok(old)` if it held `old` (now `new`), else `Err(current)`.
    fn compare_exchange(&self, port: u32, old: u32, new: u32) -> Result<u32, u32>;
    /// `lock or` into `port`'s word; returns the previous word.
    fn fetch_or(&self, port: u32, bits: u32) -> u32;
    /// `lock and` into `port`'s word; returns the previous word.
    fn fetch_and(&self, port: u32, bits: u32) -> u32;
    /// Exchanges this vCPU's `control_block.ready` with 0.
    fn swap_ready(&self) -> u32;
    /// This vCPU's `control_block.head[priority]` (`priority` < 16).
    fn head(&self, priority: usize) -> u32;
}

/// How many cmpxchg attempts one word update may take before the word is
/// declared stuck (Xen changes a word a handful of times while linking).
pub const CAS_RETRIES: u32 = 1 << 16;

/// Event-array pages needed for `port` to have a word; `None` beyond the ABI's ports.
pub fn pages_for(port: u32) -> Option<u32> {
    let pages = port / EVTCHN_FIFO_EVENT_WORDS_PER_PAGE + 1;
    (pages <= EVTCHN_FIFO_MAX_EVENT_ARRAY_PAGES).then_some(pages)
}

/// Ports covered by `pages` event-array pages.
pub fn ports_in(pages: u32) -> u32 {
    pages.saturating_mul(EVTCHN_FIFO_EVENT_WORDS_PER_PAGE)
}

/// Whether Xen accepts `priority` (EVTCHNOP_set_priority refuses others with EINVAL).
pub fn valid_priority(priority: u32) -> bool {
    priority <= EVTCHN_FIFO_PRIORITY_MIN
}

/// Sets MASKED; returns whether it was already set.
pub fn mask<S: FifoShared>(s: &S, port: u32) -> bool {
    EventWord(s.fetch_or(port, EventWord::MASKED)).masked()
}

/// Whether `port` is PENDING.
pub fn is_pending<S: FifoShared>(s: &S, port: u32) -> bool {
    EventWord(s.load(port)).pending()
}

/// Whether `port` is LINKED (still on a queue: Linux waits for that to clear
/// before a closed port may be reused).
pub fn is_linked<S: FifoShared>(s: &S, port: u32) -> bool {
    EventWord(s.load(port)).linked()
}

/// Clears PENDING (the port stays on its queue if LINKED; [`scan`] skips it).
pub fn clear_pending<S: FifoShared>(s: &S, port: u32) {
    s.fetch_and(port, !EventWord::PENDING);
}

/// What [`unmask`] left to its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unmask {
    /// MASKED is clear; nothing was pending.
    Done,
    /// The port is PENDING (or BUSY never cleared): the caller must issue
    /// EVTCHNOP_unmask, with which Xen clears MASKED and links the event.
    Hypercall,
}

/// Unmasks `port` without losing an edge (Linux's `clear_masked_cond`): a
/// pending port is left to Xen; otherwise MASKED is cleared with a cmpxchg
/// that expects BUSY clear, so it cannot race Xen's linking.
pub fn unmask<S: FifoShared>(s: &S, port: u32) -> Unmask {
    let mut w = EventWord(s.load(port));
    for _ in 0..CAS_RETRIES {
        if !w.masked() {
            return Unmask::Done;
        }
        if w.pending() {
            return Unmask::Hypercall;
        }
        let old = w.0 & !EventWord::BUSY;
        match s.compare_exchange(port, old, old & !EventWord::MASKED) {
            Ok(_) => return Unmask::Done,
            Err(now) => w = EventWord(now),
        }
        core::hint::spin_loop();
    }
    Unmask::Hypercall
}
