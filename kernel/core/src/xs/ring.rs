//! The xenstore ring transport (docs/misc/xenstore-ring.txt; io/xs_wire.h
//! `struct xenstore_domain_interface`): two 1024-byte byte queues in one
//! shared page, each with a free-running `u32` producer and consumer index
//! that is masked ([`mask_xenstore_idx`]) only to index the buffer. A masked
//! value is never stored back.
//!
//! The page itself is behind [`RingPage`]: the kernel implements it with
//! atomic/volatile accessors on the shared page, tests and fuzzers with a
//! plain fake. Everything here treats all four indexes as untrusted: if a
//! ring claims more than [`XENSTORE_RING_SIZE`] bytes in flight, the peer is
//! misbehaving and a [`RingError`] naming the queue is returned; nothing is
//! read or written, no index moves, nothing panics.
//!
//! Who notifies, and when, is the caller's decision
//! ([`NotifyPolicy`](super::notify::NotifyPolicy)).

use crate::ring;
use crate::shmem::SharedMem;
use crate::xen::xenstore as layout;

/// Size of each of the two byte queues.
pub const XENSTORE_RING_SIZE: usize = 1024;

/// `MASK_XENSTORE_IDX`: the buffer offset of a free-running index.
pub const fn mask_xenstore_idx(idx: u32) -> usize {
    ring::mask(idx, XENSTORE_RING_SIZE as u32)
}

/// Access to the shared ring page. Slice-copy accessors rather than one
/// call per byte: the kernel does one volatile copy per contiguous chunk.
///
/// Ordering contract for the implementor (the kernel):
/// - `req_cons` and `rsp_prod` are the peer's indexes: load with Acquire, so
///   the bytes the peer produced (or finished reading) are visible after.
/// - `set_req_prod` stores with Release: the request bytes written with
///   `write_req` must be visible to the peer before the new index.
/// - `set_rsp_cons` stores with Release: our reads of the reply bytes are
///   complete before the peer may overwrite them.
/// - `req_prod` and `rsp_cons` are our own indexes: Relaxed is enough.
///
/// Callers guarantee `offset + len <= XENSTORE_RING_SIZE` for both copy
/// methods; an implementation may panic otherwise (the fake does, which is
/// how tests and fuzzers check it never happens).
pub trait RingPage {
    fn req_cons(&self) -> u32;
    fn req_prod(&self) -> u32;
    fn set_req_prod(&self, v: u32);
    fn rsp_cons(&self) -> u32;
    fn rsp_prod(&self) -> u32;
    fn set_rsp_cons(&self, v: u32);
    /// Copies `bytes` into `req[offset..offset + bytes.len()]`.
    fn write_req(&self, offset: usize, bytes: &[u8]);
    /// Copies `rsp[offset..offset + out.len()]` into `out`.
    fn read_rsp(&self, offset: usize, out: &mut [u8]);
}

pub use crate::ring::RingError;

/// Names of the two queues in errors: requests (guest to daemon), replies and watch
/// events (daemon to guest).
pub const REQ: &str = "xenstore req";
pub const RSP: &str = "xenstore rsp";

/// Bytes in flight between `cons` and `prod` of queue `ring` ([`REQ`] or [`RSP`]), checked.
pub fn in_flight(ring: &'static str, prod: u32, cons: u32) -> Result<usize, RingError> {
    ring::used(prod, cons, XENSTORE_RING_SIZE as u32)
        .map(|n| n as usize)
        .map_err(|e| e.named(ring))
}

/// Free space in the request queue.
pub fn req_space<P: RingPage + ?Sized>(page: &P) -> Result<usize, RingError> {
    let used = in_flight(REQ, page.req_prod(), page.req_cons())?;
    Ok(XENSTORE_RING_SIZE - used)
}

/// Bytes waiting in the reply queue.
pub fn rsp_available<P: RingPage + ?Sized>(page: &P) -> Result<usize, RingError> {
    in_flight(RSP, page.rsp_prod(), page.rsp_cons())
}

/// Writes as much of `bytes` as fits into the request queue and publishes
/// it; returns how many bytes went in (0 if full or `bytes` is empty, in
/// which case no index is written). Does not notify.
pub fn write_request<P: RingPage + ?Sized>(page: &P, bytes: &[u8]) -> Result<usize, RingError> {
    let cons = page.req_cons();
    let prod = page.req_prod();
    let used = in_flight(REQ, prod, cons)?;
    let n = bytes.len().min(XENSTORE_RING_SIZE - used);
    if n == 0 {
        return Ok(0);
    }
    ring::each_span(prod, n, XENSTORE_RING_SIZE as u32, |off, r| {
        page.write_req(off, &bytes[r])
    });
    // Release (in the implementation): the bytes above before the index.
    page.set_req_prod(prod.wrapping_add(n as u32));
    Ok(n)
}

/// Reads as many waiting reply bytes as fit into `out` and releases them to
/// the daemon; returns how many (0 if none or `out` is empty, in which case
/// no index is written). Does not notify.
pub fn read_available<P: RingPage + ?Sized>(page: &P, out: &mut [u8]) -> Result<usize, RingError> {
    let prod = page.rsp_prod();
    let cons = page.rsp_cons();
    let avail = in_flight(RSP, prod, cons)?;
    let n = out.len().min(avail);
    if n == 0 {
        return Ok(0);
    }
    ring::each_span(cons, n, XENSTORE_RING_SIZE as u32, |off, r| {
        page.read_rsp(off, &mut out[r])
    });
    // Release (in the implementation): our reads above before the index.
    page.set_rsp_cons(cons.wrapping_add(n as u32));
    Ok(n)
}

/// The store page in shared memory, as [`RingPage`] wants it: the index offsets of
/// `struct xenstore_domain_interface` and the orderings above (the kernel's page is a
/// `StorePage` over its shared-memory layer).
pub struct StorePage<M>(pub M);

impl<M: SharedMem> StorePage<M> {
    /// `server_features` as xenstored published it.
    pub fn server_features(&self) -> u32 {
        self.0.load32(layout::SERVER_FEATURES)
    }

    /// `connection` (0 connected, 1 reconnect requested).
    pub fn connection(&self) -> u32 {
        self.0.load32(layout::CONNECTION)
    }

    /// `error` (meaningful when the server advertises the error feature).
    pub fn error(&self) -> u32 {
        self.0.load32(layout::ERROR)
    }
}

impl<M: SharedMem> RingPage for StorePage<M> {
    fn req_cons(&self) -> u32 {
        self.0.load32(layout::REQ_CONS)
    }
    fn req_prod(&self) -> u32 {
        self.0.load32(layout::REQ_PROD)
    }
    fn set_req_prod(&self, v: u32) {
        self.0.store32(layout::REQ_PROD, v)
    }
    fn rsp_cons(&self) -> u32 {
        self.0.load32(layout::RSP_CONS)
    }
    fn rsp_prod(&self) -> u32 {
        self.0.load32(layout::RSP_PROD)
    }
    fn set_rsp_cons(&self, v: u32) {
        self.0.store32(layout::RSP_CONS, v)
    }
    fn write_req(&self, offset: usize, bytes: &[u8]) {
        assert!(
            offset + bytes.len() <= XENSTORE_RING_SIZE,
            "request ring copy"
        );
        self.0.write(layout::REQ_OFFSET + offset, bytes)
    }
    fn read_rsp(&self, offset: usize, out: &mut [u8]) {
        assert!(offset + out.len() <= XENSTORE_RING_SIZE, "reply ring copy");
        self.0.read(layout::RSP_OFFSET + offset, out)
    }
}

#[cfg(test)]
#[path = "ring_tests.rs"]
mod tests;
