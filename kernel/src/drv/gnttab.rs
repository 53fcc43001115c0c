//! Grant tables (v1): granting our pages to peers, ending access only once
//! the peer has unmapped, and mapping peers' grants into reserved slots.
//!
//! The table frame is shared with Xen and, through it, with peers: entries
//! are written only through atomics, frame and domid before the flags that
//! publish them (Release), and access ends by compare-and-swap of the flags
//! so a peer that is mapping at that moment is never cut off silently.

use crate::mm;
use crate::xen::{gnttab as ops, mmu, XenError};
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering::*};
use spin::Mutex;
use xp_core::xen::grant_table::*;
use xp_core::xen::hypercall::pte;

/// Mapping slots for peers' grants.
pub const SLOTS: usize = 8;

#[repr(C, align(4096))]
struct Page([u8; 4096]);
static mut TABLE: Page = Page([0; 4096]);
static mut SLOT_PAGES: [Page; SLOTS] = [const { Page([0; 4096]) }; SLOTS];

/// A grant reference in our table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantRef(pub u32);

/// A peer's grant mapped into one of our slots.
#[derive(Debug)]
pub struct Mapping {
    pub va: u64,
    handle: u32,
    slot: usize,
}

/// What went wrong with a grant operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GntError {
    NotReady,
    NoFreeRef,
    NoFreeSlot,
    /// The peer still has the grant mapped (GTF_reading/GTF_writing set).
    InUse {
        flags: u16,
    },
    /// Xen answered the operation with a GNTST_* status.
    Status {
        op: &'static str,
        status: i16,
    },
    Xen(XenError),
}
impl From<XenError> for GntError {
    fn from(e: XenError) -> Self {
        GntError::Xen(e)
    }
}
impl core::fmt::Display for GntError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            GntError::Status { op, status } => {
                write!(f, "{op}: GNTST_{} ({status})", status_name(*status))
            }
            GntError::InUse { flags } => {
                write!(f, "grant still in use by the peer (flags {flags:#x})")
            }
            GntError::Xen(e) => write!(f, "{e}"),
            other => write!(f, "{other:?}"),
        }
    }
}

struct State {
    /// One bit per reference of the first frame; reserved ones start used.
    used: [u64; (ENTRIES_PER_FRAME / 64) as usize],
    slots: u8,
}
static STATE: Mutex<Option<State>> = Mutex::new(None);
/// Counters for the report: grants made, ended, refused because in use.
pub static GRANTED: AtomicU64 = AtomicU64::new(0);

/// Set up one table frame and map it. Returns (nr_frames, max_nr_frames) from query_size.
pub fn init() -> Result<(u32, u32), GntError> {
    let q = ops::query_size()?;
    let (status, frames) = ops::setup_table::<1>()?;
    if status != 0 {
        return Err(GntError::Status {
            op: "setup_table",
            status,
        });
    }
    let va = core::ptr::addr_of_mut!(TABLE) as u64;
    mmu::update_va_mapping(va, (frames[0] << 12) | pte::DATA_RW)?;
    let mut used = [0u64; (ENTRIES_PER_FRAME / 64) as usize];
    used[0] = (1 << GNTTAB_NR_RESERVED_ENTRIES) - 1;
    *STATE.lock() = Some(State { used, slots: 0 });
    Ok((q.nr_frames, q.max_nr_frames))
}

fn entry_flags(r: GrantRef) -> &'static AtomicU16 {
    let base = core::ptr::addr_of_mut!(TABLE) as *mut u8;
    // SAFETY: r.0 < ENTRIES_PER_FRAME (refs come from our allocator or are bounds-checked), so
    // the field lies inside the mapped table frame; entries are only accessed atomically.
    unsafe { AtomicU16::from_ptr(base.add(r.0 as usize * ENTRY_SIZE + ENTRY_FLAGS) as *mut u16) }
}

fn entry_body(r: GrantRef) -> (&'static AtomicU16, &'static AtomicU32) {
    let base = core::ptr::addr_of_mut!(TABLE) as *mut u8;
    // SAFETY: as in `entry_flags`; domid and frame of the same entry.
    unsafe {
        let e = base.add(r.0 as usize * ENTRY_SIZE);
        (
            AtomicU16::from_ptr(e.add(ENTRY_DOMID) as *mut u16),
            AtomicU32::from_ptr(e.add(ENTRY_FRAME) as *mut u32),
        )
    }
}

/// Grant `domid` access to machine frame `mfn`.
pub fn grant(domid: u16, mfn: u64, readonly: bool) -> Result<GrantRef, GntError> {
    let mut g = STATE.lock();
    let st = g.as_mut().ok_or(GntError::NotReady)?;
    let (w, b) = st
        .used
        .iter()
        .enumerate()
        .find_map(|(w, &bits)| (bits != u64::MAX).then(|| (w, (!bits).trailing_zeros())))
        .ok_or(GntError::NoFreeRef)?;
    st.used[w] |= 1 << b;
    let r = GrantRef(w as u32 * 64 + b);
    let (dom, frame) = entry_body(r);
    dom.store(domid, Relaxed);
    frame.store(mfn as u32, Relaxed);
    // Release: domid and frame must be visible before the entry becomes valid.
    entry_flags(r).store(
        GTF_PERMIT_ACCESS | if readonly { GTF_READONLY } else { 0 },
        Release,
    );
    GRANTED.fetch_add(1, Relaxed);
    Ok(r)
}

/// Grant `domid` access to the page of ours at `va`.
pub fn grant_page(domid: u16, va: u64, readonly: bool) -> Result<GrantRef, GntError> {
    let mfn = mm::va_to_mfn(va).ok_or(GntError::NotReady)?;
    grant(domid, mfn, readonly)
}

/// End access (only if the peer does not have it mapped) and free the reference.
pub fn end_access(r: GrantRef) -> Result<(), GntError> {
    if r.0 >= ENTRIES_PER_FRAME || r.0 < GNTTAB_NR_RESERVED_ENTRIES {
        return Err(GntError::Status {
            op: "end_access",
            status: -3,
        });
    }
    let flags = entry_flags(r);
    let mut cur = flags.load(Acquire);
    loop {
        if cur & (GTF_READING | GTF_WRITING) != 0 {
            return Err(GntError::InUse { flags: cur });
        }
        match flags.compare_exchange(cur, 0, AcqRel, Acquire) {
            Ok(_) => break,
            Err(now) => cur = now,
        }
    }
    if let Some(st) = STATE.lock().as_mut() {
        st.used[r.0 as usize / 64] &= !(1 << (r.0 % 64));
    }
    Ok(())
}

/// Map `domid`'s grant `r` into a free slot.
pub fn map(domid: u16, r: u32, readonly: bool) -> Result<Mapping, GntError> {
    let slot = {
        let mut g = STATE.lock();
        let st = g.as_mut().ok_or(GntError::NotReady)?;
        let slot = (0..SLOTS)
            .find(|i| st.slots & (1 << i) == 0)
            .ok_or(GntError::NoFreeSlot)?;
        st.slots |= 1 << slot;
        slot
    };
    let va = slot_va(slot);
    let flags = GNTMAP_HOST_MAP | if readonly { GNTMAP_READONLY } else { 0 };
    let mut a = MapGrantRef {
        host_addr: va,
        flags,
        ref_: r,
        dom: domid,
        ..Default::default()
    };
    let res = match ops::map(&mut a) {
        Err(e) => Err(GntError::from(e)),
        Ok(()) if a.status == 0 => Ok(Mapping {
            va,
            handle: a.handle,
            slot,
        }),
        Ok(()) => Err(GntError::Status {
            op: "map_grant_ref",
            status: a.status,
        }),
    };
    if res.is_err() {
        free_slot(slot);
    }
    res
}

/// Unmap a peer's grant and give the slot its own page back.
pub fn unmap(m: Mapping) -> Result<(), GntError> {
    let mut a = UnmapGrantRef {
        host_addr: m.va,
        handle: m.handle,
        ..Default::default()
    };
    ops::unmap(&mut a)?;
    let restored =
        mm::va_to_mfn(m.va).map(|mfn| mmu::update_va_mapping(m.va, (mfn << 12) | pte::DATA_RW));
    free_slot(m.slot);
    match (a.status, restored) {
        (0, Some(Ok(()))) => Ok(()),
        (0, Some(Err(e))) => Err(e.into()),
        (0, None) => Err(GntError::NotReady),
        (status, _) => Err(GntError::Status {
            op: "unmap_grant_ref",
            status,
        }),
    }
}

fn slot_va(slot: usize) -> u64 {
    // SAFETY: only the address of one element is taken.
    unsafe { core::ptr::addr_of_mut!(SLOT_PAGES[slot]) as u64 }
}

fn free_slot(slot: usize) {
    if let Some(st) = STATE.lock().as_mut() {
        st.slots &= !(1 << slot);
    }
}
