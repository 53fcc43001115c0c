//! Building page tables for pages outside the bootstrap region (after Mini-OS's build_pagetable).

use super::pte;
use super::{entry, index, is_mapped, mfn_to_pfn, pfn_to_mfn, pfn_to_va, MmError};
use crate::xen::mmu;
use xp_core::xen::hypercall::MmuUpdate;
use xp_core::xen::start_info::StartInfo;

const BATCH: usize = 128;

pub struct Builder<'a> {
    si: &'a StartInfo,
    next_table: u64,
    table_end: u64,
    queue: [MmuUpdate; BATCH],
    queued: usize,
    pub pages_mapped: u64,
    pub tables_created: u64,
}

impl<'a> Builder<'a> {
    /// Tables are taken from pfns `[tables_from, tables_to)`, which must already be mapped.
    pub fn new(si: &'a StartInfo, tables_from: u64, tables_to: u64) -> Self {
        Builder {
            si,
            next_table: tables_from,
            table_end: tables_to,
            queue: [MmuUpdate::default(); BATCH],
            queued: 0,
            pages_mapped: 0,
            tables_created: 0,
        }
    }

    /// Map pfns `[from, to)` read-write at their linear addresses, where not mapped yet.
    pub fn map_range(&mut self, from: u64, to: u64) -> Result<(), MmError> {
        for pfn in from..to {
            let va = pfn_to_va(pfn);
            let l1_mfn = self.l1_for(va)?;
            let l1_va = pfn_to_va(mfn_to_pfn(l1_mfn));
            let idx = index(va, 1);
            if !pte::present(entry(l1_va, idx)) {
                let val = pte::entry(pfn_to_mfn(self.si, pfn), pte::DATA_RW);
                self.push(MmuUpdate {
                    ptr: (l1_mfn << 12) + idx * 8,
                    val,
                })?;
                self.pages_mapped += 1;
            }
        }
        self.flush()
    }

    /// The machine frame of the L1 table covering `va`, creating missing levels.
    fn l1_for(&mut self, va: u64) -> Result<u64, MmError> {
        let l4_mfn = pfn_to_mfn(self.si, super::va_to_pfn(self.si.pt_base));
        let mut table_mfn = l4_mfn;
        for level in (2..=4).rev() {
            let table_va = pfn_to_va(mfn_to_pfn(table_mfn));
            let idx = index(va, level);
            let e = entry(table_va, idx);
            table_mfn = if pte::present(e) {
                pte::mfn(e)
            } else {
                self.new_table(table_mfn, idx)?
            };
        }
        Ok(table_mfn)
    }

    /// Take a free page, zero it, make it read-only and hook it under `parent_mfn[idx]`.
    fn new_table(&mut self, parent_mfn: u64, idx: u64) -> Result<u64, MmError> {
        let pfn = self.next_table;
        let va = pfn_to_va(pfn);
        if pfn >= self.table_end || !is_mapped(self.si, va) {
            return Err(MmError::TableNotMapped(pfn));
        }
        self.next_table += 1;
        // SAFETY: `va` is a mapped, writable page of ours that nothing else uses (it lies in
        // the reserved table range below the heap).
        unsafe { core::ptr::write_bytes(va as *mut u8, 0, 4096) };
        let mfn = pfn_to_mfn(self.si, pfn);
        // SAFETY: the page is ours, zeroed above and no longer written: it becomes a
        // read-only page-table page, as Xen requires before it accepts it as a table.
        unsafe { mmu::update_va_mapping(va, pte::entry(mfn, pte::DATA_RO))? };
        self.flush()?; // queued L1 writes first: the new table must not race them
        let hook = MmuUpdate {
            ptr: (parent_mfn << 12) + idx * 8,
            val: pte::entry(mfn, pte::TABLE),
        };
        // SAFETY: links a fresh, empty table into a free slot of its parent: no existing
        // mapping changes.
        unsafe { mmu::mmu_update(&[hook])? };
        self.tables_created += 1;
        Ok(mfn)
    }

    fn push(&mut self, u: MmuUpdate) -> Result<(), MmError> {
        self.queue[self.queued] = u;
        self.queued += 1;
        if self.queued == BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), MmError> {
        if self.queued > 0 {
            // SAFETY: the queue only maps heap pages that were not mapped before (map_range
            // over the free range below nr_pages), each at its own linear address.
            unsafe { mmu::mmu_update(&self.queue[..self.queued])? };
            self.queued = 0;
        }
        Ok(())
    }
}
