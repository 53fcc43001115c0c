//! Port I/O, only used to end a dom0 run under QEMU (isa-debug-exit at 0xf4).

use x86_64::instructions::port::Port;

/// Write `v` to QEMU's isa-debug-exit port: QEMU exits with status `2 * v + 1`.
///
/// The caller must have raised the virtual IOPL (PHYSDEVOP_set_iopl) first.
pub fn isa_debug_exit(v: u8) {
    let mut port: Port<u8> = Port::new(0xf4);
    // SAFETY: port 0xf4 is QEMU's isa-debug-exit device in the lab; writing it has no
    // effect on memory. On hardware without the device the write is ignored.
    unsafe { port.write(v) }
}
