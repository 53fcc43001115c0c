//! Close and rebind: a port closed with an event still queued (raised while
//! delivery was off) leaves no pending state behind and, under FIFO, is taken
//! off the queue, so Xen hands the number out again; the new channel on it gets
//! no stale event and exactly the one it is sent.

use super::{delivered_after, on_event, pair, Ctx, HITS};
use crate::drv::{evtchn, timer};
use crate::time::now_ns;
use core::sync::atomic::Ordering::Acquire;

pub fn check(ctx: &mut Ctx<'_>) {
    let Ok((a, b)) = pair() else {
        return ctx.error("close and rebind: no loopback pair");
    };
    if let Err(e) = evtchn::bind(a, on_event) {
        return ctx.error(e);
    }
    // Delivery is off outside evtchn::block: the event stays queued on a.
    let _ = evtchn::send(b);
    let queued = evtchn::queued(a);
    evtchn::unbind(a);
    let closed = evtchn::close(b).and_then(|_| evtchn::close(a));
    let (pending, linked) = (evtchn::is_pending(a), evtchn::is_linked(a));
    ctx.check(
        "close_clears_queued_event",
        queued && closed.is_ok() && !pending && !linked,
        "queued before close; after it neither pending nor on a queue",
        format_args!(
            "queued {queued}, close {}, pending {pending}, linked {linked}",
            ok(&closed)
        ),
    );
    let Ok((a2, b2)) = pair() else {
        return ctx.error("close and rebind: no second loopback pair");
    };
    ctx.info(
        "rebound_ports",
        format_args!("{a} <-> {b} closed, then {a2} <-> {b2}"),
    );
    let h0 = HITS.load(Acquire);
    let bound = evtchn::bind(a2, on_event);
    timer::wait_until(now_ns() + 10_000_000, || false);
    let stale = HITS.load(Acquire) - h0;
    let _ = evtchn::send(b2);
    let delivered = delivered_after(h0 + stale);
    timer::wait_until(now_ns() + 10_000_000, || false);
    let n = HITS.load(Acquire) - h0;
    ctx.check(
        "rebind_delivers_once",
        bound.is_ok() && stale == 0 && delivered && n == 1,
        "no event before the first send, then exactly one",
        format_args!("bind {}, {stale} before the send, {n} in all", ok(&bound)),
    );
    evtchn::unbind(a2);
    let _ = evtchn::close(b2).and(evtchn::close(a2));
}

fn ok(r: &Result<(), crate::xen::XenError>) -> alloc::string::String {
    use alloc::string::ToString;
    r.map_or_else(|e| e.to_string(), |_| "ok".into())
}
