//! Arbitrary peer index values and ring contents through the xenstore ring
//! transport (and the reassembler reading from it), with a fake page whose
//! slice indexing panics on any access outside a 1024-byte ring. Checks: no
//! panic, no out-of-range access, indexes move by exactly what was
//! reported, the bytes moved are the ring's bytes at the masked offsets,
//! and a misbehaving peer gets a `RingError` naming the queue, with nothing moved.
//!
//! Input: 16 bytes of initial indexes (req_cons, req_prod, rsp_cons,
//! rsp_prod), then ops; the peer's ops fill the reply ring. (Ops come right
//! after the indexes so short inputs already reach them.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cell::{Cell, RefCell};
use xp_core::xs::*;

const N: usize = XENSTORE_RING_SIZE;

struct Page {
    req: RefCell<[u8; N]>,
    rsp: RefCell<[u8; N]>,
    idx: [Cell<u32>; 4],
}

const REQ_CONS: usize = 0;
const REQ_PROD: usize = 1;
const RSP_CONS: usize = 2;
const RSP_PROD: usize = 3;

impl RingPage for Page {
    fn req_cons(&self) -> u32 {
        self.idx[REQ_CONS].get()
    }
    fn req_prod(&self) -> u32 {
        self.idx[REQ_PROD].get()
    }
    fn set_req_prod(&self, v: u32) {
        self.idx[REQ_PROD].set(v)
    }
    fn rsp_cons(&self) -> u32 {
        self.idx[RSP_CONS].get()
    }
    fn rsp_prod(&self) -> u32 {
        self.idx[RSP_PROD].get()
    }
    fn set_rsp_cons(&self, v: u32) {
        self.idx[RSP_CONS].set(v)
    }
    fn write_req(&self, offset: usize, bytes: &[u8]) {
        assert!(!bytes.is_empty(), "no empty copies");
        self.req.borrow_mut()[offset..offset + bytes.len()].copy_from_slice(bytes);
    }
    fn read_rsp(&self, offset: usize, out: &mut [u8]) {
        assert!(!out.is_empty(), "no empty copies");
        out.copy_from_slice(&self.rsp.borrow()[offset..offset + out.len()]);
    }
}

/// Reads input bytes in order, zeros once exhausted.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let (a, b) = self.0.split_at(n.min(self.0.len()));
        self.0 = b;
        a
    }
    fn u8(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }
    fn u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        let t = self.take(4);
        b[..t.len()].copy_from_slice(t);
        u32::from_le_bytes(b)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let idx = [inp.u32(), inp.u32(), inp.u32(), inp.u32()];
    let page = Page {
        req: RefCell::new([0; N]),
        rsp: RefCell::new([0; N]),
        idx: idx.map(Cell::new),
    };
    let mut buf = [0u8; MSG_MAX];
    let mut r = Reassembler::new(&mut buf);
    for _ in 0..64 {
        if inp.0.is_empty() {
            break;
        }
        match inp.u8() % 4 {
            0 => {
                let len = inp.u8() as usize * 9;
                check_write(&page, inp.take(len));
            }
            1 => check_read(&page, (inp.u8() as usize) * 9),
            2 => peer_moves(&page, &mut inp),
            _ => {
                let before = r.broken();
                match r.fill_from(&page) {
                    Ok(Some(m)) => assert!(m.payload.len() <= XENSTORE_PAYLOAD_MAX),
                    Ok(None) => {}
                    Err(e) => assert!(before.is_none() || before == Some(e)),
                }
            }
        }
    }
});

fn check_write(page: &Page, data: &[u8]) {
    let (cons, prod) = (page.req_cons(), page.req_prod());
    let used = prod.wrapping_sub(cons) as usize;
    match write_request(page, data) {
        Ok(n) => {
            assert!(used <= N && n <= data.len() && used + n <= N);
            assert!(n == data.len() || used + n == N, "writes all that fits");
            assert_eq!(page.req_prod(), prod.wrapping_add(n as u32));
            for (i, &b) in data[..n].iter().enumerate() {
                assert_eq!(
                    page.req.borrow()[mask_xenstore_idx(prod.wrapping_add(i as u32))],
                    b
                );
            }
        }
        Err(RingError {
            what,
            prod: p,
            cons: c,
            ..
        }) => {
            assert!(what == REQ && used > N && (p, c) == (prod, cons));
            assert_eq!(page.req_prod(), prod, "nothing moved");
        }
    }
}

fn check_read(page: &Page, len: usize) {
    let (cons, prod) = (page.rsp_cons(), page.rsp_prod());
    let avail = prod.wrapping_sub(cons) as usize;
    let mut out = vec![0u8; len];
    match read_available(page, &mut out) {
        Ok(n) => {
            assert!(avail <= N && n == len.min(avail));
            assert_eq!(page.rsp_cons(), cons.wrapping_add(n as u32));
            for (i, &b) in out[..n].iter().enumerate() {
                assert_eq!(
                    page.rsp.borrow()[mask_xenstore_idx(cons.wrapping_add(i as u32))],
                    b
                );
            }
        }
        Err(RingError {
            what,
            prod: p,
            cons: c,
            ..
        }) => {
            assert!(what == RSP && avail > N && (p, c) == (prod, cons));
            assert_eq!(page.rsp_cons(), cons, "nothing moved");
        }
    }
}

/// The peer sets any index to anything, or nudges it, or writes a run of
/// reply bytes anywhere (wrapping) and may publish them.
fn peer_moves(page: &Page, inp: &mut Input) {
    let which = inp.u8() as usize % 4;
    match inp.u8() % 4 {
        0 => page.idx[which].set(inp.u32()),
        1 => page.idx[which].set(page.idx[which].get().wrapping_add(inp.u8() as u32 * 5)),
        op => {
            let at = page.rsp_prod();
            let len = inp.u8() as usize * 5;
            let bytes = inp.take(len);
            for (i, &b) in bytes.iter().enumerate() {
                page.rsp.borrow_mut()[mask_xenstore_idx(at.wrapping_add(i as u32))] = b;
            }
            if op == 2 {
                page.idx[RSP_PROD].set(at.wrapping_add(bytes.len() as u32));
            }
        }
    }
}
