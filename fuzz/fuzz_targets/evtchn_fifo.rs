//! A hostile Xen against the guest side of the FIFO event-channel ABI
//! (xp_core::evtchn_fifo, the code the kernel's FIFO dispatch runs): between
//! any two of the guest's atomic accesses the peer may store any value into
//! any event word, any HEAD or READY of the control block. Checks: no panic;
//! no access to a port without an event word (the fake array's indexing
//! panics); a scan takes at most its budget of steps; every event handed to
//! the handler is an in-range port whose word was PENDING and not MASKED when
//! PENDING was cleared; `unmask` reports Done only with MASKED clear.
//!
//! Input: `[nr_ports_lo, nr_ports_hi]`, then 6-byte ops `[kind, a, b0, b1, b2, b3]`.
//! Kinds 0-3 are the peer's stores, and run both between guest ops and inside
//! them (one before each access, when the next op is a store); kinds 4-7 are
//! guest ops: scan (budget `a`), unmask, mask, clear_pending.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cell::{Cell, RefCell};
use xp_core::evtchn_fifo::{self as fifo, Consumer, EventWord, FifoShared, Unmask};

struct Fake<'a> {
    words: Vec<Cell<u32>>,
    ready: Cell<u32>,
    head: [Cell<u32>; 16],
    ops: RefCell<&'a [u8]>,
}

impl Fake<'_> {
    fn store(&self, op: &[u8]) {
        let v = u32::from_le_bytes([op[2], op[3], op[4], op[5]]);
        match op[0] % 8 {
            0 | 1 => self.words[op[1] as usize % self.words.len()].set(v),
            2 => self.head[op[1] as usize % 16].set(v),
            _ => self.ready.set(v),
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
    fn word(&self, port: u32) -> &Cell<u32> {
        &self.words[port as usize]
    }
}

impl FifoShared for Fake<'_> {
    fn load(&self, port: u32) -> u32 {
        self.interfere();
        self.word(port).get()
    }
    fn compare_exchange(&self, port: u32, old: u32, new: u32) -> Result<u32, u32> {
        self.interfere();
        let w = self.word(port);
        if w.get() == old {
            w.set(new);
            Ok(old)
        } else {
            Err(w.get())
        }
    }
    fn fetch_or(&self, port: u32, bits: u32) -> u32 {
        self.interfere();
        self.word(port).replace(self.word(port).get() | bits)
    }
    fn fetch_and(&self, port: u32, bits: u32) -> u32 {
        self.interfere();
        self.word(port).replace(self.word(port).get() & bits)
    }
    fn swap_ready(&self) -> u32 {
        self.interfere();
        self.ready.replace(0)
    }
    fn head(&self, priority: usize) -> u32 {
        self.interfere();
        self.head[priority].get()
    }
}

fn scan(f: &Fake<'_>, c: &mut Consumer, budget: u32) {
    let nr = f.words.len() as u32;
    let mut calls = 0;
    let r = fifo::scan(f, c, nr, budget, &mut |port| {
        assert!(port > 0 && port < nr, "port {port} of {nr}");
        // No access between clearing PENDING and this call: the word is as the guest left it.
        let w = EventWord(f.word(port).get());
        assert!(!w.pending() && !w.masked(), "port {port} delivered as {w:?}");
        calls += 1;
    });
    assert!(r.steps <= budget && r.delivered == calls);
    assert_eq!(r.more, c.has_work() && r.steps == budget);
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let nr = 1 + u16::from_le_bytes([data[0], data[1]]) as usize % 3000;
    let f = Fake {
        words: (0..nr).map(|_| Cell::new(EventWord::INITIAL.0)).collect(),
        ready: Cell::new(0),
        head: Default::default(),
        ops: RefCell::new(&data[2..]),
    };
    let mut c = Consumer::new();
    loop {
        let op: [u8; 6] = {
            let mut ops = f.ops.borrow_mut();
            let Some(op) = ops.get(..6) else { break };
            let op = op.try_into().unwrap();
            *ops = &ops[6..];
            op
        };
        let port = u32::from(op[1]) % nr as u32;
        match op[0] % 8 {
            0..=3 => f.store(&op),
            4 => scan(&f, &mut c, u32::from(op[1])),
            5 => {
                if fifo::unmask(&f, port) == Unmask::Done {
                    assert!(!EventWord(f.word(port).get()).masked());
                }
            }
            6 => {
                let _ = fifo::mask(&f, port);
            }
            _ => fifo::clear_pending(&f, port),
        }
    }
});
