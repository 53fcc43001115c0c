//! physdev.h: raising the virtual IOPL (dom0 only).

use super::hypercall::raw2;
use xp_core::xen::hypercall::{PHYSDEVOP_SET_IOPL, PHYSDEV_OP};

/// PHYSDEVOP_set_iopl: allow port I/O at privilege `iopl` (3 for a 64-bit PV kernel).
pub fn set_iopl(iopl: u32) -> Result<(), super::XenError> {
    let arg = iopl;
    // SAFETY: `struct physdev_set_iopl { uint32_t iopl; }`, alive across the call.
    let rc = unsafe { raw2(PHYSDEV_OP, PHYSDEVOP_SET_IOPL, &arg as *const u32 as u64) };
    super::check("PHYSDEVOP_set_iopl", rc).map(|_| ())
}
