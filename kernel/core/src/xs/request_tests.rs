use super::*;
use crate::xs::path::PathError;
use crate::xs::perm::PermKind;
use crate::xs::wire::{Header, HEADER_LEN, MSG_MAX, XENSTORE_PAYLOAD_MAX};

/// Encodes `r` and returns (header, payload).
fn enc(r: Request, req_id: u32, tx_id: u32) -> (Header, Vec<u8>) {
    let mut buf = [0u8; MSG_MAX];
    let n = r.encode(req_id, tx_id, &mut buf).unwrap();
    let h = Header::from_bytes(buf[..HEADER_LEN].try_into().unwrap());
    assert_eq!(h.len as usize, n - HEADER_LEN);
    assert_eq!(h.ty, r.msg_type());
    (h, buf[HEADER_LEN..n].to_vec())
}

fn payload(r: Request) -> Vec<u8> {
    enc(r, 1, 0).1
}

#[test]
fn header_carries_ids() {
    let (h, _) = enc(Request::Read { path: b"/a" }, 77, 5);
    assert_eq!((h.ty, h.req_id, h.tx_id), (MsgType::READ, 77, 5));
}

#[test]
fn path_only_requests() {
    assert_eq!(payload(Request::Read { path: b"/a/b" }), b"/a/b\0");
    assert_eq!(payload(Request::Directory { path: b"/" }), b"/\0");
    assert_eq!(payload(Request::GetPerms { path: b"x" }), b"x\0");
    assert_eq!(payload(Request::Mkdir { path: b"/m" }), b"/m\0");
    assert_eq!(payload(Request::Rm { path: b"/r" }), b"/r\0");
}

#[test]
fn write_has_no_nul_after_value() {
    assert_eq!(
        payload(Request::Write {
            path: b"/a",
            value: b"v\0x"
        }),
        b"/a\0v\0x"
    );
    assert_eq!(
        payload(Request::Write {
            path: b"/a",
            value: b""
        }),
        b"/a\0"
    );
}

#[test]
fn watch_and_unwatch() {
    assert_eq!(
        payload(Request::Watch {
            path: b"/w",
            token: b"t1"
        }),
        b"/w\0t1\0"
    );
    let r = Request::Unwatch {
        path: b"@releaseDomain",
        token: b"t",
    };
    assert_eq!(payload(r), b"@releaseDomain\0t\0");
}

#[test]
fn transactions_and_resets() {
    assert_eq!(payload(Request::TransactionStart), b"\0");
    assert_eq!(payload(Request::TransactionEnd { commit: true }), b"T\0");
    assert_eq!(payload(Request::TransactionEnd { commit: false }), b"F\0");
    assert_eq!(payload(Request::ResetWatches), b"\0");
}

#[test]
fn directory_part_and_perms() {
    assert_eq!(
        payload(Request::DirectoryPart {
            path: b"/d",
            offset: 4000
        }),
        b"/d\x004000\0"
    );
    let perms = [Perm::new(PermKind::Both, 1), Perm::new(PermKind::Read, 0)];
    assert_eq!(
        payload(Request::SetPerms {
            path: b"/p",
            perms: &perms
        }),
        b"/p\0b1\0r0\0"
    );
}

#[test]
fn domain_requests() {
    assert_eq!(payload(Request::GetDomainPath { domid: 7 }), b"7\0");
    assert_eq!(payload(Request::IsDomainIntroduced { domid: 0 }), b"0\0");
    assert_eq!(payload(Request::Release { domid: 3 }), b"3\0");
    assert_eq!(payload(Request::Resume { domid: 65535 }), b"65535\0");
    assert_eq!(
        payload(Request::SetTarget {
            domid: 1,
            target: 2
        }),
        b"1\x002\0"
    );
    let r = Request::Introduce {
        domid: 5,
        mfn: 123456,
        evtchn: 9,
    };
    assert_eq!(payload(r), b"5\x00123456\x009\0");
}

#[test]
fn control_features_and_quotas() {
    let args: [&[u8]; 2] = [b"log", b"on"];
    assert_eq!(payload(Request::Control { args: &args }), b"log\0on\0");
    assert_eq!(payload(Request::GetFeature { domid: None }), b"");
    assert_eq!(payload(Request::GetFeature { domid: Some(4) }), b"4\0");
    assert_eq!(
        payload(Request::SetFeature { domid: 4, value: 1 }),
        b"4\x001\0"
    );
    assert_eq!(payload(Request::GetQuotaNames), b"");
    assert_eq!(
        payload(Request::GetQuota {
            domid: None,
            quota: b"nodes"
        }),
        b"nodes\0"
    );
    let r = Request::GetQuota {
        domid: Some(2),
        quota: b"nodes",
    };
    assert_eq!(payload(r), b"2\0nodes\0");
    let r = Request::SetQuota {
        domid: None,
        quota: b"watches",
        value: 9,
    };
    assert_eq!(payload(r), b"watches\x009\0");
    let r = Request::SetQuota {
        domid: Some(1),
        quota: b"watches",
        value: 9,
    };
    assert_eq!(payload(r), b"1\0watches\x009\0");
}

#[test]
fn invalid_paths_are_refused_before_writing() {
    let mut buf = [0xEEu8; 64];
    let e = Request::Read { path: b"/a//b" }.encode(1, 0, &mut buf);
    assert_eq!(e, Err(EncodeError::Path(PathError::DoubleSlash { at: 2 })));
    let e = Request::Write {
        path: b"",
        value: b"v",
    }
    .encode(1, 0, &mut buf);
    assert_eq!(e, Err(EncodeError::Path(PathError::Empty)));
    let e = Request::Watch {
        path: b"/a b",
        token: b"t",
    }
    .encode(1, 0, &mut buf);
    assert_eq!(
        e,
        Err(EncodeError::Path(PathError::BadChar { at: 2, byte: b' ' }))
    );
    // '@' paths are for watches only in spirit, but '@' is a path byte.
    assert!(Request::Read { path: b"@x y" }
        .encode(1, 0, &mut buf)
        .is_err());
    assert!(buf.iter().all(|&b| b == 0xEE));
}

#[test]
fn other_refusals() {
    let mut buf = [0u8; MSG_MAX];
    let e = Request::SetPerms {
        path: b"/p",
        perms: &[],
    }
    .encode(1, 0, &mut buf);
    assert_eq!(e, Err(EncodeError::NoPerms));
    let e = Request::Watch {
        path: b"/p",
        token: b"a\0b",
    }
    .encode(1, 0, &mut buf);
    assert_eq!(e, Err(EncodeError::EmbeddedNul { part: 1 }));
    let value = [b'v'; XENSTORE_PAYLOAD_MAX];
    let e = Request::Write {
        path: b"/p",
        value: &value,
    }
    .encode(1, 0, &mut buf);
    assert_eq!(
        e,
        Err(EncodeError::PayloadTooLong {
            len: XENSTORE_PAYLOAD_MAX + 3
        })
    );
    let e = Request::Read { path: b"/p" }.encode(1, 0, &mut buf[..18]);
    assert_eq!(e, Err(EncodeError::BufferTooSmall { need: 19, have: 18 }));
}

#[test]
fn every_variant_has_its_type() {
    let perms = [Perm::new(PermKind::Both, 0)];
    let cases: [(Request, MsgType); 6] = [
        (Request::Control { args: &[] }, MsgType::CONTROL),
        (
            Request::SetPerms {
                path: b"/",
                perms: &perms,
            },
            MsgType::SET_PERMS,
        ),
        (Request::GetQuotaNames, MsgType::GET_QUOTA),
        (
            Request::SetQuota {
                domid: None,
                quota: b"q",
                value: 0,
            },
            MsgType::SET_QUOTA,
        ),
        (Request::ResetWatches, MsgType::RESET_WATCHES),
        (
            Request::DirectoryPart {
                path: b"/",
                offset: 0,
            },
            MsgType::DIRECTORY_PART,
        ),
    ];
    for (r, t) in cases {
        assert_eq!(r.msg_type(), t);
        assert_eq!(enc(r, 1, 0).0.ty, t);
    }
}
