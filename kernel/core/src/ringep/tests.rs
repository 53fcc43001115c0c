use super::*;
use crate::shmem::fake::CellPage;
use crate::shmem::SharedMem;
use crate::shring::slot_offset;
use proptest::prelude::*;

/// A 4 KiB page; any access outside it or misaligned panics.
pub(crate) type Page = CellPage;

fn pair(len: u32) -> (Page, FrontEp, BackEp) {
    let p = Page::default();
    let f = FrontEp::new(&p, Layout::for_payload(len).unwrap());
    (p, f, BackEp::default())
}

#[test]
fn echo_through_phases() {
    let (p, mut f, mut b) = pair(16);
    for len in [16u32, 64, 1008, 0, 100] {
        assert!(f.set_layout(&p, Layout::for_payload(len).unwrap()));
        for round in 0..5u64 {
            let mut sent = 0;
            while f.write_request(&p, len, round).is_some() {
                sent += 1;
            }
            assert_eq!(sent, f.layout.size);
            assert!(f.push(&p), "the idle backend asked to be told");
            let s = b.serve(&p, 1000 + round, u32::MAX).unwrap();
            assert_eq!(
                s,
                Served {
                    n: sent,
                    released: sent,
                    notify: true
                }
            );
            assert_eq!(b.final_check(&p), Ok(0));
            for _ in 0..sent {
                let r = f.take_response(&p, len).unwrap().unwrap();
                assert_eq!(r.back_ts, 1000 + round);
            }
            assert_eq!(f.take_response(&p, len), Ok(None));
            assert_eq!(f.final_check(&p), Ok(0));
        }
    }
    assert!(
        f.write_request(&p, 113, 0).is_none(),
        "more than the 128-byte slot holds"
    );
}

#[test]
fn layout_change_refused_while_outstanding() {
    let (p, mut f, _) = pair(16);
    f.write_request(&p, 16, 0).unwrap();
    assert!(!f.set_layout(&p, Layout::for_payload(64).unwrap()));
}

#[test]
fn hostile_front_is_refused() {
    let (p, mut f, mut b) = pair(16);
    f.write_request(&p, 16, 0).unwrap();
    f.push(&p);
    assert_eq!(b.serve(&p, 0, 64).unwrap().n, 1);
    p.store32(REQ_PROD, 0); // behind our consumer (1): "2^32 - 1 ahead"
    let e = b.serve(&p, 0, 64).unwrap_err();
    assert_eq!(e.check(), "peer_indexes_valid");
    p.store32(REQ_PROD, 1 + 65); // more than the 64-slot ring ahead
    assert!(matches!(b.serve(&p, 0, 64), Err(PeerError::Index(_))));
    p.store32(REQ_PROD, 2);
    p.store32(slot_offset(1, 64, 32) + MSG_LEN, 17); // more than a 32-byte slot holds
    assert_eq!(
        b.serve(&p, 0, 64),
        Err(PeerError::Len {
            seq: 0,
            len: 17,
            cap: 16
        })
    );
    p.store32(SLOT_SIZE, 40);
    assert_eq!(b.serve(&p, 0, 64), Err(PeerError::SlotSize(40)));
}

#[test]
fn hostile_back_is_refused() {
    let (p, mut f, _) = pair(16);
    f.write_request(&p, 16, 0).unwrap();
    p.store32(RSP_PROD, 2); // two responses to one request
    assert!(
        matches!(f.take_response(&p, 16), Err(PeerError::Index(e)) if e.what.contains("beyond"))
    );
    let (p, mut f, _) = pair(16);
    f.write_request(&p, 16, 0).unwrap();
    p.store32(RSP_PROD, 1000); // far ahead
    assert!(matches!(f.take_response(&p, 16), Err(PeerError::Index(_))));
    let (p, mut f, mut b) = pair(16);
    f.write_request(&p, 16, 0).unwrap();
    f.push(&p);
    b.serve(&p, 0, 64).unwrap();
    p.store64(slot_offset(0, 64, 32) + MSG_PAYLOAD + 8, 0); // corrupt the echo
    assert_eq!(
        f.take_response(&p, 16),
        Err(PeerError::Payload { seq: 0, word: 1 })
    );
    f.write_request(&p, 16, 0).unwrap();
    f.push(&p);
    b.serve(&p, 0, 64).unwrap();
    p.store32(slot_offset(1, 64, 32) + MSG_SEQ, 7);
    assert_eq!(
        f.take_response(&p, 16),
        Err(PeerError::Seq {
            expected: 1,
            got: 7
        })
    );
}

#[test]
fn indexes_wrap_at_u32_max() {
    let (p, mut f, mut b) = pair(64);
    let start = u32::MAX - 40;
    f.ring.req_prod_pvt = start;
    f.ring.rsp_cons = start;
    b.ring.req_cons = start;
    b.ring.rsp_prod_pvt = start;
    p.store32(REQ_PROD, start);
    p.store32(RSP_PROD, start);
    for _ in 0..10 {
        while f.write_request(&p, 64, 1).is_some() {}
        f.push(&p);
        let n = b.serve(&p, 2, u32::MAX).unwrap().n;
        for _ in 0..n {
            assert!(f.take_response(&p, 64).unwrap().is_some());
        }
    }
    assert!(f.ring.rsp_cons < start, "wrapped");
}

proptest! {
    /// Honest endpoints with any interleaving, batch and budget never report an error,
    /// and every response arrives exactly once.
    #[test]
    fn honest_peers_never_fail(ops in proptest::collection::vec((0u8..3, 1u32..70), 1..300)) {
        let (p, mut f, mut b) = pair(64);
        let (mut sent, mut got) = (0u32, 0u32);
        for (op, k) in ops {
            match op {
                0 => for _ in 0..k { if f.write_request(&p, 64, 0).is_some() { sent += 1; } },
                1 => { f.push(&p); b.serve(&p, 0, k).unwrap(); }
                _ => while let Some(r) = f.take_response(&p, 64).unwrap() { prop_assert_eq!(r.seq, got); got += 1; },
            }
            prop_assert!(got <= sent);
        }
    }

    /// A hostile front that writes anything anywhere (but our private indexes) never makes
    /// the backend panic or read outside the page; every error names the peer.
    #[test]
    fn scribbling_front_never_breaks_back(writes in proptest::collection::vec((0usize..1024, any::<u32>()), 0..64), budget in 1u32..200) {
        let (p, _, mut b) = pair(16);
        for (i, (w, v)) in writes.into_iter().enumerate() {
            p.store32(w * 4, v);
            if let Ok(s) = b.serve(&p, i as u64, budget) {
                prop_assert!(s.n <= budget);
            }
            let _ = b.final_check(&p);
        }
    }
}
