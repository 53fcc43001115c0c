//! sched.h: yield, poll, shutdown.

use super::hypercall::raw2;
use xp_core::xen::hypercall::SCHED_OP;
use xp_core::xen::sched::*;

/// SCHEDOP_shutdown with `reason`. Returns only if Xen refused.
pub fn shutdown(reason: ShutdownReason) -> i64 {
    let arg = SchedShutdown { reason: reason.0 };
    // SAFETY: the argument is a pointer to `struct sched_shutdown` (not the reason by value).
    unsafe {
        raw2(
            SCHED_OP,
            SCHEDOP_SHUTDOWN,
            &arg as *const SchedShutdown as u64,
        )
    }
}

/// SCHEDOP_yield: let another vCPU run.
pub fn yield_now() {
    // SAFETY: SCHEDOP_yield takes no argument.
    unsafe { raw2(SCHED_OP, SCHEDOP_YIELD, 0) };
}

/// SCHEDOP_poll: block until one of `ports` is pending or system time reaches
/// `timeout_abs_ns` (0 = no timeout). Needs event delivery masked.
pub fn poll(ports: &[u32], timeout_abs_ns: u64) -> i64 {
    let arg = SchedPoll {
        ports: ports.as_ptr() as u64,
        nr_ports: ports.len() as u32,
        _pad: 0,
        timeout: timeout_abs_ns,
    };
    // SAFETY: `arg` points at `ports`, both alive across the call; Xen only reads them.
    unsafe { raw2(SCHED_OP, SCHEDOP_POLL, &arg as *const SchedPoll as u64) }
}

/// SCHEDOP_block: enable event delivery atomically and sleep until an event is
/// pending (returns at once if one already is). Pending events are delivered
/// through the upcall right after the hypercall returns.
pub fn block() {
    // SAFETY: SCHEDOP_block takes no argument.
    unsafe { raw2(SCHED_OP, SCHEDOP_BLOCK, 0) };
}
