//! Event channels: handlers, upcall dispatch, mask/unmask, idle, with the
//! 2-level or the FIFO ABI behind one small interface ([`Abi`]), so drivers
//! and probes never care which is active. The 2-level ABI runs from boot; the
//! command line's `evtchn.abi=` (default: FIFO where Xen offers it, as Linux
//! does) is applied by [`select_abi`] before the probes run.
//!
//! Events stay masked (each vCPU's vcpu_info.evtchn_upcall_mask = 1) while xenprobe
//! runs; they are delivered only inside [`block`], where SCHEDOP_block enables them
//! atomically for the vCPU that blocks. Handlers therefore never interrupt code holding a lock, and
//! must only record facts (atomics), not print.

mod fifo;
mod l2;

use crate::arch::fncell::FnCell;
use crate::xen::{evtchn as ops, sched, shared, XenError};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use xp_core::cmdline::EvtchnAbi;
use xp_core::evtchn_fifo::{choose_abi, wants_fifo, FifoUnavailable};
use xp_core::evtchn_scan::NR_EVENT_CHANNELS;

pub use fifo::STUCK as FIFO_STUCK;
pub use fifo::{is_linked, BAD_LINKS as FIFO_BAD_LINKS, FIRST_BAD as FIFO_FIRST_BAD};

/// What differs between the ABIs; everything else here is shared.
trait Abi: Sync {
    fn name(&self) -> &'static str;
    /// Hand the running vCPU's pending, unmasked events to `deliver`, each once,
    /// its pending state cleared first.
    fn dispatch(&self, deliver: &mut dyn FnMut(u32));
    /// Make `port` addressable (FIFO: event-array pages up to it).
    fn setup(&self, port: u32) -> Result<(), XenError>;
    fn mask(&self, port: u32);
    /// Unmask without losing an event raised while masked.
    fn unmask(&self, port: u32);
    fn is_pending(&self, port: u32) -> bool;
    fn clear_pending(&self, port: u32);
    /// Xen signalled `port` to the running vCPU and it awaits dispatch.
    fn queued(&self, port: u32) -> bool;
    /// After EVTCHNOP_close of `port`.
    fn closed(&self, port: u32);
}

fn abi() -> &'static dyn Abi {
    if fifo::active() {
        &fifo::Fifo
    } else {
        &l2::TwoLevel
    }
}

/// The running vCPU.
fn cpu() -> usize {
    crate::arch::percpu::this_vcpu() as usize
}

/// The vCPU each 2-level port notifies (Xen binds every port to vCPU 0 unless told
/// otherwise): a vCPU's scan skips ports of its siblings, as Linux's cpu_evtchn_mask does.
static OWNER: [AtomicU8; NR_EVENT_CHANNELS as usize] =
    [const { AtomicU8::new(0) }; NR_EVENT_CHANNELS as usize];

/// The vCPU `port` notifies (0 for ports without a 2-level slot).
pub fn owner(port: u32) -> u32 {
    OWNER
        .get(port as usize)
        .map_or(0, |o| u32::from(o.load(Ordering::Acquire)))
}

/// Whether any port was ever bound to a vCPU other than 0 (else scans need no filter).
static ANY_SIBLING_PORT: AtomicBool = AtomicBool::new(false);

pub fn any_sibling_port() -> bool {
    ANY_SIBLING_PORT.load(Ordering::Acquire)
}

fn set_owner(port: u32, vcpu: u32) {
    if vcpu != 0 {
        ANY_SIBLING_PORT.store(true, Ordering::Release);
    }
    if let Some(o) = OWNER.get(port as usize) {
        o.store(vcpu as u8, Ordering::Release);
    }
}

/// EVTCHNOP_bind_virq for `vcpu`, remembered as the port's owner.
pub fn bind_virq(virq: u32, vcpu: u32) -> Result<u32, XenError> {
    let port = ops::bind_virq(virq, vcpu)?;
    set_owner(port, vcpu);
    Ok(port)
}

/// EVTCHNOP_bind_ipi: a port that notifies `vcpu` when sent, remembered as its owner.
pub fn bind_ipi(vcpu: u32) -> Result<u32, XenError> {
    let port = ops::bind_ipi(vcpu)?;
    set_owner(port, vcpu);
    Ok(port)
}

/// Ports below this have a slot each; up to [`HIGH_SLOTS`] ports above it share a small table.
pub const MAX_HANDLED: usize = 256;
const HIGH_SLOTS: usize = 8;

/// A handler runs in upcall context with the port whose pending state was just cleared.
pub type Handler = fn(u32);

static HANDLERS: [FnCell; MAX_HANDLED] = [const { FnCell::new() }; MAX_HANDLED];
static HIGH_PORTS: [AtomicU32; HIGH_SLOTS] = [const { AtomicU32::new(0) }; HIGH_SLOTS];
static HIGH_HANDLERS: [FnCell; HIGH_SLOTS] = [const { FnCell::new() }; HIGH_SLOTS];
/// Upcalls taken, events dispatched, events on ports without a handler.
pub static UPCALLS: AtomicU64 = AtomicU64::new(0);
pub static DISPATCHED: AtomicU64 = AtomicU64::new(0);
pub static UNEXPECTED: AtomicU64 = AtomicU64::new(0);

/// `port`'s handler slot; with `claim`, a free high slot is taken for a port above the table.
fn slot(port: u32, claim: bool) -> Option<&'static FnCell> {
    if let Some(h) = HANDLERS.get(port as usize) {
        return Some(h);
    }
    let i = HIGH_PORTS
        .iter()
        .position(|p| p.load(Ordering::Acquire) == port);
    let i = i.or_else(|| {
        let free = |p: &AtomicU32| {
            p.compare_exchange(0, port, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        };
        claim.then(|| HIGH_PORTS.iter().position(free)).flatten()
    });
    i.map(|i| &HIGH_HANDLERS[i])
}

fn handler(port: u32) -> Option<Handler> {
    slot(port, false)?.get()
}

/// Mask every port, then register the upcall entry with Xen (2-level ABI until
/// [`select_abi`]). Events stay masked until [`block`].
pub fn init() -> Result<(), XenError> {
    l2::mask_all();
    crate::xen::callback::register()
}

/// The ABI in use, for reports.
pub fn abi_name() -> &'static str {
    abi().name()
}

/// Apply `evtchn.abi=`: try FIFO unless 2-level was asked for; if Xen refuses it, stay on
/// 2-level, or fail when FIFO was asked for. Every port with a handler is set up and
/// unmasked again under the new ABI (a new event-array page starts all masked; Xen
/// re-raises what was pending when its page is added).
pub fn select_abi(requested: Option<EvtchnAbi>) -> Result<EvtchnAbi, FifoUnavailable> {
    let live = live_ports();
    let tried = wants_fifo(requested).then(fifo::enable);
    if let Some(Err(e)) = &tried {
        log::info!("FIFO event channels not available: {e}");
    }
    let abi = choose_abi(requested, tried.map(|r| r.map_err(|e| e.rc)))?;
    if abi == EvtchnAbi::Fifo {
        log::debug!(
            "event channels: FIFO; {} live ports set up again",
            live.len()
        );
        rebind(&live);
    }
    Ok(abi)
}

/// Ports with a handler that are unmasked (under the 2-level ABI, before a switch).
fn live_ports() -> alloc::vec::Vec<u32> {
    let high = HIGH_PORTS.iter().map(|p| p.load(Ordering::Acquire));
    let ports = (1..MAX_HANDLED as u32).chain(high);
    ports
        .filter(|&p| p != 0 && handler(p).is_some() && !l2::is_masked(p))
        .collect()
}

fn rebind(ports: &[u32]) {
    for &port in ports {
        match abi().setup(port) {
            Ok(()) => abi().unmask(port),
            Err(e) => log::error!("port {port} under the FIFO ABI: {e}"),
        }
    }
}

/// FIFO facts for reports: Xen's LINK width, control blocks registered, event-array pages.
pub fn fifo_facts() -> (u32, u32, u32) {
    fifo::facts()
}

/// Entered from arch/upcall.S with events masked.
#[no_mangle]
extern "C" fn xp_event_upcall() {
    UPCALLS.fetch_add(1, Ordering::Relaxed);
    dispatch_pending();
}

/// Deliver every pending, unmasked event of this vCPU to its handler. The upcall flag is
/// cleared first: an event raised during the scan sets it again (one extra empty pass).
fn dispatch_pending() {
    if let Some(e) = shared::events() {
        e.upcall_pending().store(0, Ordering::Release);
    }
    abi().dispatch(&mut |port| match handler(port) {
        None => drop(UNEXPECTED.fetch_add(1, Ordering::Relaxed)),
        Some(f) => {
            DISPATCHED.fetch_add(1, Ordering::Relaxed);
            f(port);
        }
    });
}

/// Have Xen's upcall come again as soon as events are enabled (work left over).
fn reraise() {
    if let Some(e) = shared::events() {
        e.upcall_pending().store(1, Ordering::Release);
    }
}

/// Route `port`'s events to `handler` and unmask it.
pub fn bind(port: u32, handler: Handler) -> Result<(), XenError> {
    let slot = slot(port, true).ok_or(XenError {
        call: "evtchn::bind (no free handler slot for a port above 255)",
        rc: -22,
    })?;
    abi().setup(port)?;
    slot.set(handler);
    unmask(port);
    log::trace!(
        "evtchn: port {port} has a handler and is unmasked ({})",
        abi().name()
    );
    Ok(())
}

/// Mask `port` and forget its handler (the port stays open).
pub fn unbind(port: u32) {
    mask(port);
    if let Some(h) = slot(port, false) {
        h.clear();
    }
    if let Some(p) = HIGH_PORTS
        .iter()
        .find(|p| p.load(Ordering::Acquire) == port)
    {
        p.store(0, Ordering::Release);
    }
}

/// Mask `port`.
pub fn mask(port: u32) {
    abi().mask(port)
}

/// Unmask `port` without losing an event raised while it was masked.
pub fn unmask(port: u32) {
    abi().unmask(port)
}

/// Clear `port`'s pending state (atomically; what has no state is logged).
pub fn clear_pending(port: u32) {
    abi().clear_pending(port)
}

/// Whether `port` is pending right now (for checks).
pub fn is_pending(port: u32) -> bool {
    abi().is_pending(port)
}

/// Whether Xen has signalled `port` to the running vCPU and it awaits dispatch (checks).
pub fn queued(port: u32) -> bool {
    abi().queued(port)
}

/// EVTCHNOP_close; under FIFO the port is also taken off our queue.
pub fn close(port: u32) -> Result<(), XenError> {
    ops::close(port)?;
    set_owner(port, 0);
    abi().closed(port);
    Ok(())
}

/// Sleep until any event arrives (SCHEDOP_block enables delivery atomically, so an event
/// raised just before cannot be missed); handlers run, then events are masked again.
/// Console output not yet announced is announced first (console::flush).
pub fn block() {
    crate::drv::console::flush();
    sched::block();
    if let Some(e) = shared::events() {
        e.upcall_mask().store(1, Ordering::SeqCst);
    }
}

/// Wait (events masked) until one of `ports` is pending or system time `deadline_ns`.
pub fn poll(ports: &[u32], deadline_ns: u64) -> i64 {
    crate::drv::console::flush();
    sched::poll(ports, deadline_ns)
}

pub use ops::{alloc_unbound, bind_interdomain, send, set_priority, status};
