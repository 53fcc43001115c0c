//! Watching the ring while a phase waits: every 10 ms, whether the daemon has
//! picked the work up yet, and when another client's activity (the kick
//! watch) first showed.

use super::{KICK_SLACK_NS, KICK_TOKEN, SAMPLE_NS};
use crate::drv::xenstore::{Client, EVENTS};
use crate::time::now_ns;
use core::sync::atomic::Ordering;
use xp_core::xs::NotifyPolicy;

/// What happened while a phase waited, times relative to its start (ns).
#[derive(Default)]
pub struct Seen {
    pub picked: Option<u64>,
    pub done: Option<u64>,
    pub first_kick: Option<u64>,
    pub kicks: u64,
    pub events: u64,
}

impl Seen {
    fn take_kicks(&mut self, c: &mut Client, t0: u64) {
        while let Some(e) = c.watches.take(KICK_TOKEN) {
            self.first_kick.get_or_insert(e.at_ns.saturating_sub(t0));
            self.kicks += 1;
        }
    }
}

/// Samples every 10 ms until `done` or the deadline: when `picked` first held, and the
/// first event of the kick watch (one that follows the pick-up within [`KICK_SLACK_NS`]
/// came from the same wake-up of the daemon).
pub fn observe(
    c: &mut Client,
    t0: u64,
    deadline: u64,
    picked: impl Fn(&Client) -> bool,
    done: impl Fn(&Client) -> bool,
) -> Seen {
    let mut s = Seen::default();
    let ev0 = EVENTS.load(Ordering::Acquire);
    loop {
        s.take_kicks(c, t0);
        let now = now_ns();
        if s.picked.is_none() && picked(c) {
            s.picked = Some(now - t0);
        }
        if done(c) {
            s.done = Some(now - t0);
            break;
        }
        if now >= deadline || c.broken().is_some() {
            break;
        }
        c.wait_for((now + SAMPLE_NS).min(deadline), |c| done(c));
    }
    if s.done.is_some() {
        // The measurement is over: consume as the spec says, or a watch event queued
        // behind the reply could stay half-written in the ring.
        c.set_policy(NotifyPolicy::SPEC);
        c.notify();
        c.wait_for(now_ns() + KICK_SLACK_NS, |_| false);
        s.take_kicks(c, t0);
    }
    s.events = EVENTS.load(Ordering::Acquire) - ev0;
    s
}
