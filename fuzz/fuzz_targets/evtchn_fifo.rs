//! A hostile Xen against the guest side of the FIFO event-channel ABI, through
//! exactly what the kernel runs: xp_core::evtchn_fifo over `FifoPages` over
//! shared pages (here fake pages that panic outside themselves). Between any
//! two of the guest's atomic accesses the peer may store any value into any
//! event word of any array page, or any HEAD or READY of the control block.
//! Checks: no panic; no access outside a page or to a page that was not
//! added; a scan takes at most its budget of steps; every event handed to the
//! handler is a port below `nr_ports` whose word was PENDING and not MASKED
//! when PENDING was cleared; `unmask` reports Done only with MASKED clear.
//!
//! Input: `[pages, nr_lo, nr_hi]`, then 6-byte ops `[kind, a, b0, b1, b2, b3]`.
//! Kinds 0-3 are the peer's stores; they run between guest ops and inside them
//! (one before each access, when the next op is a store). Kinds 4-7 are guest
//! ops: scan (budget `a`), unmask, mask, clear_pending of port `a * 17 + b0`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use xp_core::evtchn_fifo::{self as fifo, Consumer, EventWord, FifoPages, FifoShared, Unmask};
use xp_core::shmem::{fake::CellPage, SharedMem};

struct Peer<'a> {
    array: Vec<CellPage>,
    control: CellPage,
    ops: RefCell<&'a [u8]>,
}

impl Peer<'_> {
    fn store(&self, op: &[u8]) {
        let v = u32::from_le_bytes([op[2], op[3], op[4], op[5]]);
        let word = (op[1] as usize * 4) % 4096;
        match op[0] % 8 {
            0 => self.array[0].store32(word, v),
            1 => self.array[self.array.len() - 1].store32(word, v),
            2 => self.control.store32(8 + (op[1] as usize % 16) * 4, v),
            _ => self.control.store32(0, v),
        }
    }
    /// The peer's turn: run the next op if it is a store.
    fn interfere(&self) {
        let mut ops = self.ops.borrow_mut();
        if ops.len() >= 6 && ops[0] % 8 < 4 {
            self.store(&ops[..6]);
            *ops = &ops[6..];
        }
    }
}

/// A page that lets the peer move before every access.
struct Hostile<'a>(&'a CellPage, &'a Peer<'a>);

impl SharedMem for Hostile<'_> {
    fn load8(&self, off: usize) -> u8 {
        self.1.interfere();
        self.0.load8(off)
    }
    fn store8(&self, off: usize, v: u8) {
        self.1.interfere();
        self.0.store8(off, v)
    }
    fn load16(&self, off: usize) -> u16 {
        self.1.interfere();
        self.0.load16(off)
    }
    fn store16(&self, off: usize, v: u16) {
        self.1.interfere();
        self.0.store16(off, v)
    }
    fn load32(&self, off: usize) -> u32 {
        self.1.interfere();
        self.0.load32(off)
    }
    fn store32(&self, off: usize, v: u32) {
        self.1.interfere();
        self.0.store32(off, v)
    }
    fn load64(&self, off: usize) -> u64 {
        self.1.interfere();
        self.0.load64(off)
    }
    fn store64(&self, off: usize, v: u64) {
        self.1.interfere();
        self.0.store64(off, v)
    }
    fn or8(&self, off: usize, bits: u8) {
        self.1.interfere();
        self.0.or8(off, bits)
    }
    fn fetch_and8(&self, off: usize, mask: u8) -> u8 {
        self.1.interfere();
        self.0.fetch_and8(off, mask)
    }
    fn cas32(&self, off: usize, old: u32, new: u32) -> Result<u32, u32> {
        self.1.interfere();
        self.0.cas32(off, old, new)
    }
    fn swap32(&self, off: usize, v: u32) -> u32 {
        self.1.interfere();
        self.0.swap32(off, v)
    }
    fn fetch_or32(&self, off: usize, bits: u32) -> u32 {
        self.1.interfere();
        self.0.fetch_or32(off, bits)
    }
    fn fetch_and32(&self, off: usize, mask: u32) -> u32 {
        self.1.interfere();
        self.0.fetch_and32(off, mask)
    }
    fn fence(&self) {}
    fn read(&self, off: usize, out: &mut [u8]) {
        self.1.interfere();
        self.0.read(off, out)
    }
    fn write(&self, off: usize, data: &[u8]) {
        self.1.interfere();
        self.0.write(off, data)
    }
}

/// The word of `port` as it is now, without letting the peer move.
fn word(p: &Peer<'_>, port: u32) -> EventWord {
    EventWord(p.array[port as usize / 1024].load32((port as usize % 1024) * 4))
}

fn scan(p: &Peer<'_>, v: &impl FifoShared, c: &mut Consumer, nr: u32, budget: u32) {
    let mut calls = 0;
    let r = fifo::scan(v, c, nr, budget, &mut |port| {
        assert!(port > 0 && port < nr, "port {port} of {nr}");
        // No access between clearing PENDING and this call: the word is as the guest left it.
        let w = word(p, port);
        assert!(!w.pending() && !w.masked(), "port {port} delivered as {w:?}");
        calls += 1;
    });
    assert!(r.steps <= budget && r.delivered == calls);
    assert_eq!(r.more, c.has_work() && r.steps == budget);
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let pages = 1 + data[0] as usize % 3;
    let nr = 1 + u16::from_le_bytes([data[1], data[2]]) as u32 % (pages as u32 * 1024);
    let peer = Peer {
        array: (0..pages).map(|_| CellPage::default()).collect(),
        control: CellPage::default(),
        ops: RefCell::new(&data[3..]),
    };
    for page in &peer.array {
        (0..1024).for_each(|w| page.store32(w * 4, EventWord::INITIAL.0));
    }
    let v = FifoPages {
        array: |i: u32| Hostile(&peer.array[i as usize], &peer),
        control: Hostile(&peer.control, &peer),
        offset: 0,
    };
    let mut c = Consumer::new();
    loop {
        let op: [u8; 6] = {
            let mut ops = peer.ops.borrow_mut();
            let Some(op) = ops.get(..6) else { break };
            let op = op.try_into().unwrap();
            *ops = &ops[6..];
            op
        };
        let port = (u32::from(op[1]) * 17 + u32::from(op[2])) % nr;
        match op[0] % 8 {
            0..=3 => peer.store(&op),
            4 => scan(&peer, &v, &mut c, nr, u32::from(op[1])),
            5 => {
                if fifo::unmask(&v, port) == Unmask::Done {
                    assert!(!word(&peer, port).masked());
                }
            }
            6 => {
                let _ = fifo::mask(&v, port);
            }
            _ => fifo::clear_pending(&v, port),
        }
    }
});
