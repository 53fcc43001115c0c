//! Grant tables (v1): granting our pages to peers, ending access only once
//! the peer has unmapped, and mapping peers' grants into reserved slots.
//!
//! The table frame is shared with Xen and, through it, with peers: entries
//! are written only through atomics, frame and domid before the flags that
//! publish them (Release), and access ends by compare-and-swap of the flags
//! so a peer that is mapping at that moment is never cut off silently.

use super::{PageCell, SharedPage};
use crate::mm::{self, pte};
use crate::xen::{gnttab as ops, mmu, XenError};
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering::*};
use spin::Mutex;
use xp_core::xen::grant_table::*;

/// Mapping slots for peers' grants.
pub const SLOTS: usize = 8;

/// The page whose mapping is replaced by our grant table frame.
static TABLE: PageCell = PageCell::new();
/// Pages whose mappings are replaced by peers' grants while mapped.
static SLOT_PAGES: [PageCell; SLOTS] = [const { PageCell::new() }; SLOTS];

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

impl Mapping {
    /// The mapped page (the peer's frame, shared with it).
    pub fn page(&self) -> SharedPage<'_> {
        SharedPage::new(&SLOT_PAGES[self.slot])
    }
}

/// What went wrong with a grant operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GntError {
    NotReady,
    NoFreeRef,
    NoFreeSlot,
    /// A grant reference outside our table (or one of the reserved entries).
    BadRef(u32),
    /// A frame number that does not fit a v1 grant entry's 32-bit frame field.
    FrameTooWide(u64),
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
                let names = GrantFlags::from_bits_retain(*flags);
                write!(
                    f,
                    "grant still in use by the peer (flags {flags:#x}: {names})"
                )
            }
            GntError::Xen(e) => write!(f, "{e}"),
            GntError::NotReady => f.write_str("grant table not set up"),
            GntError::NoFreeRef => f.write_str("no free grant reference (one table frame)"),
            GntError::NoFreeSlot => write!(f, "all {SLOTS} mapping slots in use"),
            GntError::BadRef(r) => write!(f, "grant reference {r} is not one of ours"),
            GntError::FrameTooWide(mfn) => {
                write!(f, "frame {mfn:#x} is wider than a v1 grant entry's 32 bits")
            }
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
    // SAFETY: TABLE is a page cell only accessed through SharedPage; the frame is the one
    // Xen set up as our grant table.
    unsafe { mmu::update_va_mapping(TABLE.va(), pte::entry(frames[0], pte::DATA_RW))? };
    let mut used = [0u64; (ENTRIES_PER_FRAME / 64) as usize];
    used[0] = (1 << GNTTAB_NR_RESERVED_ENTRIES) - 1;
    *STATE.lock() = Some(State { used, slots: 0 });
    log::debug!(
        "grant table: frame {:#x} mapped ({} of at most {} frames)",
        frames[0],
        q.nr_frames,
        q.max_nr_frames
    );
    Ok((q.nr_frames, q.max_nr_frames))
}

/// Entry `r` of the table: (flags, domid, frame), shared with Xen and the peer.
fn entry(
    r: GrantRef,
) -> Result<(&'static AtomicU16, &'static AtomicU16, &'static AtomicU32), GntError> {
    if r.0 >= ENTRIES_PER_FRAME || r.0 < GNTTAB_NR_RESERVED_ENTRIES {
        return Err(GntError::BadRef(r.0));
    }
    let page = SharedPage::new(&TABLE);
    let e = r.0 as usize * ENTRY_SIZE;
    let bad = |_| GntError::BadRef(r.0);
    Ok((
        page.u16(e + ENTRY_FLAGS).map_err(bad)?,
        page.u16(e + ENTRY_DOMID).map_err(bad)?,
        page.u32(e + ENTRY_FRAME).map_err(bad)?,
    ))
}

fn alloc_ref() -> Result<GrantRef, GntError> {
    let mut g = STATE.lock();
    let st = g.as_mut().ok_or(GntError::NotReady)?;
    let (w, b) = st
        .used
        .iter()
        .enumerate()
        .find_map(|(w, &bits)| (bits != u64::MAX).then(|| (w, (!bits).trailing_zeros())))
        .ok_or(GntError::NoFreeRef)?;
    st.used[w] |= 1 << b;
    Ok(GrantRef(w as u32 * 64 + b))
}

fn free_ref(r: GrantRef) {
    if let Some(st) = STATE.lock().as_mut() {
        st.used[r.0 as usize / 64] &= !(1 << (r.0 % 64));
    }
}

/// Grant `domid` access to machine frame `mfn`.
///
/// # Safety
/// The peer may read (and unless `readonly` write) the frame from now until
/// [`end_access`] returns Ok: the frame must stay allocated to us for that long, and
/// whatever we keep in it is accessed only through the shared-memory layer.
pub unsafe fn grant(domid: u16, mfn: u64, readonly: bool) -> Result<GrantRef, GntError> {
    let frame = u32::try_from(mfn).map_err(|_| GntError::FrameTooWide(mfn))?;
    let r = alloc_ref()?;
    let (flags, dom, fr) = entry(r)?;
    dom.store(domid, Relaxed);
    fr.store(frame, Relaxed);
    // Release: domid and frame must be visible before the entry becomes valid.
    let mut f = GrantFlags::PERMIT_ACCESS;
    f.set(GrantFlags::READONLY, readonly);
    flags.store(f.bits(), Release);
    GRANTED.fetch_add(1, Relaxed);
    Ok(r)
}

/// Grant `domid` access to the frame behind our page `cell`.
///
/// # Safety
/// As for [`grant`]: `cell` must not be freed or reused until [`end_access`] returns Ok.
pub unsafe fn grant_page(
    domid: u16,
    cell: &PageCell,
    readonly: bool,
) -> Result<GrantRef, GntError> {
    let mfn = mm::va_to_mfn(cell.va()).ok_or(GntError::NotReady)?;
    // SAFETY: the caller keeps the cell (and so its frame) ours until access ends.
    unsafe { grant(domid, mfn, readonly) }
}

/// End access (only if the peer does not have it mapped) and free the reference.
/// Ending an entry that is already ended (flags 0: e.g. revoked by us before) is Ok.
pub fn end_access(r: GrantRef) -> Result<(), GntError> {
    let (flags, _, _) = entry(r)?;
    let mut cur = flags.load(Acquire);
    loop {
        if GrantFlags::from_bits_retain(cur).intersects(GrantFlags::READING | GrantFlags::WRITING) {
            return Err(GntError::InUse { flags: cur });
        }
        if cur == 0 {
            break;
        }
        match flags.compare_exchange(cur, 0, AcqRel, Acquire) {
            Ok(_) => break,
            Err(now) => cur = now,
        }
    }
    free_ref(r);
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
    let mut flags = GntmapFlags::HOST_MAP;
    flags.set(GntmapFlags::READONLY, readonly);
    let mut a = MapGrantRef {
        host_addr: va,
        flags: flags.bits(),
        ref_: r,
        dom: domid,
        ..Default::default()
    };
    // SAFETY: host_addr is a free slot's page cell, only accessed through SharedPage, so
    // the peer's frame may replace its mapping until unmap.
    let res = match unsafe { ops::map(&mut a) } {
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
pub fn unmap(m: &Mapping) -> Result<(), GntError> {
    let mut a = UnmapGrantRef {
        host_addr: m.va,
        handle: m.handle,
        ..Default::default()
    };
    ops::unmap(&mut a)?;
    let restored = mm::va_to_mfn(m.va).map(|mfn| {
        // SAFETY: the slot's own frame back under its own address (a page cell).
        unsafe { mmu::update_va_mapping(m.va, pte::entry(mfn, pte::DATA_RW)) }
    });
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
    SLOT_PAGES[slot].va()
}

fn free_slot(slot: usize) {
    if let Some(st) = STATE.lock().as_mut() {
        st.slots &= !(1 << slot);
    }
}
