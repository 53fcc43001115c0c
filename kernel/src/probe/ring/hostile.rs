//! Deliberately broken ends. Each is stepped repeatedly (from the victim's idle
//! hook in loopback, from its own loop between domains) and acts only when the
//! victim has caught up, so every attack hits a victim that is idle and waiting
//! for an event, as a real peer would find it.

use super::attack::Attack;
use crate::drv::ring::{Doorbell, SharedPage};
use crate::shmem::SharedMem;
use crate::time::now_ns;
use xp_core::ringep::{BackEp, FrontEp};
use xp_core::ringmsg::{Layout, MSG_LEN, MSG_PAYLOAD, SLOT_SIZE};
use xp_core::shring::{REQ_PROD, RSP_PROD};

/// Honest requests before the attack, so the victim has consumed some and is idle.
const WARMUP: u32 = 2;
/// Storms of un-notified requests in `req-storm`.
const STORMS: u32 = 3;

pub struct HostileFront<'p> {
    pub ep: FrontEp,
    page: SharedPage<'p>,
    pub bell: Doorbell,
    attack: Attack,
    stage: u32,
}

impl<'p> HostileFront<'p> {
    pub fn new(page: SharedPage<'p>, bell: Doorbell, attack: Attack) -> Self {
        let layout = Layout::for_payload(16).unwrap_or(Layout { slot: 32, size: 64 });
        Self::attach(page, bell, FrontEp::new(&page, layout), attack)
    }

    /// Attack over a ring whose page `ep` initialised before it was published.
    pub fn attach(page: SharedPage<'p>, bell: Doorbell, ep: FrontEp, attack: Attack) -> Self {
        HostileFront {
            ep,
            page,
            bell,
            attack,
            stage: 0,
        }
    }

    /// Everything sent has been answered (read straight from the page: we do not care).
    fn caught_up(&mut self) -> bool {
        let rsp = self.page.load32(RSP_PROD);
        self.ep.ring.rsp_cons = rsp;
        rsp == self.ep.ring.req_prod_pvt
    }

    /// The attack is over (or the victim stopped answering, which is also an end).
    pub fn done(&self) -> bool {
        self.stage
            > if self.attack == Attack::ReqStorm {
                STORMS
            } else {
                1
            }
    }

    pub fn step(&mut self) {
        if self.stage == 0 {
            self.send(WARMUP, true);
            self.stage = 1;
        } else if !self.done() && self.caught_up() {
            self.strike();
            self.stage += 1;
        }
    }

    fn send(&mut self, n: u32, notify: bool) {
        for _ in 0..n {
            let _ = self.ep.write_request(&self.page, 16, now_ns());
        }
        self.page.store32(REQ_PROD, self.ep.ring.req_prod_pvt);
        if notify {
            self.bell.ring();
        }
    }

    fn strike(&mut self) {
        let (p, prod) = (self.page, self.ep.ring.req_prod_pvt);
        match self.attack {
            Attack::ReqBehind => p.store32(REQ_PROD, prod.wrapping_sub(1)),
            Attack::ReqFarAhead => p.store32(REQ_PROD, prod.wrapping_add(1000)),
            Attack::BadLen => {
                let _ = self.ep.write_request(&p, 16, now_ns());
                p.store32(self.ep.layout.offset(prod) + MSG_LEN, 5000);
                p.store32(REQ_PROD, prod.wrapping_add(1));
            }
            Attack::SlotSize => {
                p.store32(SLOT_SIZE, 40);
                p.store32(REQ_PROD, prod.wrapping_add(1));
            }
            Attack::ReqStorm => return self.send(self.ep.ring.free_requests(), false),
            _ => return,
        }
        self.bell.ring();
    }
}

pub struct HostileBack<'p> {
    ep: BackEp,
    page: SharedPage<'p>,
    pub bell: Doorbell,
    attack: Attack,
    seen: u64,
}

impl<'p> HostileBack<'p> {
    pub fn new(page: SharedPage<'p>, bell: Doorbell, attack: Attack) -> Self {
        let seen = bell.kicks();
        HostileBack {
            ep: BackEp::default(),
            page,
            bell,
            attack,
            seen,
        }
    }

    /// On our event: answer wrongly.
    pub fn on_event(&mut self) {
        let k = self.bell.kicks();
        if k == self.seen {
            return;
        }
        self.seen = k;
        let p = self.page;
        match self.attack {
            Attack::RspFarAhead => p.store32(RSP_PROD, p.load32(REQ_PROD).wrapping_add(1000)),
            Attack::RspUnrequested => {
                let _ = self.ep.serve(&p, now_ns(), u32::MAX);
                p.store32(RSP_PROD, p.load32(RSP_PROD).wrapping_add(3));
            }
            Attack::RspCorrupt => {
                self.corrupt_next_request();
                let _ = self.ep.serve(&p, now_ns(), u32::MAX);
            }
            // Follows io/ring.h but answers at once, whatever policy the victim expects.
            Attack::RspEarly => {
                let _ = self.ep.serve(&p, now_ns(), u32::MAX);
                let _ = self.ep.final_check(&p);
            }
            Attack::RspSilent => {
                // Published and re-armed for the next request, but never notified.
                let _ = self.ep.serve(&p, now_ns(), u32::MAX);
                let _ = self.ep.final_check(&p);
                return;
            }
            _ => return,
        }
        self.bell.ring();
    }

    /// Flip the first payload word of the next request, so its echo differs.
    fn corrupt_next_request(&self) {
        let Ok(l) = Layout::from_peer(self.page.load32(SLOT_SIZE)) else {
            return;
        };
        let off = l.offset(self.ep.ring.req_cons) + MSG_PAYLOAD;
        self.page.store64(off, self.page.load64(off) ^ 0xff);
    }
}
