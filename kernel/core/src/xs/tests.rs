//! Whole-stack tests: encode -> request ring -> fake daemon echo -> reply
//! ring -> reassemble -> decode, with arbitrary payloads, arbitrary split
//! points and index starting points near the u32 wrap; and fault injection
//! through the same stack.

use super::testutil::FakePage;
use super::*;
use proptest::prelude::*;

/// One message to send: type, req_id, tx_id, payload.
type Msg = (u32, u32, u32, Vec<u8>);

fn encode_msg(&(ty, req_id, tx_id, ref payload): &Msg) -> Vec<u8> {
    let mut buf = [0u8; MSG_MAX];
    let n = encode(
        MsgType(ty),
        req_id,
        tx_id,
        &[Part::Bytes(payload)],
        &mut buf,
    )
    .unwrap();
    buf[..n].to_vec()
}

/// Chunk sizes, taken in turn, cycling.
struct Sizes<'a>(&'a [usize], usize);

impl Sizes<'_> {
    fn next(&mut self) -> usize {
        self.1 += 1;
        self.0[self.1 % self.0.len()]
    }
}

/// Sends `stream` through the request ring, has the daemon echo it into
/// the reply ring, and reassembles it; alternates `push` and `fill_from`.
fn echo(page: &FakePage, stream: &[u8], sizes: &[usize]) -> Result<Vec<Msg>, ReadError> {
    let mut sizes = Sizes(sizes, 0);
    let (mut sent, mut echo_q, mut got) = (0, Vec::new(), Vec::new());
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    for step in 0..100_000 {
        let end = stream.len().min(sent + sizes.next());
        sent += write_request(page, &stream[sent..end]).unwrap();
        echo_q.extend(page.daemon_take(sizes.next()));
        let n = page.daemon_put(&echo_q[..echo_q.len().min(sizes.next())]);
        echo_q.drain(..n);
        let mut keep = |m: Message| {
            let h = m.header;
            got.push((h.ty.0, h.req_id, h.tx_id, m.payload.to_vec()));
        };
        if step % 2 == 0 {
            while let Some(m) = r.fill_from(page)? {
                keep(m);
            }
        } else {
            let mut tmp = vec![0u8; sizes.next()];
            let k = read_available(page, &mut tmp).unwrap();
            let mut input = &tmp[..k];
            while !input.is_empty() {
                let (used, m) = r.push(input)?;
                m.map(&mut keep);
                input = &input[used..];
            }
        }
        if sent == stream.len() && echo_q.is_empty() && rings_empty(page) {
            r.finish()?;
            return Ok(got);
        }
    }
    panic!("no progress");
}

fn rings_empty(page: &FakePage) -> bool {
    ring::rsp_available(page) == Ok(0) && ring::req_space(page) == Ok(XENSTORE_RING_SIZE)
}

fn msg_strategy() -> impl Strategy<Value = Msg> {
    let payload = prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..300),
        1 => prop::collection::vec(any::<u8>(), 0..=XENSTORE_PAYLOAD_MAX),
        1 => Just(vec![0xA5; XENSTORE_PAYLOAD_MAX]),
    ];
    (0u32..=26, any::<u32>(), any::<u32>(), payload)
}

fn start_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![u32::MAX - 3000..=u32::MAX, any::<u32>(), 0u32..2048]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn round_trip_through_rings(
        msgs in prop::collection::vec(msg_strategy(), 1..6),
        start in start_strategy(),
        sizes in prop::collection::vec(1usize..1100, 1..12),
    ) {
        let page = FakePage::at(start);
        let stream: Vec<u8> = msgs.iter().flat_map(encode_msg).collect();
        prop_assert_eq!(echo(&page, &stream, &sizes).unwrap(), msgs);
    }

    #[test]
    fn write_requests_round_trip(
        path in "/[a-z0-9_@-]{1,20}(/[a-zA-Z0-9_-]{1,20}){0,5}",
        value in prop::collection::vec(any::<u8>(), 0..2000),
        req_id in 1u32.., tx_id in any::<u32>(),
        start in start_strategy(),
        split in 1usize..64,
    ) {
        let mut buf = [0u8; MSG_MAX];
        let req = Request::Write { path: path.as_bytes(), value: &value };
        let n = req.encode(req_id, tx_id, &mut buf).unwrap();
        let got = echo(&FakePage::at(start), &buf[..n], &[split, 1023, 7]).unwrap();
        let (ty, id, tx, payload) = &got[0];
        prop_assert_eq!((*ty, *id, *tx), (MsgType::WRITE.0, req_id, tx_id));
        let nul = payload.iter().position(|&b| b == 0).unwrap();
        prop_assert_eq!(&payload[..nul], path.as_bytes());
        prop_assert_eq!(&payload[nul + 1..], &value[..]);
    }

    #[test]
    fn reply_lists_round_trip(
        names in prop::collection::vec("[a-zA-Z0-9_-]{1,12}", 0..20),
        gen in any::<u64>(),
        complete in any::<bool>(),
    ) {
        let list: Vec<u8> = names.iter().flat_map(|n| n.bytes().chain([0])).collect();
        let back: Vec<&[u8]> = reply::nul_list(&list).unwrap().collect();
        let want: Vec<&[u8]> = names.iter().map(|n| n.as_bytes()).collect();
        prop_assert_eq!(&back, &want);
        let mut part = format!("{gen}\0").into_bytes();
        part.extend(&list);
        if complete {
            part.push(0);
        }
        let p = reply::dir_part(&part).unwrap();
        prop_assert_eq!(p.generation, gen);
        prop_assert_eq!(p.complete, complete);
        prop_assert_eq!(p.children.collect::<Vec<_>>(), want);
    }

    #[test]
    fn perms_round_trip(perms in prop::collection::vec((0usize..4, any::<u16>()), 1..10)) {
        let kinds = [PermKind::None, PermKind::Read, PermKind::Write, PermKind::Both];
        let perms: Vec<Perm> = perms.iter().map(|&(k, d)| Perm::new(kinds[k], d)).collect();
        let mut buf = [0u8; MSG_MAX];
        let n = Request::SetPerms { path: b"/p", perms: &perms }.encode(1, 0, &mut buf).unwrap();
        let payload = &buf[HEADER_LEN + 3..n];
        let back: Vec<Perm> = PermList::parse(payload).unwrap().collect();
        prop_assert_eq!(back, perms);
    }

    #[test]
    fn garbage_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..3000),
        sizes in prop::collection::vec(1usize..40, 1..8),
    ) {
        let mut buf = [0u8; MSG_MAX];
        let mut r = Reassembler::new(&mut buf);
        let mut pending = Pending::<8>::new();
        let (mut input, mut s) = (&bytes[..], Sizes(&sizes, 0));
        while !input.is_empty() {
            let k = input.len().min(s.next());
            match r.push(&input[..k]) {
                Ok((used, m)) => {
                    if let Some(m) = m {
                        decode_everything(&m, &mut pending);
                    }
                    input = &input[used..];
                }
                Err(e) => {
                    let big = matches!(e, ReadError::LenTooLarge { len } if len > 4096);
                    prop_assert!(big, "unexpected {:?}", e);
                    break;
                }
            }
        }
        let _ = r.finish();
    }

    #[test]
    fn arbitrary_indexes_never_escape_the_ring(
        idx in (any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>()),
        data in prop::collection::vec(any::<u8>(), 0..2100),
        out_len in 0usize..2100,
    ) {
        let page = FakePage::with(idx.0, idx.1, idx.2, idx.3);
        match write_request(&page, &data) {
            Ok(n) => prop_assert_eq!(page.req_prod.get(), idx.1.wrapping_add(n as u32)),
            Err(RingError { .. }) => {
                prop_assert!(idx.1.wrapping_sub(idx.0) > 1024);
                prop_assert_eq!(page.req_prod.get(), idx.1);
            }
        }
        let mut out = vec![0u8; out_len];
        match read_available(&page, &mut out) {
            Ok(n) => prop_assert!(n <= out_len && n <= 1024),
            Err(_) => prop_assert!(idx.3.wrapping_sub(idx.2) > 1024),
        }
    }
}

/// Runs every decoder on a message; none may panic.
fn decode_everything<const N: usize>(m: &Message, pending: &mut Pending<N>) {
    let _ = m.known_type();
    let _ = pending.route(&m.header);
    let _ = pending.start(m.header.ty, m.header.tx_id, 0);
    let p = m.payload;
    let _ = XsError::from_payload(p);
    let _ = reply::expect_ok(p);
    let _ = reply::parse_u32(p).and(reply::parse_bool(p).map(|_| 0));
    let _ = reply::nul_list(p).map(|l| l.count());
    let _ = reply::dir_part(p).map(|d| d.children.count());
    let _ = reply::watch_event(p);
    let _ = PermList::parse(p).map(|l| l.count());
}

// ---- fault injection through the whole stack ----

/// A fake daemon puts `bytes` in the reply ring; the client reads it.
fn client_reads(bytes: &[u8], start: u32) -> (Result<Vec<Msg>, ReadError>, Pending<4>, u32) {
    let page = FakePage::at(start);
    let mut pending = Pending::<4>::new();
    let id = pending.start(MsgType::READ, 0, 0).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    let mut rest = bytes;
    let res = loop {
        rest = &rest[page.daemon_put(rest)..];
        match r.fill_from(&page) {
            Ok(Some(m)) => got.push((m.header.ty.0, m.header.req_id, 0, m.payload.to_vec())),
            Ok(None) if rest.is_empty() => break r.finish().map(|_| got),
            Ok(None) => {}
            Err(e) => break Err(e),
        }
    };
    (res, pending, id)
}

#[test]
fn fault_len_over_4096() {
    let h = Header {
        ty: MsgType::READ,
        req_id: 1,
        tx_id: 0,
        len: 5000,
    };
    let (res, _, _) = client_reads(&h.to_bytes(), u32::MAX - 7);
    assert_eq!(res, Err(ReadError::LenTooLarge { len: 5000 }));
}

#[test]
fn fault_truncated_payload() {
    let bytes = encode_msg(&(MsgType::READ.0, 1, 0, b"0123456789".to_vec()));
    let (res, _, _) = client_reads(&bytes[..20], u32::MAX - 7);
    assert_eq!(res, Err(ReadError::Truncated { have: 20, need: 26 }));
}

#[test]
fn fault_unknown_req_id_and_unknown_type() {
    let mut bytes = encode_msg(&(MsgType::READ.0, 4242, 0, b"v".to_vec()));
    let (res, mut pending, id) = client_reads(&bytes, 0);
    let m = &res.unwrap()[0];
    let e = RouteError::UnknownReqId {
        req_id: 4242,
        ty: MsgType::READ,
    };
    assert_eq!(
        pending.route(&Header {
            ty: MsgType(m.0),
            req_id: m.1,
            tx_id: 0,
            len: 1
        }),
        Err(e)
    );
    bytes = encode_msg(&(77, id, 0, b"v".to_vec()));
    let (res, mut pending, _) = client_reads(&bytes, 0);
    let m = &res.unwrap()[0];
    let h = Header {
        ty: MsgType(m.0),
        req_id: m.1,
        tx_id: 0,
        len: 1,
    };
    let msg = Message {
        header: h,
        payload: &m.3,
    };
    assert_eq!(msg.known_type(), Err(DecodeError::UnknownType { ty: 77 }));
    assert!(matches!(
        pending.route(&h),
        Err(RouteError::UnknownType { ty: 77, .. })
    ));
}

#[test]
fn fault_indexes_out_of_range() {
    let page = FakePage::with(5, 5, 100, 100 + 4000);
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    let e = RingError {
        what: RSP,
        prod: 4100,
        cons: 100,
        size: 1024,
    };
    assert_eq!(r.fill_from(&page), Err(ReadError::Ring(e)));
    let page = FakePage::with(u32::MAX, 2000, 0, 0);
    let e = RingError {
        what: REQ,
        prod: 2000,
        cons: u32::MAX,
        size: 1024,
    };
    assert_eq!(write_request(&page, b"x"), Err(e));
}

#[test]
fn error_reply_end_to_end() {
    let mut pending = Pending::<4>::new();
    let id = pending.start(MsgType::WRITE, 0, 0).unwrap();
    let bytes = encode_msg(&(MsgType::ERROR.0, id, 0, b"EQUOTA\0".to_vec()));
    let got = echo(&FakePage::at(u32::MAX), &bytes, &[3]).unwrap();
    let (ty, req_id, _, payload) = &got[0];
    let h = Header {
        ty: MsgType(*ty),
        req_id: *req_id,
        tx_id: 0,
        len: 7,
    };
    assert!(matches!(pending.route(&h), Ok(Route::Error(r)) if r.req_id == id));
    assert_eq!(XsError::from_payload(payload), XsError::Equota);
}
