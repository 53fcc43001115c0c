//! The backend driver: echoes requests as io/ring.h prescribes (serve, push
//! responses and notify if asked, RING_FINAL_CHECK_FOR_REQUESTS before
//! sleeping), publishing each response when its completion policy
//! (xp_core::ringpol) says it is due: it sleeps until the oldest held response
//! is due as well as until an event. With a watchdog: when it wakes by timeout
//! and finds requests published past the `req_event` it set, the frontend did
//! not notify (after a grace period for an event in flight): a lost wake-up,
//! counted, and the requests are served anyway. Any other [`PeerError`] ends
//! the connection.

use super::front::Idle;
use crate::drv::ring::{Doorbell, SharedPage};
use crate::drv::timer::{self, TimerId};
use crate::time::now_ns;
use xp_core::ringep::{BackEp, Served};
use xp_core::ringmsg::PeerError;
use xp_core::ringpol::Policy;

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
    /// Pushes that published responses (batches), and responses published.
    pub batches: u64,
    pub released: u64,
    /// Lost wake-ups (the frontend published without notifying) and the first one.
    pub lost: u64,
    pub first_lost: Option<PeerError>,
    /// Kicks already acted upon.
    seen: u64,
    /// The timer queued for the oldest held response (loopback), and its deadline.
    alarm: Option<(TimerId, u64)>,
}

impl<'p> BackDrv<'p> {
    pub fn new(page: SharedPage<'p>, bell: Doorbell, policy: Policy) -> Self {
        let seen = bell.kicks();
        BackDrv {
            ep: BackEp::new(policy),
            page,
            bell,
            served: 0,
            batches: 0,
            released: 0,
            lost: 0,
            first_lost: None,
            seen,
            alarm: None,
        }
    }

    /// Count what a serve or release published, and notify if the frontend asked.
    fn published(&mut self, s: Served) {
        self.served += u64::from(s.n);
        self.released += u64::from(s.released);
        self.batches += u64::from(s.released > 0);
        if s.notify {
            self.bell.ring();
        }
    }

    /// Serve until the ring is empty and the final check agrees, or for at most
    /// `MAX_BATCHES` batches, so that a flood cannot keep us from checking whether to
    /// stop. True: more requests are waiting.
    pub fn serve(&mut self) -> Result<bool, PeerError> {
        for _ in 0..MAX_BATCHES {
            let s = self.ep.serve(&self.page, now_ns(), BUDGET)?;
            self.published(s);
            if s.n < BUDGET && self.ep.final_check(&self.page)? == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Publish the held responses that are due now; how many.
    pub fn release(&mut self) -> u32 {
        let s = self.ep.release(&self.page, now_ns());
        self.published(s);
        s.released
    }

    /// Loopback: serve if our event came since the last call, publish what is due, and
    /// keep a timer queued for the next held response (the frontend's sleep wakes for it).
    pub fn poll(&mut self) -> Result<(), PeerError> {
        let k = self.bell.kicks();
        if k != self.seen {
            self.seen = k;
            while self.serve()? {}
        }
        self.release();
        self.arm();
        Ok(())
    }

    /// Loopback, between the frontend's final check and its sleep: serve what was published
    /// (its event is still masked: events reach this vCPU only when it blocks), wait
    /// (spinning, so that nothing else runs) until the oldest held response is due, and
    /// publish it with the rest of its batch. How many were published.
    pub fn publish_now(&mut self) -> Result<u64, PeerError> {
        let r0 = self.released;
        while self.serve()? {}
        if let Some(due) = self.ep.next_due() {
            while now_ns() < due {
                core::hint::spin_loop();
            }
        }
        self.release();
        self.arm();
        Ok(self.released - r0)
    }

    fn arm(&mut self) {
        let want = self.ep.next_due();
        if want == self.alarm.map(|a| a.1) {
            return;
        }
        if let Some((id, _)) = self.alarm.take() {
            timer::cancel(id);
        }
        self.alarm = want.and_then(|d| timer::add(d).ok().map(|id| (id, d)));
    }

    /// Serve until `stop()` says so (once is enough: it may be edge-triggered) or the peer
    /// breaks the protocol; wake for events, for held responses and for the watchdog.
    pub fn run(&mut self, stop: &mut dyn FnMut() -> bool, idle: Idle<'_>) -> Result<(), PeerError> {
        let (mut halt, mut force) = (false, true);
        loop {
            let k = self.bell.kicks();
            let more = (force || k != self.seen) && {
                self.seen = k;
                self.serve()?
            };
            self.release();
            if halt || stop() {
                return Ok(());
            }
            force = more;
            if more {
                continue;
            }
            let (t, seen) = (now_ns(), self.seen);
            let watchdog = t + WATCHDOG_NS;
            let until = self.ep.next_due().map_or(watchdog, |d| d.min(watchdog));
            let bell = &self.bell;
            let kicked = timer::wait_until(until, || {
                idle();
                halt = halt || stop();
                halt || bell.kicks() != seen
            });
            if !kicked && until == watchdog {
                force = self.watchdog(seen, t, idle)?;
            }
        }
    }

    /// Woken by the timeout: requests waiting with no event are a lost wake-up. True: serve.
    fn watchdog(&mut self, seen: u64, slept_at: u64, idle: Idle<'_>) -> Result<bool, PeerError> {
        let (pending, _) = self.ep.pending(&self.page)?;
        if pending == 0 {
            return Ok(false);
        }
        let bell = &self.bell;
        if timer::wait_until(now_ns() + GRACE_NS, || {
            idle();
            bell.kicks() != seen
        }) {
            return Ok(false);
        }
        self.lost += 1;
        let waited_ns = now_ns() - slept_at;
        self.first_lost
            .get_or_insert(PeerError::NoNotify { pending, waited_ns });
        Ok(true)
    }
}

impl Drop for BackDrv<'_> {
    fn drop(&mut self) {
        if let Some((id, _)) = self.alarm.take() {
            timer::cancel(id);
        }
    }
}
