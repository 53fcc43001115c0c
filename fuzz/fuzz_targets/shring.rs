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
use xp_core::ringep::{BackEp, FrontEp};
use xp_core::ringmsg::{Layout, PeerError, MAX_PAYLOAD};
use xp_core::shmem::{fake::CellPage, SharedMem};

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
    let p = CellPage::default();
    let mut f = FrontEp::new(&p, Layout::for_payload(16).unwrap());
    let mut b = BackEp::default();
    let mut len = 16u32;
    for op in data.chunks_exact(6) {
        let v = u32::from_le_bytes([op[2], op[3], op[4], op[5]]);
        match op[0] % 6 {
            // The peer scribbles one word anywhere in the page.
            0 => p.store32((v as usize % 1024) * 4, u32::from(op[1]) << 24 | v >> 8),
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
                p.store32(off, p.load32(off).wrapping_add(v % 300).wrapping_sub(100));
            }
        }
        assert!(f.outstanding() <= f.layout.size);
        assert!(f.ring.req_prod_pvt.wrapping_sub(f.ring.rsp_cons) <= f.ring.size);
    }
});
