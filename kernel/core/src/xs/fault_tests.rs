//! Each injected fault, through the real transport, reassembler and request
//! table, gives its specific error, at any index position (including a
//! header split across the ring's wrap), and a disarmed ring is a plain
//! pass-through.

use super::*;
use crate::xs::testutil::FakePage;
use crate::xs::*;
use proptest::prelude::*;

/// What the client saw for one READ round trip.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Write(RingError),
    Read(ReadError),
    Route(RouteError),
    /// No complete message; the reassembler holds `partial` bytes.
    Nothing {
        partial: usize,
        finish: Result<(), ReadError>,
    },
    Reply {
        req_id: u32,
        payload: Vec<u8>,
    },
}

fn reply_bytes(req_id: u32, payload: &[u8]) -> Vec<u8> {
    let mut buf = [0u8; MSG_MAX];
    let n = encode(MsgType::READ, req_id, 0, &[Part::Bytes(payload)], &mut buf).unwrap();
    buf[..n].to_vec()
}

/// Sends a READ through `ring`, lets the fake daemon answer it, and reads.
fn round_trip(ring: &FaultyRing<FakePage>, fault: Option<Fault>, payload: &[u8]) -> Seen {
    let mut pending = Pending::<4>::new();
    let req_id = pending.start(MsgType::READ, 0, 0).unwrap();
    if let Some(f) = fault {
        ring.arm(f);
    }
    let mut req = [0u8; MSG_MAX];
    let n = Request::Read { path: b"/a" }
        .encode(req_id, 0, &mut req)
        .unwrap();
    match write_request(ring, &req[..n]) {
        Ok(k) => assert_eq!(k, n),
        Err(e) => return Seen::Write(e),
    }
    let page = ring.inner();
    assert_eq!(page.daemon_take(usize::MAX).len(), n);
    page.daemon_put(&reply_bytes(req_id, payload));
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    let seen = match r.fill_from(ring) {
        Err(e) => Seen::Read(e),
        Ok(None) => Seen::Nothing {
            partial: r.partial_len(),
            finish: r.finish(),
        },
        Ok(Some(m)) => match pending.route(&m.header) {
            Err(e) => Seen::Route(e),
            Ok(_) => Seen::Reply {
                req_id: m.header.req_id,
                payload: m.payload.to_vec(),
            },
        },
    };
    seen
}

fn start_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![u32::MAX - 40..=u32::MAX, 1000u32..1030, any::<u32>()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn disarmed_is_a_pass_through(start in start_strategy(), payload in prop::collection::vec(any::<u8>(), 0..900)) {
        let ring = FaultyRing::new(FakePage::at(start));
        let seen = round_trip(&ring, None, &payload);
        prop_assert_eq!(seen, Seen::Reply { req_id: 1, payload });
    }

    #[test]
    fn each_fault_gives_its_error(start in start_strategy(), len in 0usize..900) {
        let payload = vec![b'v'; len];
        for f in Fault::ALL {
            let ring = FaultyRing::new(FakePage::at(start));
            let seen = round_trip(&ring, Some(f), &payload);
            let need = HEADER_LEN + len;
            let ok = match (f, &seen) {
                (Fault::RspProdOutOfRange, Seen::Read(ReadError::Ring(RingError { what: RSP, .. }))) => true,
                (Fault::ReqConsOutOfRange, Seen::Write(RingError { what: REQ, .. })) => true,
                (Fault::LenTooLarge, Seen::Read(ReadError::LenTooLarge { len: Fault::BAD_LEN })) => true,
                (Fault::UnknownReqId, Seen::Route(RouteError::UnknownReqId { req_id: Fault::BAD_REQ_ID, .. })) => true,
                (Fault::UnknownType, Seen::Route(RouteError::UnknownType { ty: Fault::BAD_TYPE, .. })) => true,
                (Fault::Truncated, Seen::Nothing { partial: 20, finish: Err(ReadError::Truncated { have: 20, need: n }) }) => *n == need,
                // A reply shorter than the cut arrives whole.
                (Fault::Truncated, Seen::Reply { .. }) => need <= 20,
                _ => false,
            };
            prop_assert!(ok, "{:?} at start {}: {:?}", f, start, seen);
            // Nothing outside the fault's view changed: the real indexes are sane.
            let page = ring.inner();
            prop_assert!(page.rsp_prod.get().wrapping_sub(page.rsp_cons.get()) <= 1024);
        }
    }
}

#[test]
fn header_faults_hit_only_the_next_reply() {
    let ring = FaultyRing::new(FakePage::at(u32::MAX - 7));
    assert!(matches!(
        round_trip(&ring, Some(Fault::UnknownType), b"x"),
        Seen::Route(_)
    ));
    // Still armed, but the rewritten bytes are behind us: the next reply is clean.
    assert_eq!(
        round_trip(&ring, None, b"yz"),
        Seen::Reply {
            req_id: 1,
            payload: b"yz".to_vec()
        }
    );
    assert_eq!(ring.armed(), Some(Fault::UnknownType));
    ring.disarm();
    assert_eq!(ring.armed(), None);
}

#[test]
fn names_round_trip() {
    for f in Fault::ALL {
        assert_eq!(Fault::from_name(f.name()), Some(f));
    }
    assert_eq!(Fault::from_name("bogus"), None);
}
