//! The ring probe's two endpoints over one shared page: the frontend sends
//! patterned requests and verifies every echoed byte, the backend copies each
//! request into private memory, validates it and echoes it in place.
//!
//! Generic over [`SharedMem`] (the kernel's atomics on a granted page, a fake page
//! in tests and fuzz targets), so the code that faces an untrusted peer is the
//! code those tests exercise. Every value read from the page is read once and
//! validated before use; on a [`PeerError`] the private indexes never point
//! outside the ring, and the caller disconnects.

use crate::ringmsg::*;
use crate::ringpol::{Held, Policy, MAX_RING};
use crate::shmem::SharedMem;
use crate::shring::{Back, Front, REQ_EVENT, REQ_PROD, RSP_EVENT, RSP_PROD};

/// A response the frontend accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub seq: u32,
    /// The backend's system time when it took the request (ns).
    pub back_ts: u64,
    /// Our system time when we wrote the request (ns).
    pub sent_ts: u64,
}

/// The frontend: sends requests of the current phase's length.
#[derive(Debug, Clone, Copy)]
pub struct FrontEp {
    pub ring: Front,
    pub layout: Layout,
    /// When each outstanding request was written, by index modulo [`MAX_RING`].
    sent: [u64; MAX_RING],
}

impl FrontEp {
    /// SHARED_RING_INIT + FRONT_RING_INIT on a fresh page, with `layout`'s slot size.
    pub fn new(p: &impl SharedMem, layout: Layout) -> Self {
        p.store32(SLOT_SIZE, layout.slot);
        for (off, v) in [(REQ_PROD, 0), (RSP_PROD, 0), (REQ_EVENT, 1), (RSP_EVENT, 1)] {
            p.store32(off, v);
        }
        FrontEp {
            ring: Front::new(layout.size),
            layout,
            sent: [0; MAX_RING],
        }
    }

    /// Requests sent and not yet answered.
    pub fn outstanding(&self) -> u32 {
        self.ring.req_prod_pvt.wrapping_sub(self.ring.rsp_cons)
    }

    /// Switch slot size; only while nothing is outstanding (false otherwise).
    pub fn set_layout(&mut self, p: &impl SharedMem, layout: Layout) -> bool {
        if self.outstanding() != 0 {
            return false;
        }
        // Release: the backend reads the slot size after the req_prod that follows it.
        p.store32(SLOT_SIZE, layout.slot);
        self.layout = layout;
        self.ring.size = layout.size;
        true
    }

    /// Write one request (not yet published); None when the ring is full or `len` too big.
    pub fn write_request(&mut self, p: &impl SharedMem, len: u32, ts: u64) -> Option<u32> {
        if self.ring.free_requests() == 0 || len > self.layout.capacity() {
            return None;
        }
        let seq = self.ring.req_prod_pvt;
        let off = self.layout.offset(seq);
        p.store32(off + MSG_SEQ, seq);
        p.store32(off + MSG_LEN, len);
        p.store64(off + MSG_TS, ts);
        for w in 0..words(len) {
            p.store64(off + MSG_PAYLOAD + w as usize * 8, pattern_word(seq, w));
        }
        self.sent[seq as usize % MAX_RING] = ts;
        self.ring.req_prod_pvt = seq.wrapping_add(1);
        Some(seq)
    }

    /// RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: true = send an event.
    pub fn push(&self, p: &impl SharedMem) -> bool {
        self.ring.push_requests(p)
    }

    /// Take the next response, if one is published, and verify it against request
    /// `rsp_cons` of length `len`.
    pub fn take_response(
        &mut self,
        p: &impl SharedMem,
        len: u32,
    ) -> Result<Option<Response>, PeerError> {
        if self.ring.unconsumed_responses(p)? == 0 {
            return Ok(None);
        }
        let due = self.ring.rsp_cons;
        let off = self.layout.offset(due);
        let (seq, got, back_ts) = (
            p.load32(off + MSG_SEQ),
            p.load32(off + MSG_LEN),
            p.load64(off + MSG_TS),
        );
        self.ring.rsp_cons = due.wrapping_add(1);
        if seq != due {
            return Err(PeerError::Seq {
                expected: due,
                got: seq,
            });
        }
        if got != len {
            return Err(PeerError::EchoLen {
                seq,
                sent: len,
                got,
            });
        }
        for w in 0..words(len) {
            if !word_ok(seq, len, w, p.load64(off + MSG_PAYLOAD + w as usize * 8)) {
                return Err(PeerError::Payload { seq, word: w });
            }
        }
        let sent_ts = self.sent[seq as usize % MAX_RING];
        Ok(Some(Response {
            seq,
            back_ts,
            sent_ts,
        }))
    }

    /// RING_FINAL_CHECK_FOR_RESPONSES: responses pending after asking to be notified.
    pub fn final_check(&self, p: &impl SharedMem) -> Result<u32, PeerError> {
        Ok(self.ring.final_check_for_responses(p)?)
    }
}

/// What one [`BackEp::serve`] or [`BackEp::release`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Served {
    /// Requests taken (validated, echoed into their slots).
    pub n: u32,
    /// Responses published (all taken ones under `echo`; those due under other policies).
    pub released: u32,
    /// RING_PUSH_RESPONSES_AND_CHECK_NOTIFY said: send an event.
    pub notify: bool,
}

const BUF_WORDS: usize = (MAX_PAYLOAD / 8) as usize;

/// The backend: echoes requests in order, publishing each response when its
/// [`Policy`] says it is due. `ring.rsp_prod_pvt` counts published responses; the
/// responses between it and `ring.req_cons` are written into their slots but held.
#[derive(Debug, Clone)]
pub struct BackEp {
    pub ring: Back,
    pub policy: Policy,
    held: Held,
    /// Private copy of the request being served (never re-read from the page).
    buf: [u64; BUF_WORDS],
}

impl Default for BackEp {
    fn default() -> Self {
        Self::new(Policy::Echo)
    }
}

impl BackEp {
    pub fn new(policy: Policy) -> Self {
        BackEp {
            ring: Back::new(0),
            policy,
            held: Held::default(),
            buf: [0; BUF_WORDS],
        }
    }

    /// Responses written and not yet published.
    pub fn held(&self) -> u32 {
        self.held.len()
    }

    /// When the oldest held response is due (wake up then to release it).
    pub fn next_due(&self) -> Option<u64> {
        self.held.next_due()
    }

    /// Publish the held responses that are due at `now`; notify if the frontend asked.
    pub fn release(&mut self, p: &impl SharedMem, now: u64) -> Served {
        let released = self.held.release(now);
        self.ring.rsp_prod_pvt = self.ring.rsp_prod_pvt.wrapping_add(released);
        let notify = released > 0 && self.ring.push_responses(p);
        Served {
            n: 0,
            released,
            notify,
        }
    }

    /// Requests waiting (validated), with the layout they were written with.
    pub fn pending(&mut self, p: &impl SharedMem) -> Result<(u32, Layout), PeerError> {
        // req_prod first (Acquire), then the slot size: the frontend changes the slot size
        // only with nothing outstanding, so requests up to this req_prod use this size.
        let prod = p.load32(REQ_PROD);
        let l = Layout::from_peer(p.load32(SLOT_SIZE))?;
        self.ring.size = l.size;
        Ok((self.ring.requests_up_to(prod)?, l))
    }

    /// Echo up to `budget` requests, stamping `now`; publish the responses that are due.
    pub fn serve(
        &mut self,
        p: &impl SharedMem,
        now: u64,
        budget: u32,
    ) -> Result<Served, PeerError> {
        let (n, l) = self.pending(p)?;
        let n = n.min(budget).min(MAX_RING as u32 - self.held.len());
        for _ in 0..n {
            self.echo_one(p, l, now)?;
        }
        Ok(Served {
            n,
            ..self.release(p, now)
        })
    }

    /// Take request `req_cons`, echo it into its own slot and hold it until it is due.
    fn echo_one(&mut self, p: &impl SharedMem, l: Layout, now: u64) -> Result<(), PeerError> {
        let idx = self.ring.req_cons;
        let off = l.offset(idx);
        let (seq, len) = (p.load32(off + MSG_SEQ), p.load32(off + MSG_LEN));
        self.ring.req_cons = idx.wrapping_add(1);
        check_len(l, seq, len)?;
        let n = words(len) as usize;
        for (w, v) in self.buf[..n].iter_mut().enumerate() {
            *v = p.load64(off + MSG_PAYLOAD + w * 8);
        }
        // The response replaces its request in the same slot (io/ring.h's union).
        p.store32(off + MSG_SEQ, seq);
        p.store32(off + MSG_LEN, len);
        p.store64(off + MSG_TS, now);
        for (w, &v) in self.buf[..n].iter().enumerate() {
            p.store64(off + MSG_PAYLOAD + w * 8, v);
        }
        self.held.push(self.policy.due(idx, now));
        Ok(())
    }

    /// RING_FINAL_CHECK_FOR_REQUESTS.
    pub fn final_check(&mut self, p: &impl SharedMem) -> Result<u32, PeerError> {
        let l = Layout::from_peer(p.load32(SLOT_SIZE))?;
        self.ring.size = l.size;
        Ok(self.ring.final_check_for_requests(p)?)
    }
}

#[cfg(test)]
pub(crate) mod tests;
