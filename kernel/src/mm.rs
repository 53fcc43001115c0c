//! Memory: pfn/mfn translation, mapping the rest of the domain's pages, heap.
//!
//! At entry only the bootstrap region is mapped (image, p2m list, start_info,
//! bootstrap page tables and stack, rounded up to 4 MiB). The heap spans the
//! pages after all of that, up to `nr_pages` (capped at [`HEAP_MAX_PAGES`]);
//! pages beyond the bootstrap region get new L1 (and if needed L2/L3) tables,
//! which must be zeroed and made read-only before Xen accepts them.

use crate::xen::XenError;
use linked_list_allocator::LockedHeap;
use xp_core::xen::start_info::StartInfo;

/// Where the image (pfn 0) is mapped.
pub const VIRT_BASE: u64 = 0xffff_ffff_8000_0000;
/// Xen's read-only machine-to-phys table for PV guests.
const M2P_BASE: u64 = 0xffff_8000_0000_0000;
/// The heap never grows beyond 64 MiB: the probes need little, and mapping more costs boot time.
pub const HEAP_MAX_PAGES: u64 = 64 << 8;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

/// What memory setup found and did, reported by the platform probe.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemInfo {
    pub nr_pages: u64,
    pub heap_start: u64,
    pub heap_bytes: u64,
    pub free_start_pfn: u64,
    pub pages_mapped: u64,
    pub tables_created: u64,
}

/// Memory setup failed: what and where.
#[derive(Debug, Clone, Copy)]
pub enum MmError {
    Xen(XenError),
    NoMemory { free_start_pfn: u64, nr_pages: u64 },
    TableNotMapped(u64),
}
impl From<XenError> for MmError {
    fn from(e: XenError) -> Self {
        MmError::Xen(e)
    }
}
impl core::fmt::Display for MmError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MmError::Xen(e) => write!(f, "{e}"),
            MmError::NoMemory {
                free_start_pfn,
                nr_pages,
            } => {
                write!(f, "no free pages for the heap (first free pfn {free_start_pfn}, nr_pages {nr_pages})")
            }
            MmError::TableNotMapped(pfn) => write!(f, "page-table page pfn {pfn} is not mapped"),
        }
    }
}

/// Page-table entries as we write them, with x86_64's `PageTableFlags`.
pub mod pte {
    use x86_64::structures::paging::PageTableFlags as F;

    /// Mask of the machine frame address in an entry.
    pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
    /// Data page, read-write (what Mini-OS uses for x86_64: L1_PROT).
    pub const DATA_RW: F = F::PRESENT
        .union(F::WRITABLE)
        .union(F::USER_ACCESSIBLE)
        .union(F::ACCESSED)
        .union(F::DIRTY);
    /// Read-only mapping, e.g. of a page that becomes a page table or an LDT.
    pub const DATA_RO: F = F::PRESENT.union(F::USER_ACCESSIBLE).union(F::ACCESSED);
    /// Entry of an upper-level table pointing at a lower table.
    pub const TABLE: F = F::PRESENT
        .union(F::WRITABLE)
        .union(F::USER_ACCESSIBLE)
        .union(F::ACCESSED);

    /// The entry that maps machine frame `mfn` with `flags`.
    pub const fn entry(mfn: u64, flags: F) -> u64 {
        ((mfn << 12) & ADDR_MASK) | flags.bits()
    }

    /// Whether entry `e` is present.
    pub const fn present(e: u64) -> bool {
        F::from_bits_retain(e).contains(F::PRESENT)
    }

    /// The machine frame entry `e` points at.
    pub const fn mfn(e: u64) -> u64 {
        (e & ADDR_MASK) >> 12
    }
}

pub fn pfn_to_va(pfn: u64) -> u64 {
    VIRT_BASE + (pfn << 12)
}
pub fn va_to_pfn(va: u64) -> u64 {
    (va - VIRT_BASE) >> 12
}

/// Machine frame -> pseudo-physical frame through Xen's M2P table.
pub fn mfn_to_pfn(mfn: u64) -> u64 {
    // SAFETY: Xen maps the M2P read-only into every PV guest at M2P_BASE, covering every
    // machine frame the guest may name; Xen writes it, so the entry is loaded atomically.
    unsafe { crate::shmem::load_u64((M2P_BASE as *const u64).add(mfn as usize)) }
}

/// Pseudo-physical frame -> machine frame through the p2m list start_info points at.
fn pfn_to_mfn(si: &StartInfo, pfn: u64) -> u64 {
    debug_assert!(pfn < si.nr_pages);
    // SAFETY: mfn_list is a mapped array of nr_pages entries in the bootstrap region.
    unsafe { core::ptr::read_volatile((si.mfn_list as *const u64).add(pfn as usize)) }
}

fn entry(table_va: u64, idx: u64) -> u64 {
    // SAFETY: `table_va` is a mapped (read-only) page-table page, idx < 512; the CPU sets
    // accessed/dirty bits in it, so the entry is loaded atomically.
    unsafe { crate::shmem::load_u64((table_va as *const u64).add(idx as usize)) }
}

fn index(va: u64, level: u32) -> u64 {
    (va >> (12 + 9 * (level - 1))) & 511
}

/// True when `va` has a present mapping in the current page tables.
pub fn is_mapped(si: &StartInfo, va: u64) -> bool {
    let mut table = si.pt_base;
    for level in (1..=4).rev() {
        let e = entry(table, index(va, level));
        if !pte::present(e) {
            return false;
        }
        table = pfn_to_va(mfn_to_pfn(pte::mfn(e)));
    }
    true
}

/// First pfn after everything the domain builder placed in the bootstrap region.
fn first_free_pfn(si: &StartInfo) -> u64 {
    extern "C" {
        static _image_end: u8;
    }
    let up = |va: u64| va_to_pfn(va + 4095);
    let image_end = up(core::ptr::addr_of!(_image_end) as u64);
    let si_pfn = va_to_pfn(si as *const StartInfo as u64) + 1;
    let pts = va_to_pfn(si.pt_base) + si.nr_pt_frames + 1; // + Xen's boot stack page
    let p2m = up(si.mfn_list + si.nr_pages * 8);
    let module = if si.mod_len > 0 {
        up(si.mod_start + si.mod_len)
    } else {
        0
    };
    let mut free = image_end.max(si_pfn).max(pts).max(p2m).max(module);
    for mfn in [si.store_mfn, si.console_mfn] {
        if mfn != 0 && !si.is_dom0() {
            free = free.max(mfn_to_pfn(mfn) + 1);
        }
    }
    free
}

mod build;

/// The console or xenstore page the domain builder mapped for us (`mfn` from start_info),
/// as a shared page; None for dom0 (it has neither) or when it is not mapped.
pub fn builder_page(si: &StartInfo, mfn: u64) -> Option<crate::shmem::SharedPage<'static>> {
    let va = pfn_to_va(mfn_to_pfn(mfn));
    let ours = !si.is_dom0() && (mfn == si.store_mfn || mfn == si.console_mfn);
    if !ours || !is_mapped(si, va) {
        return None;
    }
    // SAFETY: the builder mapped this page read-write for the whole run (checked mapped);
    // first_free_pfn keeps it out of the heap, it is not part of the image, and only its
    // driver (console or xenstore) touches it, through the returned SharedPage.
    Some(unsafe { crate::shmem::SharedPage::from_va(va) })
}

/// The p2m list (virtual address) and its length, kept for [`va_to_mfn`].
static P2M: spin::Once<(u64, u64)> = spin::Once::new();

/// The machine frame backing a linear-mapped address of our image or heap.
pub fn va_to_mfn(va: u64) -> Option<u64> {
    let &(list, n) = P2M.get()?;
    let pfn = va.checked_sub(VIRT_BASE)? >> 12;
    // SAFETY: list is the mapped p2m array of n entries (start_info.mfn_list), pfn < n.
    (pfn < n).then(|| unsafe { core::ptr::read_volatile((list as *const u64).add(pfn as usize)) })
}

/// Map the heap's pages and hand them to the global allocator.
pub fn init(si: &StartInfo) -> Result<MemInfo, MmError> {
    P2M.call_once(|| (si.mfn_list, si.nr_pages));
    let free = first_free_pfn(si);
    let end = si.nr_pages.min(free + HEAP_MAX_PAGES);
    let n = end.saturating_sub(free);
    // Upper bound of tables a range of n pages can need: L1s, plus L2s and L3s at the edges.
    let reserve = n / 512 + 6;
    if n <= reserve + 16 {
        return Err(MmError::NoMemory {
            free_start_pfn: free,
            nr_pages: si.nr_pages,
        });
    }
    let mut b = build::Builder::new(si, free, free + reserve);
    b.map_range(free + reserve, end)?;
    let heap_start = pfn_to_va(free + reserve);
    let heap_bytes = (end - free - reserve) << 12;
    // SAFETY: [heap_start, +heap_bytes) is now mapped RW, belongs to this domain and is used
    // by nothing else; init is called once, before any allocation.
    unsafe { HEAP.lock().init(heap_start as *mut u8, heap_bytes as usize) };
    log::debug!("heap: {heap_bytes} bytes at {heap_start:#x} ({n} pages after pfn {free})");
    Ok(MemInfo {
        nr_pages: si.nr_pages,
        heap_start,
        heap_bytes,
        free_start_pfn: free,
        pages_mapped: b.pages_mapped,
        tables_created: b.tables_created,
    })
}

/// Bytes of heap in use and free now.
pub fn heap_usage() -> (usize, usize) {
    let h = HEAP.lock();
    (h.used(), h.free())
}
