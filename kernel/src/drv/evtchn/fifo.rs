//! The FIFO ABI (EVTCHNOP_init_control): per-vCPU control blocks and the event
//! array, pages of ours that Xen writes, reached only through the shared-memory
//! layer; the queue protocol itself is xp_core::evtchn_fifo.

use super::Abi;
use crate::shmem::{PageCell, SharedMem, SharedPage};
use crate::xen::{evtchn as ops, XenError};
use alloc::boxed::Box;
use core::mem::offset_of;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};
use spin::{Mutex, Once};
use xp_core::evtchn_fifo::{self as fifo, BadLink, Consumer, EventWord, FifoPages, Unmask};
use xp_core::xen::errno::{EFAULT, EINVAL, ENOENT};
use xp_core::xen::event_channel::EvtchnFifoControlBlock;
use xp_core::xen::event_channel::EVTCHN_FIFO_EVENT_WORDS_PER_PAGE as WORDS;
use xp_core::xen::event_channel::EVTCHN_FIFO_MAX_EVENT_ARRAY_PAGES as MAX_PAGES;

/// vCPUs that may have a control block.
pub const MAX_VCPUS: usize = 32;
/// Queue steps one upcall takes at most (then the upcall is re-raised).
const BUDGET: u32 = 1024;

pub struct Fifo;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static ARRAY: [Once<&'static PageCell>; MAX_PAGES as usize] =
    [const { Once::new() }; MAX_PAGES as usize];
/// Ports with an event word: published (Release) after the page is in ARRAY and Xen has it.
static NR_PORTS: AtomicU32 = AtomicU32::new(0);
static EXPAND: Mutex<()> = Mutex::new(());
static CONTROL: [Once<&'static PageCell>; MAX_VCPUS] = [const { Once::new() }; MAX_VCPUS];
static CONSUMERS: [Mutex<Consumer>; MAX_VCPUS] = [const { Mutex::new(Consumer::new()) }; MAX_VCPUS];
/// What Xen's queues did that the protocol forbids (the evtchn probe checks both stay 0).
pub static BAD_LINKS: AtomicU64 = AtomicU64::new(0);
pub static STUCK: AtomicU64 = AtomicU64::new(0);
pub static FIRST_BAD: Once<BadLink> = Once::new();
static LINK_BITS: AtomicU32 = AtomicU32::new(0);
static VCPUS: AtomicU32 = AtomicU32::new(0);

pub fn active() -> bool {
    ACTIVE.load(Acquire)
}

/// What the FIFO setup found: Xen's LINK width, control blocks, event-array pages.
pub fn facts() -> (u32, u32, u32) {
    let pages = NR_PORTS.load(Acquire) / WORDS;
    (LINK_BITS.load(Acquire), VCPUS.load(Acquire), pages)
}

fn err(call: &'static str, rc: i64) -> XenError {
    XenError { call, rc }
}

/// A zeroed page of ours for Xen to write, and its frame (a PV guest's gfn is its mfn).
fn new_page() -> &'static PageCell {
    Box::leak(Box::new(PageCell::new()))
}

fn gfn(cell: &PageCell) -> Result<u64, XenError> {
    crate::mm::va_to_mfn(cell.va()).ok_or(err("FIFO page: no machine frame", -EFAULT))
}

/// EVTCHNOP_init_control for `vcpu` with a fresh control block page.
fn register(vcpu: u32) -> Result<u8, XenError> {
    let cell = new_page();
    let bits = ops::init_control(gfn(cell)?, 0, vcpu)?;
    CONTROL[vcpu as usize].call_once(|| cell);
    VCPUS.fetch_add(1, AcqRel);
    Ok(bits)
}

/// Switch the domain to FIFO: vCPU 0's control block first (the call that switches Xen;
/// its error means FIFO is not offered and nothing changed), then every other vCPU the
/// domain has (until Xen answers ENOENT), as events on a vCPU without one are dropped.
pub fn enable() -> Result<(), XenError> {
    LINK_BITS.store(u32::from(register(0)?), Release);
    ACTIVE.store(true, Release);
    // The first page now: ports without a handler (the console's, polled) need words too.
    if let Err(e) = expand_to(1) {
        log::error!("FIFO event array: {e}");
    }
    for vcpu in 1..MAX_VCPUS as u32 {
        match register(vcpu) {
            Ok(_) => {}
            Err(e) if e.rc == -ENOENT => break,
            Err(e) => log::error!("FIFO control block of vCPU {vcpu}: {e}"),
        }
    }
    Ok(())
}

/// Event-array pages up to `port`, each all-MASKED before Xen gets it.
fn expand_to(port: u32) -> Result<(), XenError> {
    let need = fifo::pages_for(port).ok_or(err("FIFO: port above 131071", -EINVAL))?;
    let _g = EXPAND.lock();
    while NR_PORTS.load(Acquire) / WORDS < need {
        let i = NR_PORTS.load(Acquire) / WORDS;
        // A page that Xen refused before is reused (Linux does the same).
        let cell = *ARRAY[i as usize].call_once(new_page);
        let p = SharedPage::new(cell);
        (0..WORDS as usize).for_each(|w| p.store32(w * 4, EventWord::INITIAL.0));
        ops::expand_array(gfn(cell)?)?;
        NR_PORTS.store((i + 1) * WORDS, Release);
    }
    Ok(())
}

fn array_page(i: u32) -> SharedPage<'static> {
    let cell = ARRAY[i as usize]
        .get()
        .expect("only published event-array pages are asked for");
    SharedPage::new(cell)
}

type View = FifoPages<SharedPage<'static>, fn(u32) -> SharedPage<'static>>;

/// The running vCPU's view of the FIFO memory.
fn view() -> Option<View> {
    let cell = CONTROL.get(super::cpu())?.get()?;
    Some(FifoPages {
        array: array_page,
        control: SharedPage::new(cell),
        offset: 0,
    })
}

/// `f` on `port`'s word, if it has one.
fn word<R>(port: u32, f: impl FnOnce(&View) -> R) -> Option<R> {
    if port == 0 || port >= NR_PORTS.load(Acquire) {
        return None;
    }
    view().map(|v| f(&v))
}

/// Whether `port` is still on a queue.
pub fn is_linked(port: u32) -> bool {
    word(port, |v| fifo::is_linked(v, port)).unwrap_or(false)
}

fn note(r: &fifo::ScanReport) {
    BAD_LINKS.fetch_add(r.bad_links.into(), Relaxed);
    STUCK.fetch_add(r.stuck.into(), Relaxed);
    if let Some(b) = r.first_bad {
        FIRST_BAD.call_once(|| b);
    }
}

impl Abi for Fifo {
    fn name(&self) -> &'static str {
        "fifo"
    }
    fn dispatch(&self, deliver: &mut dyn FnMut(u32)) {
        let Some(v) = view() else { return };
        let Some(mut c) = CONSUMERS[super::cpu()].try_lock() else {
            return super::reraise();
        };
        let r = fifo::scan(&v, &mut c, NR_PORTS.load(Acquire), BUDGET, &mut |p| {
            deliver(p)
        });
        note(&r);
        if r.more {
            super::reraise();
        }
    }
    fn setup(&self, port: u32) -> Result<(), XenError> {
        expand_to(port)
    }
    fn mask(&self, port: u32) {
        word(port, |v| fifo::mask(v, port));
    }
    fn unmask(&self, port: u32) {
        if word(port, |v| fifo::unmask(v, port)) == Some(Unmask::Hypercall) {
            if let Err(e) = ops::unmask(port) {
                log::error!("unmask({port}): {e}");
            }
        }
    }
    fn is_pending(&self, port: u32) -> bool {
        word(port, |v| fifo::is_pending(v, port)).unwrap_or(false)
    }
    fn clear_pending(&self, port: u32) {
        word(port, |v| fifo::clear_pending(v, port));
    }
    fn queued(&self, port: u32) -> bool {
        let linked = word(port, |v| {
            fifo::is_pending(v, port) && fifo::is_linked(v, port)
        });
        let off = offset_of!(EvtchnFifoControlBlock, ready);
        let ready = view().is_some_and(|v| v.control.load32(off) != 0);
        linked == Some(true) && ready
    }
    /// Xen cleared PENDING but the word may still be on a queue: take it off (ours) so
    /// the port can be bound again without its first event landing on a stale queue.
    fn closed(&self, port: u32) {
        if is_linked(port) {
            super::dispatch_pending();
        }
        if is_linked(port) {
            log::warn!("FIFO port {port} still on a queue after close (another vCPU's)");
        }
    }
}
