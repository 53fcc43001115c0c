//! The xenstore ring page, shared with xenstored, behind xp_core's `RingPage`.
//!
//! Every access is an atomic on the page (never a reference to shared
//! memory): the four indexes with the orderings `RingPage` asks for, the
//! ring bytes one relaxed byte at a time (their visibility is ordered by the
//! index accesses around them).

use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use xp_core::xen::xenstore::*;
use xp_core::xs::{RingPage, XENSTORE_RING_SIZE};

/// The mapped store page.
pub struct SharedPage {
    base: *mut u8,
}

// SAFETY: the page is used only under the client's lock, on the single vCPU.
unsafe impl Send for SharedPage {}

impl SharedPage {
    /// # Safety
    /// `base` must be the mapped, page-aligned xenstore page of this domain,
    /// mapped for the rest of the run and accessed by nothing else in the guest.
    pub const unsafe fn new(base: *mut u8) -> Self {
        Self { base }
    }

    fn word(&self, off: usize) -> &AtomicU32 {
        debug_assert!(off.is_multiple_of(4) && off <= ERROR);
        // SAFETY: `off` is one of the 4-byte aligned u32 fields of the page (see
        // xp_core::xen::xenstore), which both sides only access atomically.
        unsafe { AtomicU32::from_ptr(self.base.add(off) as *mut u32) }
    }

    fn byte(&self, ring: usize, i: usize) -> &AtomicU8 {
        assert!(i < XENSTORE_RING_SIZE);
        // SAFETY: ring is REQ_OFFSET or RSP_OFFSET and i < 1024: inside that ring's bytes.
        unsafe { AtomicU8::from_ptr(self.base.add(ring + i)) }
    }

    /// `server_features` as xenstored published it.
    pub fn server_features(&self) -> u32 {
        self.word(SERVER_FEATURES).load(Ordering::Acquire)
    }

    /// `connection` (0 connected, 1 reconnect requested).
    pub fn connection(&self) -> u32 {
        self.word(CONNECTION).load(Ordering::Acquire)
    }

    /// `error` (meaningful when the server advertises the error feature).
    pub fn error(&self) -> u32 {
        self.word(ERROR).load(Ordering::Acquire)
    }
}

impl RingPage for SharedPage {
    fn req_cons(&self) -> u32 {
        // Acquire: the daemon finished reading what it consumed before we overwrite it.
        self.word(REQ_CONS).load(Ordering::Acquire)
    }
    fn req_prod(&self) -> u32 {
        self.word(REQ_PROD).load(Ordering::Relaxed)
    }
    fn set_req_prod(&self, v: u32) {
        // Release: the request bytes are visible before the index that publishes them.
        self.word(REQ_PROD).store(v, Ordering::Release)
    }
    fn rsp_cons(&self) -> u32 {
        self.word(RSP_CONS).load(Ordering::Relaxed)
    }
    fn rsp_prod(&self) -> u32 {
        // Acquire: the reply bytes the daemon produced are visible after this load.
        self.word(RSP_PROD).load(Ordering::Acquire)
    }
    fn set_rsp_cons(&self, v: u32) {
        // Release: our reads of the reply bytes complete before the daemon may reuse them.
        self.word(RSP_CONS).store(v, Ordering::Release)
    }
    fn write_req(&self, offset: usize, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            self.byte(REQ_OFFSET, offset + i)
                .store(b, Ordering::Relaxed);
        }
    }
    fn read_rsp(&self, offset: usize, out: &mut [u8]) {
        for (i, b) in out.iter_mut().enumerate() {
            *b = self.byte(RSP_OFFSET, offset + i).load(Ordering::Relaxed);
        }
    }
}
