//! The two-domain backend: serves any number of connections (rounds) from its
//! frontend, judging the peer on each, until the frontend closes for good.

use super::back::BackDrv;
use super::xenbus::{self, Dev};
use super::{attack, Cfg};
use crate::drv::evtchn;
use crate::drv::ring::Doorbell;
use crate::probe::Ctx;
use crate::time::now_ns;
use alloc::format;
use xp_core::xenbus::{back_step, BackStep, XenbusState as S};

pub fn back(ctx: &mut Ctx<'_>, cfg: &Cfg) {
    let dev = match xenbus::back_dev(ctx.env, cfg.peer) {
        Ok(d) => d,
        Err(e) => return ctx.error(e),
    };
    ctx.info(
        "device",
        format_args!(
            "{} <-> {} (frontend domid {})",
            dev.own, dev.peer_dir, dev.peer
        ),
    );
    let (mut own, mut t) = (S::INIT_WAIT, Tally::default());
    let policy = format!("{}", cfg.policy);
    if let Err(e) = dev
        .st
        .write(&format!("{}/{}", dev.own, xenbus::COMPLETION), &policy)
    {
        return ctx.error(e);
    }
    ctx.info("completion_policy", &policy);
    let _ = dev.set_state(own);
    loop {
        match back_step(own, dev.peer_state()) {
            BackStep::Connect => {
                let (bad, n) = serve_round(ctx, &dev, cfg, &mut t);
                t.add(bad, n);
                own = S::CLOSED;
            }
            BackStep::Reset => {
                own = S::INIT_WAIT;
                let _ = dev.set_state(own);
            }
            BackStep::Done => break,
            _ if !dev.st.wait(now_ns() + xenbus::PEER_WAIT_NS) => {
                let s = dev.peer_state();
                return ctx.error(format_args!("frontend silent for 30 s in state {s}"));
            }
            _ => {}
        }
    }
    t.report(ctx);
}

/// What the connections came to.
#[derive(Default)]
struct Tally {
    rounds: u64,
    served: u64,
    broken: u64,
    served_after_broken: u64,
    /// Batches of responses published, and events sent to the frontend.
    batches: u64,
    events: u64,
}

impl Tally {
    fn add(&mut self, bad: bool, served: u64) {
        self.rounds += 1;
        self.served += served;
        self.broken += u64::from(bad);
        if self.broken > 0 && !bad {
            self.served_after_broken += served;
        }
    }

    fn report(&self, ctx: &mut Ctx<'_>) {
        let how = "xenbus connections served until the frontend closed";
        ctx.metric("connections", self.rounds, "rounds", how);
        let how = "echoed over all connections";
        ctx.metric("requests_served", self.served, "requests", how);
        let how = "pushes that published one or more responses, over all connections";
        ctx.metric("back_batches", self.batches, "batches", how);
        let per = self.events * 1000 / self.batches.max(1);
        let how = "events sent to the frontend per 1000 batches published, over all connections (io/ring.h suppression: at most one per batch)";
        ctx.metric(
            "events_to_front_per_1k_batches",
            per,
            "events/1000 batches",
            how,
        );
        if self.broken > 0 {
            let n = self.served_after_broken;
            let seen = format_args!("{n} requests served on connections after a broken one");
            ctx.check("keeps_serving_after_peer_failures", n > 0, "> 0", seen);
        }
    }
}

/// One connection: map, bind, Connected, serve until the frontend moves or breaks the
/// protocol, then unmap, unbind, Closed. Returns (peer judged broken, requests served).
fn serve_round(ctx: &mut Ctx<'_>, dev: &Dev, cfg: &Cfg, t: &mut Tally) -> (bool, u64) {
    let num = |k: &str| {
        dev.st
            .read(&format!("{}/{k}", dev.peer_dir))
            .and_then(|v| v.parse::<u32>().ok())
    };
    let (Some(gref), Some(port)) = (num("ring-ref"), num("event-channel")) else {
        ctx.check(
            "peer_publishes_ring",
            false,
            "ring-ref and event-channel as numbers",
            "missing or malformed",
        );
        return (true, close_back(dev, true));
    };
    let Ok(map) = attack::map_or_fail(ctx, dev.peer, gref) else {
        return (true, close_back(dev, true));
    };
    let Ok(lport) = attack::bind_or_fail(ctx, dev.peer, port) else {
        let _ = map.unmap();
        return (true, close_back(dev, true));
    };
    let Ok(bell) = Doorbell::bind(lport) else {
        return (true, close_back(dev, true));
    };
    let mut b = BackDrv::new(map.page(), bell, cfg.policy);
    let _ = dev.set_state(S::CONNECTED);
    let mut stop = || {
        dev.peer_moved()
            .is_some_and(|s| !matches!(s, S::CONNECTED | S::INITIALISED))
    };
    let res = b.run(&mut stop, &mut || {});
    let bad = attack::judge(ctx, res, b.first_lost, b.lost).is_some();
    let served = b.served;
    t.batches += b.batches;
    t.events += b.bell.sent;
    drop(b);
    if bad {
        let _ = dev.set_state(S::CLOSING);
    }
    let _ = map.unmap();
    evtchn::unbind(lport);
    let _ = evtchn::close(lport);
    close_back(dev, bad);
    (bad, served)
}

fn close_back(dev: &Dev, closing: bool) -> u64 {
    if closing {
        let _ = dev.set_state(S::CLOSING);
    }
    let _ = dev.set_state(S::CLOSED);
    0
}
