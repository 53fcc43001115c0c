use super::*;
use crate::xs::perm::PermKind;

#[test]
fn ok_is_exact() {
    assert_eq!(expect_ok(b"OK\0"), Ok(()));
    for p in [&b"OK"[..], b"OK\0\0", b"ok\0", b""] {
        assert_eq!(expect_ok(p), Err(DecodeError::NotOk), "{p:?}");
    }
}

#[test]
fn single_strings() {
    assert_eq!(
        single_string(b"/local/domain/3\0"),
        Ok(&b"/local/domain/3"[..])
    );
    assert_eq!(single_string(b"\0"), Ok(&b""[..]));
    assert_eq!(single_string(b"abc"), Err(DecodeError::MissingNul));
    assert_eq!(single_string(b""), Err(DecodeError::MissingNul));
    assert_eq!(
        single_string(b"a\0b\0"),
        Err(DecodeError::TrailingData { at: 2 })
    );
}

#[test]
fn numbers_and_bools() {
    assert_eq!(parse_u32(b"42\0"), Ok(42));
    assert_eq!(parse_u32(b"4294967295\0"), Ok(u32::MAX));
    assert_eq!(parse_u32(b"4294967296\0"), Err(DecodeError::BadNumber));
    assert_eq!(parse_u32(b"-1\0"), Err(DecodeError::BadNumber));
    assert_eq!(parse_u32(b"\0"), Err(DecodeError::BadNumber));
    assert_eq!(parse_u32(b"7"), Err(DecodeError::MissingNul));
    assert_eq!(parse_bool(b"T\0"), Ok(true));
    assert_eq!(parse_bool(b"F\0"), Ok(false));
    assert_eq!(parse_bool(b"t\0"), Err(DecodeError::BadBool));
    assert_eq!(parse_bool(b"TT\0"), Err(DecodeError::BadBool));
}

#[test]
fn nul_lists() {
    let l: Vec<&[u8]> = nul_list(b"a\0bc\0\0d\0").unwrap().collect();
    assert_eq!(l, [&b"a"[..], b"bc", b"", b"d"]);
    assert_eq!(nul_list(b"").unwrap().count(), 0);
    assert_eq!(nul_list(b"\0").unwrap().collect::<Vec<_>>(), [&b""[..]]);
    assert_eq!(nul_list(b"a\0b"), Err(DecodeError::MissingNul));
}

#[test]
fn dir_part_middle_and_end() {
    let p = dir_part(b"17\0a\0b\0").unwrap();
    assert_eq!(p.generation, 17);
    assert!(!p.complete);
    assert_eq!(p.children.collect::<Vec<_>>(), [&b"a"[..], b"b"]);
    let p = dir_part(b"17\0c\0\0").unwrap();
    assert!(p.complete);
    assert_eq!(p.children.collect::<Vec<_>>(), [&b"c"[..]]);
    // Offset at or past the end: C xenstored sends "gen\0\0".
    let p = dir_part(b"18446744073709551615\0\0").unwrap();
    assert_eq!(p.generation, u64::MAX);
    assert!(p.complete);
    assert_eq!(p.children.count(), 0);
    let p = dir_part(b"5\0").unwrap();
    assert!(!p.complete);
    assert_eq!(p.children.count(), 0);
}

#[test]
fn dir_part_errors() {
    assert_eq!(dir_part(b""), Err(DecodeError::Empty));
    assert_eq!(dir_part(b"x\0a\0"), Err(DecodeError::BadNumber));
    assert_eq!(dir_part(b"\0a\0"), Err(DecodeError::BadNumber));
    assert_eq!(dir_part(b"1\0a"), Err(DecodeError::MissingNul));
    assert_eq!(dir_part(b"1"), Err(DecodeError::MissingNul));
}

#[test]
fn watch_events() {
    let e = watch_event(b"/a/b\0tok\0").unwrap();
    assert_eq!((e.path, e.token), (&b"/a/b"[..], &b"tok"[..]));
    let e = watch_event(b"x\0\0").unwrap();
    assert_eq!((e.path, e.token), (&b"x"[..], &b""[..]));
    assert_eq!(watch_event(b"/a\0"), Err(DecodeError::Empty));
    assert_eq!(watch_event(b""), Err(DecodeError::Empty));
    assert_eq!(watch_event(b"/a\0t"), Err(DecodeError::MissingNul));
    assert_eq!(
        watch_event(b"/a\0t\0x\0"),
        Err(DecodeError::TrailingData { at: 5 })
    );
}

#[test]
fn perm_lists() {
    let l: Vec<Perm> = PermList::parse(b"b0\0r5\0n3\0w1\0").unwrap().collect();
    let want = [
        Perm::new(PermKind::Both, 0),
        Perm::new(PermKind::Read, 5),
        Perm::new(PermKind::None, 3),
        Perm::new(PermKind::Write, 1),
    ];
    assert_eq!(l, want);
    assert_eq!(PermList::parse(b""), Err(DecodeError::Empty));
    assert_eq!(PermList::parse(b"b0\0x1\0"), Err(DecodeError::BadPerm));
    assert_eq!(PermList::parse(b"b0\0\0"), Err(DecodeError::BadPerm));
    assert_eq!(PermList::parse(b"b0"), Err(DecodeError::MissingNul));
}
