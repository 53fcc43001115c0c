//! The two-domain frontends over the xenbus-style device (see xenbus.rs):
//! `front` measures against a backend in another domain; `hostile` runs one
//! attack per connection, then one honest connection to see that its victim
//! still serves. The backend is in remote_back.rs.

use super::attack::Attack;
use super::back::WATCHDOG_NS;
use super::front::FrontDrv;
use super::hostile::HostileFront;
use super::xenbus::{self, Dev};
use super::{figures, loopback, Cfg};
use crate::drv::evtchn;
use crate::drv::ring::{Doorbell, GrantedPage};
use crate::drv::timer;
use crate::probe::Ctx;
use crate::time::now_ns;
use alloc::format;
use alloc::string::String;
use xp_core::ringep::FrontEp;
use xp_core::ringmsg::Layout;
use xp_core::xenbus::{front_step, FrontStep, XenbusState as S};

/// What a frontend publishes for a round.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Publish {
    Honest,
    /// A ring-ref whose grant was already ended.
    RevokedGrant,
    /// An event-channel port already closed.
    ClosedPort,
}

/// The frontend's side of one connection.
struct FrontConn {
    page: GrantedPage,
    port: u32,
    ep: FrontEp,
}

fn err<E: core::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}

/// Initialising -> (page, port, ring header) -> Initialised -> the backend's answer and
/// what `front_step` makes of it (Run: we are Connected; Close: the backend refused).
fn connect(
    ctx: &mut Ctx<'_>,
    dev: &Dev,
    how: Publish,
) -> Result<(FrontConn, S, FrontStep), String> {
    dev.set_state(S::INITIALISING)?;
    let mut page = GrantedPage::new(dev.peer, false).map_err(err("grant"))?;
    let layout = Layout::for_payload(16).ok_or("layout")?;
    let ep = FrontEp::new(&page.page(), layout);
    let port = evtchn::alloc_unbound(dev.peer).map_err(err("alloc_unbound"))?;
    let gref = page.gref.0;
    match how {
        Publish::RevokedGrant => page.end().map_err(err("end access"))?,
        Publish::ClosedPort => evtchn::close(port).map_err(err("close"))?,
        Publish::Honest => {}
    }
    dev.st
        .write(&format!("{}/ring-ref", dev.own), &format!("{gref}"))?;
    dev.st
        .write(&format!("{}/event-channel", dev.own), &format!("{port}"))?;
    let t = now_ns();
    dev.set_state(S::INITIALISED)?;
    let s = dev.await_peer(|s| front_step(S::INITIALISED, s) != FrontStep::Wait)?;
    let step = front_step(S::INITIALISED, s);
    if step == FrontStep::Run {
        ctx.metric("xenbus_connect_ns", now_ns() - t, "ns", "n=1: frontend writes Initialised -> sees backend Connected through its watch (pvclock; xenstore round trips included)");
        dev.set_state(S::CONNECTED)?;
    }
    Ok((FrontConn { page, port, ep }, s, step))
}

/// Closing -> the backend unmaps and says Closed -> end access, close the port.
fn disconnect(ctx: &mut Ctx<'_>, dev: &Dev, mut c: FrontConn, last: bool) {
    let _ = dev.set_state(S::CLOSING);
    if let Err(e) = dev.await_peer(|s| front_step(S::CLOSING, s) == FrontStep::Closed) {
        ctx.error(format_args!("backend did not close: {e}"));
    }
    let deadline = now_ns() + 5_000_000_000;
    while c.page.end().is_err() && now_ns() < deadline {
        timer::wait_until(now_ns() + 10_000_000, || false);
    }
    evtchn::unbind(c.port);
    let _ = evtchn::close(c.port);
    if last {
        let _ = dev.set_state(S::CLOSED);
    }
}

/// The frontend's xenbus device, reported as `device`; `peer_role` names the other end.
fn front_device(ctx: &mut Ctx<'_>, peer_role: &str) -> Option<Dev> {
    match xenbus::front_dev(ctx.env) {
        Ok(dev) => {
            let what = format_args!(
                "{} <-> {} ({peer_role} domid {})",
                dev.own, dev.peer_dir, dev.peer
            );
            ctx.info("device", what);
            Some(dev)
        }
        Err(e) => {
            ctx.error(e);
            None
        }
    }
}

pub fn front(ctx: &mut Ctx<'_>, cfg: &Cfg) {
    let Some(dev) = front_device(ctx, "backend") else {
        return;
    };
    let (c, s, step) = match connect(ctx, &dev, Publish::Honest) {
        Ok(r) => r,
        Err(e) => return ctx.error(e),
    };
    if step == FrontStep::Run {
        measure(ctx, cfg, &dev, &c);
    } else {
        ctx.check("backend_connects", false, "Connected", s);
    }
    disconnect(ctx, &dev, c, true);
}

fn measure(ctx: &mut Ctx<'_>, cfg: &Cfg, dev: &Dev, c: &FrontConn) {
    let bell = match Doorbell::bind(c.port) {
        Ok(b) => b,
        Err(e) => return ctx.error(e),
    };
    let Some(policy) = xenbus::back_policy(ctx, dev, cfg.timeout_ns) else {
        return;
    };
    let how = format!(
        "two domains: frontend here, backend in domain {} with completion policy {policy}",
        dev.peer
    );
    let mut f = FrontDrv::attach(c.page.page(), bell, c.ep, cfg.timeout_ns);
    f.policy = policy;
    if let Err(e) = loopback::phases(ctx, cfg, &how, &mut f, &mut || {}) {
        ctx.check(e.check(), false, "the backend follows io/ring.h", e);
    }
    figures::verdicts(ctx, &f, None);
}

pub fn hostile(ctx: &mut Ctx<'_>, cfg: &Cfg) {
    let Some(dev) = front_device(ctx, "victim") else {
        return;
    };
    for &a in &cfg.attacks {
        if !a.by_front() {
            ctx.error(format_args!(
                "{} is a backend's attack; ring.role=hostile is a frontend",
                a.name()
            ));
            continue;
        }
        if let Err(e) = attack_round(ctx, &dev, a) {
            return ctx.error(e);
        }
    }
    match connect(ctx, &dev, Publish::Honest) {
        Ok((c, s, step)) => {
            let n = if step == FrontStep::Run {
                honest_rtts(&c, cfg.timeout_ns)
            } else {
                None
            };
            let seen = format_args!("backend {s}, {} verified round trips", n.unwrap_or(0));
            let want = "20 verified round trips after the attacks";
            ctx.check("victim_keeps_serving", n == Some(20), want, seen);
            disconnect(ctx, &dev, c, true);
        }
        Err(e) => ctx.error(e),
    }
}

fn honest_rtts(c: &FrontConn, timeout_ns: u64) -> Option<u64> {
    let bell = Doorbell::bind(c.port).ok()?;
    let mut f = FrontDrv::attach(c.page.page(), bell, c.ep, timeout_ns);
    f.rtt(16, 20, &mut || {}).ok().map(|r| r.rtt.count())
}

fn attack_round(ctx: &mut Ctx<'_>, dev: &Dev, a: Attack) -> Result<(), String> {
    let how = match a {
        Attack::RevokedGrant => Publish::RevokedGrant,
        Attack::BadEvtchn => Publish::ClosedPort,
        _ => Publish::Honest,
    };
    let (c, s, step) = connect(ctx, dev, how)?;
    let after = if step == FrontStep::Run {
        strike(dev, &c, a)?
    } else {
        s
    };
    let key = format!("attack_{}", a.name());
    ctx.info(&key, format_args!("victim answered {s}, then {after}"));
    disconnect(ctx, dev, c, false);
    Ok(())
}

/// Run the attack until the victim disconnects, or until it had time to notice.
fn strike(dev: &Dev, c: &FrontConn, a: Attack) -> Result<S, String> {
    let bell = Doorbell::bind(c.port).map_err(err("bind"))?;
    let mut h = HostileFront::attach(c.page.page(), bell, c.ep, a);
    let (deadline, mut done_at) = (now_ns() + 10_000_000_000, 0);
    loop {
        h.step();
        let t = now_ns();
        if h.done() && done_at == 0 {
            done_at = t;
        }
        if let Some(s) = dev.peer_moved() {
            if front_step(S::CONNECTED, s) == FrontStep::Close {
                return Ok(s);
            }
        }
        if (done_at != 0 && t > done_at + 3 * WATCHDOG_NS) || t > deadline {
            return Ok(dev.peer_state());
        }
        let seen = h.bell.kicks();
        timer::wait_until(t + 5_000_000, || h.bell.kicks() != seen);
    }
}
