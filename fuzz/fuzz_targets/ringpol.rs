//! Backend completion policies (xp_core::ringpol) under fuzzing: the policy
//! parser on arbitrary text, and our io/ring.h frontend and backend
//! (xp_core::ringep) running a fuzzed policy over a fake page with a fuzzed
//! virtual clock, while a peer may scribble any word of the page.
//! Checks: no panic; no access outside the page or misaligned (the fake page
//! panics); a parsed policy prints back to itself and its errors are text;
//! the backend never holds more than a ring nor serves more than its budget;
//! while nobody scribbled, every response the frontend accepts is the one due
//! and is seen no earlier than the policy allows, and after time passes the
//! longest hold and the backend serves, everything sent comes back; errors
//! come only from the documented checks.
//!
//! Input: `[policy text] 0x00 [kind, d0..d3] [ops: kind, a, b0, b1, b2, b3]*`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xp_core::ringep::{BackEp, FrontEp};
use xp_core::ringmsg::{Layout, PeerError};
use xp_core::ringpol::{Policy, MAX_NS, MAX_RING, MIN_NS};
use xp_core::shmem::{fake::CellPage, SharedMem};

type Page = CellPage;

fn documented(e: &PeerError) {
    assert!(matches!(
        e,
        PeerError::Index(_)
            | PeerError::SlotSize(_)
            | PeerError::Len { .. }
            | PeerError::Seq { .. }
            | PeerError::EchoLen { .. }
            | PeerError::Payload { .. }
    ));
    assert!(!e.to_string().is_empty());
}

fn parse(text: &[u8]) {
    let Ok(s) = std::str::from_utf8(text) else {
        return;
    };
    match Policy::parse(s) {
        Ok(p) => assert_eq!(Policy::parse(&p.to_string()), Ok(p)),
        Err(e) => assert!(e.to_string().contains("accepted: echo, delay:D")),
    }
}

fn policy(b: &[u8]) -> Policy {
    let d = u64::from(u32::from_le_bytes([b[1], b[2], b[3], b[4]]));
    let d = MIN_NS + d * 1000 % (MAX_NS / 100 - MIN_NS);
    [Policy::Echo, Policy::Delay(d), Policy::Epoch(d), Policy::Jitter(d)][b[0] as usize % 4]
}

struct World {
    p: Page,
    f: FrontEp,
    b: BackEp,
    now: u64,
    scribbled: bool,
    sent: u32,
    got: u32,
}

impl World {
    fn collect(&mut self) {
        loop {
            match self.f.take_response(&self.p, 16) {
                Ok(Some(r)) if !self.scribbled => {
                    assert_eq!(r.seq, self.got);
                    assert!(self.now >= self.b.policy.due(r.seq, r.sent_ts), "early");
                    self.got += 1;
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return documented(&e),
            }
        }
    }

    fn step(&mut self, op: &[u8]) {
        let v = u32::from_le_bytes([op[2], op[3], op[4], op[5]]);
        match op[0] % 6 {
            0 => {
                self.scribbled = true;
                self.p.store32((v as usize % 1024) * 4, u32::from(op[1]) << 24 | v >> 8);
            }
            1 => {
                for _ in 0..op[1] % 70 {
                    self.sent += u32::from(self.f.write_request(&self.p, 16, self.now).is_some());
                }
                self.f.push(&self.p);
            }
            2 => match self.b.serve(&self.p, self.now, u32::from(op[1]) + 1) {
                Ok(s) => assert!(s.n <= u32::from(op[1]) + 1 && s.released <= MAX_RING as u32),
                Err(e) => documented(&e),
            },
            3 => self.collect(),
            4 => {
                self.now += u64::from(v) * u64::from(op[1] % 8 + 1);
                self.b.release(&self.p, self.now);
            }
            _ => {
                if let (Err(e), _) | (_, Err(e)) = (self.b.final_check(&self.p), self.f.final_check(&self.p)) {
                    documented(&e);
                }
            }
        }
        assert!(self.b.held() as usize <= MAX_RING);
        assert!(self.f.outstanding() <= self.f.layout.size);
    }
}

fuzz_target!(|data: &[u8]| {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    parse(&data[..cut]);
    let rest = data.get(cut + 1..).unwrap_or(&[]);
    if rest.len() < 5 {
        return;
    }
    let p = CellPage::default();
    let f = FrontEp::new(&p, Layout::for_payload(16).unwrap());
    let b = BackEp::new(policy(rest));
    let (now, scribbled, sent, got) = (1 << 40, false, 0, 0);
    let mut w = World { p, f, b, now, scribbled, sent, got };
    for op in rest[5..].chunks_exact(6) {
        w.step(op);
    }
    if !w.scribbled {
        // Time passes beyond the longest hold; the backend serves; everything comes back.
        w.now += w.b.policy.max_hold_ns() + 1;
        w.b.serve(&w.p, w.now, u32::MAX).unwrap();
        w.now += w.b.policy.max_hold_ns() + 1;
        w.b.release(&w.p, w.now);
        w.collect();
        assert_eq!(w.got, w.sent, "a full ring drains");
    }
});
