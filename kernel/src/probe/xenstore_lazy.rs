//! Probe `xenstore-lazy`: how long xenstored takes to notice work that a
//! client did not signal (xenstore-ring.txt says a client "must" notify).
//!
//! - `request`: a READ is written to the ring without a notify (lazy
//!   producer, lazy consumer). Measured: when the daemon consumed it
//!   (req_cons sampled every 10 ms) and when its reply arrived. oxenstored
//!   scans every ring every ~20 s and serves a "lazy domain" it finds;
//!   C xenstored looks at every ring whenever it wakes for any reason, and
//!   otherwise never. Observed in the lab: oxenstored 30 s; C xenstored
//!   never while idle, at once when another client writes.
//! - `consume`: a READ whose 2016-byte reply cannot fit the 1024-byte ring;
//!   once the daemon has filled the ring (and so must stall), we consume it
//!   without a notify (lazy consumer). Measured: when the daemon writes the
//!   rest. Observed: oxenstored 15 s (its periodic work); C xenstored only
//!   with another client's activity.
//!
//! Another client's activity is made visible by a watch on `data/xp-kick`
//! (e.g. a dom0 script writing /local/domain/$DOMID/data/xp-kick in a loop):
//! its first event says when that activity began. If nothing happened by
//! the timeout, the probe notifies and reports how the daemon then reacted.

mod observe;

use super::xenstore::common::session;
use super::{Ctx, RunFn};
use crate::drv::timer;
use crate::drv::xenstore::{Client, XsErr};
use crate::time::now_ns;
use alloc::format;
use alloc::string::String;
use observe::{observe, Seen};
use xp_core::cmdline::{Dur, Opt, ProbeSpec, Word};
use xp_core::xs::fingerprint::Impl;
use xp_core::xs::{NotifyPolicy, ProducerMode, Request, XENSTORE_RING_SIZE};

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "xenstore-lazy",
    about:
        "xenstored pick-up time of an un-notified request and of an un-notified reply consumption",
    options: &[TIMEOUT.spec, PHASES.spec],
    run,
};

const TIMEOUT: Opt<Dur> = Opt::<Dur>::new(
    "timeout",
    100_000_000,
    600_000_000_000,
    60_000_000_000,
    "how long each phase waits for the daemon",
);
const PHASES: Opt<Word> = Opt::<Word>::new(
    "phases",
    &["both", "request", "consume"],
    "both",
    "which measurements to run",
);

const NODE: &[u8] = b"data/xp-lazy";
const BIG: &[u8] = b"data/xp-lazy-big";
const BIG_LEN: usize = 2000;
const KICK: &[u8] = b"data/xp-kick";
const KICK_TOKEN: &[u8] = b"xp-kick";
const SAMPLE_NS: u64 = 10_000_000;
/// oxenstored's documented worst case: a 20 s scan interval checked every 15 s, plus margin.
const RING_SCAN_MAX_NS: u64 = 40_000_000_000;
/// A kick event read this soon after the pick-up woke the daemon with it.
const KICK_SLACK_NS: u64 = 100_000_000;

pub fn run(ctx: &mut Ctx<'_>) {
    let timeout = ctx.opt(&TIMEOUT);
    let phases = ctx.opt(&PHASES);
    session(ctx, |ctx, c| {
        let imp = super::xenstore::identify(ctx, c)?;
        c.write(0, NODE, b"lazy")?;
        c.write(0, BIG, &[b'b'; BIG_LEN])?;
        c.watch(KICK, KICK_TOKEN)?;
        settle(c, 20_000_000);
        if phases != "consume" {
            request_phase(ctx, c, imp, timeout)?;
            settle(c, 300_000_000);
        }
        if phases != "request" {
            consume_phase(ctx, c, imp, timeout)?;
        }
        c.set_policy(NotifyPolicy::SPEC);
        c.unwatch(KICK, KICK_TOKEN)?;
        c.rm(0, NODE)?;
        c.rm(0, BIG)
    });
}

/// Waits `ns`, then drops queued kick events (the one a new watch fires at once,
/// earlier kicks), so a phase starts without another client's burst in progress.
fn settle(c: &mut Client, ns: u64) {
    c.wait_for(now_ns() + ns, |_| false);
    while c.watches.take(KICK_TOKEN).is_some() {}
}

fn secs(ns: u64) -> String {
    format!("{}.{:03} s", ns / 1_000_000_000, ns / 1_000_000 % 1000)
}

/// Reports a phase: metrics, an outcome code (`picked_up_idle`, `picked_up_with_kick`,
/// `not_picked_up`) and a sentence.
fn report(ctx: &mut Ctx<'_>, phase: &str, what: &str, s: &Seen, timeout: u64, method: &str) {
    let m = |k: &str| format!("{phase}_{k}");
    if let Some(t) = s.picked {
        ctx.metric(&m("pickup"), t, "ns", method);
    }
    if let Some(t) = s.done {
        ctx.metric(
            &m("reply"),
            t,
            "ns",
            "until the complete reply was read (woken by its event)",
        );
    }
    if let Some(t) = s.first_kick {
        ctx.metric(
            &m("first_kick"),
            t,
            "ns",
            "first event of the data/xp-kick watch: another client's activity",
        );
    }
    let code = match (s.picked, s.first_kick) {
        (None, _) => "not_picked_up",
        (Some(p), Some(k)) if k <= p + KICK_SLACK_NS => "picked_up_with_kick",
        (Some(_), _) => "picked_up_idle",
    };
    ctx.info(&m("outcome"), code);
    let kick = match s.first_kick {
        Some(k) => format!(
            "another client's activity first seen at {} ({} kicks)",
            secs(k),
            s.kicks
        ),
        None => String::from("no other client activity seen"),
    };
    let detail = match s.picked {
        Some(p) => format!(
            "xenstored did {what} {} after the un-notified update; {kick}; {} store events",
            secs(p),
            s.events
        ),
        None => format!("xenstored did not {what} within {}; {kick}", secs(timeout)),
    };
    ctx.info(&m("detail"), detail);
}

/// The documented behaviour of the fingerprinted daemon: C xenstored reads a ring only
/// when woken (by this domain's notify or another client's activity); oxenstored finds an
/// un-notified request with its periodic ring scan (~20 s, checked every 15 s) and
/// resumes a half-written reply in its periodic work (observed 15 s), both without a notify.
fn judge(ctx: &mut Ctx<'_>, imp: Option<Impl>, phase: &str, s: &Seen) {
    let kicked = matches!((s.picked, s.first_kick), (Some(p), Some(k)) if k <= p + KICK_SLACK_NS);
    let (ok, expected) = match (imp, phase) {
        (Some(Impl::C), _) => (
            s.picked.is_none() || kicked,
            "only when another client's activity wakes it (C xenstored)",
        ),
        (Some(Impl::Ocaml), "request") => (
            kicked || s.picked.is_some_and(|p| p <= RING_SCAN_MAX_NS),
            "within the ring-scan period, <= 40 s (oxenstored)",
        ),
        (Some(Impl::Ocaml), _) => (
            kicked || s.picked.is_some_and(|p| p <= RING_SCAN_MAX_NS),
            "by itself within its periodic work, <= 40 s (oxenstored)",
        ),
        (None, _) => (false, "a fingerprinted implementation"),
    };
    let observed = match s.picked {
        Some(p) if kicked => format!("at {} with another client's activity", secs(p)),
        Some(p) => format!("at {} while idle", secs(p)),
        None => String::from("not picked up"),
    };
    ctx.check(
        &format!("{phase}_pickup_as_documented"),
        ok,
        expected,
        observed,
    );
}

/// After a phase that timed out: notify as the spec says and see the reply come.
fn rescue(ctx: &mut Ctx<'_>, c: &mut Client, phase: &str, req_id: u32) -> Result<(), XsErr> {
    c.set_policy(NotifyPolicy::SPEC);
    let t = now_ns();
    c.notify();
    let r = c.wait(req_id, t + c.timeout_ns);
    let took = now_ns() - t;
    ctx.check(
        &format!("{phase}_answered_after_notify"),
        r.is_ok(),
        "the reply once we notify",
        format_args!(
            "{} after the notify",
            match &r {
                Ok(_) => secs(took),
                Err(e) => format!("{e}"),
            }
        ),
    );
    r.map(drop)
}

fn request_phase(
    ctx: &mut Ctx<'_>,
    c: &mut Client,
    imp: Option<Impl>,
    timeout: u64,
) -> Result<(), XsErr> {
    c.set_policy(NotifyPolicy::new(ProducerMode::Lazy, true));
    let t0 = now_ns();
    let id = c.send(&Request::Read { path: NODE }, 0)?;
    let consumed = |c: &Client| {
        let s = c.ring_state();
        s.req_cons == s.req_prod
    };
    let s = observe(c, t0, t0 + timeout, consumed, |c| c.has_reply(id));
    let method = "READ written without notify (lazy producer and consumer); req_cons == req_prod sampled every 10 ms";
    report(ctx, "request", "consume the request", &s, timeout, method);
    judge(ctx, imp, "request", &s);
    match s.done {
        Some(_) => c.finish(id).map(drop),
        None => rescue(ctx, c, "request", id),
    }
}

fn consume_phase(
    ctx: &mut Ctx<'_>,
    c: &mut Client,
    imp: Option<Impl>,
    timeout: u64,
) -> Result<(), XsErr> {
    c.set_policy(NotifyPolicy::new(ProducerMode::Eager, true));
    let id = c.send(&Request::Read { path: BIG }, 0)?;
    // Read nothing until the daemon has filled the ring and must stall on it (it writes a
    // reply in pieces, notifying each; reading early would just let it go on writing).
    let full = || c.replies_waiting().is_ok_and(|n| n >= XENSTORE_RING_SIZE);
    if !timer::wait_until(now_ns() + c.timeout_ns, full) {
        ctx.info(
            "consume_detail",
            "the daemon did not fill the reply ring: nothing to measure",
        );
        return c.finish(id).map(drop);
    }
    c.pump();
    let first = c.partial_reply();
    ctx.info(
        "consume_first_chunk",
        format_args!(
            "{first} of {} bytes (a full ring), consumed without notify",
            16 + BIG_LEN
        ),
    );
    let t0 = now_ns();
    let more = |c: &Client| c.has_reply(id) || c.partial_reply() > first;
    let s = observe(c, t0, t0 + timeout, more, |c| c.has_reply(id));
    let method = "2016-byte READ reply; after reading the first ring-full without notify, until more reply bytes arrived, sampled every 10 ms";
    report(
        ctx,
        "consume",
        "write the rest of the reply",
        &s,
        timeout,
        method,
    );
    judge(ctx, imp, "consume", &s);
    match s.done {
        Some(_) => c.finish(id).map(drop),
        None => rescue(ctx, c, "consume", id),
    }
}
