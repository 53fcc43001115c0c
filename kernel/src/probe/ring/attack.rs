//! Hostile-peer attacks, what the victim must report for each, and the loopback
//! runs that pit our own honest end against our own broken one.

use super::back::{BackDrv, WATCHDOG_NS};
use super::front::FrontDrv;
use super::hostile::{HostileBack, HostileFront};
use super::loopback::Loop;
use super::Cfg;
use crate::drv::ring::{GrantedPage, MappedPage};
use crate::drv::{evtchn, gnttab};
use crate::probe::Ctx;
use crate::time::now_ns;
use core::cell::Cell;
use xp_core::ringmsg::{Layout, PeerError};
use xp_core::ringpol::Policy;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    ReqBehind,
    ReqFarAhead,
    BadLen,
    SlotSize,
    ReqStorm,
    RevokedGrant,
    BadEvtchn,
    RspFarAhead,
    RspUnrequested,
    RspCorrupt,
    RspSilent,
    RspEarly,
}

const ALL: [(Attack, &str, &str); 12] = [
    (Attack::ReqBehind, "req-behind", "peer_indexes_valid"),
    (Attack::ReqFarAhead, "req-far-ahead", "peer_indexes_valid"),
    (Attack::BadLen, "bad-len", "peer_message_len_valid"),
    (Attack::SlotSize, "slot-size", "peer_slot_size_valid"),
    (Attack::ReqStorm, "req-storm", "peer_notifies"),
    (Attack::RevokedGrant, "revoked-grant", "peer_grant_mappable"),
    (Attack::BadEvtchn, "bad-evtchn", "peer_evtchn_bindable"),
    (Attack::RspFarAhead, "rsp-far-ahead", "peer_indexes_valid"),
    (
        Attack::RspUnrequested,
        "rsp-unrequested",
        "peer_indexes_valid",
    ),
    (Attack::RspCorrupt, "rsp-corrupt", "peer_echo_intact"),
    (Attack::RspSilent, "rsp-silent", "peer_notifies"),
    (Attack::RspEarly, "rsp-early", "completions_not_early"),
];

/// Accepted by `ring.attacks=` (the first seven are a frontend's, the rest a backend's).
pub const NAMES: &[&str] = &[
    "req-behind",
    "req-far-ahead",
    "bad-len",
    "slot-size",
    "req-storm",
    "revoked-grant",
    "bad-evtchn",
    "rsp-far-ahead",
    "rsp-unrequested",
    "rsp-corrupt",
    "rsp-silent",
    "rsp-early",
];
/// What `ring.role=hostile` runs by default.
pub const FRONT_DEFAULT: &str =
    "req-behind,req-far-ahead,bad-len,slot-size,req-storm,revoked-grant,bad-evtchn";

impl Attack {
    pub fn from_name(s: &str) -> Option<Attack> {
        ALL.iter().find(|a| a.1 == s).map(|a| a.0)
    }
    pub fn name(self) -> &'static str {
        ALL.iter().find(|a| a.0 == self).map_or("?", |a| a.1)
    }
    /// The check the victim must fail.
    pub fn expect(self) -> &'static str {
        ALL.iter().find(|a| a.0 == self).map_or("?", |a| a.2)
    }
    /// A frontend's attack (the victim is a backend)?
    pub fn by_front(self) -> bool {
        !matches!(
            self,
            Attack::RspFarAhead
                | Attack::RspUnrequested
                | Attack::RspCorrupt
                | Attack::RspSilent
                | Attack::RspEarly
        )
    }
}

/// The victim's verdict on its peer: a FAILURE naming what the peer did. Returns the check.
pub fn judge(
    ctx: &mut Ctx<'_>,
    res: Result<(), PeerError>,
    lost: Option<PeerError>,
    lost_n: u64,
) -> Option<&'static str> {
    let e = res.err().or(lost)?;
    match e {
        PeerError::NoNotify { .. } => ctx.check(
            e.check(),
            false,
            "an event for every update past our event index",
            format_args!("{lost_n} lost wake-ups; first: {e}"),
        ),
        _ => ctx.check(
            e.check(),
            false,
            "the peer follows io/ring.h",
            format_args!("{e}; disconnected"),
        ),
    };
    Some(e.check())
}

/// Run one attack in this domain: our broken end against our honest end.
pub fn loopback(ctx: &mut Ctx<'_>, cfg: &Cfg, domid: u16, a: Attack) {
    crate::println!(
        "  -- attack {}: the victim must report {}",
        a.name(),
        a.expect()
    );
    let seen = match a {
        Attack::RevokedGrant => revoked_grant(ctx, domid),
        Attack::BadEvtchn => bad_evtchn(ctx, domid),
        _ => match Loop::new(domid) {
            Ok(lp) => {
                let seen = on_ring(ctx, cfg, &lp, a);
                lp.close(ctx);
                seen
            }
            Err(e) => return ctx.error(e),
        },
    };
    let name = alloc::format!("detects_{}", a.name());
    ctx.check(
        &name,
        seen == Some(a.expect()),
        a.expect(),
        seen.unwrap_or("nothing"),
    );
}

fn on_ring(ctx: &mut Ctx<'_>, cfg: &Cfg, lp: &Loop, a: Attack) -> Option<&'static str> {
    let (fb, bb) = match lp.bells() {
        Ok(b) => b,
        Err(e) => {
            ctx.error(e);
            return None;
        }
    };
    if a.by_front() {
        let mut hostile = HostileFront::new(lp.page.page(), fb, a);
        let mut victim = BackDrv::new(lp.map.page(), bb, Policy::Echo);
        let (done_at, deadline) = (Cell::new(0u64), now_ns() + 5_000_000_000);
        let res = victim.run(
            &mut || {
                let t = now_ns();
                (done_at.get() != 0 && t > done_at.get() + 2 * WATCHDOG_NS) || t > deadline
            },
            &mut || {
                hostile.step();
                if hostile.done() && done_at.get() == 0 {
                    done_at.set(now_ns());
                }
            },
        );
        judge(ctx, res, victim.first_lost, victim.lost)
    } else {
        let layout = Layout::for_payload(16).unwrap_or(Layout { slot: 32, size: 64 });
        // The hostile end runs on our vCPU and cannot be preempted: 300 ms is plenty.
        let timeout = cfg.timeout_ns.min(300_000_000);
        let mut victim = FrontDrv::new(lp.page.page(), fb, layout, timeout);
        // rsp-early: the victim expects the configured policy (delay:1ms under echo).
        victim.policy = match cfg.policy {
            Policy::Echo => Policy::Delay(1_000_000),
            p => p,
        };
        let mut hostile = HostileBack::new(lp.map.page(), bb, a);
        let res = victim.rtt(16, 2, &mut || hostile.on_event()).map(drop);
        judge(ctx, res, victim.first_lost, victim.lost).or_else(|| early(ctx, &victim))
    }
}

/// The victim frontend saw completions before the backend's policy allowed them.
fn early(ctx: &mut Ctx<'_>, victim: &FrontDrv<'_>) -> Option<&'static str> {
    let e = victim.first_early?;
    let want = format_args!(
        "no completion before backend policy {} allows it",
        victim.policy
    );
    let seen = format_args!(
        "{} of {} early; first: response {} {} ns before it was due; disconnected",
        victim.early,
        victim.completions,
        e.seq,
        e.due - e.seen
    );
    ctx.check("completions_not_early", false, want, seen);
    Some("completions_not_early")
}

/// The peer publishes a grant it has already revoked: mapping it must fail cleanly.
fn revoked_grant(ctx: &mut Ctx<'_>, domid: u16) -> Option<&'static str> {
    let mut page = GrantedPage::new(domid, false).ok()?;
    let gref = page.gref.0;
    let _ = page.end();
    map_or_fail(ctx, domid, gref).err()
}

/// A victim backend maps the peer's ring-ref, or fails the peer when Xen refuses it.
pub fn map_or_fail(ctx: &mut Ctx<'_>, domid: u16, gref: u32) -> Result<MappedPage, &'static str> {
    MappedPage::map(domid, gref, false).map_err(|e| {
        if let gnttab::GntError::Status { .. } = e {
            let seen = format_args!("ring-ref {gref}: {e}; disconnected");
            ctx.check(
                "peer_grant_mappable",
                false,
                "the peer's ring-ref maps",
                seen,
            );
            "peer_grant_mappable"
        } else {
            ctx.error(format_args!("mapping ring-ref {gref}: {e}"));
            "error"
        }
    })
}

/// The peer publishes an event channel that is not open for us (here: one it closed).
fn bad_evtchn(ctx: &mut Ctx<'_>, domid: u16) -> Option<&'static str> {
    let port = evtchn::alloc_unbound(domid).ok()?;
    let _ = evtchn::close(port);
    bind_or_fail(ctx, domid, port).err()
}

/// A victim backend binds the peer's event-channel, or fails the peer.
pub fn bind_or_fail(ctx: &mut Ctx<'_>, domid: u16, port: u32) -> Result<u32, &'static str> {
    evtchn::bind_interdomain(domid, port).map_err(|e| {
        let seen = format_args!("port {port}: {e}; disconnected");
        ctx.check(
            "peer_evtchn_bindable",
            false,
            "the peer's event-channel binds",
            seen,
        );
        "peer_evtchn_bindable"
    })
}
