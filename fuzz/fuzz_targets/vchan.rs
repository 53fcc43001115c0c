//! The libxenvchan server's ring index handling (xp_core::vchan::Server) against
//! a client that is honest for a while and may scribble any word of the shared
//! page at any time. The server echoes what it reads, as the vchan probe does.
//! Checks: no panic and no access outside the page (the fake page panics);
//! the server's private indexes move by exactly what it copied, and not at all
//! on an error; and, as long as
//! the client has been honest, the bytes it reads back are exactly the bytes
//! it wrote, in order.
//!
//! Input: a sequence of 4-byte ops `[kind, a, b, c]`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::VecDeque;
use xp_core::shmem::{fake::CellPage, SharedMem};
use xp_core::vchan::*;

type Page = CellPage;

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

/// Echo as much as fits, through a private buffer like the kernel does.
fn echo(s: &mut Server, p: &Page, max: usize) {
    let Ok(room) = s.writable(p) else { return };
    let before = *s;
    let mut buf = vec![0u8; max.min(room as usize)];
    let n = match s.read(p, &mut buf) {
        Ok(n) => n,
        Err(_) => return assert_eq!(*s, before, "nothing consumed on an error"),
    };
    assert!(n <= buf.len() && n <= 1024);
    assert_eq!(s.left_cons, before.left_cons.wrapping_add(n as u32));
    assert_eq!(p.load32(LEFT_CONS), s.left_cons);
    let w = s.write(p, &buf[..n]).expect("free space only grows while we write");
    assert_eq!(w, n, "room was checked first");
    assert_eq!(s.right_prod, before.right_prod.wrapping_add(n as u32));
    let _ = take_notify(p, NOTIFY_WRITE);
    request_notify(p, NOTIFY_WRITE);
}

fuzz_target!(|data: &[u8]| {
    let p = CellPage::default();
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
