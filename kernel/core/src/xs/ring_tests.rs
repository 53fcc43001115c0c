use super::*;
use crate::xs::testutil::FakePage;

#[test]
fn mask_keeps_low_ten_bits() {
    assert_eq!(mask_xenstore_idx(0), 0);
    assert_eq!(mask_xenstore_idx(1023), 1023);
    assert_eq!(mask_xenstore_idx(1024), 0);
    assert_eq!(mask_xenstore_idx(u32::MAX), 1023);
}

#[test]
fn in_flight_checks_wrapping_distance() {
    assert_eq!(in_flight(REQ, 5, 5), Ok(0));
    assert_eq!(in_flight(REQ, 1024, 0), Ok(1024));
    assert_eq!(in_flight(RSP, 3, u32::MAX - 2), Ok(6));
    let e = RingError {
        what: RSP,
        prod: 1025,
        cons: 0,
        size: 1024,
    };
    assert_eq!(in_flight(RSP, 1025, 0), Err(e));
    // prod behind cons is a huge wrapping distance: out of range too.
    let e = RingError {
        what: REQ,
        prod: 0,
        cons: 1,
        size: 1024,
    };
    assert_eq!(in_flight(REQ, 0, 1), Err(e));
}

#[test]
fn write_then_daemon_reads_same_bytes() {
    let page = FakePage::at(0);
    assert_eq!(write_request(&page, b"hello"), Ok(5));
    assert_eq!(page.req_prod.get(), 5);
    assert_eq!(page.daemon_take(100), b"hello");
    assert_eq!(req_space(&page), Ok(1024));
}

#[test]
fn write_is_partial_when_full_and_touches_nothing_at_zero() {
    let page = FakePage::at(10);
    let data = [7u8; 1500];
    assert_eq!(write_request(&page, &data), Ok(1024));
    assert_eq!(req_space(&page), Ok(0));
    let writes = page.index_writes.get();
    assert_eq!(write_request(&page, &data), Ok(0));
    assert_eq!(write_request(&page, b""), Ok(0));
    assert_eq!(
        page.index_writes.get(),
        writes,
        "no index store when nothing moved"
    );
    page.daemon_take(100);
    assert_eq!(write_request(&page, &data), Ok(100));
}

#[test]
fn write_wraps_buffer_and_index() {
    let start = u32::MAX - 2;
    let page = FakePage::at(start);
    page.req_cons.set(start - 1000);
    page.req_prod.set(start);
    // 24 bytes free; buffer offset of `start` is 1021: wraps after 3 bytes.
    let data: Vec<u8> = (0..30).collect();
    assert_eq!(write_request(&page, &data), Ok(24));
    assert_eq!(page.req_prod.get(), start.wrapping_add(24));
    assert_eq!(&page.req.borrow()[1021..], &data[..3]);
    assert_eq!(&page.req.borrow()[..21], &data[3..24]);
}

#[test]
fn read_wraps_and_releases() {
    let page = FakePage::at(u32::MAX - 4);
    let data: Vec<u8> = (100..120).collect();
    assert_eq!(page.daemon_put(&data), 20);
    assert_eq!(rsp_available(&page), Ok(20));
    let mut out = [0u8; 8];
    assert_eq!(read_available(&page, &mut out), Ok(8));
    assert_eq!(out, data[..8]);
    let mut out = [0u8; 64];
    assert_eq!(read_available(&page, &mut out), Ok(12));
    assert_eq!(&out[..12], &data[8..]);
    assert_eq!(page.rsp_cons.get(), page.rsp_prod.get());
    let writes = page.index_writes.get();
    assert_eq!(read_available(&page, &mut out), Ok(0));
    assert_eq!(read_available(&page, &mut []), Ok(0));
    assert_eq!(page.index_writes.get(), writes);
}

#[test]
fn full_reply_ring_reads_all_1024() {
    let page = FakePage::at(500);
    let data: Vec<u8> = (0..1024u32).map(|i| i as u8).collect();
    assert_eq!(page.daemon_put(&data), 1024);
    let mut out = [0u8; 2048];
    assert_eq!(read_available(&page, &mut out), Ok(1024));
    assert_eq!(&out[..1024], &data[..]);
}

#[test]
fn misbehaving_req_indexes_are_refused() {
    let page = FakePage::with(0, 1025, 0, 0);
    let e = RingError {
        what: REQ,
        prod: 1025,
        cons: 0,
        size: 1024,
    };
    assert_eq!(write_request(&page, b"x"), Err(e));
    assert_eq!(req_space(&page), Err(e));
    assert_eq!(page.index_writes.get(), 0);
    assert_eq!(page.req_prod.get(), 1025);
    // The daemon claims to have consumed more than was produced.
    let page = FakePage::with(100, 50, 0, 0);
    let e = RingError {
        what: REQ,
        prod: 50,
        cons: 100,
        size: 1024,
    };
    assert_eq!(write_request(&page, b"x"), Err(e));
}

#[test]
fn misbehaving_rsp_indexes_are_refused() {
    let page = FakePage::with(0, 0, 7, 7 + 1025);
    let e = RingError {
        what: RSP,
        prod: 7 + 1025,
        cons: 7,
        size: 1024,
    };
    let mut out = [0u8; 16];
    assert_eq!(read_available(&page, &mut out), Err(e));
    assert_eq!(rsp_available(&page), Err(e));
    assert_eq!(page.index_writes.get(), 0);
    let page = FakePage::with(0, 0, u32::MAX, 0x7fff_ffff);
    assert!(read_available(&page, &mut out).is_err());
}

#[test]
fn store_page_uses_the_xs_wire_layout() {
    use crate::shmem::{fake::CellPage, SharedMem};
    let page = StorePage(CellPage::default());
    page.0.store32(crate::xen::xenstore::REQ_CONS, 1020);
    page.0.store32(crate::xen::xenstore::REQ_PROD, 1020);
    assert_eq!(write_request(&page, b"abcdefgh"), Ok(8));
    assert_eq!(page.0.load32(crate::xen::xenstore::REQ_PROD), 1028);
    assert_eq!(
        (page.0.load8(1023), page.0.load8(0), page.0.load8(3)),
        (b'd', b'e', b'h')
    );
    page.0.write(1024 + 5, b"xyz");
    page.0.store32(crate::xen::xenstore::RSP_CONS, 5);
    page.0.store32(crate::xen::xenstore::RSP_PROD, 8);
    let mut out = [0u8; 8];
    assert_eq!(read_available(&page, &mut out), Ok(3));
    assert_eq!(&out[..3], b"xyz");
    assert_eq!(page.0.load32(crate::xen::xenstore::RSP_CONS), 8);
    page.0.store32(crate::xen::xenstore::SERVER_FEATURES, 1);
    page.0.store32(crate::xen::xenstore::ERROR, 3);
    assert_eq!(
        (page.server_features(), page.connection(), page.error()),
        (1, 0, 3)
    );
}
