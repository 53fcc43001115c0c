//! The 2-level ABI: pending and mask bitmaps in shared_info, the selector in
//! vcpu_info; xp_core::evtchn_scan holds the rules (Mini-OS's).

use super::Abi;
use crate::shmem::OutOfRange;
use crate::xen::{shared, XenError};
use core::sync::atomic::{AtomicU64, Ordering};
use xp_core::evtchn_scan::{
    self, port_bit, port_word, EventWords, UnmaskOutcome, UnmaskWords, NR_EVENT_CHANNELS,
};

pub struct TwoLevel;

struct Words(shared::EventBits);

/// Bits of word `w` for ports that notify another vCPU than `cpu`.
fn foreign(cpu: u32, w: usize) -> u64 {
    if !super::any_sibling_port() {
        return 0;
    }
    (0..64u32)
        .filter(|&b| super::owner(w as u32 * 64 + b) != cpu)
        .fold(0, |m, b| m | 1 << b)
}

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
    /// Masked for this scan: masked ports and the ports of sibling vCPUs (they are
    /// signalled on their own vCPU and handled there).
    fn mask(&self, w: usize) -> u64 {
        bit(self.0.mask(w), |a| a.load(Ordering::Acquire)) | foreign(self.0.cpu, w)
    }
    fn clear_pending(&self, port: u32) {
        bit(self.0.pending(port_word(port)), |a| {
            a.fetch_and(!port_bit(port), Ordering::AcqRel)
        });
    }
}

impl UnmaskWords for Words {
    fn clear_mask(&self, port: u32) {
        bit(self.0.mask(port_word(port)), |a| {
            a.fetch_and(!port_bit(port), Ordering::AcqRel)
        });
    }
    fn test_pending(&self, port: u32) -> bool {
        bit(self.0.pending(port_word(port)), |a| {
            a.load(Ordering::Acquire)
        }) & port_bit(port)
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

/// Mask every port (Mini-OS does the same: only bound ports get unmasked).
pub fn mask_all() {
    if let Some(w) = words() {
        for i in 0..(NR_EVENT_CHANNELS as usize / 64) {
            bit(w.0.mask(i), |a| a.swap(u64::MAX, Ordering::Release));
        }
    }
}

/// Whether `port`'s mask bit is set (ports without a bit count as masked).
pub fn is_masked(port: u32) -> bool {
    let m = |w: &Words| bit(w.0.mask(port_word(port)), |a| a.load(Ordering::Acquire));
    port >= NR_EVENT_CHANNELS || words().is_none_or(|w| m(&w) & port_bit(port) != 0)
}

impl Abi for TwoLevel {
    fn name(&self) -> &'static str {
        "2l"
    }
    fn dispatch(&self, deliver: &mut dyn FnMut(u32)) {
        if let Some(w) = words() {
            evtchn_scan::scan(&w, NR_EVENT_CHANNELS, &mut |p| deliver(p));
        }
    }
    fn setup(&self, port: u32) -> Result<(), XenError> {
        match port < NR_EVENT_CHANNELS {
            true => Ok(()),
            false => Err(XenError {
                call: "evtchn (2-level ABI: port above 4095)",
                rc: -22,
            }),
        }
    }
    fn mask(&self, port: u32) {
        if let Some(w) = words() {
            bit(w.0.mask(port_word(port)), |a| {
                a.fetch_or(port_bit(port), Ordering::AcqRel)
            });
        }
    }
    fn unmask(&self, port: u32) {
        let Some(w) = words() else { return };
        if super::owner(port) != w.0.cpu {
            // Xen re-raises a pending event on the vCPU the port notifies.
            if let Err(e) = crate::xen::evtchn::unmask(port) {
                log::error!("unmask({port}): {e}");
            }
            return;
        }
        if let UnmaskOutcome::Resent { run_now: true } = evtchn_scan::unmask(&w, port) {
            super::dispatch_pending();
        }
    }
    fn is_pending(&self, port: u32) -> bool {
        words().is_some_and(|w| port < NR_EVENT_CHANNELS && w.test_pending(port))
    }
    fn clear_pending(&self, port: u32) {
        if let Err(e) = shared::clear_pending(port) {
            log::error!("clear_pending({port}): {e}");
        }
    }
    fn queued(&self, port: u32) -> bool {
        let sel = |w: &Words| w.0.selector().load(Ordering::Acquire);
        let signalled = |w: &Words| sel(w) & (1 << port_word(port)) != 0;
        words().is_some_and(|w| port < NR_EVENT_CHANNELS && w.test_pending(port) && signalled(&w))
    }
    fn closed(&self, _port: u32) {}
}
