//! The console: the PV console ring for a domU, HYPERVISOR_console_io for dom0.
//!
//! Ring protocol (io/console.h): we produce into `out`, xenconsoled consumes.
//! Bytes are written before `out_prod` is published (Release), the event
//! channel is notified after (batched: console/notify.rs), and when the ring is full we
//! wait for space (poll the console port with a timeout) instead of dropping output.

use crate::shmem::{SharedMem, SharedPage};
use crate::xen::{console_io, sched};
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering::*};
use spin::Mutex;
use xp_core::ring::ByteRing;
use xp_core::xen::console::*;

mod notify;
pub use notify::flush;

/// How long one wait for ring space may block before re-checking (ns).
const SPACE_WAIT_NS: u64 = 10_000_000;

/// The console page shared with xenconsoled, through the shared-memory layer.
struct Ring {
    page: SharedPage<'static>,
    port: u32,
}

/// The `out` ring of `struct xencons_interface`.
const OUT: ByteRing = ByteRing {
    name: "console out",
    base: OUT_OFFSET,
    size: OUT_SIZE,
};

impl Ring {
    /// Write all of `data`, waiting for space; gives up (returns false) only if the
    /// consumer's index is impossible (a broken peer), since waiting could never end.
    fn write(&mut self, mut data: &[u8]) -> bool {
        while !data.is_empty() {
            let cons = self.page.load32(OUT_CONS);
            let prod = self.page.load32(OUT_PROD);
            let Ok(n) = OUT.put(&self.page, prod, cons, data) else {
                return false;
            };
            if n == 0 {
                self.wait_for_space();
                continue;
            }
            // Release: the bytes above must be visible before the new producer index.
            self.page.store32(OUT_PROD, prod.wrapping_add(n as u32));
            data = &data[n..];
            notify::written(prod.wrapping_add(n as u32).wrapping_sub(cons));
        }
        true
    }

    fn wait_for_space(&self) {
        notify::now(self.port);
        // A console port is a 2-level port (< 4096): it always has a pending bit.
        crate::drv::evtchn::clear_pending(self.port);
        let now = crate::time::now_ns();
        if now == 0 {
            sched::yield_now();
        } else {
            sched::poll(&[self.port], now + SPACE_WAIT_NS);
        }
    }
}

enum Backend {
    /// Before setup: try console_io (works for dom0 and debug builds of Xen).
    Early,
    Ring(Ring),
    Hypervisor,
}

/// The console; one line at a time is written under its lock.
pub struct Console {
    backend: Backend,
}

impl Console {
    fn write_bytes(&mut self, b: &[u8]) {
        match &mut self.backend {
            Backend::Ring(r) => {
                if !r.write(b) {
                    // The peer's indexes are impossible: fall back so the verdict still shows.
                    self.backend = Backend::Hypervisor;
                    console_io::write(b"\nconsole ring indexes out of range; using console_io\n");
                    console_io::write(b);
                }
            }
            Backend::Early | Backend::Hypervisor => {
                console_io::write(b);
            }
        }
    }
}

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write_bytes(s.as_bytes());
        Ok(())
    }
}

static CONSOLE: Mutex<Console> = Mutex::new(Console {
    backend: Backend::Early,
});

/// Use the PV console ring on `page` with event channel `port`.
pub fn use_ring(page: SharedPage<'static>, port: u32) {
    notify::use_port(port);
    CONSOLE.lock().backend = Backend::Ring(Ring { page, port });
    log::debug!("console: ring page from the domain builder, event channel {port}");
}

/// Use HYPERVISOR_console_io (dom0).
pub fn use_hypervisor() {
    CONSOLE.lock().backend = Backend::Hypervisor;
    log::debug!("console: HYPERVISOR_console_io (dom0 has no console ring)");
}

/// The vCPU that holds [`CONSOLE`] inside [`with`] ([`FREE`] otherwise): the crash path
/// needs to know whether it interrupted its own vCPU's output or waits for a sibling's.
static OWNER: AtomicU32 = AtomicU32::new(FREE);
const FREE: u32 = u32::MAX;
/// How long the crash path waits for a sibling vCPU to finish its line.
const SIBLING_WAIT_NS: u64 = 100_000_000;

/// Run `f` with the console locked, so what it writes is not interleaved.
pub fn with<R>(f: impl FnOnce(&mut Console) -> R) -> R {
    let mut guard = CONSOLE.lock();
    OWNER.store(crate::arch::percpu::this_vcpu(), Release);
    let r = f(&mut guard);
    OWNER.store(FREE, Release);
    r
}

/// For the crash path: make the console usable by this vCPU. If this vCPU holds the lock,
/// the fault or panic interrupted its own output and the guard never resumes: the lock is
/// broken. A sibling's line is waited for (up to 100 ms). False if a sibling keeps it.
pub fn break_lock() -> bool {
    let me = crate::arch::percpu::this_vcpu();
    let deadline = crate::time::now_ns().saturating_add(SIBLING_WAIT_NS);
    while CONSOLE.is_locked() {
        if OWNER.load(Acquire) == me {
            // SAFETY: the guard belongs to this vCPU's frame that the fault or panic
            // interrupted; that frame never resumes, so the guard is never used again and
            // nothing else touches the console while we report.
            unsafe { CONSOLE.force_unlock() };
            return true;
        }
        if crate::time::now_ns() > deadline {
            return false;
        }
        core::hint::spin_loop();
    }
    true
}

/// `print!` to the console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::drv::console::with(|c| { let _ = core::fmt::Write::write_fmt(c, format_args!($($arg)*)); })
    };
}

/// `println!` to the console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => {
        $crate::drv::console::with(|c| {
            let _ = core::fmt::Write::write_fmt(c, format_args!($($arg)*));
            let _ = core::fmt::Write::write_str(c, "\n");
        })
    };
}
