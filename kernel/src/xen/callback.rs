//! HYPERVISOR_set_callbacks: where Xen delivers events and failsafe returns.

use super::hypercall::raw3;
use xp_core::xen::hypercall::SET_CALLBACKS;

extern "C" {
    fn xp_hypervisor_callback();
    fn xp_failsafe_callback();
}

/// Register arch/upcall.S's entry points (no syscall entry: we have no user mode).
pub fn register() -> Result<(), super::XenError> {
    let event = xp_hypervisor_callback as *const () as usize as u64;
    let failsafe = xp_failsafe_callback as *const () as usize as u64;
    // SAFETY: both addresses are code in our image that follows the PV callback frame
    // conventions documented in arch/upcall.S.
    let rc = unsafe { raw3(SET_CALLBACKS, event, failsafe, 0) };
    super::check("set_callbacks", rc).map(|_| ())
}
