//! Index arithmetic of byte rings shared with another domain (console ring).
//!
//! Indexes are free-running `u32`s that wrap; they are masked only when
//! indexing the buffer, and never stored back masked. A peer whose indexes
//! say there is more data than the ring holds (`prod - cons > size`) is
//! misbehaving: that is an error, not a panic.

/// A peer's indexes are impossible for a ring of this size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingError {
    pub prod: u32,
    pub cons: u32,
    pub size: u32,
}

impl core::fmt::Display for RingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "ring indexes out of range: prod={} cons={} (prod-cons={} > size {})",
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
        Err(RingError { prod, cons, size })
    } else {
        Ok(n)
    }
}

/// Free bytes for the producer.
pub fn free(prod: u32, cons: u32, size: u32) -> Result<u32, RingError> {
    used(prod, cons, size).map(|u| size - u)
}

/// Offset of a free-running index inside a ring of `size` (a power of two).
pub fn mask(idx: u32, size: u32) -> usize {
    (idx & (size - 1)) as usize
}

/// Where the producer may write next without wrapping: `(offset, len)`, `len <= want`.
pub fn write_span(
    prod: u32,
    cons: u32,
    size: u32,
    want: usize,
) -> Result<(usize, usize), RingError> {
    let free = free(prod, cons, size)? as usize;
    let off = mask(prod, size);
    let to_end = size as usize - off;
    Ok((off, want.min(free).min(to_end)))
}

/// Where the consumer may read next without wrapping: `(offset, len)`.
pub fn read_span(prod: u32, cons: u32, size: u32) -> Result<(usize, usize), RingError> {
    let used = used(prod, cons, size)? as usize;
    let off = mask(cons, size);
    Ok((off, used.min(size as usize - off)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        assert_eq!(
            e,
            RingError {
                prod: 3000,
                cons: 0,
                size: 2048
            }
        );
        assert!(e.to_string().contains("prod-cons=3000 > size 2048"));
        // Consumer ahead of producer looks like a huge distance too.
        assert!(used(0, 1, 2048).is_err());
        assert!(write_span(0, 1, 2048, 1).is_err());
        assert!(read_span(5000, 1, 2048).is_err());
    }

    #[test]
    fn spans_stop_at_ring_end() {
        assert_eq!(write_span(2040, 2040, 2048, 100), Ok((2040, 8)));
        assert_eq!(write_span(2048, 0, 2048, 100), Ok((0, 0)));
        assert_eq!(read_span(2050, 2040, 2048), Ok((2040, 8)));
        assert_eq!(read_span(7, 7, 2048), Ok((7, 0)));
    }

    /// Model: write a byte stream through a ring and read it back.
    fn pump(start: u32, data: &[u8], size: u32, chunk: usize) -> Vec<u8> {
        let mut ring = vec![0u8; size as usize];
        let (mut prod, mut cons) = (start, start);
        let (mut sent, mut out) = (0, Vec::new());
        while out.len() < data.len() {
            let (off, n) = write_span(prod, cons, size, (data.len() - sent).min(chunk)).unwrap();
            ring[off..off + n].copy_from_slice(&data[sent..sent + n]);
            sent += n;
            prod = prod.wrapping_add(n as u32);
            let (off, n) = read_span(prod, cons, size).unwrap();
            out.extend_from_slice(&ring[off..off + n]);
            cons = cons.wrapping_add(n as u32);
        }
        out
    }

    proptest! {
        #[test]
        fn bytes_survive_any_start(start in any::<u32>(), data in proptest::collection::vec(any::<u8>(), 0..5000), chunk in 1usize..3000) {
            prop_assert_eq!(pump(start, &data, 2048, chunk), data);
        }

        #[test]
        fn spans_never_leave_the_ring(prod in any::<u32>(), cons in any::<u32>(), want in 0usize..10_000) {
            if let Ok((off, n)) = write_span(prod, cons, 1024, want) {
                prop_assert!(off + n <= 1024);
            }
            if let Ok((off, n)) = read_span(prod, cons, 1024) {
                prop_assert!(off + n <= 1024);
            }
        }
    }
}
