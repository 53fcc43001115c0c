//! sched.h: SCHEDOP_* and shutdown reasons.

pub const SCHEDOP_YIELD: u64 = 0;
pub const SCHEDOP_BLOCK: u64 = 1;
pub const SCHEDOP_SHUTDOWN: u64 = 2;
pub const SCHEDOP_POLL: u64 = 3;

/// Shutdown reason: an integer newtype (`SHUTDOWN_*`).
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownReason(pub u32);
impl ShutdownReason {
    pub const POWEROFF: Self = Self(0);
    pub const REBOOT: Self = Self(1);
    pub const CRASH: Self = Self(3);
}

/// `struct sched_shutdown`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SchedShutdown {
    pub reason: u32,
}

/// `struct sched_poll`: wait for one of `nr_ports` ports (array at `ports`) until `timeout` (abs ns, 0 = none).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SchedPoll {
    pub ports: u64,
    pub nr_ports: u32,
    pub _pad: u32,
    pub timeout: u64,
}
crate::assert_layout!(SchedPoll, 24; ports => 0, nr_ports => 8, timeout => 16);
