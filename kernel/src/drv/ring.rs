//! Pages shared with another domain (io/ring.h rings, libxenvchan), and the
//! event-channel doorbells that go with them.
//!
//! A shared page is never a Rust reference to data: [`SharedPage`] hands out
//! atomics at bounds-checked, aligned offsets, so a peer writing concurrently
//! is ordinary shared-memory concurrency, not undefined behaviour. Ownership:
//! [`GrantedPage`] is one of our pages granted to a peer (access is ended only
//! once the peer has unmapped it; if it never does, the page is leaked rather
//! than reused); [`MappedPage`] is a peer's grant mapped into one of our slots.

use super::{evtchn, gnttab};
use alloc::boxed::Box;
use core::marker::PhantomData;
use core::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicU8, Ordering::*};
use xp_core::ringep::SlotPage;
use xp_core::shring::SharedIdx;
use xp_core::vchan::Iface;

pub const PAGE: usize = 4096;

/// Atomic access to one mapped, shared 4 KiB page, valid for `'a`.
#[derive(Clone, Copy)]
pub struct SharedPage<'a> {
    base: *mut u8,
    _page: PhantomData<&'a ()>,
}

impl SharedPage<'_> {
    fn at(&self, off: usize, size: usize) -> *mut u8 {
        assert!(
            off + size <= PAGE && off.is_multiple_of(size),
            "shared page access at {off}+{size}"
        );
        // SAFETY: in bounds of the page (checked above).
        unsafe { self.base.add(off) }
    }
    pub fn u8(&self, off: usize) -> &AtomicU8 {
        // SAFETY: `at` checked bounds; the page is mapped for 'a and only accessed atomically.
        unsafe { AtomicU8::from_ptr(self.at(off, 1)) }
    }
    pub fn u32(&self, off: usize) -> &AtomicU32 {
        // SAFETY: as in `u8`; `at` checked 4-byte alignment.
        unsafe { AtomicU32::from_ptr(self.at(off, 4) as *mut u32) }
    }
    pub fn u64(&self, off: usize) -> &AtomicU64 {
        // SAFETY: as in `u8`; `at` checked 8-byte alignment.
        unsafe { AtomicU64::from_ptr(self.at(off, 8) as *mut u64) }
    }
}

impl SharedIdx for SharedPage<'_> {
    fn load(&self, off: usize) -> u32 {
        self.u32(off).load(Acquire)
    }
    fn store(&self, off: usize, v: u32) {
        self.u32(off).store(v, Release)
    }
    fn fence(&self) {
        fence(SeqCst)
    }
}

impl SlotPage for SharedPage<'_> {
    fn load64(&self, off: usize) -> u64 {
        self.u64(off).load(Relaxed)
    }
    fn store64(&self, off: usize, v: u64) {
        self.u64(off).store(v, Relaxed)
    }
}

impl Iface for SharedPage<'_> {
    fn load32(&self, off: usize) -> u32 {
        self.u32(off).load(Acquire)
    }
    fn store32(&self, off: usize, v: u32) {
        self.u32(off).store(v, Release)
    }
    fn load8(&self, off: usize) -> u8 {
        self.u8(off).load(Acquire)
    }
    fn store8(&self, off: usize, v: u8) {
        self.u8(off).store(v, Release)
    }
    fn or8(&self, off: usize, bits: u8) {
        self.u8(off).fetch_or(bits, SeqCst);
    }
    fn fetch_and8(&self, off: usize, mask: u8) -> u8 {
        self.u8(off).fetch_and(mask, SeqCst)
    }
    fn fence(&self) {
        fence(SeqCst)
    }
}

#[repr(C, align(4096))]
struct Page([u8; PAGE]);

/// One of our pages, granted to a peer.
pub struct GrantedPage {
    page: Option<Box<Page>>,
    pub gref: gnttab::GrantRef,
}

impl GrantedPage {
    /// A zeroed page granted read-write to `domid`.
    pub fn new(domid: u16) -> Result<Self, gnttab::GntError> {
        let page = Box::new(Page([0; PAGE]));
        let gref = gnttab::grant_page(domid, &*page as *const Page as u64, false)?;
        Ok(GrantedPage {
            page: Some(page),
            gref,
        })
    }

    pub fn page(&self) -> SharedPage<'_> {
        let base = self
            .page
            .as_ref()
            .map_or(core::ptr::null_mut(), |p| &**p as *const Page as *mut u8);
        SharedPage {
            base,
            _page: PhantomData,
        }
    }

    /// End the peer's access; refused (InUse) while the peer still has it mapped.
    pub fn end(&mut self) -> Result<(), gnttab::GntError> {
        gnttab::end_access(self.gref)?;
        self.gref = gnttab::GrantRef(0);
        Ok(())
    }
}

impl Drop for GrantedPage {
    fn drop(&mut self) {
        if self.gref.0 != 0 && self.end().is_err() {
            // The peer still maps it: never hand the frame to the allocator again.
            core::mem::forget(self.page.take());
        }
    }
}

/// A peer's granted page mapped into one of our slots.
pub struct MappedPage {
    m: Option<gnttab::Mapping>,
}

impl MappedPage {
    pub fn map(domid: u16, gref: u32) -> Result<Self, gnttab::GntError> {
        gnttab::map(domid, gref, false).map(|m| MappedPage { m: Some(m) })
    }

    pub fn page(&self) -> SharedPage<'_> {
        let base = self
            .m
            .as_ref()
            .map_or(core::ptr::null_mut(), |m| m.va as *mut u8);
        SharedPage {
            base,
            _page: PhantomData,
        }
    }

    pub fn unmap(mut self) -> Result<(), gnttab::GntError> {
        self.m.take().map_or(Ok(()), gnttab::unmap)
    }
}

impl Drop for MappedPage {
    fn drop(&mut self) {
        if let Some(m) = self.m.take() {
            let _ = gnttab::unmap(m);
        }
    }
}

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
