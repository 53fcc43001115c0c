//! Ring index arithmetic, the one ring error type, and byte rings in shared
//! memory: the console ring, the xenstore ring's two queues and the
//! libxenvchan rings all go through here (io/ring.h slot rings use the same
//! index checks through `shring`).
//!
//! Indexes are free-running `u32`s that wrap; they are masked only when
//! indexing the buffer, and never stored back masked. A peer whose indexes
//! say there is more data than the ring holds (`prod - cons > size`) is
//! misbehaving: that is an error, not a panic.

use crate::shmem::SharedMem;

/// A peer's indexes are impossible for a ring of this size. `what` names the ring
/// or the index (e.g. "xenstore rsp", "rsp_prod").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingError {
    pub what: &'static str,
    pub prod: u32,
    pub cons: u32,
    pub size: u32,
}

impl RingError {
    /// The same error, naming the ring or index it is about.
    pub fn named(self, what: &'static str) -> Self {
        RingError { what, ..self }
    }
}

impl core::fmt::Display for RingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "peer {} index out of range: prod {} cons {} (ahead by {} > ring size {})",
            self.what,
            self.prod,
            self.cons,
            self.prod.wrapping_sub(self.cons),
            self.size
        )
    }
}

/// Bytes (or slots) between consumer and producer, checked against the ring size (any size,
/// even 0 for a ring not set up yet; only [`mask`] needs a power of two).
pub fn used(prod: u32, cons: u32, size: u32) -> Result<u32, RingError> {
    let n = prod.wrapping_sub(cons);
    if n > size {
        Err(RingError {
            what: "ring",
            prod,
            cons,
            size,
        })
    } else {
        Ok(n)
    }
}

/// Free bytes for the producer.
pub fn free(prod: u32, cons: u32, size: u32) -> Result<u32, RingError> {
    used(prod, cons, size).map(|u| size - u)
}

/// Offset of a free-running index inside a ring of `size` (a power of two).
pub const fn mask(idx: u32, size: u32) -> usize {
    (idx & (size - 1)) as usize
}

/// Up to two `(offset, len)` pieces (the second when the data wraps), offsets from the
/// ring's start.
pub type Spans = [(usize, usize); 2];

/// Where `n <= size` bytes from free-running index `idx` lie in a ring of `size` (a power
/// of two): at most two contiguous pieces, the second at offset 0.
pub fn spans(idx: u32, n: u32, size: u32) -> Spans {
    let at = mask(idx, size);
    let first = (n as usize).min(size as usize - at);
    [(at, first), (0, n as usize - first)]
}

/// Call `f(offset, range)` for each non-empty piece of `n` bytes from `idx` ([`spans`]):
/// `offset` from the ring's start, `range` the matching bytes of the caller's buffer.
pub fn each_span(idx: u32, n: usize, size: u32, mut f: impl FnMut(usize, core::ops::Range<usize>)) {
    let mut done = 0;
    for (off, len) in spans(idx, n as u32, size) {
        if len > 0 {
            f(off, done..done + len);
            done += len;
        }
    }
}

/// A byte queue of `size` bytes (a power of two) at byte `base` of a shared page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRing {
    pub name: &'static str,
    pub base: usize,
    pub size: u32,
}

impl ByteRing {
    /// Producer side: copy as much of `data` as fits at `prod` (the consumer is at
    /// `cons`) and return how many bytes; the caller publishes `prod + n` (Release).
    /// Nothing is copied when the indexes are impossible.
    pub fn put(
        &self,
        m: &(impl SharedMem + ?Sized),
        prod: u32,
        cons: u32,
        data: &[u8],
    ) -> Result<usize, RingError> {
        let room = free(prod, cons, self.size).map_err(|e| e.named(self.name))?;
        let n = data.len().min(room as usize);
        each_span(prod, n, self.size, |off, r| {
            m.write(self.base + off, &data[r])
        });
        Ok(n)
    }

    /// Consumer side: copy up to `out.len()` waiting bytes from `cons` (the producer is
    /// at `prod`) and return how many; the caller publishes `cons + n` (Release).
    pub fn get(
        &self,
        m: &(impl SharedMem + ?Sized),
        prod: u32,
        cons: u32,
        out: &mut [u8],
    ) -> Result<usize, RingError> {
        let waiting = used(prod, cons, self.size).map_err(|e| e.named(self.name))?;
        let n = out.len().min(waiting as usize);
        each_span(cons, n, self.size, |off, r| {
            m.read(self.base + off, &mut out[r])
        });
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shmem::fake::CellPage;
    use proptest::prelude::*;

    const OUT: ByteRing = ByteRing {
        name: "console out",
        base: 1024,
        size: 2048,
    };

    #[test]
    fn wraps_at_u32_max() {
        let prod = 5u32;
        let cons = u32::MAX - 10;
        assert_eq!(used(prod, cons, 2048), Ok(16));
        assert_eq!(free(prod, cons, 2048), Ok(2032));
    }

    #[test]
    fn bad_peer_indexes_are_errors() {
        let e = used(3000, 0, 2048).unwrap_err();
        assert_eq!((e.prod, e.cons, e.size), (3000, 0, 2048));
        assert!(e.to_string().contains("(ahead by 3000 > ring size 2048)"));
        // Consumer ahead of producer looks like a huge distance too.
        assert!(used(0, 1, 2048).is_err());
        let p = CellPage::default();
        let e = OUT.put(&p, 0, 1, b"x").unwrap_err();
        assert_eq!(e.what, "console out");
        assert!(e
            .to_string()
            .starts_with("peer console out index out of range"));
        assert!(OUT.get(&p, 5000, 1, &mut [0; 4]).is_err());
    }

    #[test]
    fn spans_stop_at_ring_end() {
        assert_eq!(spans(2040, 8, 2048), [(2040, 8), (0, 0)]);
        assert_eq!(spans(2040, 20, 2048), [(2040, 8), (0, 12)]);
        assert_eq!(spans(7, 0, 2048), [(7, 0), (0, 0)]);
    }

    #[test]
    fn put_and_get_wrap_inside_the_ring() {
        let p = CellPage::default();
        assert_eq!(OUT.put(&p, 2040, 2040, &[7; 20]), Ok(20));
        assert_eq!(p.load8(1024 + 2047), 7);
        assert_eq!(p.load8(1024 + 11), 7);
        assert_eq!(p.load8(1024 + 12), 0);
        let mut out = [0u8; 30];
        assert_eq!(OUT.get(&p, 2060, 2040, &mut out), Ok(20));
        assert_eq!(OUT.put(&p, 2048, 0, b"full"), Ok(0));
    }

    /// Model: write a byte stream through a ring and read it back.
    fn pump(start: u32, data: &[u8], chunk: usize) -> Vec<u8> {
        let page = CellPage::default();
        let (mut prod, mut cons) = (start, start);
        let (mut sent, mut out) = (0, Vec::new());
        while out.len() < data.len() {
            let end = (sent + chunk).min(data.len());
            let n = OUT.put(&page, prod, cons, &data[sent..end]).unwrap();
            sent += n;
            prod = prod.wrapping_add(n as u32);
            let mut buf = vec![0; chunk];
            let n = OUT.get(&page, prod, cons, &mut buf).unwrap();
            out.extend_from_slice(&buf[..n]);
            cons = cons.wrapping_add(n as u32);
        }
        out
    }

    proptest! {
        #[test]
        fn bytes_survive_any_start(start in any::<u32>(), data in proptest::collection::vec(any::<u8>(), 0..5000), chunk in 1usize..3000) {
            prop_assert_eq!(pump(start, &data, chunk), data);
        }

        #[test]
        fn spans_never_leave_the_ring(idx in any::<u32>(), n in 0u32..=1024) {
            let s = spans(idx, n, 1024);
            prop_assert!(s[0].0 + s[0].1 <= 1024 && s[1].1 <= 1024);
            prop_assert_eq!(s[0].1 + s[1].1, n as usize);
        }
    }
}
