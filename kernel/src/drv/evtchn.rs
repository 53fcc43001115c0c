//! Event channels (2-level ABI): handlers, upcall dispatch, mask/unmask, idle.
//!
//! Events stay masked (vcpu_info.evtchn_upcall_mask = 1) while xenprobe runs;
//! they are delivered only inside [`block`], where SCHEDOP_block enables them
//! atomically. Handlers therefore never interrupt code holding a lock, and
//! must only record facts (atomics), not print.

use crate::shmem::OutOfRange;
use crate::xen::{evtchn as ops, sched, shared, XenError};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use xp_core::evtchn_scan::{self, EventWords, UnmaskOutcome, UnmaskWords, NR_EVENT_CHANNELS};

/// Ports that may have a handler; events on others are counted as unexpected.
pub const MAX_HANDLED: usize = 256;

/// A handler runs in upcall context with the port whose pending bit was just cleared.
pub type Handler = fn(u32);

static HANDLERS: [AtomicUsize; MAX_HANDLED] = [const { AtomicUsize::new(0) }; MAX_HANDLED];
/// Upcalls taken, events dispatched, events on ports without a handler.
pub static UPCALLS: AtomicU64 = AtomicU64::new(0);
pub static DISPATCHED: AtomicU64 = AtomicU64::new(0);
pub static UNEXPECTED: AtomicU64 = AtomicU64::new(0);

struct Words(shared::EventBits);

/// A port's bit in a bitmap word. xp_core's scan only asks for words 0..64 and ports come
/// from Xen's 2-level ABI (< 4096); anything else has no bit: reads see 0, writes do nothing.
fn bit(r: Result<&'static AtomicU64, OutOfRange>, f: impl FnOnce(&AtomicU64) -> u64) -> u64 {
    match r {
        Ok(word) => f(word),
        Err(e) => {
            log::error!("event bitmap access out of range: {e}");
            0
        }
    }
}

impl EventWords for Words {
    fn swap_selector(&self) -> u64 {
        self.0.selector().swap(0, Ordering::AcqRel)
    }
    fn pending(&self, w: usize) -> u64 {
        bit(self.0.pending(w), |a| a.load(Ordering::Acquire))
    }
    fn mask(&self, w: usize) -> u64 {
        bit(self.0.mask(w), |a| a.load(Ordering::Acquire))
    }
    fn clear_pending(&self, port: u32) {
        bit(self.0.pending(port as usize / 64), |a| {
            a.fetch_and(!(1 << (port % 64)), Ordering::AcqRel)
        });
    }
}

impl UnmaskWords for Words {
    fn clear_mask(&self, port: u32) {
        bit(self.0.mask(port as usize / 64), |a| {
            a.fetch_and(!(1 << (port % 64)), Ordering::AcqRel)
        });
    }
    fn test_pending(&self, port: u32) -> bool {
        bit(self.0.pending(port as usize / 64), |a| {
            a.load(Ordering::Acquire)
        }) & (1 << (port % 64))
            != 0
    }
    fn test_and_set_selector(&self, w: usize) -> bool {
        self.0.selector().fetch_or(1 << w, Ordering::AcqRel) & (1 << w) != 0
    }
    fn set_upcall_pending(&self) {
        self.0.upcall_pending().store(1, Ordering::Release);
    }
    fn upcall_masked(&self) -> bool {
        self.0.upcall_mask().load(Ordering::Acquire) != 0
    }
}

fn words() -> Option<Words> {
    shared::events().map(Words)
}

/// Mask every port (Mini-OS does the same: only bound ports get unmasked), then
/// register the upcall entry with Xen. Events stay masked until [`block`].
pub fn init() -> Result<(), XenError> {
    if let Some(w) = words() {
        for i in 0..(NR_EVENT_CHANNELS as usize / 64) {
            bit(w.0.mask(i), |a| a.swap(u64::MAX, Ordering::Release));
        }
    }
    crate::xen::callback::register()
}

/// Entered from arch/upcall.S with events masked.
#[no_mangle]
extern "C" fn xp_event_upcall() {
    UPCALLS.fetch_add(1, Ordering::Relaxed);
    dispatch_pending();
}

/// Deliver every pending, unmasked port to its handler (Mini-OS's rules, see xp_core).
fn dispatch_pending() {
    let Some(w) = words() else { return };
    w.0.upcall_pending().store(0, Ordering::Release);
    evtchn_scan::scan(&w, NR_EVENT_CHANNELS, &mut |port| {
        let h = HANDLERS
            .get(port as usize)
            .map_or(0, |h| h.load(Ordering::Acquire));
        if h == 0 {
            UNEXPECTED.fetch_add(1, Ordering::Relaxed);
        } else {
            DISPATCHED.fetch_add(1, Ordering::Relaxed);
            // SAFETY: only `bind` stores into HANDLERS, and it stores `Handler` fn pointers.
            let f: Handler = unsafe { core::mem::transmute::<usize, Handler>(h) };
            f(port);
        }
    });
}

/// Route `port`'s events to `handler` and unmask it.
pub fn bind(port: u32, handler: Handler) -> Result<(), XenError> {
    let slot = HANDLERS.get(port as usize).ok_or(XenError {
        call: "evtchn::bind (port beyond handler table)",
        rc: -22,
    })?;
    slot.store(handler as usize, Ordering::Release);
    unmask(port);
    Ok(())
}

/// Mask `port` and forget its handler (the port stays open).
pub fn unbind(port: u32) {
    mask(port);
    if let Some(slot) = HANDLERS.get(port as usize) {
        slot.store(0, Ordering::Release);
    }
}

/// Set `port`'s mask bit.
pub fn mask(port: u32) {
    if let Some(w) = words() {
        bit(w.0.mask(port as usize / 64), |a| {
            a.fetch_or(1 << (port % 64), Ordering::AcqRel)
        });
    }
}

/// Clear `port`'s mask bit without losing an event raised while it was masked.
pub fn unmask(port: u32) {
    let Some(w) = words() else { return };
    if let UnmaskOutcome::Resent { run_now: true } = evtchn_scan::unmask(&w, port) {
        dispatch_pending();
    }
}

/// Clear `port`'s pending bit (atomically; a port without a bit is logged, not clamped).
pub fn clear_pending(port: u32) {
    if let Err(e) = shared::clear_pending(port) {
        log::error!("clear_pending({port}): {e}");
    }
}

/// Whether `port` is pending right now (for checks).
pub fn is_pending(port: u32) -> bool {
    words().is_some_and(|w| port < NR_EVENT_CHANNELS && w.test_pending(port))
}

/// Sleep until any event arrives (SCHEDOP_block enables delivery atomically, so an event
/// raised just before cannot be missed); handlers run, then events are masked again.
pub fn block() {
    sched::block();
    if let Some(w) = words() {
        w.0.upcall_mask().store(1, Ordering::SeqCst);
    }
}

/// Wait (events masked) until one of `ports` is pending or system time `deadline_ns`.
pub fn poll(ports: &[u32], deadline_ns: u64) -> i64 {
    sched::poll(ports, deadline_ns)
}

pub use ops::{alloc_unbound, bind_interdomain, bind_virq, close, send, status};
