//! The one interface to memory another party writes: a page shared with Xen
//! (shared_info, the grant table, the console and xenstore pages) or with a
//! peer domain (granted or mapped ring pages).
//!
//! Such memory is never a Rust reference to plain bytes: every access is an
//! atomic at a bounds-checked, naturally aligned offset (rust-vmm vm-memory's
//! rule). The kernel implements [`SharedMem`] once, over the page (its
//! shared-memory layer, `kernel/src/shmem.rs`); host tests and fuzz targets
//! implement it over [`fake::CellPage`], whose indexing panics outside the
//! page, so a passing test also shows the protocol code stayed in bounds.
//!
//! Orderings: loads are Acquire (what the other side wrote before publishing
//! a value is visible after reading it), stores are Release (what we wrote
//! before is visible first), byte copies are Relaxed (ordered by the index
//! accesses around them), `fence` is a full barrier (io/ring.h `xen_mb()`).

use core::fmt;

/// Size of a shared page.
pub const PAGE_SIZE: usize = 4096;

/// An access outside the shared area or misaligned: always an error, never clamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange {
    pub off: usize,
    pub len: usize,
    pub limit: usize,
}

impl fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "shared memory access of {} bytes at offset {} is outside the {}-byte area or misaligned",
            self.len, self.off, self.limit
        )
    }
}

/// Check an access of `len` bytes at `off` in an area of `limit` bytes; `align` is
/// the required alignment of `off` (the access width for atomics, 1 for byte copies).
#[inline]
pub fn check(off: usize, len: usize, align: usize, limit: usize) -> Result<(), OutOfRange> {
    let inside = off.checked_add(len).is_some_and(|end| end <= limit);
    if inside && off.is_multiple_of(align) {
        Ok(())
    } else {
        Err(OutOfRange { off, len, limit })
    }
}

/// Atomic access to memory another party writes. Offsets are bytes from the start of
/// the shared area; callers in this crate only pass offsets inside it (an implementation
/// panics on any other, which the fakes of the tests and fuzz targets check).
pub trait SharedMem {
    /// Acquire load of the byte at `off`.
    fn load8(&self, off: usize) -> u8;
    /// Release store of the byte at `off`.
    fn store8(&self, off: usize, v: u8);
    /// Acquire load of the aligned little-endian `u16` at `off`.
    fn load16(&self, off: usize) -> u16;
    /// Release store of the aligned `u16` at `off`.
    fn store16(&self, off: usize, v: u16);
    /// Acquire load of the aligned `u32` at `off`.
    fn load32(&self, off: usize) -> u32;
    /// Release store of the aligned `u32` at `off`.
    fn store32(&self, off: usize, v: u32);
    /// Acquire load of the aligned `u64` at `off`.
    fn load64(&self, off: usize) -> u64;
    /// Release store of the aligned `u64` at `off`.
    fn store64(&self, off: usize, v: u64);
    /// Atomically OR `bits` into the byte at `off`.
    fn or8(&self, off: usize, bits: u8);
    /// Atomically AND the byte at `off` with `mask`, returning its previous value.
    fn fetch_and8(&self, off: usize, mask: u8) -> u8;
    /// Atomically replace the aligned `u32` at `off` with `new` if it holds `old`:
    /// `Ok(old)` when it did, else `Err(current)` (`lock cmpxchg`).
    fn cas32(&self, off: usize, old: u32, new: u32) -> Result<u32, u32>;
    /// Atomically exchange the aligned `u32` at `off` with `v`, returning the old value.
    fn swap32(&self, off: usize, v: u32) -> u32;
    /// Atomically OR `bits` into the aligned `u32` at `off`, returning its previous value.
    fn fetch_or32(&self, off: usize, bits: u32) -> u32;
    /// Atomically AND the aligned `u32` at `off` with `mask`, returning its previous value.
    fn fetch_and32(&self, off: usize, mask: u32) -> u32;
    /// A full barrier: our stores before our later loads.
    fn fence(&self);
    /// Relaxed copy of `out.len()` bytes at `off` into `out`.
    fn read(&self, off: usize, out: &mut [u8]);
    /// Relaxed copy of `data` to `off`.
    fn write(&self, off: usize, data: &[u8]);
}

/// A reference to shared memory is shared memory (so a page can be lent to code
/// that takes its pages by value, like `evtchn_fifo::FifoPages`).
impl<T: SharedMem + ?Sized> SharedMem for &T {
    fn load8(&self, off: usize) -> u8 {
        (**self).load8(off)
    }
    fn store8(&self, off: usize, v: u8) {
        (**self).store8(off, v)
    }
    fn load16(&self, off: usize) -> u16 {
        (**self).load16(off)
    }
    fn store16(&self, off: usize, v: u16) {
        (**self).store16(off, v)
    }
    fn load32(&self, off: usize) -> u32 {
        (**self).load32(off)
    }
    fn store32(&self, off: usize, v: u32) {
        (**self).store32(off, v)
    }
    fn load64(&self, off: usize) -> u64 {
        (**self).load64(off)
    }
    fn store64(&self, off: usize, v: u64) {
        (**self).store64(off, v)
    }
    fn or8(&self, off: usize, bits: u8) {
        (**self).or8(off, bits)
    }
    fn fetch_and8(&self, off: usize, mask: u8) -> u8 {
        (**self).fetch_and8(off, mask)
    }
    fn cas32(&self, off: usize, old: u32, new: u32) -> Result<u32, u32> {
        (**self).cas32(off, old, new)
    }
    fn swap32(&self, off: usize, v: u32) -> u32 {
        (**self).swap32(off, v)
    }
    fn fetch_or32(&self, off: usize, bits: u32) -> u32 {
        (**self).fetch_or32(off, bits)
    }
    fn fetch_and32(&self, off: usize, mask: u32) -> u32 {
        (**self).fetch_and32(off, mask)
    }
    fn fence(&self) {
        (**self).fence()
    }
    fn read(&self, off: usize, out: &mut [u8]) {
        (**self).read(off, out)
    }
    fn write(&self, off: usize, data: &[u8]) {
        (**self).write(off, data)
    }
}

#[cfg(any(test, feature = "fake"))]
pub mod fake;
