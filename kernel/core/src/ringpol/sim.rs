//! The frontend and backend state machines (xp_core::ringep) under every
//! completion policy, on a fake page with a virtual clock, stepped in any
//! order the scheduler picks. Each side sleeps after its final check found
//! nothing and is woken only by the other side's notification (the backend
//! also by its own timer for held responses). Checked after every step: no
//! side sleeps on work meant for it (no lost wake-up), including a batch the
//! backend publishes between the frontend's final check and its block; every
//! accepted response is the one due with every byte intact; no completion is
//! seen before its policy allows; and at the end a full ring always drains.

use super::*;
use crate::ringep::tests::Page;
use crate::ringep::{BackEp, FrontEp};
use crate::ringmsg::Layout;
use proptest::prelude::*;

struct World {
    p: Page,
    f: FrontEp,
    b: BackEp,
    now: u64,
    len: u32,
    /// Notifications each side received, and the count each side last acted on.
    to_front: u64,
    to_back: u64,
    front_seen: Option<u64>,
    back_seen: Option<u64>,
    sent: u32,
    got: u32,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    /// The frontend writes up to n requests and publishes them.
    Send(u8),
    /// The frontend, if awake, takes responses, then final-checks and blocks; with
    /// `race`, the backend's timer releases a batch between the check and the block.
    Collect { race: bool },
    /// The backend, if awake, serves with a budget, then final-checks and blocks.
    Serve(u8),
    /// Virtual time passes; the backend's timer releases what is due.
    Tick(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u8..80).prop_map(Op::Send),
        any::<bool>().prop_map(|race| Op::Collect { race }),
        (1u8..80).prop_map(Op::Serve),
        (0u32..3_000_000).prop_map(Op::Tick),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        Just(Policy::Echo),
        (MIN_NS..2_000_000).prop_map(Policy::Delay),
        (MIN_NS..2_000_000).prop_map(Policy::Epoch),
        (MIN_NS..1_000_000).prop_map(Policy::Jitter),
    ]
}

impl World {
    fn new(policy: Policy, len: u32, start: u64) -> World {
        let p = Page::default();
        let f = FrontEp::new(&p, Layout::for_payload(len).unwrap());
        World {
            p,
            f,
            b: BackEp::new(policy),
            now: start,
            len,
            to_front: 0,
            to_back: 0,
            front_seen: None,
            back_seen: Some(0),
            sent: 0,
            got: 0,
        }
    }

    fn front_awake(&self) -> bool {
        self.front_seen.is_none_or(|s| s != self.to_front)
    }

    fn back_awake(&self) -> bool {
        self.back_seen.is_none_or(|s| s != self.to_back)
    }

    fn send(&mut self, n: u8) {
        for _ in 0..n {
            if self.f.write_request(&self.p, self.len, self.now).is_none() {
                break;
            }
            self.sent += 1;
        }
        if self.f.push(&self.p) {
            self.to_back += 1;
        }
    }

    /// The backend's timer: publish what is due.
    fn timer(&mut self) {
        if self.b.release(&self.p, self.now).notify {
            self.to_front += 1;
        }
    }

    fn collect(&mut self, race: bool) -> Result<(), TestCaseError> {
        if !self.front_awake() {
            return Ok(());
        }
        while let Some(r) = self.f.take_response(&self.p, self.len).unwrap() {
            prop_assert_eq!(r.seq, self.got, "the response due");
            let due = self.b.policy.due(r.seq, r.sent_ts);
            prop_assert!(self.now >= due, "seen at {} before due {}", self.now, due);
            self.got += 1;
        }
        let seen = self.to_front;
        if self.f.final_check(&self.p).unwrap() > 0 {
            return Ok(());
        }
        if race {
            // About to block: the backend's epoch (or delay) ends right now.
            self.now = self.now.max(self.b.next_due().unwrap_or(self.now));
            self.timer();
        }
        self.front_seen = Some(seen);
        Ok(())
    }

    fn serve(&mut self, budget: u8) {
        if !self.back_awake() {
            return;
        }
        let seen = self.to_back;
        if self
            .b
            .serve(&self.p, self.now, u32::from(budget))
            .unwrap()
            .notify
        {
            self.to_front += 1;
        }
        if self.b.final_check(&self.p).unwrap() == 0 {
            self.back_seen = Some(seen);
        }
    }

    fn step(&mut self, o: Op) -> Result<(), TestCaseError> {
        match o {
            Op::Send(n) => self.send(n),
            Op::Collect { race } => self.collect(race)?,
            Op::Serve(b) => self.serve(b),
            Op::Tick(dt) => {
                self.now += u64::from(dt);
                self.timer();
            }
        }
        // Nobody sleeps on work meant for it.
        if !self.back_awake() {
            prop_assert_eq!(
                self.b.pending(&self.p).unwrap().0,
                0,
                "backend lost a wake-up"
            );
        }
        if !self.front_awake() {
            prop_assert_eq!(
                self.f.ring.unconsumed_responses(&self.p).unwrap(),
                0,
                "frontend lost a wake-up"
            );
        }
        prop_assert!(self.f.outstanding() <= self.f.layout.size);
        Ok(())
    }

    /// Fill the ring, then let only wake-ups and the backend's timer drive both sides.
    fn drain(&mut self) -> Result<(), TestCaseError> {
        self.send(u8::MAX);
        prop_assert_eq!(self.f.ring.free_requests(), 0, "the ring is full");
        for _ in 0..4 * MAX_RING {
            self.serve(u8::MAX);
            self.collect(false)?;
            if self.sent == self.got {
                return Ok(());
            }
            if let Some(t) = self.b.next_due() {
                self.now = self.now.max(t);
                self.step(Op::Tick(0))?;
            }
        }
        prop_assert!(
            false,
            "a full ring did not drain: {} of {} back",
            self.got,
            self.sent
        );
        Ok(())
    }
}

proptest! {
    #[test]
    fn policies_lose_nothing(pol in policy(), len in prop_oneof![Just(16u32), Just(100), Just(1008)],
                             start in 0u64..1 << 50, ops in proptest::collection::vec(op(), 1..300)) {
        let mut w = World::new(pol, len, start);
        for o in ops {
            w.step(o)?;
        }
        w.drain()?;
        prop_assert_eq!(w.b.held(), 0);
    }

    /// Under `epoch`, a ring's worth of requests sent within one epoch comes back as one
    /// batch with one notification.
    #[test]
    fn an_epoch_releases_one_batch_with_one_event(e in MIN_NS..10_000_000, at in 1u64..1 << 40) {
        let mut w = World::new(Policy::Epoch(e), 16, at * e + 1);
        w.send(u8::MAX);
        w.serve(u8::MAX);
        w.collect(false)?;
        prop_assert_eq!((w.got, w.to_front), (0, 0), "nothing before the boundary");
        w.step(Op::Tick((e - 1) as u32))?;
        prop_assert_eq!((w.b.held(), w.to_front), (0, 1), "one event for the batch");
        w.collect(false)?;
        prop_assert_eq!(w.got, 64);
    }
}
