use super::*;
use crate::shmem::fake::CellPage;
use proptest::prelude::*;

/// The shared header lives in a fake page (sequentially consistent in a single thread).
type Hdr = CellPage;

fn at(start: u32) -> Hdr {
    let h = CellPage::default();
    for (i, v) in [start, start.wrapping_add(1), start, start.wrapping_add(1)]
        .into_iter()
        .enumerate()
    {
        h.store32(i * 4, v);
    }
    h
}

#[test]
fn sizes_match_io_ring_h() {
    // 4 KiB page: 64-byte entries -> 32 slots (63 fit), 16-byte -> 128 (252 fit), 112 -> 32.
    assert_eq!(ring_size(4096, 64), 32);
    assert_eq!(ring_size(4096, 16), 128);
    assert_eq!(ring_size(4096, 112), 32);
    assert_eq!(ring_size(4096, 8192), 0);
    assert_eq!(slot_offset(33, 32, 64), HEADER + 64);
}

#[test]
fn notify_predicate() {
    assert!(needs_notify(0, 1, 1)); // peer waits for index 1
    assert!(!needs_notify(1, 2, 1)); // it was already told about 1
    assert!(needs_notify(0, 5, 3));
    assert!(needs_notify(u32::MAX - 1, 1, u32::MAX)); // across the wrap
    assert!(!needs_notify(5, 5, 6));
}

#[test]
fn hostile_indexes_are_errors() {
    let h = at(0);
    let mut b = Back::new(32);
    h.store32(REQ_PROD, 33);
    let e = b.unconsumed_requests(&h).unwrap_err();
    assert_eq!((e.what, e.prod, e.cons), ("req_prod", 33, 0));
    assert!(e.to_string().contains("ahead by 33 > ring size 32"));
    b.req_cons = 10;
    h.store32(REQ_PROD, 5); // behind the consumer: looks like 2^32 - 5 ahead
    assert!(b.unconsumed_requests(&h).is_err());
    let f = Front {
        size: 32,
        req_prod_pvt: 3,
        rsp_cons: 0,
    };
    h.store32(RSP_PROD, 4); // more responses than requests sent
    assert!(f
        .unconsumed_responses(&h)
        .unwrap_err()
        .what
        .contains("beyond requests"));
}

/// One step of a front/back pair that follow the protocol; `notified` tracks whether a
/// sleeper would be woken. The model checks the protocol's promise: a side that goes to
/// sleep after its final check is always woken if work is pending for it.
#[derive(Debug, Clone, Copy)]
enum Op {
    FrontSend(u8),
    BackServe,
    FrontCollect,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u8..8).prop_map(Op::FrontSend),
        Just(Op::BackServe),
        Just(Op::FrontCollect)
    ]
}

proptest! {
    #[test]
    fn no_lost_wakeups(start in any::<u32>(), ops in proptest::collection::vec(op(), 1..200)) {
        let h = at(start);
        let mut f = Front { size: 8, req_prod_pvt: start, rsp_cons: start };
        let mut b = Back { size: 8, rsp_prod_pvt: start, req_cons: start };
        // Each side "sleeps" after a final check found nothing; a notification wakes it.
        let (mut back_asleep, mut front_asleep) = (true, false);
        for o in ops {
            match o {
                Op::FrontSend(n) => {
                    let n = u32::from(n).min(f.free_requests());
                    f.req_prod_pvt = f.req_prod_pvt.wrapping_add(n);
                    if f.push_requests(&h) { back_asleep = false; }
                    front_asleep = f.final_check_for_responses(&h).unwrap() == 0;
                }
                Op::BackServe if !back_asleep => {
                    let n = b.unconsumed_requests(&h).unwrap();
                    b.req_cons = b.req_cons.wrapping_add(n);
                    b.rsp_prod_pvt = b.rsp_prod_pvt.wrapping_add(n);
                    if b.push_responses(&h) { front_asleep = false; }
                    back_asleep = b.final_check_for_requests(&h).unwrap() == 0;
                }
                Op::FrontCollect if !front_asleep => {
                    let n = f.unconsumed_responses(&h).unwrap();
                    f.rsp_cons = f.rsp_cons.wrapping_add(n);
                    front_asleep = f.final_check_for_responses(&h).unwrap() == 0;
                }
                _ => {}
            }
            // The invariant: nobody sleeps on work meant for it.
            if back_asleep { prop_assert_eq!(b.unconsumed_requests(&h).unwrap(), 0); }
            if front_asleep { prop_assert_eq!(f.unconsumed_responses(&h).unwrap(), 0); }
        }
    }

    #[test]
    fn arbitrary_peer_indexes_never_panic_and_stay_in_ring(p in any::<u32>(), e in any::<u32>(), c in any::<u32>(), r in any::<u32>()) {
        let h = at(0);
        h.store32(REQ_PROD, p); h.store32(RSP_PROD, p); h.store32(REQ_EVENT, e); h.store32(RSP_EVENT, e);
        let b = Back { size: 32, rsp_prod_pvt: r, req_cons: c };
        if let Ok(n) = b.unconsumed_requests(&h) {
            prop_assert!(n <= 32);
            for i in 0..n { prop_assert!(slot_offset(c.wrapping_add(i), 32, 64) + 64 <= 4096); }
        }
        let f = Front { size: 32, req_prod_pvt: r, rsp_cons: c };
        if let Ok(n) = f.unconsumed_responses(&h) { prop_assert!(n <= 32); }
    }
}
