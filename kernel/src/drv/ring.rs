//! Pages shared with another domain (io/ring.h rings, libxenvchan), and the
//! event-channel doorbells that go with them.
//!
//! Both kinds of page are reached through the shared-memory layer
//! ([`SharedPage`]: atomics at bounds-checked offsets). Ownership makes misuse
//! impossible: [`GrantedPage`] is one of our pages granted to a peer (access is
//! ended only once the peer has unmapped it; if it never does, the page is
//! leaked rather than reused); [`MappedPage`] is a peer's grant mapped into one
//! of our slots, unmapped when dropped.

use super::evtchn;
use core::sync::atomic::{AtomicU64, Ordering::*};

pub use crate::shmem::{GrantedPage, MappedPage, SharedPage};

/// Events received per local port (handlers only count).
static KICKS: [AtomicU64; evtchn::MAX_HANDLED] = [const { AtomicU64::new(0) }; evtchn::MAX_HANDLED];

fn on_kick(port: u32) {
    if let Some(k) = KICKS.get(port as usize) {
        k.fetch_add(1, Release);
    }
}

/// Our end of an interdomain event channel: events in are counted, sends are counted.
pub struct Doorbell {
    pub port: u32,
    pub sent: u64,
}

impl Doorbell {
    /// Route `port`'s events to the counter and unmask it.
    pub fn bind(port: u32) -> Result<Self, crate::xen::XenError> {
        evtchn::bind(port, on_kick)?;
        Ok(Doorbell { port, sent: 0 })
    }

    /// Events received so far.
    pub fn kicks(&self) -> u64 {
        KICKS.get(self.port as usize).map_or(0, |k| k.load(Acquire))
    }

    /// Notify the other end.
    pub fn ring(&mut self) {
        self.sent += 1;
        let _ = evtchn::send(self.port);
    }
}
