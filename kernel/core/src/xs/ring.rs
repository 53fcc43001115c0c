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
//! misbehaving and [`RingError::IndexOutOfRange`] is returned; nothing is
//! read or written, no index moves, nothing panics.
//!
//! Who notifies, and when, is the caller's decision
//! ([`NotifyPolicy`](super::notify::NotifyPolicy)).

/// Size of each of the two byte queues.
pub const XENSTORE_RING_SIZE: usize = 1024;

/// `MASK_XENSTORE_IDX`: the buffer offset of a free-running index.
pub const fn mask_xenstore_idx(idx: u32) -> usize {
    (idx as usize) & (XENSTORE_RING_SIZE - 1)
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

/// Which of the two queues an error is about.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RingId {
    /// Requests, guest to daemon (`req`, `req_cons`, `req_prod`).
    Req,
    /// Replies and watch events, daemon to guest.
    Rsp,
}

/// A ring whose indexes cannot be right.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RingError {
    /// `prod - cons` (wrapping) is over [`XENSTORE_RING_SIZE`].
    IndexOutOfRange { ring: RingId, prod: u32, cons: u32 },
}

/// Bytes in flight between `cons` and `prod`, checked.
pub fn in_flight(ring: RingId, prod: u32, cons: u32) -> Result<usize, RingError> {
    let used = prod.wrapping_sub(cons) as usize;
    match used > XENSTORE_RING_SIZE {
        true => Err(RingError::IndexOutOfRange { ring, prod, cons }),
        false => Ok(used),
    }
}

/// Free space in the request queue.
pub fn req_space<P: RingPage + ?Sized>(page: &P) -> Result<usize, RingError> {
    let used = in_flight(RingId::Req, page.req_prod(), page.req_cons())?;
    Ok(XENSTORE_RING_SIZE - used)
}

/// Bytes waiting in the reply queue.
pub fn rsp_available<P: RingPage + ?Sized>(page: &P) -> Result<usize, RingError> {
    in_flight(RingId::Rsp, page.rsp_prod(), page.rsp_cons())
}

/// The (at most two) contiguous buffer chunks of `n` bytes from `idx`:
/// `(offset, len)` of the first, and the length of the second, at 0.
fn chunks(idx: u32, n: usize) -> ((usize, usize), usize) {
    let start = mask_xenstore_idx(idx);
    let first = n.min(XENSTORE_RING_SIZE - start);
    ((start, first), n - first)
}

/// Writes as much of `bytes` as fits into the request queue and publishes
/// it; returns how many bytes went in (0 if full or `bytes` is empty, in
/// which case no index is written). Does not notify.
pub fn write_request<P: RingPage + ?Sized>(page: &P, bytes: &[u8]) -> Result<usize, RingError> {
    let cons = page.req_cons();
    let prod = page.req_prod();
    let used = in_flight(RingId::Req, prod, cons)?;
    let n = bytes.len().min(XENSTORE_RING_SIZE - used);
    if n == 0 {
        return Ok(0);
    }
    let ((start, first), second) = chunks(prod, n);
    page.write_req(start, &bytes[..first]);
    if second > 0 {
        page.write_req(0, &bytes[first..n]);
    }
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
    let avail = in_flight(RingId::Rsp, prod, cons)?;
    let n = out.len().min(avail);
    if n == 0 {
        return Ok(0);
    }
    let ((start, first), second) = chunks(cons, n);
    page.read_rsp(start, &mut out[..first]);
    if second > 0 {
        page.read_rsp(0, &mut out[first..n]);
    }
    // Release (in the implementation): our reads above before the index.
    page.set_rsp_cons(cons.wrapping_add(n as u32));
    Ok(n)
}

#[cfg(test)]
#[path = "ring_tests.rs"]
mod tests;
