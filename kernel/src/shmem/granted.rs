//! Owning types for pages shared with a peer domain through the grant table:
//! [`GrantedPage`] (one of ours, granted) and [`MappedPage`] (a peer's grant
//! mapped into one of our slots). Holding one is what makes its
//! [`SharedPage`] valid; dropping it ends the sharing safely.

use super::gnttab;
use super::{PageCell, SharedPage};
use alloc::boxed::Box;
use core::mem::ManuallyDrop;

/// One of our pages, granted to a peer.
pub struct GrantedPage {
    page: ManuallyDrop<Box<PageCell>>,
    pub gref: gnttab::GrantRef,
}

impl GrantedPage {
    /// A zeroed page granted to `domid` (read-only for it when `readonly`).
    pub fn new(domid: u16, readonly: bool) -> Result<Self, gnttab::GntError> {
        let page = Box::new(PageCell::new());
        // SAFETY: the page is owned by the GrantedPage, which ends access before freeing it
        // and leaks it if the peer never unmaps (Drop below); its contents are only reached
        // through SharedPage.
        let gref = unsafe { gnttab::grant_page(domid, &page, readonly)? };
        log::debug!("granted page ref {} to domain {domid}", gref.0);
        Ok(GrantedPage {
            page: ManuallyDrop::new(page),
            gref,
        })
    }

    pub fn page(&self) -> SharedPage<'_> {
        SharedPage::new(&self.page)
    }

    /// End the peer's access; refused (InUse) while the peer still has it mapped. Ending
    /// a page whose access already ended is Ok.
    pub fn end(&mut self) -> Result<(), gnttab::GntError> {
        if self.gref.0 == 0 {
            return Ok(());
        }
        gnttab::end_access(self.gref)?;
        log::debug!("ended access to grant ref {}", self.gref.0);
        self.gref = gnttab::GrantRef(0);
        Ok(())
    }
}

impl Drop for GrantedPage {
    fn drop(&mut self) {
        if self.end().is_err() {
            // The peer still maps it: never hand the frame to the allocator again.
            log::warn!(
                "grant ref {} still mapped by the peer: page leaked",
                self.gref.0
            );
            return;
        }
        // SAFETY: access ended (the peer can no longer map the frame) and `page` is not
        // used again: this is the end of the GrantedPage.
        unsafe { ManuallyDrop::drop(&mut self.page) }
    }
}

/// A peer's granted page mapped into one of our slots.
pub struct MappedPage {
    m: gnttab::Mapping,
}

impl MappedPage {
    pub fn map(domid: u16, gref: u32, readonly: bool) -> Result<Self, gnttab::GntError> {
        let m = gnttab::map(domid, gref, readonly)?;
        log::debug!("mapped grant ref {gref} of domain {domid} (readonly {readonly})");
        Ok(MappedPage { m })
    }

    pub fn page(&self) -> SharedPage<'_> {
        self.m.page()
    }

    /// Unmap, saying whether Xen agreed (dropping a MappedPage unmaps too, logging errors).
    pub fn unmap(self) -> Result<(), gnttab::GntError> {
        let res = gnttab::unmap(&self.m);
        core::mem::forget(self);
        res
    }
}

impl Drop for MappedPage {
    fn drop(&mut self) {
        if let Err(e) = gnttab::unmap(&self.m) {
            log::warn!("unmapping a peer's grant: {e}");
        }
    }
}
