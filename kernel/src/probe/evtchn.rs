//! Probe `evtchn`: event-channel conformance and delivery latency.
//!
//! Runs under whichever ABI is active (`evtchn.abi=2l|fifo`, reported as
//! `evtchn_abi`). A loopback pair (alloc_unbound to DOMID_SELF,
//! bind_interdomain to it) exercises it end to end: status reports both ends,
//! a send reaches the other end's handler (latency measured), an event raised
//! while delivery is off waits on vCPU 0 (its FIFO queue or 2-level selector)
//! and is handled there, an event sent while the port is masked is held
//! pending and delivered on unmask (unmask re-checks pending, so no edge is
//! lost), SCHEDOP_poll on a port wakes when it is raised, and close makes
//! status say closed. Then: delivery order (FIFO priorities and FIFO order
//! within a priority; 2-level: ENOSYS and port order), close with an event
//! queued and rebind on the same numbers, ports above 4095 (FIFO) or the
//! 2-level limit, and (FIFO) that Xen's queue links were always valid.

mod limits;
mod order;
mod rebind;

use super::{Ctx, RunFn};
use crate::drv::{evtchn, timer};
use crate::time::now_ns;
use alloc::boxed::Box;
use core::sync::atomic::{AtomicU64, Ordering::*};
use xp_core::cmdline::{Num, Opt, ProbeSpec};
use xp_core::hist::Histogram;
use xp_core::xen::event_channel::EvtchnStat;
use xp_core::xen::hypercall::DOMID_SELF;

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "evtchn",
    about: "event channels: loopback lifecycle, masked-edge retention, poll, delivery latency",
    options: &[SAMPLES.spec],
    run,
};

const SAMPLES: Opt<Num> = Opt::<Num>::new("samples", 1, 1_000_000, 1000, "latency samples");

static HITS: AtomicU64 = AtomicU64::new(0);
static HIT_NS: AtomicU64 = AtomicU64::new(0);

/// A loopback pair: an unbound port for ourselves, and the port bound to it.
fn pair() -> Result<(u32, u32), crate::xen::XenError> {
    evtchn::alloc_unbound(DOMID_SELF)
        .and_then(|a| evtchn::bind_interdomain(DOMID_SELF, a).map(|b| (a, b)))
}

fn on_event(_port: u32) {
    HIT_NS.store(now_ns(), Release);
    HITS.fetch_add(1, AcqRel);
}

/// Wait up to 100 ms for the handler count to pass `before`.
fn delivered_after(before: u64) -> bool {
    timer::wait_until(now_ns() + 100_000_000, || HITS.load(Acquire) > before)
}

pub fn run(ctx: &mut Ctx<'_>) {
    ctx.info("evtchn_abi", evtchn::abi_name());
    let (a, b) = match pair() {
        Ok(p) => p,
        Err(e) => return ctx.error(format_args!("loopback pair: {e}")),
    };
    ctx.info("loopback_ports", format_args!("{a} <-> {b}"));
    let st = evtchn::status(a).map(|s| s.status);
    ctx.check(
        "status_interdomain",
        st == Ok(EvtchnStat::INTERDOMAIN),
        "interdomain",
        st.map_or_else(|e| alloc::format!("{e}"), |s| s.name().into()),
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
    queued_on_vcpu(ctx, a, b);
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
        closed.map_or_else(|e| alloc::format!("{e}"), |s| s.name().into()),
    );
    let _ = evtchn::close(a);
    order::check(ctx);
    rebind::check(ctx);
    limits::check(ctx);
    let unexpected = evtchn::UNEXPECTED.load(Relaxed);
    ctx.info("events_on_unbound_ports", unexpected);
    queue_protocol(ctx);
}

/// An event raised while delivery is off waits on this vCPU (FIFO: linked on its queue
/// with READY set; 2-level: pending with its selector bit) and is handled when it blocks.
fn queued_on_vcpu(ctx: &mut Ctx<'_>, a: u32, b: u32) {
    let h0 = HITS.load(Acquire);
    let _ = evtchn::send(b);
    let queued = evtchn::queued(a);
    let handled = delivered_after(h0);
    ctx.check(
        "queued_per_vcpu",
        queued && handled,
        "signalled to vCPU 0 (its queue / selector), then handled there",
        format_args!("queued {queued}, handled {handled}"),
    );
}

/// FIFO: Xen's HEAD/LINK values always named ports with event words, and every word
/// update settled (xp_core::evtchn_fifo counts what it refused to follow).
fn queue_protocol(ctx: &mut Ctx<'_>) {
    if evtchn::abi_name() != "fifo" {
        return;
    }
    let (bits, vcpus, pages) = evtchn::fifo_facts();
    ctx.info(
        "fifo",
        format_args!("LINK {bits} bits, {vcpus} control blocks, {pages} event-array pages"),
    );
    let (bad, stuck) = (
        evtchn::FIFO_BAD_LINKS.load(Relaxed),
        evtchn::FIFO_STUCK.load(Relaxed),
    );
    let first = evtchn::FIFO_FIRST_BAD
        .get()
        .map(|b| alloc::format!(" (first: {b})"));
    ctx.check(
        "fifo_queue_links_valid",
        bad == 0 && stuck == 0 && bits == 17,
        "LINK width 17, every HEAD/LINK a port with an event word, every update settled",
        format_args!(
            "LINK {bits}, {bad} bad links{}, {stuck} stuck words",
            first.unwrap_or_default()
        ),
    );
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
    let n = ctx.opt(&SAMPLES);
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
