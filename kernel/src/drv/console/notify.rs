//! Batched console notifications. xenconsoled handles at most 30 events of a domain per
//! 200 ms and masks its port for the rest of the period (Xen's tools/console/daemon/io.c,
//! RATE_LIMIT_ALLOWANCE and RATE_LIMIT_PERIOD): notifying after every write made a
//! 160-line run wait about a second on that limit. A write only records that output is
//! unannounced; the port is notified when the ring is half full, when a write finds the
//! oldest unannounced byte [`MAX_AGE_NS`] old, and by [`flush`], which every wait calls
//! (drv::evtchn block and poll, the stall probe's spin) and the shutdown path, so no line
//! waits longer than the vCPU's next sleep.

use crate::xen::evtchn;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};
use xp_core::xen::console::OUT_SIZE;

/// A write that finds unannounced output this old notifies (under the rate limit's
/// 30 per 200 ms even when the probe prints continuously).
const MAX_AGE_NS: u64 = 10_000_000;
const NO_PORT: u32 = u32::MAX;

/// System time of the oldest unannounced write (0: everything announced).
static UNSENT_SINCE: AtomicU64 = AtomicU64::new(0);
/// The console's event channel, once the ring is in use.
static PORT: AtomicU32 = AtomicU32::new(NO_PORT);

/// The ring is in use with event channel `port`.
pub(super) fn use_port(port: u32) {
    PORT.store(port, Relaxed);
}

/// Called after publishing a write (the producer index is stored): `used` bytes are in
/// the ring now.
pub(super) fn written(used: u32) {
    let now = crate::time::now_ns().max(1);
    let since = match UNSENT_SINCE.compare_exchange(0, now, AcqRel, Acquire) {
        Ok(_) => now,
        Err(t) => t,
    };
    if used >= OUT_SIZE / 2 || now.saturating_sub(since) >= MAX_AGE_NS {
        flush();
    }
}

/// Notify xenconsoled now (the ring is full: it must drain it), whatever was announced.
pub(super) fn now(port: u32) {
    UNSENT_SINCE.store(0, Release);
    let _ = evtchn::send(port);
}

/// Notify xenconsoled if output is unannounced. Safe from any vCPU, without the console
/// lock: the producer index was stored (Release) before the output was marked unannounced.
pub fn flush() {
    if UNSENT_SINCE.swap(0, AcqRel) == 0 {
        return;
    }
    let port = PORT.load(Relaxed);
    if port != NO_PORT {
        let _ = evtchn::send(port);
    }
}
