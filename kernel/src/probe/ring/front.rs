//! The frontend driver: round trips and streaming over [`FrontEp`], sleeping on
//! its event channel between responses. `idle` runs on every wake-up: in
//! loopback it is the backend (same vCPU), between domains it does nothing.
//!
//! Every wait has a timeout. When it expires with responses published, the
//! peer published past our `rsp_event` without an event reaching us: a lost
//! wake-up, counted (the responses are then consumed and the run goes on).
//! When nothing was published, the peer is silent: an error that ends the run.

use crate::drv::ring::{Doorbell, SharedPage};
use crate::drv::timer;
use crate::time::now_ns;
use alloc::boxed::Box;
use xp_core::hist::Histogram;
use xp_core::ringep::{FrontEp, Response};
use xp_core::ringmsg::{Layout, PeerError};

/// What runs the other end meanwhile (loopback), called whenever the frontend wakes.
pub type Idle<'a> = &'a mut dyn FnMut();

pub struct FrontDrv<'p> {
    pub ep: FrontEp,
    pub page: SharedPage<'p>,
    pub bell: Doorbell,
    pub timeout_ns: u64,
    /// Wake-ups by our event, those that found no response, and lost wake-ups.
    pub wakeups: u64,
    pub spurious: u64,
    pub lost: u64,
    /// The first lost wake-up, for the report.
    pub first_lost: Option<PeerError>,
}

/// Round trips of one size: total, and each one-way leg (the backend's timestamp).
pub struct Rtt {
    pub rtt: Box<Histogram>,
    pub there: Box<Histogram>,
    pub back: Box<Histogram>,
}

/// A streamed batch: elapsed time and the events each way.
pub struct Stream {
    pub n: u32,
    pub elapsed_ns: u64,
    pub sent_events: u64,
    pub got_events: u64,
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
            wakeups: 0,
            spurious: 0,
            lost: 0,
            first_lost: None,
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

    /// The next response, waiting for it as io/ring.h prescribes.
    fn next_response(&mut self, len: u32, idle: Idle<'_>) -> Result<Response, PeerError> {
        let mut woke = false;
        loop {
            if let Some(r) = self.ep.take_response(&self.page, len)? {
                return Ok(r);
            }
            self.spurious += u64::from(woke);
            let seen = self.bell.kicks();
            if self.ep.final_check(&self.page)? > 0 {
                continue;
            }
            self.sleep(seen, idle)?;
            woke = true;
        }
    }

    /// Send one request and publish it, notifying if the backend asked.
    fn send(&mut self, len: u32) -> bool {
        let sent = self.ep.write_request(&self.page, len, now_ns()).is_some();
        if self.ep.push(&self.page) {
            self.bell.ring();
        }
        sent
    }

    /// `n` round trips of `len` bytes, one request outstanding at a time.
    pub fn rtt(&mut self, len: u32, n: u32, idle: Idle<'_>) -> Result<Rtt, PeerError> {
        let mut r = Rtt {
            rtt: Box::default(),
            there: Box::default(),
            back: Box::default(),
        };
        for _ in 0..n {
            let t0 = now_ns();
            self.send(len);
            let resp = self.next_response(len, idle)?;
            let t1 = now_ns();
            r.rtt.record(t1 - t0);
            r.there.record(resp.back_ts.saturating_sub(t0));
            r.back.record(t1.saturating_sub(resp.back_ts));
        }
        Ok(r)
    }

    /// Stream `n` messages of `len` bytes with the ring kept as full as it goes.
    pub fn stream(&mut self, len: u32, n: u32, idle: Idle<'_>) -> Result<Stream, PeerError> {
        let (ev0, kick0, t0) = (self.bell.sent, self.bell.kicks(), now_ns());
        let (mut sent, mut got) = (0u32, 0u32);
        while got < n {
            while sent < n && self.ep.write_request(&self.page, len, now_ns()).is_some() {
                sent += 1;
            }
            if self.ep.push(&self.page) {
                self.bell.ring();
            }
            let before = got;
            while let Some(_r) = self.ep.take_response(&self.page, len)? {
                got += 1;
            }
            if got == before && got < n {
                self.next_response(len, idle)?;
                got += 1;
            }
        }
        let elapsed_ns = now_ns() - t0;
        Ok(Stream {
            n,
            elapsed_ns,
            sent_events: self.bell.sent - ev0,
            got_events: self.bell.kicks() - kick0,
        })
    }

    /// Switch to the layout for `len`-byte payloads (the ring is idle between phases).
    pub fn set_size(&mut self, len: u32) -> bool {
        Layout::for_payload(len).is_some_and(|l| self.ep.set_layout(&self.page, l))
    }
}
