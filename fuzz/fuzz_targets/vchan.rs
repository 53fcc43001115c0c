//! The libxenvchan server's ring index handling (xp_core::vchan::Server) against
//! a client that is honest for a while and may scribble any word of the shared
//! page at any time. The server echoes what it reads, as the vchan probe does.
//! Checks: no panic; read spans lie inside the left ring (1024..2048) and write
//! spans inside the right ring (2048..4096), never longer than the ring;
//! the server's private indexes move by exactly what it copied; and, as long as
//! the client has been honest, the bytes it reads back are exactly the bytes
//! it wrote, in order.
//!
//! Input: a sequence of 4-byte ops `[kind, a, b, c]`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cell::Cell;
use std::collections::VecDeque;
use xp_core::vchan::*;

struct Page(Vec<Cell<u8>>);
impl Iface for Page {
    fn load32(&self, off: usize) -> u32 {
        u32::from_le_bytes(core::array::from_fn(|i| self.0[off + i].get()))
    }
    fn store32(&self, off: usize, v: u32) {
        v.to_le_bytes()
            .iter()
            .enumerate()
            .for_each(|(i, &b)| self.0[off + i].set(b));
    }
    fn load8(&self, off: usize) -> u8 {
        self.0[off].get()
    }
    fn store8(&self, off: usize, v: u8) {
        self.0[off].set(v)
    }
    fn or8(&self, off: usize, bits: u8) {
        self.0[off].set(self.0[off].get() | bits)
    }
    fn fetch_and8(&self, off: usize, mask: u8) -> u8 {
        let old = self.0[off].get();
        self.0[off].set(old & mask);
        old
    }
    fn fence(&self) {}
}

/// The honest client: writes a counter stream into the left ring, reads the right ring.
struct Client {
    next: u8,
    expect: VecDeque<u8>,
}

impl Client {
    fn write(&mut self, p: &Page, n: u32) {
        let (prod, cons) = (p.load32(LEFT_PROD), p.load32(LEFT_CONS));
        let free = 1024u32.saturating_sub(prod.wrapping_sub(cons)).min(n);
        for i in 0..free {
            p.store8(1024 + (prod.wrapping_add(i) & 1023) as usize, self.next);
            self.expect.push_back(self.next);
            self.next = self.next.wrapping_add(1);
        }
        p.store32(LEFT_PROD, prod.wrapping_add(free));
    }
    fn read(&mut self, p: &Page, honest: bool) {
        let (prod, cons) = (p.load32(RIGHT_PROD), p.load32(RIGHT_CONS));
        let n = prod.wrapping_sub(cons).min(2048);
        for i in 0..n {
            let b = p.load8(2048 + (cons.wrapping_add(i) & 2047) as usize);
            if honest {
                assert_eq!(Some(b), self.expect.pop_front(), "echo stream differs");
            }
        }
        p.store32(RIGHT_CONS, cons.wrapping_add(n));
    }
}

fn within(spans: &Spans, lo: usize, size: usize) -> usize {
    for &(off, len) in spans {
        assert!(
            off >= lo && off + len <= lo + size,
            "span {off}+{len} outside {lo}..{}",
            lo + size
        );
    }
    spans[0].1 + spans[1].1
}

/// Echo as much as fits, copying through a private buffer like the kernel does.
fn echo(s: &mut Server, p: &Page, max: usize) {
    let Ok(room) = s.writable(p) else { return };
    let before = *s;
    let Ok(rs) = s.read_spans(p, max.min(room as usize)) else {
        return assert_eq!(*s, before);
    };
    let n = within(&rs, 1024, 1024);
    let buf: Vec<u8> = rs
        .iter()
        .flat_map(|&(o, l)| (o..o + l).map(|i| p.load8(i)))
        .collect();
    s.consume(p, n);
    let ws = s
        .write_spans(p, n)
        .expect("free space only grows while we write");
    assert_eq!(within(&ws, 2048, 2048), n, "room was checked first");
    let mut it = buf.into_iter();
    for &(o, l) in &ws {
        (o..o + l).for_each(|i| p.store8(i, it.next().unwrap()));
    }
    s.produce(p, n);
    assert_eq!(s.left_cons, before.left_cons.wrapping_add(n as u32));
    let _ = take_notify(p, NOTIFY_WRITE);
    request_notify(p, NOTIFY_WRITE);
}

fuzz_target!(|data: &[u8]| {
    let p = Page((0..4096).map(|_| Cell::new(0)).collect());
    init_server(&p);
    let mut s = Server::default();
    let mut c = Client {
        next: 0,
        expect: VecDeque::new(),
    };
    let mut honest = true;
    for op in data.chunks_exact(4) {
        let v = u16::from_le_bytes([op[2], op[3]]);
        match op[0] % 5 {
            0 => c.write(&p, u32::from(v) % 1500),
            1 => c.read(&p, honest),
            2 | 3 => echo(&mut s, &p, usize::from(v)),
            _ => {
                // Scribble: any aligned word of the header or the rings.
                honest = false;
                let off = (usize::from(v) % 1024) * 4;
                p.store32(off, u32::from_le_bytes([op[1], op[2], op[3], op[1]]));
            }
        }
    }
});
