//! The frontend's measurement phases: round trips one request at a time,
//! streaming with up to a ring's worth in flight (blocking on a full ring until
//! responses free slots), and, in loopback, batches published exactly while the
//! frontend is about to block.

use super::front::{FrontDrv, Idle};
use crate::drv::timer;
use crate::time::now_ns;
use alloc::boxed::Box;
use xp_core::hist::Histogram;
use xp_core::ringmsg::PeerError;

/// Round trips of one size: total, and each one-way leg (the backend's timestamp).
pub struct Rtt {
    pub rtt: Box<Histogram>,
    pub there: Box<Histogram>,
    pub back: Box<Histogram>,
}

/// A streamed batch: elapsed time, events each way, per-request latency, full-ring waits.
pub struct Stream {
    pub n: u32,
    pub elapsed_ns: u64,
    pub sent_events: u64,
    pub got_events: u64,
    pub latency: Box<Histogram>,
    pub full_waits: u64,
    pub blocked_ns: u64,
}

/// The window phase: sleeps that followed a batch published in the window, and lost ones.
pub struct Race {
    pub rounds: u32,
    pub sleeps: u64,
    pub lost: u64,
}

/// A wait that does nothing (no window hook).
pub fn nothing() {}

impl FrontDrv<'_> {
    /// `n` round trips of `len` bytes, one request outstanding at a time (under `epoch`,
    /// each after a pause drawn over `[0, E]`: see `Policy::think_ns`).
    pub fn rtt(&mut self, len: u32, n: u32, idle: Idle<'_>) -> Result<Rtt, PeerError> {
        let mut r = Rtt {
            rtt: Box::default(),
            there: Box::default(),
            back: Box::default(),
        };
        for i in 0..n {
            let think = self.policy.think_ns(i);
            if think > 0 {
                timer::wait_until(now_ns() + think, || false);
            }
            let t0 = now_ns();
            self.write(len);
            self.push();
            let (resp, t1) = self.next_response(len, idle, &mut nothing)?;
            r.rtt.record(t1 - t0);
            r.there.record(resp.back_ts.saturating_sub(t0));
            r.back.record(t1.saturating_sub(resp.back_ts));
        }
        Ok(r)
    }

    /// Stream `n` messages of `len` bytes with the ring kept as full as it goes.
    pub fn stream(&mut self, len: u32, n: u32, idle: Idle<'_>) -> Result<Stream, PeerError> {
        let mut s = Stream {
            n,
            elapsed_ns: now_ns(),
            sent_events: self.bell.sent,
            got_events: self.bell.kicks(),
            latency: Box::default(),
            full_waits: 0,
            blocked_ns: 0,
        };
        let (mut sent, mut got) = (0u32, 0u32);
        while got < n {
            while sent < n && self.write(len) {
                sent += 1;
            }
            self.push();
            let before = got;
            while let Some((r, seen)) = self.take(len)? {
                s.latency.record(seen.saturating_sub(r.sent_ts));
                got += 1;
            }
            if got == before && got < n {
                let (r, seen) = self.wait_stream(len, sent < n, &mut s, idle)?;
                s.latency.record(seen.saturating_sub(r.sent_ts));
                got += 1;
            }
        }
        s.elapsed_ns = now_ns() - s.elapsed_ns;
        s.sent_events = self.bell.sent - s.sent_events;
        s.got_events = self.bell.kicks() - s.got_events;
        Ok(s)
    }

    /// Wait for the next response; `full`: requests remain to send but no slot is free.
    fn wait_stream(
        &mut self,
        len: u32,
        full: bool,
        s: &mut Stream,
        idle: Idle<'_>,
    ) -> Result<(xp_core::ringep::Response, u64), PeerError> {
        let t = now_ns();
        let res = self.next_response(len, idle, &mut nothing);
        if full {
            self.full_waits += 1;
            s.full_waits += 1;
            s.blocked_ns += now_ns() - t;
            if let Err(e) = res {
                self.full_stuck.get_or_insert(e);
            }
        }
        res
    }

    /// `rounds` times: fill the ring, then collect it with `window` run between every
    /// final check that found nothing and the sleep; `window` publishes a batch there.
    pub fn race(
        &mut self,
        len: u32,
        rounds: u32,
        idle: Idle<'_>,
        window: Idle<'_>,
    ) -> Result<Race, PeerError> {
        let (w0, lost0) = (self.wakeups, self.lost);
        for _ in 0..rounds {
            let mut sent = 0;
            while self.write(len) {
                sent += 1;
            }
            self.push();
            for _ in 0..sent {
                self.next_response(len, idle, window)?;
            }
        }
        Ok(Race {
            rounds,
            sleeps: self.wakeups - w0 + self.lost - lost0,
            lost: self.lost - lost0,
        })
    }
}
