//! Probe `ring`: io/ring.h shared rings between a frontend and a backend.
//!
//! The frontend grants one page and an event channel to the backend; requests
//! carry a sequence number, a timestamp and a patterned payload that the
//! backend echoes in place (xp_core::ringep). Per message size it measures the
//! round trip one request at a time (histogram and percentiles, plus both
//! one-way legs from the shared Xen system time), then streams messages with
//! the ring kept full (messages/s, payload bytes/s, events per message each
//! way: how well io/ring.h's notification suppression works). A response that
//! is published while the frontend sleeps without an event arriving is a lost
//! wake-up: FAILURE.
//!
//! Roles: `loopback` (both ends in this domain, over a self-grant and a
//! loopback event-channel pair); `front` / `back` (two domains, xenbus-style
//! handshake over xenstore); `hostile` (a frontend that attacks its backend
//! with `attacks`). A backend facing a broken peer reports a FAILURE naming
//! what the peer did, disconnects and keeps serving the next connection; it
//! never trusts an index, length or slot size read from the shared page.

mod attack;
mod back;
mod figures;
mod front;
mod hostile;
mod loopback;
mod phases;
mod remote;
mod remote_back;
pub(crate) mod store;
mod xenbus;

use super::{Ctx, RunFn};
use alloc::vec::Vec;
use xp_core::cmdline::{Dur, Given, Num, Nums, Opt, OptType, ProbeSpec, Text, Word, Words};
use xp_core::ringmsg::MAX_PAYLOAD;
use xp_core::ringpol::{self, Policy};

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "ring",
    about: "io/ring.h shared rings: round trip, throughput, notifications per message, lost wake-ups, hostile peers",
    options: &[
        ROLE.spec,
        MESSAGES.spec,
        STREAM.spec,
        SIZES.spec,
        TIMEOUT.spec,
        ATTACKS.spec,
        PEER.spec,
        BACK.spec,
    ],
    run,
};

const ROLE: Opt<Word> = Opt::<Word>::new(
    "role",
    &["loopback", "front", "back", "hostile"],
    "loopback",
    "which end(s) this domain runs",
);
const MESSAGES: Opt<Num> = Opt::<Num>::new("messages", 1, 1_000_000, 200, "round trips per size");
const STREAM: Opt<Num> =
    Opt::<Num>::new("stream", 1, 10_000_000, 2000, "messages streamed per size");
const SIZES: Opt<Nums> = Opt::<Nums>::new(
    "sizes",
    (0, MAX_PAYLOAD as u64),
    &[16, 256, 1008],
    "payload bytes per message",
);
const TIMEOUT: Opt<Dur> = Opt::<Dur>::new(
    "timeout",
    1_000_000,
    60_000_000_000,
    2_000_000_000,
    "how long to wait for a response before judging the peer",
);
const ATTACKS: Opt<Given<Words>> = Opt::<Given<Words>>::new(
    "attacks",
    attack::NAMES,
    "hostile behaviours to run (role=hostile: all front attacks when not given; loopback: none)",
);
const PEER: Opt<Given<Num>> = Opt::<Given<Num>>::new(
    "peer",
    0,
    0x7fef,
    "the other end's domid (back: which frontend to serve)",
);
const BACK: Opt<Given<Text>> = Opt::<Given<Text>>::form(
    "back",
    |v| Policy::parse(v).is_ok(),
    &[ringpol::ACCEPTED],
    "the backend's completion policy (loopback, back; echo when not given): delay:D each, epoch:E batches at each boundary, jitter:D uniform over [0, 2D]",
);

/// What the command line asked for.
pub struct Cfg {
    pub messages: u32,
    pub stream: u32,
    pub sizes: Vec<u32>,
    pub timeout_ns: u64,
    pub attacks: Vec<attack::Attack>,
    pub peer: Option<u16>,
    /// The backend's completion policy (`ring.back=`).
    pub policy: Policy,
}

fn cfg(ctx: &mut Ctx<'_>, role: &str) -> Cfg {
    let default_attacks = if role == "hostile" {
        attack::FRONT_DEFAULT
    } else {
        ""
    };
    let attacks = ctx.opt(&ATTACKS);
    let attacks = attacks.unwrap_or_else(|| Words::read(Some(default_attacks), ""));
    Cfg {
        messages: ctx.opt(&MESSAGES) as u32,
        stream: ctx.opt(&STREAM) as u32,
        sizes: ctx
            .opt(&SIZES)
            .as_slice()
            .iter()
            .map(|&s| s as u32)
            .collect(),
        timeout_ns: ctx.opt(&TIMEOUT),
        attacks: attacks.filter_map(attack::Attack::from_name).collect(),
        peer: ctx.opt(&PEER).map(|p| p as u16),
        policy: ctx
            .opt(&BACK)
            .and_then(|v| Policy::parse(v).ok())
            .unwrap_or_default(),
    }
}

/// A policy only a backend runs, and never one that holds completions as long as a frontend
/// waits for them.
fn policy_ok(ctx: &mut Ctx<'_>, role: &str, cfg: &Cfg) -> bool {
    if ctx.opt(&BACK).is_some() && matches!(role, "front" | "hostile") {
        ctx.error("ring.back is the backend's completion policy: give it to the domain with ring.role=back (a frontend reads it from the backend's xenstore directory)");
        return false;
    }
    match cfg.policy.fits(cfg.timeout_ns) {
        Ok(()) => true,
        Err(e) => {
            ctx.error(format_args!("ring.back={}: {e}", cfg.policy));
            false
        }
    }
}

pub fn run(ctx: &mut Ctx<'_>) {
    let role = ctx.opt(&ROLE);
    let cfg = cfg(ctx, role);
    if !policy_ok(ctx, role, &cfg) {
        return;
    }
    match role {
        "loopback" => loopback::run(ctx, &cfg),
        "front" => remote::front(ctx, &cfg),
        "back" => remote_back::back(ctx, &cfg),
        _ => remote::hostile(ctx, &cfg),
    }
}
