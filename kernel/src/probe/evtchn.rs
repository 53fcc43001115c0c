//! Probe `evtchn`: event-channel conformance and delivery latency.
//!
//! A loopback pair (alloc_unbound to DOMID_SELF, bind_interdomain to it)
//! exercises the 2-level ABI end to end: status reports both ends, a send
//! reaches the other end's handler (latency measured), an event sent while
//! the port is masked is held pending and delivered on unmask (the
//! Mini-OS rule: unmask re-checks pending, so no edge is lost), SCHEDOP_poll
//! on a port wakes when it is raised, and close makes status say closed.

use super::{Ctx, RunFn};
use crate::drv::{evtchn, timer};
use crate::time::now_ns;
use alloc::boxed::Box;
use core::sync::atomic::{AtomicU64, Ordering::*};
use xp_core::cmdline::{OptKind, OptSpec, ProbeSpec};
use xp_core::hist::Histogram;
use xp_core::xen::event_channel::EvtchnStat;
use xp_core::xen::hypercall::DOMID_SELF;

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "evtchn",
    about: "event channels: loopback lifecycle, masked-edge retention, poll, delivery latency",
    options: &[OptSpec {
        key: "samples",
        kind: OptKind::U64 {
            min: 1,
            max: 1_000_000,
        },
        help: "latency samples (default 1000)",
    }],
    run,
};

static HITS: AtomicU64 = AtomicU64::new(0);
static HIT_NS: AtomicU64 = AtomicU64::new(0);

fn on_event(_port: u32) {
    HIT_NS.store(now_ns(), Release);
    HITS.fetch_add(1, AcqRel);
}

/// Wait up to 100 ms for the handler count to pass `before`.
fn delivered_after(before: u64) -> bool {
    timer::wait_until(now_ns() + 100_000_000, || HITS.load(Acquire) > before)
}

pub fn run(ctx: &mut Ctx<'_>) {
    let pair = evtchn::alloc_unbound(DOMID_SELF)
        .and_then(|a| evtchn::bind_interdomain(DOMID_SELF, a).map(|b| (a, b)));
    let (a, b) = match pair {
        Ok(p) => p,
        Err(e) => return ctx.error(format_args!("loopback pair: {e}")),
    };
    ctx.info("loopback_ports", format_args!("{a} <-> {b}"));
    let st = evtchn::status(a).map(|s| s.status);
    ctx.check(
        "status_interdomain",
        st == Ok(EvtchnStat::INTERDOMAIN),
        "interdomain",
        format_args!("{:?}", st.map(|s| s.name())),
    );
    if let Err(e) = evtchn::bind(a, on_event) {
        return ctx.error(e);
    }
    let h0 = HITS.load(Acquire);
    let _ = evtchn::send(b);
    ctx.check(
        "send_delivers",
        delivered_after(h0),
        "handler runs within 100 ms",
        HITS.load(Acquire) - h0,
    );
    masked_edge(ctx, a, b);
    poll_wakes(ctx, a, b);
    latency(ctx, b);
    evtchn::unbind(a);
    let closed = evtchn::close(b)
        .and_then(|_| evtchn::status(b))
        .map(|s| s.status);
    ctx.check(
        "close_then_status",
        closed == Ok(EvtchnStat::CLOSED),
        "closed",
        format_args!("{:?}", closed.map(|s| s.name())),
    );
    let _ = evtchn::close(a);
    let unexpected = evtchn::UNEXPECTED.load(Relaxed);
    ctx.info("events_on_unbound_ports", unexpected);
}

/// An event sent while masked stays pending, is not delivered, and arrives on unmask.
fn masked_edge(ctx: &mut Ctx<'_>, a: u32, b: u32) {
    evtchn::mask(a);
    let h0 = HITS.load(Acquire);
    let _ = evtchn::send(b);
    let early = delivered_after(h0);
    let pending = evtchn::is_pending(a);
    ctx.check(
        "masked_not_delivered",
        !early && pending,
        "held pending, no handler",
        format_args!("delivered {early}, pending {pending}"),
    );
    evtchn::unmask(a);
    ctx.check(
        "unmask_delivers_held_edge",
        delivered_after(h0),
        "handler runs after unmask",
        HITS.load(Acquire) - h0,
    );
}

/// SCHEDOP_poll on a masked port returns once it is pending.
fn poll_wakes(ctx: &mut Ctx<'_>, a: u32, b: u32) {
    evtchn::mask(a);
    crate::drv::evtchn::clear_pending(a);
    let _ = evtchn::send(b);
    let t = now_ns();
    let rc = evtchn::poll(&[a], t + 100_000_000);
    let waited = now_ns() - t;
    ctx.check(
        "poll_returns_on_pending",
        rc == 0 && waited < 100_000_000,
        "rc 0 before the 100 ms timeout",
        format_args!("rc {rc} after {waited} ns"),
    );
    crate::drv::evtchn::clear_pending(a);
    evtchn::unmask(a);
}

/// Send -> handler latency over the loopback pair.
fn latency(ctx: &mut Ctx<'_>, b: u32) {
    let n = ctx.cmd.opt_u64("evtchn", "samples", 1000);
    let mut h = Box::new(Histogram::default());
    let mut lost = 0u64;
    for _ in 0..n {
        let h0 = HITS.load(Acquire);
        let t = now_ns();
        let _ = evtchn::send(b);
        if delivered_after(h0) {
            h.record(HIT_NS.load(Acquire).saturating_sub(t));
        } else {
            lost += 1;
        }
    }
    ctx.stats(
        "send_to_handler",
        &h,
        "ns",
        "EVTCHNOP_send on a loopback pair -> handler timestamp, events unmasked by SCHEDOP_block",
    );
    ctx.check("no_lost_events", lost == 0, 0, lost);
}
