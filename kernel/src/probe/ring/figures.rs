//! The ring probe's figures, per message size, each with unit, count and method.

use super::front::{FrontDrv, Rtt, Stream};
use crate::probe::Ctx;
use alloc::format;

const RTT_METHOD: &str =
    "one request outstanding: pvclock before writing the request -> after verifying its echo; \
     legs split by the backend's pvclock stamp (Xen system time, shared by all domains)";

pub fn rtt(ctx: &mut Ctx<'_>, how: &str, len: u32, r: &Rtt) {
    let m = format!("{RTT_METHOD}; {how}");
    ctx.stats(&format!("rtt_{len}B"), &r.rtt, "ns", &m);
    ctx.stats(&format!("one_way_to_back_{len}B"), &r.there, "ns", &m);
    ctx.stats(&format!("one_way_to_front_{len}B"), &r.back, "ns", &m);
}

pub fn stream(ctx: &mut Ctx<'_>, how: &str, len: u32, s: &Stream) {
    let ns = s.elapsed_ns.max(1);
    let n = u64::from(s.n);
    let m =
        format!("{n} messages streamed with the ring kept full, pvclock around the batch; {how}");
    ctx.metric(
        &format!("msgs_per_s_{len}B"),
        n * 1_000_000_000 / ns,
        "messages/s",
        &m,
    );
    ctx.metric(
        &format!("bytes_per_s_{len}B"),
        n * u64::from(len) * 1_000_000_000 / ns,
        "payload bytes/s (one way)",
        &m,
    );
    let per_k = |e: u64| e * 1000 / n.max(1);
    let em = format!("events per 1000 messages while streaming {n} (io/ring.h notification suppression; 1000 = one per message)");
    ctx.metric(
        &format!("events_to_back_per_1k_{len}B"),
        per_k(s.sent_events),
        "events/1000 msgs",
        &em,
    );
    ctx.metric(
        &format!("events_to_front_per_1k_{len}B"),
        per_k(s.got_events),
        "events/1000 msgs",
        &em,
    );
}

/// The lost-wake-up verdicts of both ends (a backend in another domain reports its own).
pub fn wakeups(ctx: &mut Ctx<'_>, f: &FrontDrv<'_>, back_lost: Option<(u64, u64)>) {
    ctx.metric(
        "front_wakeups",
        f.wakeups,
        "wake-ups",
        "frontend woken by its event while waiting for a response",
    );
    ctx.metric(
        "front_spurious_wakeups",
        f.spurious,
        "wake-ups",
        "woken by an event but no new response",
    );
    let seen = f.first_lost.map_or(format!("{}", f.lost), |e| {
        format!("{} (first: {e})", f.lost)
    });
    ctx.check("no_lost_wakeups_front", f.lost == 0, 0, seen);
    if let Some((lost, served)) = back_lost {
        ctx.check(
            "no_lost_wakeups_back",
            lost == 0,
            0,
            format_args!("{lost} ({served} requests served)"),
        );
    }
}
