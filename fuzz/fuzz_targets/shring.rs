//! A hostile peer against both io/ring.h consumers of the ring probe
//! (xp_core::ringep over xp_core::shring): the peer may store any value at any
//! word of the shared page (indexes, event indexes, slot size, slot headers,
//! payload) between our steps, and may also behave honestly for a while.
//! Checks: no panic; no access outside the 4 KiB page or misaligned (the fake
//! page's indexing panics); our private indexes never run past what the peer
//! published by more than the ring size; the backend never serves more than
//! its budget; every response the frontend accepts carries the sequence number
//! due and the payload it sent; errors come only from the documented checks.
//!
//! Input: a sequence of 6-byte ops `[kind, a, b0, b1, b2, b3]`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cell::Cell;
use xp_core::ringep::{BackEp, FrontEp, SlotPage};
use xp_core::ringmsg::{Layout, PeerError, MAX_PAYLOAD};
use xp_core::shring::SharedIdx;

struct Page(Vec<Cell<u8>>);

impl Page {
    fn get<const N: usize>(&self, off: usize) -> [u8; N] {
        assert_eq!(off % N, 0, "misaligned access at {off}");
        core::array::from_fn(|i| self.0[off + i].get())
    }
    fn set(&self, off: usize, b: &[u8]) {
        assert_eq!(off % b.len(), 0, "misaligned access at {off}");
        b.iter()
            .enumerate()
            .for_each(|(i, &v)| self.0[off + i].set(v));
    }
}
impl SharedIdx for Page {
    fn load(&self, off: usize) -> u32 {
        u32::from_le_bytes(self.get(off))
    }
    fn store(&self, off: usize, v: u32) {
        self.set(off, &v.to_le_bytes())
    }
    fn fence(&self) {}
}
impl SlotPage for Page {
    fn load64(&self, off: usize) -> u64 {
        u64::from_le_bytes(self.get(off))
    }
    fn store64(&self, off: usize, v: u64) {
        self.set(off, &v.to_le_bytes())
    }
}

fn documented(e: &PeerError) {
    assert!(matches!(
        e,
        PeerError::Index(_)
            | PeerError::SlotSize(_)
            | PeerError::Len { .. }
            | PeerError::Seq { .. }
            | PeerError::EchoLen { .. }
            | PeerError::Payload { .. }
    ));
    assert!(!e.to_string().is_empty());
}

fuzz_target!(|data: &[u8]| {
    let p = Page((0..4096).map(|_| Cell::new(0)).collect());
    let mut f = FrontEp::new(&p, Layout::for_payload(16).unwrap());
    let mut b = BackEp::default();
    let mut len = 16u32;
    for op in data.chunks_exact(6) {
        let v = u32::from_le_bytes([op[2], op[3], op[4], op[5]]);
        match op[0] % 6 {
            // The peer scribbles one word anywhere in the page.
            0 => p.store((v as usize % 1024) * 4, u32::from(op[1]) << 24 | v >> 8),
            // Our frontend sends (honest), possibly after changing the message size.
            1 => {
                let want = v % (MAX_PAYLOAD + 1);
                if f.set_layout(&p, Layout::for_payload(want).unwrap()) {
                    len = want;
                }
                for _ in 0..op[1] % 8 {
                    let _ = f.write_request(&p, len, u64::from(v));
                }
                f.push(&p);
            }
            // Our backend serves with a budget.
            2 => match b.serve(&p, 7, u32::from(op[1] % 70) + 1) {
                Ok(s) => assert!(s.n <= u32::from(op[1] % 70) + 1),
                Err(e) => documented(&e),
            },
            // Our frontend collects.
            3 => loop {
                let due = f.ring.rsp_cons;
                match f.take_response(&p, len) {
                    Ok(Some(r)) => assert_eq!(r.seq, due),
                    Ok(None) => break,
                    Err(e) => {
                        documented(&e);
                        break;
                    }
                }
            },
            4 => match (b.final_check(&p), f.final_check(&p)) {
                (Err(e), _) | (_, Err(e)) => documented(&e),
                _ => {}
            },
            // The peer moves a producer index by a small or huge amount.
            _ => {
                let off = if op[1] & 1 == 0 { 0 } else { 8 };
                p.store(off, p.load(off).wrapping_add(v % 300).wrapping_sub(100));
            }
        }
        assert!(f.outstanding() <= f.layout.size);
        assert!(f.ring.req_prod_pvt.wrapping_sub(f.ring.rsp_cons) <= f.ring.size);
    }
});
