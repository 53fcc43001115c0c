//! Time-outs on VCPUOP_set_singleshot_timer and VIRQ_TIMER.
//!
//! Per vCPU: the 100 Hz periodic timer a PV vCPU starts with is stopped when the vCPU
//! starts, VIRQ_TIMER is bound on it, and a small queue keeps several deadlines; the earliest is programmed into Xen.
//! The VIRQ_TIMER handler only records facts (when it fired, whether a
//! deadline was armed, whether it came early); waiting code re-checks time.

use super::evtchn;
use crate::time::now_ns;
use crate::xen::{vcpu, XenError};
use core::sync::atomic::{AtomicU64, Ordering::*};
use spin::Mutex;
use xp_core::smp::MAX_VCPUS;
use xp_core::timerq::{TimerQueue, TimerQueueError};
use xp_core::xen::event_channel::VIRQ_TIMER;

/// VIRQ_TIMER deliveries on all vCPUs, and those with no deadline armed / before the
/// armed deadline.
pub static FIRES: AtomicU64 = AtomicU64::new(0);
pub static UNARMED: AtomicU64 = AtomicU64::new(0);
pub static EARLY: AtomicU64 = AtomicU64::new(0);
pub static MAX_EARLY_NS: AtomicU64 = AtomicU64::new(0);

struct Queue {
    q: TimerQueue<16>,
    next_id: u32,
}

/// One vCPU's timer: its singleshot timer and VIRQ_TIMER are its own.
struct VcpuTimer {
    /// The deadline currently programmed into Xen (0 = none).
    armed: AtomicU64,
    fires: AtomicU64,
    /// pvclock time at which the handler last ran.
    last_fire_ns: AtomicU64,
    queue: Mutex<Queue>,
}

static TIMERS: [VcpuTimer; MAX_VCPUS as usize] = [const {
    VcpuTimer {
        armed: AtomicU64::new(0),
        fires: AtomicU64::new(0),
        last_fire_ns: AtomicU64::new(0),
        queue: Mutex::new(Queue {
            q: TimerQueue::new(),
            next_id: 1,
        }),
    }
}; MAX_VCPUS as usize];

/// The running vCPU's timer.
fn mine() -> &'static VcpuTimer {
    &TIMERS[crate::arch::percpu::this_vcpu() as usize % TIMERS.len()]
}

/// A queued deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerId(u32);

/// On the running vCPU: stop the periodic timer and bind its VIRQ_TIMER. Returns the port.
pub fn init() -> Result<u32, XenError> {
    vcpu::stop_periodic_timer()?;
    let port = evtchn::bind_virq(VIRQ_TIMER, crate::arch::percpu::this_vcpu())?;
    evtchn::bind(port, on_timer)?;
    log::debug!("timer: periodic tick stopped, VIRQ_TIMER on port {port}");
    Ok(port)
}

/// Runs on the vCPU the port notifies (the scans skip siblings' ports).
fn on_timer(_port: u32) {
    let now = now_ns();
    let t = mine();
    let armed = t.armed.swap(0, AcqRel);
    FIRES.fetch_add(1, Relaxed);
    t.fires.fetch_add(1, Release);
    t.last_fire_ns.store(now, Release);
    if armed == 0 {
        UNARMED.fetch_add(1, Relaxed);
    } else if now < armed {
        EARLY.fetch_add(1, Relaxed);
        MAX_EARLY_NS.fetch_max(armed - now, Relaxed);
    }
}

/// Program Xen's singleshot timer for `deadline_ns` directly (bypassing the queue).
pub fn program(deadline_ns: u64) -> Result<(), XenError> {
    mine().armed.store(deadline_ns, Release);
    vcpu::set_singleshot_timer(deadline_ns, false)
}

/// Cancel the deadline programmed into Xen (VCPUOP_stop_singleshot_timer).
pub fn stop() -> Result<(), XenError> {
    mine().armed.store(0, Release);
    vcpu::stop_singleshot_timer()
}

/// Queue a deadline.
pub fn add(deadline_ns: u64) -> Result<TimerId, TimerQueueError> {
    let mut g = mine().queue.lock();
    let id = g.next_id;
    g.next_id = g.next_id.wrapping_add(1).max(1);
    g.q.insert(deadline_ns, id)?;
    Ok(TimerId(id))
}

/// Remove a queued deadline (no effect if it already expired).
pub fn cancel(id: TimerId) {
    mine().queue.lock().q.cancel(id.0);
}

/// Drop expired deadlines and program the earliest remaining one.
fn reprogram() {
    let now = now_ns();
    let mut g = mine().queue.lock();
    g.q.pop_expired(now).for_each(drop);
    if let Some(t) = g.q.earliest() {
        if mine().armed.load(Acquire) != t.deadline_ns {
            let _ = program(t.deadline_ns);
        }
    }
}

/// Block until `cond()` holds or system time reaches `deadline_ns`; returns `cond()`'s verdict.
pub fn wait_until(deadline_ns: u64, mut cond: impl FnMut() -> bool) -> bool {
    let id = add(deadline_ns).ok();
    let done = loop {
        if cond() {
            break true;
        }
        if now_ns() >= deadline_ns {
            break false;
        }
        reprogram();
        // reprogram() drops deadlines that expired since the check above, this one
        // included, and then nothing is armed for it: check again rather than block.
        if now_ns() < deadline_ns {
            evtchn::block();
        }
    };
    if let Some(id) = id {
        cancel(id);
    }
    done
}

/// One measured wake-up: program `deadline_ns`, block until VIRQ_TIMER fires.
#[derive(Clone, Copy, Debug)]
pub struct Shot {
    /// Handler timestamp (ns) and when the blocked code resumed.
    pub fired_ns: u64,
    pub woke_ns: u64,
    /// SCHEDOP_block calls needed (more than one: woken by another event first).
    pub blocks: u32,
}

/// Measure one singleshot wake-up for `deadline_ns`.
pub fn shot(deadline_ns: u64) -> Result<Shot, XenError> {
    let t = mine();
    let before = t.fires.load(Acquire);
    program(deadline_ns)?;
    let mut blocks = 0;
    while t.fires.load(Acquire) == before {
        evtchn::block();
        blocks += 1;
    }
    let woke_ns = now_ns();
    Ok(Shot {
        fired_ns: t.last_fire_ns.load(Acquire),
        woke_ns,
        blocks,
    })
}
