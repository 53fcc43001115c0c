use super::*;
use crate::xs::perm::{Perm, PermKind};

#[test]
fn type_values_match_xs_wire_h() {
    assert_eq!(MsgType::CONTROL.0, 0);
    assert_eq!(MsgType::DEBUG, MsgType::CONTROL);
    assert_eq!(MsgType::WATCH_EVENT.0, 15);
    assert_eq!(MsgType::ERROR.0, 16);
    assert_eq!(MsgType::SET_TARGET.0, 19);
    assert_eq!(MsgType::RESET_WATCHES.0, 21);
    assert_eq!(MsgType::DIRECTORY_PART.0, 22);
    assert_eq!(MsgType::SET_QUOTA.0, 26);
    assert_eq!(MsgType::INVALID.0, 0xffff);
}

#[test]
fn names_cover_0_to_26_except_20() {
    for v in 0..=26u32 {
        assert_eq!(MsgType(v).is_known(), v != 20, "{v}");
    }
    assert_eq!(MsgType::READ.name(), Some("READ"));
    assert_eq!(MsgType::GET_QUOTA.name(), Some("GET_QUOTA"));
    assert_eq!(MsgType(20).name(), None);
    assert_eq!(MsgType(27).name(), None);
    assert_eq!(MsgType(u32::MAX).name(), None);
    assert_eq!(MsgType::INVALID.name(), None);
    assert_eq!(format!("{:?}", MsgType::WRITE), "WRITE");
    assert_eq!(format!("{:?}", MsgType(20)), "MsgType(20)");
}

#[test]
fn header_is_four_le_u32() {
    let h = Header {
        ty: MsgType::WRITE,
        req_id: 0x0102_0304,
        tx_id: 7,
        len: 4096,
    };
    let b = h.to_bytes();
    assert_eq!(&b[..4], &[11, 0, 0, 0]);
    assert_eq!(&b[4..8], &[4, 3, 2, 1]);
    assert_eq!(&b[12..], &[0, 16, 0, 0]);
    assert_eq!(Header::from_bytes(&b), h);
    assert_eq!(Header::decode(&b), Ok(h));
}

#[test]
fn header_decode_refuses_len_over_4096() {
    let b = Header {
        ty: MsgType::READ,
        req_id: 1,
        tx_id: 0,
        len: 4097,
    }
    .to_bytes();
    assert_eq!(
        Header::decode(&b),
        Err(DecodeError::LenTooLarge { len: 4097 })
    );
    let b = Header {
        ty: MsgType::READ,
        req_id: 1,
        tx_id: 0,
        len: u32::MAX,
    }
    .to_bytes();
    assert_eq!(
        Header::decode(&b),
        Err(DecodeError::LenTooLarge { len: u32::MAX })
    );
}

#[test]
fn header_decode_accepts_unknown_type() {
    let h = Header {
        ty: MsgType(99),
        req_id: 1,
        tx_id: 0,
        len: 0,
    };
    assert_eq!(Header::decode(&h.to_bytes()), Ok(h));
}

#[test]
fn message_parse_frames_and_reports() {
    let mut buf = [0u8; 64];
    let n = encode(MsgType::READ, 9, 0, &[Part::Str(b"/a")], &mut buf).unwrap();
    let (m, used) = Message::parse(&buf[..n + 5]).unwrap();
    assert_eq!(used, n);
    assert_eq!(m.header.req_id, 9);
    assert_eq!(m.payload, b"/a\0");
    assert_eq!(m.known_type(), Ok(MsgType::READ));
    let trunc = Message::parse(&buf[..n - 1]);
    assert_eq!(
        trunc,
        Err(DecodeError::Truncated {
            need: n,
            have: n - 1
        })
    );
    assert_eq!(
        Message::parse(&buf[..3]),
        Err(DecodeError::Truncated { need: 16, have: 3 })
    );
    let h = Header {
        ty: MsgType(20),
        req_id: 1,
        tx_id: 0,
        len: 0,
    }
    .to_bytes();
    let (m, _) = Message::parse(&h).unwrap();
    assert_eq!(m.known_type(), Err(DecodeError::UnknownType { ty: 20 }));
}

#[test]
fn encode_writes_header_and_parts() {
    let mut buf = [0xEEu8; 64];
    let parts = [Part::Str(b"/p"), Part::Bytes(b"v1"), Part::Num(42)];
    let n = encode(MsgType::WRITE, 3, 5, &parts, &mut buf).unwrap();
    assert_eq!(n, 16 + 3 + 2 + 3);
    let h = Header::from_bytes(buf[..16].try_into().unwrap());
    assert_eq!(
        h,
        Header {
            ty: MsgType::WRITE,
            req_id: 3,
            tx_id: 5,
            len: 8
        }
    );
    assert_eq!(&buf[16..n], b"/p\0v142\0");
    assert_eq!(buf[n], 0xEE, "nothing written past the message");
}

#[test]
fn encode_perms_and_strs() {
    let mut buf = [0u8; 64];
    let perms = [Perm::new(PermKind::Both, 0), Perm::new(PermKind::Read, 12)];
    let n = encode(MsgType::SET_PERMS, 1, 0, &[Part::Perms(&perms)], &mut buf).unwrap();
    assert_eq!(&buf[16..n], b"b0\0r12\0");
    let args: [&[u8]; 2] = [b"log", b"on"];
    let n = encode(MsgType::CONTROL, 1, 0, &[Part::Strs(&args)], &mut buf).unwrap();
    assert_eq!(&buf[16..n], b"log\0on\0");
}

#[test]
fn encode_refuses_oversize_payload_before_writing() {
    let big = [b'x'; XENSTORE_PAYLOAD_MAX];
    let mut buf = [0xEEu8; MSG_MAX + 8];
    let ok = encode(MsgType::WRITE, 1, 0, &[Part::Bytes(&big)], &mut buf);
    assert_eq!(ok, Ok(MSG_MAX));
    let mut buf = [0xEEu8; MSG_MAX + 8];
    let e = encode(
        MsgType::WRITE,
        1,
        0,
        &[Part::Str(b""), Part::Bytes(&big)],
        &mut buf,
    );
    assert_eq!(
        e,
        Err(EncodeError::PayloadTooLong {
            len: XENSTORE_PAYLOAD_MAX + 1
        })
    );
    assert!(buf.iter().all(|&b| b == 0xEE));
}

#[test]
fn encode_refuses_small_buffer_and_nuls() {
    let mut buf = [0xEEu8; 18];
    let e = encode(MsgType::READ, 1, 0, &[Part::Str(b"/ab")], &mut buf);
    assert_eq!(e, Err(EncodeError::BufferTooSmall { need: 20, have: 18 }));
    assert!(buf.iter().all(|&b| b == 0xEE));
    let e = encode(
        MsgType::READ,
        1,
        0,
        &[Part::Num(1), Part::Str(b"a\0b")],
        &mut buf,
    );
    assert_eq!(e, Err(EncodeError::EmbeddedNul { part: 1 }));
    let s: [&[u8]; 2] = [b"ok", b"\0"];
    let e = encode(MsgType::CONTROL, 1, 0, &[Part::Strs(&s)], &mut buf);
    assert_eq!(e, Err(EncodeError::EmbeddedNul { part: 0 }));
    // Binary values may hold NULs.
    assert!(payload_len(&[Part::Bytes(b"\0\0")]).is_ok());
}

#[test]
fn part_lengths() {
    assert_eq!(Part::Num(0).len(), 2);
    assert_eq!(Part::Num(u64::MAX).len(), 21);
    assert!(Part::Bytes(b"").is_empty());
    assert!(!Part::Str(b"").is_empty());
    let p = [Perm::new(PermKind::None, 65535)];
    assert_eq!(Part::Perms(&p).len(), 7);
}

#[test]
fn decimal_formatting() {
    let mut d = [0u8; 20];
    assert_eq!(fmt_dec(0, &mut d), b"0");
    assert_eq!(fmt_dec(1234567890, &mut d), b"1234567890");
    assert_eq!(fmt_dec(u64::MAX, &mut d), b"18446744073709551615");
    for n in [0, 9, 10, 99, 100, u64::MAX] {
        assert_eq!(dec_len(n), fmt_dec(n, &mut d).len(), "{n}");
    }
}
