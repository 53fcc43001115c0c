//! Loopback: frontend and backend in this domain. The frontend writes through
//! its own page, the backend through a mapping of the grant of that page (the
//! real grant path), and a loopback event-channel pair joins them. With one
//! vCPU the backend runs whenever the frontend sleeps and its event came in.

use super::back::BackDrv;
use super::front::FrontDrv;
use super::{attack, figures, Cfg};
use crate::drv::evtchn;
use crate::drv::ring::{Doorbell, GrantedPage, MappedPage};
use crate::probe::shown::Done;
use crate::probe::Ctx;
use alloc::format;
use core::cell::{Cell, RefCell};
use xp_core::ringmsg::{Layout, PeerError};
use xp_core::ringpol::Policy;
use xp_core::xen::hypercall::DOMID_SELF;

const HOW: &str = "loopback: both ends in one domain on one vCPU";
/// Rounds of the window phase (each fills the ring and collects it).
const RACE_ROUNDS: u32 = 8;

/// Both ends' resources: our page, its grant mapped back, a loopback port pair.
pub struct Loop {
    pub page: GrantedPage,
    pub map: MappedPage,
    pub ports: (u32, u32),
}

/// Our domid: a port allocated for DOMID_SELF reports its remote end as our real id.
pub fn own_domid(ctx: &Ctx<'_>) -> Result<u16, crate::xen::XenError> {
    if let Some(d) = ctx.env.domid {
        return Ok(d);
    }
    let port = evtchn::alloc_unbound(DOMID_SELF)?;
    let st = evtchn::status(port);
    let _ = evtchn::close(port);
    Ok(st?.u[0] as u16)
}

impl Loop {
    pub fn new(domid: u16) -> Result<Loop, alloc::string::String> {
        let page = GrantedPage::new(domid, false).map_err(|e| alloc::format!("grant: {e}"))?;
        let map = MappedPage::map(domid, page.gref.0, false)
            .map_err(|e| alloc::format!("map own grant: {e}"))?;
        let a = evtchn::alloc_unbound(DOMID_SELF).map_err(|e| alloc::format!("{e}"))?;
        let b = evtchn::bind_interdomain(DOMID_SELF, a).map_err(|e| alloc::format!("{e}"))?;
        Ok(Loop {
            page,
            map,
            ports: (a, b),
        })
    }

    /// Doorbells for (front, back).
    pub fn bells(&self) -> Result<(Doorbell, Doorbell), crate::xen::XenError> {
        Ok((Doorbell::bind(self.ports.0)?, Doorbell::bind(self.ports.1)?))
    }

    /// Unmap first, then end access: the order a peer must follow.
    pub fn close(mut self, ctx: &mut Ctx<'_>) {
        let unmapped = self.map.unmap();
        let ended = self.page.end();
        for p in [self.ports.0, self.ports.1] {
            evtchn::unbind(p);
            let _ = evtchn::close(p);
        }
        if unmapped.is_err() || ended.is_err() {
            ctx.error(format_args!(
                "loopback teardown: unmap {}, end access {}",
                Done(&unmapped),
                Done(&ended)
            ));
        }
    }
}

pub fn run(ctx: &mut Ctx<'_>, cfg: &Cfg) {
    let domid = match own_domid(ctx) {
        Ok(d) => d,
        Err(e) => return ctx.error(format_args!("cannot learn our domid: {e}")),
    };
    ctx.info("domid", domid);
    if cfg.messages > 0 && !cfg.sizes.is_empty() {
        honest(ctx, cfg, domid);
    }
    for &a in &cfg.attacks {
        attack::loopback(ctx, cfg, domid, a);
    }
    if !cfg.attacks.is_empty() {
        survives(ctx, cfg, domid);
    }
}

/// After the attacks, a fresh connection must work as if nothing happened.
fn survives(ctx: &mut Ctx<'_>, cfg: &Cfg, domid: u16) {
    let Ok(lp) = Loop::new(domid) else {
        return ctx.error("no loopback ring after the attacks");
    };
    let Ok((fb, bb)) = lp.bells() else {
        return ctx.error("no loopback ports after the attacks");
    };
    let layout = Layout::for_payload(16).unwrap_or(Layout { slot: 32, size: 64 });
    let mut front = FrontDrv::new(lp.page.page(), fb, layout, cfg.timeout_ns);
    let mut back = BackDrv::new(lp.map.page(), bb, Policy::Echo);
    let res = front.rtt(16, 20, &mut || {
        let _ = back.poll();
    });
    let seen = res.as_ref().map(|r| r.rtt.count()).map_err(|e| *e);
    ctx.check(
        "keeps_serving_after_attacks",
        seen == Ok(20),
        "20 verified round trips on a new ring",
        match seen {
            Ok(n) => format!("{n} verified round trips"),
            Err(e) => format!("{e}"),
        },
    );
    drop(back);
    lp.close(ctx);
}

fn honest(ctx: &mut Ctx<'_>, cfg: &Cfg, domid: u16) {
    let lp = match Loop::new(domid) {
        Ok(l) => l,
        Err(e) => return ctx.error(e),
    };
    let (fb, bb) = match lp.bells() {
        Ok(b) => b,
        Err(e) => return ctx.error(e),
    };
    ctx.info("grant_ref", lp.page.gref.0);
    ctx.info(
        "ports",
        format_args!("front {} <-> back {}", lp.ports.0, lp.ports.1),
    );
    let layout = Layout::for_payload(cfg.sizes[0]).unwrap_or(Layout { slot: 32, size: 64 });
    let mut front = FrontDrv::new(lp.page.page(), fb, layout, cfg.timeout_ns);
    front.policy = cfg.policy;
    let back = RefCell::new(BackDrv::new(lp.map.page(), bb, cfg.policy));
    let back_err: Cell<Option<PeerError>> = Cell::new(None);
    let fail = |e| back_err.set(back_err.get().or(Some(e)));
    let mut idle = || back.borrow_mut().poll().unwrap_or_else(fail);
    let how = format!("{HOW}; backend completion policy {}", cfg.policy);
    let mut res = phases(ctx, cfg, &how, &mut front, &mut idle);
    if res.is_ok() {
        res = race(ctx, cfg, &mut front, &back, &mut idle);
    }
    if let Err(e) = res {
        ctx.check(e.check(), false, "the backend follows io/ring.h", e);
    }
    if let Some(e) = back_err.get() {
        ctx.check(e.check(), false, "the frontend follows io/ring.h", e);
    }
    let back = back.into_inner();
    figures::back(ctx, &back, HOW);
    figures::verdicts(ctx, &front, Some((back.lost, back.served)));
    drop(back);
    lp.close(ctx);
}

/// Batches published between the frontend's final check and its sleep must wake it.
fn race(
    ctx: &mut Ctx<'_>,
    cfg: &Cfg,
    f: &mut FrontDrv<'_>,
    back: &RefCell<BackDrv<'_>>,
    idle: &mut dyn FnMut(),
) -> Result<(), PeerError> {
    let len = cfg.sizes[0];
    if !f.set_size(len) {
        return Ok(());
    }
    let published = Cell::new(0u64);
    let mut window = || {
        let n = back.borrow_mut().publish_now().unwrap_or(0);
        published.set(published.get() + u64::from(n > 0));
    };
    let r = f.race(len, RACE_ROUNDS, idle, &mut window)?;
    figures::race(ctx, &r, published.get());
    Ok(())
}

/// Round trips then streaming, for each size.
pub fn phases(
    ctx: &mut Ctx<'_>,
    cfg: &Cfg,
    how: &str,
    f: &mut FrontDrv<'_>,
    idle: &mut dyn FnMut(),
) -> Result<(), PeerError> {
    for &len in &cfg.sizes {
        if !f.set_size(len) {
            ctx.error(format_args!("no layout for {len}-byte messages"));
            continue;
        }
        ctx.info(
            &alloc::format!("layout_{len}B"),
            format_args!("{} slots of {} bytes", f.ep.layout.size, f.ep.layout.slot),
        );
        let r = f.rtt(len, cfg.messages, idle)?;
        figures::rtt(ctx, how, len, &r);
        let s = f.stream(len, cfg.stream, idle)?;
        figures::stream(ctx, how, len, &s);
    }
    Ok(())
}
