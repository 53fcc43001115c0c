//! The ring probe's figures, per message size, each with unit, count and
//! method, and its verdicts on the peer (wake-ups, completions, bytes, drain).

use super::back::BackDrv;
use super::front::FrontDrv;
use super::phases::{Race, Rtt, Stream};
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
    let m = format!(
        "{n} messages streamed, up to a ring's worth in flight, pvclock around the batch; {how}"
    );
    let per_s = |x: u64| (u128::from(x) * 1_000_000_000 / u128::from(ns)) as u64;
    ctx.metric(&format!("msgs_per_s_{len}B"), per_s(n), "messages/s", &m);
    let bytes = n * u64::from(len);
    let unit = "payload bytes/s (one way)";
    ctx.metric(&format!("bytes_per_s_{len}B"), per_s(bytes), unit, &m);
    let lm = format!("per request while streaming {n}: pvclock when the request was written -> when its verified response was taken; {how}");
    ctx.stats(&format!("latency_{len}B"), &s.latency, "ns", &lm);
    let bm = format!(
        "{} waits with every slot in flight (the frontend blocked until a response freed one), total of {n} messages streamed; {how}",
        s.full_waits
    );
    ctx.metric(&format!("blocked_full_ns_{len}B"), s.blocked_ns, "ns", &bm);
    let pm = (u128::from(s.blocked_ns) * 1000 / u128::from(ns)) as u64;
    ctx.metric(
        &format!("blocked_full_permille_{len}B"),
        pm,
        "per mille of the streaming time",
        &bm,
    );
    let per_k = |e: u64| e * 1000 / n.max(1);
    let em = format!("events per 1000 messages while streaming {n} (io/ring.h notification suppression; 1000 = one per message)");
    let unit = "events/1000 msgs";
    ctx.metric(
        &format!("events_to_back_per_1k_{len}B"),
        per_k(s.sent_events),
        unit,
        &em,
    );
    ctx.metric(
        &format!("events_to_front_per_1k_{len}B"),
        per_k(s.got_events),
        unit,
        &em,
    );
}

/// The backend's side: batches it published and the events it sent for them.
pub fn back(ctx: &mut Ctx<'_>, b: &BackDrv<'_>, how: &str) {
    let m = format!("responses published by the backend (policy {}) over the whole run, each push of one or more responses a batch; {how}", b.ep.policy);
    ctx.metric("back_batches", b.batches, "batches", &m);
    ctx.metric("back_responses", b.released, "responses", &m);
    let per = |x: u64| x * 1000 / b.batches.max(1);
    ctx.metric(
        "responses_per_1k_batches",
        per(b.released),
        "responses/1000 batches",
        &m,
    );
    ctx.metric(
        "events_to_front_per_1k_batches",
        per(b.bell.sent),
        "events/1000 batches",
        &m,
    );
}

/// The window phase's verdict: a batch published while the frontend was about to block.
pub fn race(ctx: &mut Ctx<'_>, r: &Race, published: u64) {
    let want = format_args!(
        "every sleep after a batch was published between the frontend's final check and its block ends by that batch's event ({} rounds)",
        r.rounds
    );
    let seen = format_args!(
        "{} sleeps, {published} batches published in the window, {} woken by the event, {} lost",
        r.sleeps,
        r.sleeps - r.lost,
        r.lost
    );
    let ok = r.lost == 0 && published > 0 && published >= r.sleeps;
    ctx.check("batch_before_block_wakes", ok, want, seen);
}

/// The verdicts of both ends (a backend in another domain reports its own).
pub fn verdicts(ctx: &mut Ctx<'_>, f: &FrontDrv<'_>, back_lost: Option<(u64, u64)>) {
    let m = "frontend woken by its event while waiting for a response";
    ctx.metric("front_wakeups", f.wakeups, "wake-ups", m);
    let m = "woken by an event but no new response";
    ctx.metric("front_spurious_wakeups", f.spurious, "wake-ups", m);
    let seen = f.first_lost.map_or(format!("{}", f.lost), |e| {
        format!("{} (first: {e})", f.lost)
    });
    ctx.check("no_lost_wakeups_front", f.lost == 0, 0, seen);
    if let Some((lost, served)) = back_lost {
        let seen = format_args!("{lost} ({served} requests served)");
        ctx.check("no_lost_wakeups_back", lost == 0, 0, seen);
    }
    completions(ctx, f);
}

fn completions(ctx: &mut Ctx<'_>, f: &FrontDrv<'_>) {
    let want = format_args!(
        "no completion seen before backend policy {} allows it",
        f.policy
    );
    let seen = match f.first_early {
        None => format!("0 of {} early", f.completions),
        Some(e) => format!(
            "{} of {} early; first: response {} seen at {} ns, due at {} ns ({} ns early)",
            f.early,
            f.completions,
            e.seq,
            e.seen,
            e.due,
            e.due - e.seen
        ),
    };
    ctx.check("completions_not_early", f.early == 0, want, seen);
    let want = format_args!(
        "{} payload bytes sent, echoed back and verified",
        f.bytes_sent
    );
    let seen = format_args!("{} bytes verified", f.bytes_verified);
    let ok = f.bytes_verified == f.bytes_sent;
    ctx.check("every_byte_verified", ok, want, seen);
    let want = "every wait on a full ring ends with a response";
    let seen = match f.full_stuck {
        None => format!("{} waits on a full ring, all drained", f.full_waits),
        Some(e) => format!("ring stuck full after {} waits: {e}", f.full_waits),
    };
    ctx.check("full_ring_drains", f.full_stuck.is_none(), want, seen);
}
