//! Ports above 4095: the FIFO ABI reaches them (event-array pages added as
//! needed), the 2-level ABI ends at 4095 (Xen answers ENOSPC). Ports are
//! allocated lowest-free first, so the probe fills every port up to 4096.
//! The domain's own limit (xl `max_event_channels`, 1023 by default) may stop
//! it earlier: that is a SKIP naming the limit, not a verdict on Xen.

use super::{delivered_after, on_event, Ctx, HITS};
use crate::drv::evtchn;
use alloc::format;
use alloc::vec::Vec;
use core::sync::atomic::Ordering::Acquire;
use xp_core::outcome::Outcome;
use xp_core::xen::errno::{self, ENOSPC};
use xp_core::xen::hypercall::DOMID_SELF;

/// The first port past the 2-level ABI.
const HIGH: u32 = 4096;

/// Unbound ports up to the first one >= HIGH (kept in `held`); Err(rc) when Xen stops earlier.
fn fill(held: &mut Vec<u32>) -> Result<u32, i64> {
    loop {
        let port = evtchn::alloc_unbound(DOMID_SELF).map_err(|e| e.rc)?;
        held.push(port);
        if port >= HIGH {
            return Ok(port);
        }
    }
}

pub fn check(ctx: &mut Ctx<'_>) {
    let mut held = Vec::new();
    let got = fill(&mut held);
    let last = held
        .iter()
        .copied()
        .filter(|&p| p < HIGH)
        .max()
        .unwrap_or(0);
    let fifo = evtchn::abi_name() == "fifo";
    let name = if fifo {
        "ports_above_4095"
    } else {
        "port_limit_2l"
    };
    match got {
        Err(rc) if rc == -ENOSPC && last < HIGH - 1 => ctx.check_as(
            name,
            Outcome::Skip,
            "ports up to 4096 (needs xl max_event_channels >= 4098)",
            format_args!("the domain's ports end at {last} (ENOSPC): raise max_event_channels"),
        ),
        Ok(a) if fifo => high_pair(ctx, a),
        Err(rc) if fifo => ctx.error(format_args!(
            "EVTCHNOP_alloc_unbound after port {last}: {rc} ({})",
            errno::name(rc)
        )),
        r => {
            let after = match r {
                Ok(p) => format!("port {p} accepted"),
                Err(rc) => errno::name(rc).into(),
            };
            ctx.check(
                name,
                r == Err(-ENOSPC) && last == HIGH - 1,
                "ports up to 4095, then ENOSPC (the 2-level ABI's 4096 ports)",
                format_args!("last port {last}, then {after}"),
            );
        }
    }
    for &p in &held {
        let _ = evtchn::close(p);
    }
}

/// Port `a` (>= 4096, unbound to ourselves) gets a loopback peer and a handler, then an event.
fn high_pair(ctx: &mut Ctx<'_>, a: u32) {
    let b = match evtchn::bind_interdomain(DOMID_SELF, a) {
        Ok(b) => b,
        Err(e) => return ctx.error(format_args!("loopback peer of port {a}: {e}")),
    };
    let bound = evtchn::bind(a, on_event);
    let h0 = HITS.load(Acquire);
    let sent = bound.and_then(|_| evtchn::send(b));
    let ok = sent.is_ok() && delivered_after(h0);
    let (_, _, pages) = evtchn::fifo_facts();
    let how = match sent {
        Ok(()) => format!("{} events", HITS.load(Acquire) - h0),
        Err(e) => format!("{e}"),
    };
    ctx.check(
        "ports_above_4095",
        ok,
        format_args!("an event on port {a} (> 4095) reaches its handler"),
        format_args!("{how}; {pages} event-array pages"),
    );
    evtchn::unbind(a);
    let _ = evtchn::close(b);
}
