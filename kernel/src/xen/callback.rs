//! HYPERVISOR_set_callbacks: where Xen delivers events and failsafe returns.

use super::hypercall::raw3;
use xp_core::xen::hypercall::SET_CALLBACKS;

extern "C" {
    fn xp_hypervisor_callback();
    fn xp_failsafe_callback();
}

/// arch/upcall.S's event and failsafe entry points (also a new vCPU's initial context).
pub fn entry_points() -> (u64, u64) {
    let event = xp_hypervisor_callback as *const () as usize as u64;
    let failsafe = xp_failsafe_callback as *const () as usize as u64;
    (event, failsafe)
}

/// Register arch/upcall.S's entry points for the running vCPU (no syscall entry: we have
/// no user mode).
pub fn register() -> Result<(), super::XenError> {
    let (event, failsafe) = entry_points();
    // SAFETY: both addresses are code in our image that follows the PV callback frame
    // conventions documented in arch/upcall.S.
    let rc = unsafe { raw3(SET_CALLBACKS, event, failsafe, 0) };
    super::check("set_callbacks", rc).map(|_| ())
}
