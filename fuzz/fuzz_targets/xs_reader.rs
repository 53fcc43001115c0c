//! Arbitrary bytes, split arbitrarily, through the xenstore reply
//! reassembler and every payload decoder. Checks: no panic; the messages
//! reassembled from the pieces are exactly those `Message::parse` frames
//! from the whole stream; errors are the documented ones and are sticky.
//!
//! Input: byte 0 = number of split sizes k (1..=16), the next k bytes are
//! the sizes (0 counts as 1), the rest is the stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xp_core::xs::reply::watch_event;
use xp_core::xs::reply::{dir_part, expect_ok, nul_list, parse_bool, parse_u32, single_string};
use xp_core::xs::*;

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let k = (k as usize % 16 + 1).min(rest.len());
    let (sizes, stream) = rest.split_at(k);
    if sizes.is_empty() {
        return;
    }
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    let mut pending = Pending::<8>::new();
    let (mut input, mut at, mut i) = (stream, 0usize, 0usize);
    while !input.is_empty() {
        let step = (sizes[i % sizes.len()] as usize).max(1).min(input.len());
        i += 1;
        match r.push(&input[..step]) {
            Ok((used, m)) => {
                assert!(used <= step);
                if let Some(m) = m {
                    at = check_against_whole(stream, at, &m);
                    decode_everything(&m, &mut pending);
                }
                input = &input[used..];
            }
            Err(e) => {
                let ReadError::LenTooLarge { len } = e else {
                    panic!("unexpected {e:?}")
                };
                assert!(len as usize > XENSTORE_PAYLOAD_MAX);
                let whole = Message::parse(&stream[at..]);
                assert_eq!(whole, Err(DecodeError::LenTooLarge { len }));
                assert_eq!(r.push(b"x").err(), Some(e), "errors are sticky");
                return;
            }
        }
    }
    match r.finish() {
        Ok(()) => assert_eq!(at, stream.len()),
        Err(ReadError::Truncated { have, need }) => {
            assert_eq!(have, stream.len() - at);
            assert!(have < need && need <= MSG_MAX);
        }
        Err(e) => panic!("unexpected {e:?}"),
    }
});

/// The message must be the one framed at `at` in the whole stream.
fn check_against_whole(stream: &[u8], at: usize, m: &Message) -> usize {
    let (whole, used) = Message::parse(&stream[at..]).expect("whole stream frames too");
    assert_eq!(&whole, m);
    assert_eq!(m.payload.len(), m.header.len as usize);
    assert!(m.payload.len() <= XENSTORE_PAYLOAD_MAX);
    at + used
}

fn decode_everything<const N: usize>(m: &Message, pending: &mut Pending<N>) {
    let _ = m.known_type();
    let _ = pending.route(&m.header);
    let _ = pending.start(m.header.ty, m.header.tx_id, 0);
    assert!(pending.len() <= N);
    let p = m.payload;
    let e = XsError::from_payload(p);
    assert!(e.name().len() <= p.len());
    let _ = expect_ok(p);
    let _ = single_string(p);
    let _ = parse_u32(p);
    let _ = parse_bool(p);
    if let Ok(l) = nul_list(p) {
        assert!(l.count() <= p.len());
    }
    if let Ok(d) = dir_part(p) {
        assert!(d.children.count() <= p.len());
    }
    if let Ok(w) = watch_event(p) {
        assert_eq!(w.path.len() + w.token.len() + 2, p.len());
    }
    if let Ok(l) = PermList::parse(p) {
        assert!(l.count() >= 1);
    }
    encode_back(p);
}

/// The payload as a path and value: encoding either refuses it or produces
/// a message that frames back to the same bytes.
fn encode_back(p: &[u8]) {
    let (path, value) = p.split_at(p.iter().position(|&b| b == 0).unwrap_or(p.len()));
    let mut buf = [0u8; MSG_MAX];
    let req = Request::Write { path, value };
    if let Ok(n) = req.encode(7, 0, &mut buf) {
        let (m, used) = Message::parse(&buf[..n]).expect("own encoding frames");
        assert_eq!(used, n);
        assert_eq!(&m.payload[..path.len()], path);
        assert_eq!(&m.payload[path.len() + 1..], value);
        assert!(validate_path(path).is_ok());
    }
}
