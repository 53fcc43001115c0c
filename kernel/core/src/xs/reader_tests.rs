use super::*;
use crate::xs::ring::{RingError, RSP};
use crate::xs::testutil::FakePage;
use crate::xs::wire::{encode, MsgType, Part};

fn msg(ty: MsgType, req_id: u32, payload: &[u8]) -> Vec<u8> {
    let mut buf = [0u8; MSG_MAX];
    let n = encode(ty, req_id, 0, &[Part::Bytes(payload)], &mut buf).unwrap();
    buf[..n].to_vec()
}

/// Feeds `input` in one push loop; returns (req_id, payload) of each message.
fn push_all(r: &mut Reassembler, mut input: &[u8]) -> Result<Vec<(u32, Vec<u8>)>, ReadError> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (n, m) = r.push(input)?;
        input = &input[n..];
        if let Some(m) = m {
            out.push((m.header.req_id, m.payload.to_vec()));
        }
    }
    Ok(out)
}

#[test]
fn whole_messages_in_one_push() {
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    let mut bytes = msg(MsgType::READ, 1, b"value");
    bytes.extend(msg(MsgType::WRITE, 2, b"OK\0"));
    bytes.extend(msg(MsgType::RM, 3, b""));
    let got = push_all(&mut r, &bytes).unwrap();
    assert_eq!(
        got,
        [(1, b"value".to_vec()), (2, b"OK\0".to_vec()), (3, vec![])]
    );
    assert_eq!(r.finish(), Ok(()));
}

#[test]
fn byte_at_a_time() {
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    let bytes = msg(MsgType::READ, 9, b"split me");
    for (i, b) in bytes.iter().enumerate() {
        let (n, m) = r.push(std::slice::from_ref(b)).unwrap();
        assert_eq!(n, 1);
        assert_eq!(m.is_some(), i == bytes.len() - 1);
        if i < bytes.len() - 1 {
            assert_eq!(r.partial_len(), i + 1);
        }
    }
    assert_eq!(r.partial_len(), 0);
}

#[test]
fn max_payload_is_accepted() {
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    let big = [3u8; 4096];
    let got = push_all(&mut r, &msg(MsgType::READ, 1, &big)).unwrap();
    assert_eq!(got[0].1.len(), 4096);
}

#[test]
fn oversized_len_breaks_the_stream() {
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    let h = Header {
        ty: MsgType::READ,
        req_id: 1,
        tx_id: 0,
        len: 4097,
    }
    .to_bytes();
    assert_eq!(
        r.push(&h[..10]).map(|(n, m)| (n, m.is_some())),
        Ok((10, false))
    );
    assert_eq!(
        r.push(&h[10..]).err(),
        Some(ReadError::LenTooLarge { len: 4097 })
    );
    assert_eq!(r.broken(), Some(ReadError::LenTooLarge { len: 4097 }));
    let good = msg(MsgType::READ, 2, b"x");
    assert_eq!(
        r.push(&good).err(),
        Some(ReadError::LenTooLarge { len: 4097 })
    );
    assert_eq!(r.finish(), Err(ReadError::LenTooLarge { len: 4097 }));
    r.reset();
    assert_eq!(push_all(&mut r, &good).unwrap(), [(2, b"x".to_vec())]);
}

#[test]
fn truncation_is_reported_at_finish() {
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    let bytes = msg(MsgType::READ, 1, b"abcdef");
    push_all(&mut r, &bytes[..7]).unwrap();
    assert_eq!(r.finish(), Err(ReadError::Truncated { have: 7, need: 16 }));
    push_all(&mut r, &bytes[7..20]).unwrap();
    assert_eq!(r.finish(), Err(ReadError::Truncated { have: 20, need: 22 }));
}

#[test]
fn unknown_type_is_framed_not_refused() {
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    let mut bytes = msg(MsgType(1234), 1, b"??");
    bytes.extend(msg(MsgType::READ, 2, b"ok"));
    let got = push_all(&mut r, &bytes).unwrap();
    assert_eq!(got.len(), 2);
}

#[test]
fn fill_from_ring_leaves_next_message_in_ring() {
    let page = FakePage::at(u32::MAX - 10);
    let a = msg(MsgType::READ, 1, b"first");
    let b = msg(MsgType::READ, 2, b"second");
    page.daemon_put(&a);
    page.daemon_put(&b[..5]);
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    let m = r.fill_from(&page).unwrap().unwrap();
    assert_eq!((m.header.req_id, m.payload), (1, &b"first"[..]));
    assert_eq!(page.rsp_prod.get().wrapping_sub(page.rsp_cons.get()), 5);
    assert_eq!(r.fill_from(&page), Ok(None));
    page.daemon_put(&b[5..]);
    let m = r.fill_from(&page).unwrap().unwrap();
    assert_eq!((m.header.req_id, m.payload), (2, &b"second"[..]));
    assert_eq!(r.fill_from(&page), Ok(None));
}

#[test]
fn fill_from_bad_ring_breaks_the_stream() {
    let page = FakePage::with(0, 0, 0, 2000);
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    let e = ReadError::Ring(RingError {
        what: RSP,
        prod: 2000,
        cons: 0,
        size: 1024,
    });
    assert_eq!(r.fill_from(&page), Err(e));
    page.rsp_prod.set(0);
    assert_eq!(r.fill_from(&page), Err(e), "sticky");
    assert_eq!(r.push(b"x").err(), Some(e));
}
