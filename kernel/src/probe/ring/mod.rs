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
use xp_core::cmdline::{OptKind, OptSpec, ProbeSpec};
use xp_core::ringmsg::MAX_PAYLOAD;
use xp_core::ringpol::{self, Policy};

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "ring",
    about: "io/ring.h shared rings: round trip, throughput, notifications per message, lost wake-ups, hostile peers",
    options: &[
        OptSpec { key: "role", kind: OptKind::Choice(&["loopback", "front", "back", "hostile"]), help: "which end(s) this domain runs (default loopback)" },
        OptSpec { key: "messages", kind: OptKind::U64 { min: 1, max: 1_000_000 }, help: "round trips per size (default 200)" },
        OptSpec { key: "stream", kind: OptKind::U64 { min: 1, max: 10_000_000 }, help: "messages streamed per size (default 2000)" },
        OptSpec { key: "sizes", kind: OptKind::U64List { min: 0, max: MAX_PAYLOAD as u64 }, help: "payload bytes per message (default 16,256,1008)" },
        OptSpec { key: "timeout", kind: OptKind::Duration { min_ns: 1_000_000, max_ns: 60_000_000_000 }, help: "how long to wait for a response before judging the peer (default 2s)" },
        OptSpec { key: "attacks", kind: OptKind::ChoiceList(attack::NAMES), help: "hostile behaviours to run (hostile: default all front attacks; loopback: none)" },
        OptSpec { key: "peer", kind: OptKind::U64 { min: 0, max: 0x7fef }, help: "the other end's domid (back: which frontend to serve)" },
        OptSpec { key: "back", kind: OptKind::Form { accepts: |v| Policy::parse(v).is_ok(), forms: &[ringpol::ACCEPTED] }, help: "the backend's completion policy (loopback, back; default echo): delay:D each, epoch:E batches at each boundary, jitter:D uniform over [0, 2D]" },
    ],
    run,
};

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

fn cfg(ctx: &Ctx<'_>, role: &str) -> Cfg {
    let c = ctx.cmd;
    let default_attacks = if role == "hostile" {
        attack::FRONT_DEFAULT
    } else {
        ""
    };
    Cfg {
        messages: c.opt_u64("ring", "messages", 200) as u32,
        stream: c.opt_u64("ring", "stream", 2000) as u32,
        sizes: c
            .opt_u64s("ring", "sizes", &[16, 256, 1008])
            .map(|s| s as u32)
            .collect(),
        timeout_ns: c.opt_duration_ns("ring", "timeout", 2_000_000_000),
        attacks: c
            .opt_choices("ring", "attacks", default_attacks)
            .filter_map(attack::Attack::from_name)
            .collect(),
        peer: c
            .raw_opt("ring", "peer")
            .map(|_| c.opt_u64("ring", "peer", 0) as u16),
        policy: c
            .raw_opt("ring", "back")
            .and_then(|v| Policy::parse(v).ok())
            .unwrap_or_default(),
    }
}

/// A policy only a backend runs, and never one that holds completions as long as a frontend
/// waits for them.
fn policy_ok(ctx: &mut Ctx<'_>, role: &str, cfg: &Cfg) -> bool {
    if ctx.cmd.raw_opt("ring", "back").is_some() && matches!(role, "front" | "hostile") {
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
    let role = ctx.cmd.opt_choice("ring", "role", "loopback");
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
