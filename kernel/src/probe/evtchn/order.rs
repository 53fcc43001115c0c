//! Delivery order: FIFO honours priorities (0 first) and, within one priority,
//! the order events were raised; the 2-level ABI has no priorities (Xen refuses
//! EVTCHNOP_set_priority with ENOSYS) and delivers lower ports first.

use super::{pair, Ctx};
use crate::drv::{evtchn, timer};
use crate::probe::shown::List;
use crate::time::now_ns;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering::*};
use xp_core::xen::errno::{EINVAL, ENOSYS};

static ORDER: [AtomicU32; 8] = [const { AtomicU32::new(0) }; 8];
static SEEN: AtomicUsize = AtomicUsize::new(0);

fn on_order(port: u32) {
    if let Some(slot) = ORDER.get(SEEN.fetch_add(1, AcqRel)) {
        slot.store(port, Release);
    }
}

/// (receiving port, priority), in the order their events are sent.
const SENDS: [u32; 4] = [12, 7, 7, 2];

pub fn check(ctx: &mut Ctx<'_>) {
    let mut pairs = Vec::new();
    for _ in SENDS {
        match pair().and_then(|(a, b)| evtchn::bind(a, on_order).map(|_| (a, b))) {
            Ok(p) => pairs.push(p),
            Err(e) => return ctx.error(format_args!("priority ports: {e}")),
        }
    }
    let fifo = evtchn::abi_name() == "fifo";
    let rcs: Vec<i64> = pairs
        .iter()
        .zip(SENDS)
        .map(|(&(a, _), prio)| evtchn::set_priority(a, prio).map_or_else(|e| e.rc, |_| 0))
        .collect();
    set_priority_answers(ctx, fifo, &rcs, pairs[0].0);
    // The second priority-7 port is raised before the first: FIFO keeps that order.
    let sent = [pairs[0], pairs[2], pairs[1], pairs[3]];
    SEEN.store(0, Release);
    for &(_, b) in &sent {
        let _ = evtchn::send(b);
    }
    timer::wait_until(now_ns() + 100_000_000, || SEEN.load(Acquire) >= sent.len());
    let got: Vec<u32> = ORDER[..SEEN.load(Acquire).min(8)]
        .iter()
        .map(|p| p.load(Acquire))
        .collect();
    let want: Vec<u32> = match fifo {
        true => [pairs[3], pairs[2], pairs[1], pairs[0]]
            .iter()
            .map(|p| p.0)
            .collect(),
        false => pairs.iter().map(|p| p.0).collect(),
    };
    let how = match fifo {
        true => "priority 2, then the two at 7 in the order raised, then 12",
        false => "ascending ports (2-level has no priorities)",
    };
    ctx.check(
        "priorities_honoured",
        got == want,
        format_args!("ports {}: {how}", List(&want)),
        format_args!("ports {}", List(&got)),
    );
    for (a, b) in pairs {
        evtchn::unbind(a);
        let _ = evtchn::close(b).and(evtchn::close(a));
    }
}

/// FIFO accepts priorities 0..15 and refuses 16 with EINVAL; 2-level refuses all with ENOSYS.
fn set_priority_answers(ctx: &mut Ctx<'_>, fifo: bool, rcs: &[i64], port: u32) {
    let beyond = evtchn::set_priority(port, 16).map_or_else(|e| e.rc, |_| 0);
    let (want, name) = match fifo {
        true => ((0, -EINVAL), "0 for 2, 7, 12; EINVAL for 16"),
        false => ((-ENOSYS, -ENOSYS), "ENOSYS (2-level has no priorities)"),
    };
    let ok = rcs.iter().all(|&rc| rc == want.0) && beyond == want.1;
    let names: Vec<&str> = rcs
        .iter()
        .map(|&rc| xp_core::xen::errno::name(rc))
        .collect();
    ctx.check(
        "set_priority",
        ok,
        name,
        format_args!(
            "{} for 2, 7, 12; {} for 16",
            names.join("/"),
            xp_core::xen::errno::name(beyond)
        ),
    );
}
