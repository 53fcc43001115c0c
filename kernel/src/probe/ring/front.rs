//! The frontend driver: sends requests and takes their verified responses over
//! [`FrontEp`], sleeping on its event channel between responses (io/ring.h's
//! final check before every sleep). `idle` runs on every wake-up: in loopback
//! it is the backend (same vCPU), between domains it does nothing. The
//! measurement phases over it are in phases.rs.
//!
//! Every wait has a timeout. When it expires with responses published, the
//! peer published past our `rsp_event` without an event reaching us: a lost
//! wake-up, counted (the responses are then consumed and the run goes on).
//! When nothing was published, the peer is silent: an error that ends the run.
//! Every response is judged against the backend's completion policy: one seen
//! before [`Policy::due`] allows is counted as early (a FAILURE).

use crate::drv::ring::{Doorbell, SharedPage};
use crate::drv::timer;
use crate::time::now_ns;
use xp_core::ringep::{FrontEp, Response};
use xp_core::ringmsg::{Layout, PeerError};
use xp_core::ringpol::Policy;

/// What runs the other end meanwhile (loopback), called whenever the frontend wakes.
pub type Idle<'a> = &'a mut dyn FnMut();

/// A completion seen before its policy allowed: request, seen at, due at (ns).
#[derive(Clone, Copy)]
pub struct Early {
    pub seq: u32,
    pub seen: u64,
    pub due: u64,
}

pub struct FrontDrv<'p> {
    pub ep: FrontEp,
    pub page: SharedPage<'p>,
    pub bell: Doorbell,
    pub timeout_ns: u64,
    /// The backend's completion policy, which every response is judged against.
    pub policy: Policy,
    /// Wake-ups by our event, those that found no response, and lost wake-ups.
    pub wakeups: u64,
    pub spurious: u64,
    pub lost: u64,
    /// The first lost wake-up, for the report.
    pub first_lost: Option<PeerError>,
    /// Completions taken, those seen before they were due, and the first of those.
    pub completions: u64,
    pub early: u64,
    pub first_early: Option<Early>,
    /// Payload bytes sent, and those echoed back and verified.
    pub bytes_sent: u64,
    pub bytes_verified: u64,
    /// Waits with the ring full, and why one never ended (the ring did not drain).
    pub full_waits: u64,
    pub full_stuck: Option<PeerError>,
}

impl<'p> FrontDrv<'p> {
    pub fn new(page: SharedPage<'p>, bell: Doorbell, layout: Layout, timeout_ns: u64) -> Self {
        let ep = FrontEp::new(&page, layout);
        Self::attach(page, bell, ep, timeout_ns)
    }

    /// Drive a ring whose page `ep` already initialised (before it was published).
    pub fn attach(page: SharedPage<'p>, bell: Doorbell, ep: FrontEp, timeout_ns: u64) -> Self {
        FrontDrv {
            ep,
            page,
            bell,
            timeout_ns,
            policy: Policy::Echo,
            wakeups: 0,
            spurious: 0,
            lost: 0,
            first_lost: None,
            completions: 0,
            early: 0,
            first_early: None,
            bytes_sent: 0,
            bytes_verified: 0,
            full_waits: 0,
            full_stuck: None,
        }
    }

    /// Sleep until our event (after the final check asked for it) or the timeout.
    fn sleep(&mut self, seen: u64, idle: Idle<'_>) -> Result<(), PeerError> {
        let t = now_ns();
        let bell = &self.bell;
        if timer::wait_until(t + self.timeout_ns, || {
            idle();
            bell.kicks() != seen
        }) {
            self.wakeups += 1;
            return Ok(());
        }
        let waited_ns = now_ns() - t;
        match self.ep.ring.unconsumed_responses(&self.page)? {
            0 => Err(PeerError::Silent { waited_ns }),
            pending => {
                self.lost += 1;
                self.first_lost
                    .get_or_insert(PeerError::NoNotify { pending, waited_ns });
                Ok(())
            }
        }
    }

    /// The next response, waiting for it as io/ring.h prescribes; `window` runs between the
    /// final check that found nothing and the sleep (where a lost wake-up would hide).
    pub fn next_response(
        &mut self,
        len: u32,
        idle: Idle<'_>,
        window: Idle<'_>,
    ) -> Result<(Response, u64), PeerError> {
        let mut woke = false;
        loop {
            if let Some(r) = self.take(len)? {
                return Ok(r);
            }
            self.spurious += u64::from(woke);
            let seen = self.bell.kicks();
            if self.ep.final_check(&self.page)? > 0 {
                continue;
            }
            window();
            self.sleep(seen, idle)?;
            woke = true;
        }
    }

    /// Take a published response, if any, verified and judged: (response, when seen).
    pub fn take(&mut self, len: u32) -> Result<Option<(Response, u64)>, PeerError> {
        let Some(r) = self.ep.take_response(&self.page, len)? else {
            return Ok(None);
        };
        let seen = now_ns();
        self.completions += 1;
        self.bytes_verified += u64::from(len);
        let due = self.policy.due(r.seq, r.sent_ts);
        if seen < due {
            self.early += 1;
            let seq = r.seq;
            self.first_early.get_or_insert(Early { seq, seen, due });
        }
        Ok(Some((r, seen)))
    }

    /// Write one request (false: the ring is full).
    pub fn write(&mut self, len: u32) -> bool {
        let ok = self.ep.write_request(&self.page, len, now_ns()).is_some();
        self.bytes_sent += u64::from(len) * u64::from(ok);
        ok
    }

    /// Publish the requests written, notifying if the backend asked.
    pub fn push(&mut self) {
        if self.ep.push(&self.page) {
            self.bell.ring();
        }
    }

    /// Switch to the layout for `len`-byte payloads (the ring is idle between phases).
    pub fn set_size(&mut self, len: u32) -> bool {
        Layout::for_payload(len).is_some_and(|l| self.ep.set_layout(&self.page, l))
    }
}
