//! HYPERVISOR_console_io: Xen's own console (dom0, or debug builds of Xen).

use super::hypercall::raw3;
use xp_core::xen::hypercall::{CONSOLEIO_WRITE, CONSOLE_IO};

/// Write bytes to Xen's console. A release Xen refuses this for a domU (EPERM).
pub fn write(bytes: &[u8]) -> i64 {
    // SAFETY: Xen reads `len` bytes from `ptr`, which `bytes` covers for the call's duration.
    unsafe {
        raw3(
            CONSOLE_IO,
            CONSOLEIO_WRITE,
            bytes.len() as u64,
            bytes.as_ptr() as u64,
        )
    }
}
