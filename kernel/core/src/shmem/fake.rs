//! A fake shared page for host tests and fuzz targets (feature `fake`): plain
//! cells, single-threaded. Every access is checked with [`super::check`] and
//! panics outside the page or misaligned, so code that passes its tests over
//! a `CellPage` never asked the kernel's page for an access it would refuse.

use super::{check, SharedMem, PAGE_SIZE};
use core::cell::Cell;

/// A zeroed 4 KiB page of cells.
pub struct CellPage(pub [Cell<u8>; PAGE_SIZE]);

impl Default for CellPage {
    fn default() -> Self {
        CellPage(core::array::from_fn(|_| Cell::new(0)))
    }
}

impl CellPage {
    fn get<const N: usize>(&self, off: usize) -> [u8; N] {
        check(off, N, N, PAGE_SIZE).unwrap_or_else(|e| panic!("{e}"));
        core::array::from_fn(|i| self.0[off + i].get())
    }
    fn set(&self, off: usize, b: &[u8], align: usize) {
        check(off, b.len(), align, PAGE_SIZE).unwrap_or_else(|e| panic!("{e}"));
        b.iter()
            .enumerate()
            .for_each(|(i, &v)| self.0[off + i].set(v));
    }
}

impl SharedMem for CellPage {
    fn load8(&self, off: usize) -> u8 {
        self.get::<1>(off)[0]
    }
    fn store8(&self, off: usize, v: u8) {
        self.set(off, &[v], 1)
    }
    fn load16(&self, off: usize) -> u16 {
        u16::from_le_bytes(self.get(off))
    }
    fn store16(&self, off: usize, v: u16) {
        self.set(off, &v.to_le_bytes(), 2)
    }
    fn load32(&self, off: usize) -> u32 {
        u32::from_le_bytes(self.get(off))
    }
    fn store32(&self, off: usize, v: u32) {
        self.set(off, &v.to_le_bytes(), 4)
    }
    fn load64(&self, off: usize) -> u64 {
        u64::from_le_bytes(self.get(off))
    }
    fn store64(&self, off: usize, v: u64) {
        self.set(off, &v.to_le_bytes(), 8)
    }
    fn or8(&self, off: usize, bits: u8) {
        self.store8(off, self.load8(off) | bits)
    }
    fn fetch_and8(&self, off: usize, mask: u8) -> u8 {
        let old = self.load8(off);
        self.store8(off, old & mask);
        old
    }
    fn cas32(&self, off: usize, old: u32, new: u32) -> Result<u32, u32> {
        let cur = self.load32(off);
        if cur != old {
            return Err(cur);
        }
        self.store32(off, new);
        Ok(cur)
    }
    fn swap32(&self, off: usize, v: u32) -> u32 {
        let old = self.load32(off);
        self.store32(off, v);
        old
    }
    fn fetch_or32(&self, off: usize, bits: u32) -> u32 {
        let old = self.load32(off);
        self.store32(off, old | bits);
        old
    }
    fn fetch_and32(&self, off: usize, mask: u32) -> u32 {
        let old = self.load32(off);
        self.store32(off, old & mask);
        old
    }
    fn fence(&self) {}
    fn read(&self, off: usize, out: &mut [u8]) {
        check(off, out.len(), 1, PAGE_SIZE).unwrap_or_else(|e| panic!("{e}"));
        out.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = self.0[off + i].get());
    }
    fn write(&self, off: usize, data: &[u8]) {
        self.set(off, data, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_are_checked_not_clamped() {
        assert!(check(4092, 4, 4, PAGE_SIZE).is_ok());
        assert!(check(4094, 4, 4, PAGE_SIZE).is_err()); // crosses the end
        assert!(check(2, 4, 4, PAGE_SIZE).is_err()); // misaligned
        assert!(check(usize::MAX, 2, 1, PAGE_SIZE).is_err()); // overflows
        let e = check(4096, 1, 1, PAGE_SIZE).unwrap_err();
        assert_eq!(e.to_string(), "shared memory access of 1 bytes at offset 4096 is outside the 4096-byte area or misaligned");
    }

    #[test]
    fn fake_page_round_trips_and_panics_outside() {
        let p = CellPage::default();
        p.store32(8, 0xdead_beef);
        p.store64(16, u64::MAX - 1);
        p.or8(8, 0x10);
        assert_eq!(p.fetch_and8(8, 0x0f), 0xff);
        assert_eq!(p.load32(8), 0xdead_be0f);
        assert_eq!(p.load64(16), u64::MAX - 1);
        assert_eq!(p.cas32(8, 1, 2), Err(0xdead_be0f));
        assert_eq!(p.cas32(8, 0xdead_be0f, 7), Ok(0xdead_be0f));
        assert_eq!(
            (p.swap32(8, 6), p.fetch_or32(8, 1), p.fetch_and32(8, 3)),
            (7, 6, 7)
        );
        assert_eq!(p.load32(8), 3);
        p.write(4090, b"abcdef");
        let mut out = [0u8; 6];
        p.read(4090, &mut out);
        assert_eq!(&out, b"abcdef");
        let outside = std::panic::AssertUnwindSafe(|| p.load32(4094));
        assert!(std::panic::catch_unwind(outside).is_err());
    }
}
