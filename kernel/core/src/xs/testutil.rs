//! A fake ring page and a fake daemon end for tests. Slice indexing panics
//! on any access outside a 1024-byte ring, so a test passing also shows the
//! ring code stayed in bounds.

use super::ring::{RingPage, XENSTORE_RING_SIZE};
use std::cell::{Cell, RefCell};

pub struct FakePage {
    pub req: RefCell<[u8; XENSTORE_RING_SIZE]>,
    pub rsp: RefCell<[u8; XENSTORE_RING_SIZE]>,
    pub req_cons: Cell<u32>,
    pub req_prod: Cell<u32>,
    pub rsp_cons: Cell<u32>,
    pub rsp_prod: Cell<u32>,
    /// Index stores made by the code under test, for "no index moved".
    pub index_writes: Cell<usize>,
}

impl FakePage {
    /// Both rings empty, all indexes at `start`.
    pub fn at(start: u32) -> Self {
        Self::with(start, start, start, start)
    }

    pub fn with(req_cons: u32, req_prod: u32, rsp_cons: u32, rsp_prod: u32) -> Self {
        Self {
            req: RefCell::new([0xAA; XENSTORE_RING_SIZE]),
            rsp: RefCell::new([0x55; XENSTORE_RING_SIZE]),
            req_cons: Cell::new(req_cons),
            req_prod: Cell::new(req_prod),
            rsp_cons: Cell::new(rsp_cons),
            rsp_prod: Cell::new(rsp_prod),
            index_writes: Cell::new(0),
        }
    }

    /// The daemon consumes up to `max` request bytes.
    pub fn daemon_take(&self, max: usize) -> Vec<u8> {
        let avail = self.req_prod.get().wrapping_sub(self.req_cons.get()) as usize;
        let n = avail.min(max);
        let out = (0..n)
            .map(|i| {
                let idx = self.req_cons.get().wrapping_add(i as u32);
                self.req.borrow()[idx as usize % XENSTORE_RING_SIZE]
            })
            .collect();
        self.req_cons
            .set(self.req_cons.get().wrapping_add(n as u32));
        out
    }

    /// The daemon produces as much of `bytes` as fits; returns how much.
    pub fn daemon_put(&self, bytes: &[u8]) -> usize {
        let used = self.rsp_prod.get().wrapping_sub(self.rsp_cons.get()) as usize;
        let n = bytes.len().min(XENSTORE_RING_SIZE - used);
        for (i, &b) in bytes[..n].iter().enumerate() {
            let idx = self.rsp_prod.get().wrapping_add(i as u32);
            self.rsp.borrow_mut()[idx as usize % XENSTORE_RING_SIZE] = b;
        }
        self.rsp_prod
            .set(self.rsp_prod.get().wrapping_add(n as u32));
        n
    }

    fn bump(&self) {
        self.index_writes.set(self.index_writes.get() + 1);
    }
}

impl RingPage for FakePage {
    fn req_cons(&self) -> u32 {
        self.req_cons.get()
    }
    fn req_prod(&self) -> u32 {
        self.req_prod.get()
    }
    fn set_req_prod(&self, v: u32) {
        self.bump();
        self.req_prod.set(v)
    }
    fn rsp_cons(&self) -> u32 {
        self.rsp_cons.get()
    }
    fn rsp_prod(&self) -> u32 {
        self.rsp_prod.get()
    }
    fn set_rsp_cons(&self, v: u32) {
        self.bump();
        self.rsp_cons.set(v)
    }
    fn write_req(&self, offset: usize, bytes: &[u8]) {
        self.req.borrow_mut()[offset..offset + bytes.len()].copy_from_slice(bytes);
    }
    fn read_rsp(&self, offset: usize, out: &mut [u8]) {
        out.copy_from_slice(&self.rsp.borrow()[offset..offset + out.len()]);
    }
}
