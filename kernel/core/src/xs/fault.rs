//! Fault injection into the client's *view* of the ring: a misbehaving
//! xenstored, simulated without touching the daemon. [`FaultyRing`] wraps a
//! [`RingPage`] and, while a [`Fault`] is armed, changes what the client
//! reads (never what it writes): impossible indexes, or a rewritten field
//! in the header of the next reply, or a reply that never completes.
//!
//! The client code above must turn each of them into a clear error, never a
//! hang, a panic or an access outside the rings. The host tests below show
//! which error each fault produces through the real transport, reassembler
//! and request table; the kernel lets a probe arm them in the lab.

use super::ring::{mask_xenstore_idx, RingPage, XENSTORE_RING_SIZE};
use super::wire::HEADER_LEN;
use core::cell::Cell;

/// One way the daemon's side of the ring can look broken.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Fault {
    /// `rsp_prod` reads as `rsp_cons + 4096`: more reply bytes than the ring holds.
    RspProdOutOfRange,
    /// `req_cons` reads as `req_prod - 2048`: more request bytes in flight than fit.
    ReqConsOutOfRange,
    /// The next reply's header announces [`Fault::BAD_LEN`] payload bytes.
    LenTooLarge,
    /// The next reply carries req_id [`Fault::BAD_REQ_ID`], which was never sent.
    UnknownReqId,
    /// The next reply has type [`Fault::BAD_TYPE`], which xs_wire.h does not define.
    UnknownType,
    /// Only the first [`Fault::TRUNCATED_AT`] bytes of the next reply ever arrive.
    Truncated,
}

impl Fault {
    pub const BAD_LEN: u32 = 5000;
    pub const BAD_REQ_ID: u32 = 0xdead_beef;
    pub const BAD_TYPE: u32 = 999;
    pub const TRUNCATED_AT: u32 = 20;

    /// Every fault, in the order a probe runs them.
    pub const ALL: [Fault; 6] = [
        Fault::RspProdOutOfRange,
        Fault::ReqConsOutOfRange,
        Fault::LenTooLarge,
        Fault::UnknownReqId,
        Fault::UnknownType,
        Fault::Truncated,
    ];

    /// The name used on the command line and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Fault::RspProdOutOfRange => "rsp_prod",
            Fault::ReqConsOutOfRange => "req_cons",
            Fault::LenTooLarge => "len",
            Fault::UnknownReqId => "req_id",
            Fault::UnknownType => "type",
            Fault::Truncated => "truncated",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }

    /// The header field this fault rewrites: byte offset and new value.
    const fn header_field(self) -> Option<(usize, u32)> {
        match self {
            Fault::UnknownType => Some((0, Self::BAD_TYPE)),
            Fault::UnknownReqId => Some((4, Self::BAD_REQ_ID)),
            Fault::LenTooLarge => Some((12, Self::BAD_LEN)),
            _ => None,
        }
    }
}

/// A [`RingPage`] whose reply side can be made to look broken.
pub struct FaultyRing<P> {
    inner: P,
    fault: Cell<Option<Fault>>,
    /// The reply stream index where the next reply starts (set by [`arm`](Self::arm)).
    at: Cell<u32>,
}

impl<P: RingPage> FaultyRing<P> {
    pub const fn new(inner: P) -> Self {
        Self {
            inner,
            fault: Cell::new(None),
            at: Cell::new(0),
        }
    }

    /// The real page.
    pub fn inner(&self) -> &P {
        &self.inner
    }

    /// Arms `fault`. Header and truncation faults apply to the reply that
    /// starts at the current `rsp_cons`, so arm between messages.
    pub fn arm(&self, fault: Fault) {
        self.at.set(self.inner.rsp_cons());
        self.fault.set(Some(fault));
    }

    /// Back to the real view.
    pub fn disarm(&self) {
        self.fault.set(None);
    }

    pub fn armed(&self) -> Option<Fault> {
        self.fault.get()
    }

    /// Rewrites the bytes of `out` (read from buffer `offset`) that fall on
    /// the armed header field of the next reply.
    fn rewrite(&self, offset: usize, out: &mut [u8]) {
        let Some((field, value)) = self.fault.get().and_then(Fault::header_field) else {
            return;
        };
        let cons = self.inner.rsp_cons();
        // Stream index of out[0]: offset is cons's buffer position, or 0 after a wrap.
        let skip = offset.wrapping_sub(mask_xenstore_idx(cons)) & (XENSTORE_RING_SIZE - 1);
        let first = cons.wrapping_add(skip as u32);
        let bytes = value.to_le_bytes();
        for (i, b) in out.iter_mut().enumerate() {
            let pos = first.wrapping_add(i as u32).wrapping_sub(self.at.get()) as usize;
            if (field..field + 4).contains(&pos) && pos < HEADER_LEN {
                *b = bytes[pos - field];
            }
        }
    }
}

impl<P: RingPage> RingPage for FaultyRing<P> {
    fn req_cons(&self) -> u32 {
        match self.fault.get() {
            Some(Fault::ReqConsOutOfRange) => self.inner.req_prod().wrapping_sub(2048),
            _ => self.inner.req_cons(),
        }
    }
    fn req_prod(&self) -> u32 {
        self.inner.req_prod()
    }
    fn set_req_prod(&self, v: u32) {
        self.inner.set_req_prod(v)
    }
    fn rsp_cons(&self) -> u32 {
        self.inner.rsp_cons()
    }
    fn rsp_prod(&self) -> u32 {
        let real = self.inner.rsp_prod();
        match self.fault.get() {
            Some(Fault::RspProdOutOfRange) => self.inner.rsp_cons().wrapping_add(4096),
            Some(Fault::Truncated) => {
                let cap = self.at.get().wrapping_add(Fault::TRUNCATED_AT);
                let room = real.wrapping_sub(self.at.get());
                if room > Fault::TRUNCATED_AT {
                    cap
                } else {
                    real
                }
            }
            _ => real,
        }
    }
    fn set_rsp_cons(&self, v: u32) {
        self.inner.set_rsp_cons(v)
    }
    fn write_req(&self, offset: usize, bytes: &[u8]) {
        self.inner.write_req(offset, bytes)
    }
    fn read_rsp(&self, offset: usize, out: &mut [u8]) {
        self.inner.read_rsp(offset, out);
        self.rewrite(offset, out);
    }
}

#[cfg(test)]
#[path = "fault_tests.rs"]
mod tests;
