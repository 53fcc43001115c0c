//! io/ring.h shared rings: free-running indexes, the notification-suppression
//! protocol (`req_event`/`rsp_event`), and peer-index validation.
//!
//! The shared header is `{ req_prod, req_event, rsp_prod, rsp_event, pad[48] }`
//! (64 bytes) followed by `size` slots, `size` a power of two. Each side keeps
//! private indexes (front: `req_prod_pvt`, `rsp_cons`; back: `rsp_prod_pvt`,
//! `req_cons`). Indexes are never stored masked. A peer whose producer index
//! runs more than `size` ahead of our consumer index is misbehaving: that is a
//! [`RingError`], never a panic or an out-of-ring access.

/// Offsets of the shared header fields.
pub const REQ_PROD: usize = 0;
pub const REQ_EVENT: usize = 4;
pub const RSP_PROD: usize = 8;
pub const RSP_EVENT: usize = 12;
/// Size of the shared header before the slots.
pub const HEADER: usize = 64;

/// Slots of a ring of `slot_size`-byte entries in a `page`-byte area (io/ring.h __RING_SIZE).
pub const fn ring_size(page: usize, slot_size: usize) -> u32 {
    let n = (page - HEADER) / slot_size;
    if n == 0 {
        0
    } else {
        1 << (usize::BITS - 1 - n.leading_zeros())
    }
}

/// Byte offset of slot `idx` (free-running) in the shared area.
pub fn slot_offset(idx: u32, size: u32, slot_size: usize) -> usize {
    HEADER + (idx & (size - 1)) as usize * slot_size
}

pub use crate::ring::RingError;
use crate::shmem::SharedMem;

fn unconsumed(what: &'static str, prod: u32, cons: u32, size: u32) -> Result<u32, RingError> {
    crate::ring::used(prod, cons, size).map_err(|e| e.named(what))
}

/// `new - event < new - old`: the peer asked (via its event index) to be told about
/// an index in `(old, new]` (io/ring.h RING_PUSH_*_AND_CHECK_NOTIFY).
pub fn needs_notify(old: u32, new: u32, event: u32) -> bool {
    new.wrapping_sub(event) < new.wrapping_sub(old)
}

/// The frontend's private state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Front {
    pub size: u32,
    pub req_prod_pvt: u32,
    pub rsp_cons: u32,
}

impl Front {
    /// FRONT_RING_INIT: both private indexes at the shared start (0 for a new ring).
    pub fn new(size: u32) -> Self {
        Front {
            size,
            req_prod_pvt: 0,
            rsp_cons: 0,
        }
    }

    /// Free request slots (RING_FULL when 0): requests not yet answered occupy slots.
    pub fn free_requests(&self) -> u32 {
        self.size - self.req_prod_pvt.wrapping_sub(self.rsp_cons).min(self.size)
    }

    /// RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: publish private requests; true = notify the back.
    pub fn push_requests(&self, s: &impl SharedMem) -> bool {
        let old = s.load32(REQ_PROD);
        s.store32(REQ_PROD, self.req_prod_pvt);
        s.fence();
        needs_notify(old, self.req_prod_pvt, s.load32(REQ_EVENT))
    }

    /// Responses ready to consume, validated against the ring size.
    pub fn unconsumed_responses(&self, s: &impl SharedMem) -> Result<u32, RingError> {
        let prod = s.load32(RSP_PROD);
        let n = unconsumed("rsp_prod", prod, self.rsp_cons, self.size)?;
        // Responses answer requests: more than we sent is also impossible.
        let sent = self.req_prod_pvt.wrapping_sub(self.rsp_cons);
        if n > sent {
            return Err(RingError {
                what: "rsp_prod (beyond requests sent)",
                prod,
                cons: self.rsp_cons,
                size: sent,
            });
        }
        Ok(n)
    }

    /// RING_FINAL_CHECK_FOR_RESPONSES: if none, ask to be notified of the next and re-check.
    pub fn final_check_for_responses(&self, s: &impl SharedMem) -> Result<u32, RingError> {
        let n = self.unconsumed_responses(s)?;
        if n > 0 {
            return Ok(n);
        }
        s.store32(RSP_EVENT, self.rsp_cons.wrapping_add(1));
        s.fence();
        self.unconsumed_responses(s)
    }
}

/// The backend's private state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Back {
    pub size: u32,
    pub rsp_prod_pvt: u32,
    pub req_cons: u32,
}

impl Back {
    /// BACK_RING_INIT.
    pub fn new(size: u32) -> Self {
        Back {
            size,
            rsp_prod_pvt: 0,
            req_cons: 0,
        }
    }

    /// RING_HAS_UNCONSUMED_REQUESTS, validated: requests the peer published that we may take.
    pub fn unconsumed_requests(&self, s: &impl SharedMem) -> Result<u32, RingError> {
        self.requests_up_to(s.load32(REQ_PROD))
    }

    /// As [`Back::unconsumed_requests`] for a `req_prod` value the caller loaded (Acquire)
    /// itself, e.g. before reading layout fields the requests up to it were written with.
    pub fn requests_up_to(&self, prod: u32) -> Result<u32, RingError> {
        let n = unconsumed("req_prod", prod, self.req_cons, self.size)?;
        // Slots still holding our unsent responses cannot carry new requests.
        let room = self.size - self.req_cons.wrapping_sub(self.rsp_prod_pvt).min(self.size);
        Ok(n.min(room))
    }

    /// RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: true = notify the front.
    pub fn push_responses(&self, s: &impl SharedMem) -> bool {
        let old = s.load32(RSP_PROD);
        s.store32(RSP_PROD, self.rsp_prod_pvt);
        s.fence();
        needs_notify(old, self.rsp_prod_pvt, s.load32(RSP_EVENT))
    }

    /// RING_FINAL_CHECK_FOR_REQUESTS.
    pub fn final_check_for_requests(&self, s: &impl SharedMem) -> Result<u32, RingError> {
        let n = self.unconsumed_requests(s)?;
        if n > 0 {
            return Ok(n);
        }
        s.store32(REQ_EVENT, self.req_cons.wrapping_add(1));
        s.fence();
        self.unconsumed_requests(s)
    }
}

#[cfg(test)]
mod tests;
