//! The backend driver: echoes requests as io/ring.h prescribes (serve, push
//! responses and notify if asked, RING_FINAL_CHECK_FOR_REQUESTS before
//! sleeping), with a watchdog: when it wakes by timeout and finds requests
//! published past the `req_event` it set, the frontend did not notify (after a
//! grace period for an event in flight): a lost wake-up, counted, and the
//! requests are served anyway. Any other [`PeerError`] ends the connection.

use super::front::Idle;
use crate::drv::ring::{Doorbell, SharedPage};
use crate::drv::timer;
use crate::time::now_ns;
use xp_core::ringep::BackEp;
use xp_core::ringmsg::PeerError;

/// Requests served per batch before re-checking (keeps a storm from starving us).
const BUDGET: u32 = 64;
/// Batches per `serve` call.
const MAX_BATCHES: u32 = 16;
/// How long the backend sleeps before checking the ring by itself.
pub const WATCHDOG_NS: u64 = 200_000_000;
/// How long an event may be in flight after requests became visible.
const GRACE_NS: u64 = 100_000_000;

pub struct BackDrv<'p> {
    pub ep: BackEp,
    pub page: SharedPage<'p>,
    pub bell: Doorbell,
    pub served: u64,
    /// Lost wake-ups (the frontend published without notifying) and the first one.
    pub lost: u64,
    pub first_lost: Option<PeerError>,
    /// Kicks already acted upon (loopback use).
    seen: u64,
}

impl<'p> BackDrv<'p> {
    pub fn new(page: SharedPage<'p>, bell: Doorbell) -> Self {
        let seen = bell.kicks();
        BackDrv {
            ep: BackEp::default(),
            page,
            bell,
            served: 0,
            lost: 0,
            first_lost: None,
            seen,
        }
    }

    /// Serve until the ring is empty and the final check agrees, or for at most
    /// `MAX_BATCHES` batches, so that a flood cannot keep us from checking whether to
    /// stop. True: more requests are waiting.
    pub fn serve(&mut self) -> Result<bool, PeerError> {
        for _ in 0..MAX_BATCHES {
            let s = self.ep.serve(&self.page, now_ns(), BUDGET)?;
            self.served += u64::from(s.n);
            if s.notify {
                self.bell.ring();
            }
            if s.n < BUDGET && self.ep.final_check(&self.page)? == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Loopback: serve if our event came since the last call.
    pub fn on_event(&mut self) -> Result<(), PeerError> {
        let k = self.bell.kicks();
        if k != self.seen {
            self.seen = k;
            while self.serve()? {}
        }
        Ok(())
    }

    /// Serve until `stop()` says so (once is enough: it may be edge-triggered) or the peer
    /// breaks the protocol.
    pub fn run(&mut self, stop: &mut dyn FnMut() -> bool, idle: Idle<'_>) -> Result<(), PeerError> {
        let mut halt = false;
        loop {
            let seen = self.bell.kicks();
            let more = self.serve()?;
            if halt || stop() {
                return Ok(());
            }
            if more {
                continue;
            }
            let t = now_ns();
            let bell = &self.bell;
            let kicked = timer::wait_until(t + WATCHDOG_NS, || {
                idle();
                halt = halt || stop();
                halt || bell.kicks() != seen
            });
            if !kicked {
                self.watchdog(seen, t, idle)?;
            }
        }
    }

    /// Woken by the timeout: requests waiting with no event are a lost wake-up.
    fn watchdog(&mut self, seen: u64, slept_at: u64, idle: Idle<'_>) -> Result<(), PeerError> {
        let (pending, _) = self.ep.pending(&self.page)?;
        if pending == 0 {
            return Ok(());
        }
        let bell = &self.bell;
        if timer::wait_until(now_ns() + GRACE_NS, || {
            idle();
            bell.kicks() != seen
        }) {
            return Ok(());
        }
        self.lost += 1;
        let waited_ns = now_ns() - slept_at;
        self.first_lost
            .get_or_insert(PeerError::NoNotify { pending, waited_ns });
        Ok(())
    }
}
