//! event_channel.h: EVTCHNOP_* argument structures.

pub const EVTCHNOP_BIND_INTERDOMAIN: u64 = 0;
pub const EVTCHNOP_BIND_VIRQ: u64 = 1;
pub const EVTCHNOP_CLOSE: u64 = 3;
pub const EVTCHNOP_SEND: u64 = 4;
pub const EVTCHNOP_STATUS: u64 = 5;
pub const EVTCHNOP_ALLOC_UNBOUND: u64 = 6;
pub const EVTCHNOP_UNMASK: u64 = 9;

/// VIRQ_TIMER: the per-vCPU timer virtual interrupt.
pub const VIRQ_TIMER: u32 = 0;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BindInterdomain {
    pub remote_dom: u16,
    pub _pad: u16,
    pub remote_port: u32,
    /// OUT
    pub local_port: u32,
}
crate::assert_layout!(BindInterdomain, 12; remote_port => 4, local_port => 8);

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BindVirq {
    pub virq: u32,
    pub vcpu: u32,
    /// OUT
    pub port: u32,
}
crate::assert_layout!(BindVirq, 12; virq => 0, vcpu => 4, port => 8);

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct AllocUnbound {
    pub dom: u16,
    pub remote_dom: u16,
    /// OUT
    pub port: u32,
}
crate::assert_layout!(AllocUnbound, 8; remote_dom => 2, port => 4);

/// Channel status (`EVTCHNSTAT_*`): an integer newtype, Xen writes it.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvtchnStat(pub u32);
impl EvtchnStat {
    pub const CLOSED: Self = Self(0);
    pub const UNBOUND: Self = Self(1);
    pub const INTERDOMAIN: Self = Self(2);
    pub const PIRQ: Self = Self(3);
    pub const VIRQ: Self = Self(4);
    pub const IPI: Self = Self(5);

    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "closed",
            1 => "unbound",
            2 => "interdomain",
            3 => "pirq",
            4 => "virq",
            5 => "ipi",
            _ => "unknown",
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Status {
    pub dom: u16,
    pub _pad: u16,
    pub port: u32,
    /// OUT
    pub status: EvtchnStat,
    /// OUT
    pub vcpu: u32,
    /// OUT: unbound {dom} | interdomain {dom, port} | pirq | virq, as raw words.
    pub u: [u32; 2],
}
crate::assert_layout!(Status, 24; port => 4, status => 8, vcpu => 12, u => 16);
