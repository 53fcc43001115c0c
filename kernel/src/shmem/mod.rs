//! The shared-memory layer: the one type through which the kernel touches
//! memory another party writes. Xen writes shared_info and the grant table,
//! xenconsoled and xenstored the console and store pages, peer domains the
//! ring pages we grant them or map from them.
//!
//! Rules (rust-vmm vm-memory's): such memory is never a `&`/`&mut` to plain
//! bytes. It is a [`PageCell`] (an `UnsafeCell`, so the compiler assumes it
//! may change) or a page the domain builder mapped, and it is reached only
//! through a [`SharedPage`], which hands out atomics at bounds-checked,
//! naturally aligned offsets. An access outside the page is an
//! [`OutOfRange`] error, never clamped. The pure protocol code in xp-core
//! sees the page through [`SharedMem`] (Acquire loads, Release stores,
//! Relaxed byte copies), the same trait its host tests and fuzz targets run
//! against a fake page.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{fence, AtomicU16, AtomicU32, AtomicU64, AtomicU8, Ordering::*};
pub use granted::{GrantedPage, MappedPage};
pub use xp_core::shmem::{OutOfRange, SharedMem, PAGE_SIZE};

pub mod gnttab;
mod granted;

/// A page-aligned page whose contents another party may write: what we grant to a
/// peer, and the reserved pages of the image whose mappings are replaced by shared
/// frames (shared_info, the grant table, mapping slots for peers' grants).
#[repr(C, align(4096))]
pub struct PageCell(UnsafeCell<[u8; PAGE_SIZE]>);

// SAFETY: the bytes are only ever accessed through `SharedPage`, i.e. atomically.
unsafe impl Sync for PageCell {}

impl PageCell {
    pub const fn new() -> Self {
        PageCell(UnsafeCell::new([0; PAGE_SIZE]))
    }

    /// Its virtual address (to map a frame over it, or to translate it to a frame).
    pub fn va(&self) -> u64 {
        self.0.get() as u64
    }
}

/// Atomic, bounds-checked access to one mapped shared page, valid for `'a`.
#[derive(Clone, Copy)]
pub struct SharedPage<'a> {
    base: NonNull<u8>,
    _page: PhantomData<&'a PageCell>,
}

// SAFETY: a SharedPage only ever produces atomics; sending it to or sharing it with
// another context is ordinary shared-memory concurrency.
unsafe impl Send for SharedPage<'_> {}
// SAFETY: as above.
unsafe impl Sync for SharedPage<'_> {}

impl<'a> SharedPage<'a> {
    /// The page of one of our cells (whatever frame is currently mapped there).
    pub fn new(cell: &'a PageCell) -> Self {
        SharedPage {
            base: NonNull::from(&cell.0).cast(),
            _page: PhantomData,
        }
    }

    /// A page the domain builder mapped for us (the console or xenstore page).
    ///
    /// # Safety
    /// `va` must be the page-aligned address of a page that stays mapped read-write for
    /// the rest of the run, outside the heap and the image, and that nothing in the guest
    /// accesses except through `SharedPage`.
    pub unsafe fn from_va(va: u64) -> SharedPage<'static> {
        assert!(
            va != 0 && va.is_multiple_of(PAGE_SIZE as u64),
            "shared page at {va:#x}"
        );
        SharedPage {
            // SAFETY: non-zero, checked above.
            base: unsafe { NonNull::new_unchecked(va as *mut u8) },
            _page: PhantomData,
        }
    }

    #[inline]
    fn at(&self, off: usize, len: usize, align: usize) -> Result<*mut u8, OutOfRange> {
        xp_core::shmem::check(off, len, align, PAGE_SIZE)?;
        // SAFETY: off + len <= PAGE_SIZE (checked above): inside the mapped page.
        Ok(unsafe { self.base.as_ptr().add(off) })
    }

    #[inline]
    pub fn u8(&self, off: usize) -> Result<&'a AtomicU8, OutOfRange> {
        let p = self.at(off, 1, 1)?;
        // SAFETY: in bounds of the page, mapped for 'a, and only ever accessed atomically.
        Ok(unsafe { AtomicU8::from_ptr(p) })
    }

    #[inline]
    pub fn u16(&self, off: usize) -> Result<&'a AtomicU16, OutOfRange> {
        let p = self.at(off, 2, 2)?;
        // SAFETY: as in `u8`; `at` checked 2-byte alignment.
        Ok(unsafe { AtomicU16::from_ptr(p.cast()) })
    }

    #[inline]
    pub fn u32(&self, off: usize) -> Result<&'a AtomicU32, OutOfRange> {
        let p = self.at(off, 4, 4)?;
        // SAFETY: as in `u8`; `at` checked 4-byte alignment.
        Ok(unsafe { AtomicU32::from_ptr(p.cast()) })
    }

    #[inline]
    pub fn u64(&self, off: usize) -> Result<&'a AtomicU64, OutOfRange> {
        let p = self.at(off, 8, 8)?;
        // SAFETY: as in `u8`; `at` checked 8-byte alignment.
        Ok(unsafe { AtomicU64::from_ptr(p.cast()) })
    }

    /// Relaxed copy of `out.len()` bytes at `off` (byte atomics: a peer may write them).
    pub fn copy_out(&self, off: usize, out: &mut [u8]) -> Result<(), OutOfRange> {
        self.at(off, out.len(), 1)?;
        for (i, b) in out.iter_mut().enumerate() {
            *b = self.u8(off + i)?.load(Relaxed);
        }
        Ok(())
    }

    /// Relaxed copy of `data` to `off`.
    pub fn copy_in(&self, off: usize, data: &[u8]) -> Result<(), OutOfRange> {
        self.at(off, data.len(), 1)?;
        for (i, &b) in data.iter().enumerate() {
            self.u8(off + i)?.store(b, Relaxed);
        }
        Ok(())
    }
}

/// One aligned `u64` of a table Xen or the CPU writes and we only read (the M2P, page-table
/// entries whose accessed and dirty bits the CPU sets): an atomic load, like every access to
/// memory someone else writes.
///
/// # Safety
/// `addr` is 8-byte aligned and mapped (read-only is fine) for the whole run.
pub unsafe fn load_u64(addr: *const u64) -> u64 {
    // SAFETY: the caller guarantees alignment and mapping; a Relaxed atomic load of 8 bytes
    // is a plain `mov` on x86 and allowed on read-only memory.
    unsafe { AtomicU64::from_ptr(addr.cast_mut()) }.load(Relaxed)
}

/// xp-core only passes offsets inside the page (its host tests and fuzz targets check that
/// against a fake page that panics the same way), so an error here is a bug in the caller.
fn ok<T>(r: Result<T, OutOfRange>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

impl SharedMem for SharedPage<'_> {
    #[inline]
    fn load8(&self, off: usize) -> u8 {
        ok(self.u8(off)).load(Acquire)
    }
    fn store8(&self, off: usize, v: u8) {
        ok(self.u8(off)).store(v, Release)
    }
    #[inline]
    fn load16(&self, off: usize) -> u16 {
        ok(self.u16(off)).load(Acquire)
    }
    fn store16(&self, off: usize, v: u16) {
        ok(self.u16(off)).store(v, Release)
    }
    #[inline]
    fn load32(&self, off: usize) -> u32 {
        ok(self.u32(off)).load(Acquire)
    }
    fn store32(&self, off: usize, v: u32) {
        ok(self.u32(off)).store(v, Release)
    }
    #[inline]
    fn load64(&self, off: usize) -> u64 {
        ok(self.u64(off)).load(Acquire)
    }
    fn store64(&self, off: usize, v: u64) {
        ok(self.u64(off)).store(v, Release)
    }
    fn or8(&self, off: usize, bits: u8) {
        ok(self.u8(off)).fetch_or(bits, SeqCst);
    }
    fn fetch_and8(&self, off: usize, mask: u8) -> u8 {
        ok(self.u8(off)).fetch_and(mask, SeqCst)
    }
    fn cas32(&self, off: usize, old: u32, new: u32) -> Result<u32, u32> {
        ok(self.u32(off)).compare_exchange(old, new, SeqCst, Acquire)
    }
    fn swap32(&self, off: usize, v: u32) -> u32 {
        ok(self.u32(off)).swap(v, SeqCst)
    }
    fn fetch_or32(&self, off: usize, bits: u32) -> u32 {
        ok(self.u32(off)).fetch_or(bits, SeqCst)
    }
    fn fetch_and32(&self, off: usize, mask: u32) -> u32 {
        ok(self.u32(off)).fetch_and(mask, SeqCst)
    }
    fn fence(&self) {
        fence(SeqCst)
    }
    fn read(&self, off: usize, out: &mut [u8]) {
        ok(self.copy_out(off, out))
    }
    fn write(&self, off: usize, data: &[u8]) {
        ok(self.copy_in(off, data))
    }
}
