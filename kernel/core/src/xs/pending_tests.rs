use super::*;

fn hdr(ty: MsgType, req_id: u32, tx_id: u32) -> Header {
    Header {
        ty,
        req_id,
        tx_id,
        len: 0,
    }
}

#[test]
fn ids_are_fresh_and_never_zero() {
    let mut p = Pending::<4>::new();
    let a = p.start(MsgType::READ, 0, 10).unwrap();
    let b = p.start(MsgType::WRITE, 3, 11).unwrap();
    assert_ne!(a, 0);
    assert_ne!(a, b);
    assert_eq!(p.len(), 2);
    assert_eq!(
        p.get(b).map(|r| (r.ty, r.tx_id, r.tag)),
        Some((MsgType::WRITE, 3, 11))
    );
}

#[test]
fn ids_wrap_past_zero_and_skip_in_flight() {
    let mut p = Pending::<3>::new();
    p.next_id = u32::MAX;
    let a = p.start(MsgType::READ, 0, 0).unwrap();
    let b = p.start(MsgType::READ, 0, 0).unwrap();
    assert_eq!((a, b), (u32::MAX, 1));
    p.next_id = u32::MAX;
    let c = p.start(MsgType::READ, 0, 0).unwrap();
    assert_eq!(c, 2, "skips u32::MAX and 1 (in flight) and 0");
}

#[test]
fn full_table_is_an_error() {
    let mut p = Pending::<2>::new();
    p.start(MsgType::READ, 0, 0).unwrap();
    let id = p.start(MsgType::READ, 0, 0).unwrap();
    assert_eq!(p.len(), p.capacity());
    assert_eq!(p.start(MsgType::READ, 0, 0), Err(TableFull { capacity: 2 }));
    assert!(p.cancel(id).is_some());
    assert!(p.start(MsgType::READ, 0, 0).is_ok());
}

#[test]
fn replies_match_out_of_order() {
    let mut p = Pending::<8>::new();
    let a = p.start(MsgType::READ, 0, 1).unwrap();
    let b = p.start(MsgType::WRITE, 0, 2).unwrap();
    let c = p.start(MsgType::MKDIR, 0, 3).unwrap();
    let Ok(Route::Reply(r)) = p.route(&hdr(MsgType::MKDIR, c, 0)) else {
        panic!()
    };
    assert_eq!((r.req_id, r.tag), (c, 3));
    let Ok(Route::Error(r)) = p.route(&hdr(MsgType::ERROR, a, 0)) else {
        panic!()
    };
    assert_eq!((r.req_id, r.ty), (a, MsgType::READ));
    let Ok(Route::Reply(r)) = p.route(&hdr(MsgType::WRITE, b, 0)) else {
        panic!()
    };
    assert_eq!(r.tag, 2);
    assert!(p.is_empty());
}

#[test]
fn unknown_req_id_names_it() {
    let mut p = Pending::<4>::new();
    let a = p.start(MsgType::READ, 0, 0).unwrap();
    let e = RouteError::UnknownReqId {
        req_id: 999,
        ty: MsgType::READ,
    };
    assert_eq!(p.route(&hdr(MsgType::READ, 999, 0)), Err(e));
    assert!(p.route(&hdr(MsgType::READ, a, 0)).is_ok());
    // A second reply to the same id is now unknown.
    let e = RouteError::UnknownReqId {
        req_id: a,
        ty: MsgType::READ,
    };
    assert_eq!(p.route(&hdr(MsgType::READ, a, 0)), Err(e));
    let e = RouteError::UnknownReqId {
        req_id: 0,
        ty: MsgType::ERROR,
    };
    assert_eq!(p.route(&hdr(MsgType::ERROR, 0, 0)), Err(e));
}

#[test]
fn unknown_and_mismatched_types_complete_the_request() {
    let mut p = Pending::<4>::new();
    let a = p.start(MsgType::READ, 0, 5).unwrap();
    let request = *p.get(a).unwrap();
    let e = RouteError::UnknownType { ty: 20, request };
    assert_eq!(p.route(&hdr(MsgType(20), a, 0)), Err(e));
    assert!(p.is_empty());
    let b = p.start(MsgType::READ, 0, 6).unwrap();
    let request = *p.get(b).unwrap();
    let e = RouteError::TypeMismatch {
        got: MsgType::WRITE,
        request,
    };
    assert_eq!(p.route(&hdr(MsgType::WRITE, b, 0)), Err(e));
    assert!(p.is_empty());
}

#[test]
fn watch_events_route_apart() {
    let mut p = Pending::<4>::new();
    let a = p.start(MsgType::WATCH, 0, 0).unwrap();
    assert_eq!(
        p.route(&hdr(MsgType::WATCH_EVENT, 0, 0)),
        Ok(Route::WatchEvent)
    );
    assert_eq!(p.len(), 1, "the WATCH request still waits for its reply");
    let e = RouteError::WatchEventIds {
        req_id: a,
        tx_id: 0,
    };
    assert_eq!(p.route(&hdr(MsgType::WATCH_EVENT, a, 0)), Err(e));
    let e = RouteError::WatchEventIds {
        req_id: 0,
        tx_id: 4,
    };
    assert_eq!(p.route(&hdr(MsgType::WATCH_EVENT, 0, 4)), Err(e));
    assert!(matches!(
        p.route(&hdr(MsgType::WATCH, a, 0)),
        Ok(Route::Reply(_))
    ));
}

#[test]
fn cancel_clear_and_iter() {
    let mut p = Pending::<4>::default();
    assert_eq!(p.capacity(), 4);
    let a = p.start(MsgType::READ, 0, 0).unwrap();
    p.start(MsgType::READ, 0, 0).unwrap();
    assert_eq!(p.iter().count(), 2);
    assert_eq!(p.cancel(a).map(|r| r.req_id), Some(a));
    assert_eq!(p.cancel(a), None);
    p.clear();
    assert!(p.is_empty());
}
