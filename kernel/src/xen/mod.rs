//! Safe wrappers over Xen hypercalls, one module per public header.
//!
//! The ABI layouts and constants come from `xp_core::xen` (host-tested);
//! this layer only turns them into calls through `arch::hypercall`.

pub mod callback;
pub mod console_io;
pub mod evtchn;
pub mod gnttab;
pub mod hypercall;
pub mod mmu;
pub mod physdev;
pub mod sched;
pub mod shared;
pub mod vcpu;
pub mod version;

/// A hypercall's negative errno, kept with the call's name for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XenError {
    pub call: &'static str,
    pub rc: i64,
}

impl core::fmt::Display for XenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let name = xp_core::xen::errno::name(self.rc);
        write!(f, "{} failed: {} ({})", self.call, self.rc, name)
    }
}

/// Turn a hypercall return value into a `Result`.
pub fn check(call: &'static str, rc: i64) -> Result<i64, XenError> {
    if rc < 0 {
        let e = XenError { call, rc };
        log::debug!("{e}");
        Err(e)
    } else {
        Ok(rc)
    }
}
