//! event_channel.h: EVTCHNOP_* argument structures.

pub const EVTCHNOP_BIND_INTERDOMAIN: u64 = 0;
pub const EVTCHNOP_BIND_VIRQ: u64 = 1;
pub const EVTCHNOP_CLOSE: u64 = 3;
pub const EVTCHNOP_SEND: u64 = 4;
pub const EVTCHNOP_STATUS: u64 = 5;
pub const EVTCHNOP_ALLOC_UNBOUND: u64 = 6;
pub const EVTCHNOP_BIND_IPI: u64 = 7;
pub const EVTCHNOP_BIND_VCPU: u64 = 8;
pub const EVTCHNOP_UNMASK: u64 = 9;
pub const EVTCHNOP_INIT_CONTROL: u64 = 11;
pub const EVTCHNOP_EXPAND_ARRAY: u64 = 12;
pub const EVTCHNOP_SET_PRIORITY: u64 = 13;

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

/// EVTCHNOP_init_control: register `vcpu`'s FIFO control block (the first call
/// switches the domain from the 2-level to the FIFO ABI).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct InitControl {
    /// Guest frame of the page holding the control block (a PV guest's mfn).
    pub control_gfn: u64,
    /// Byte offset of the control block in that page (8-byte aligned).
    pub offset: u32,
    pub vcpu: u32,
    /// OUT: `EVTCHN_FIFO_LINK_BITS` of this Xen.
    pub link_bits: u8,
    pub _pad: [u8; 7],
}
crate::assert_layout!(InitControl, 24; control_gfn => 0, offset => 8, vcpu => 12, link_bits => 16);

/// EVTCHNOP_expand_array: add one page to the event array.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ExpandArray {
    pub array_gfn: u64,
}
crate::assert_layout!(ExpandArray, 8; array_gfn => 0);

/// EVTCHNOP_set_priority: queue future events of `port` at `priority` (0 highest, 15 lowest).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SetPriority {
    pub port: u32,
    pub priority: u32,
}
crate::assert_layout!(SetPriority, 8; port => 0, priority => 4);

/// FIFO ABI: priorities 0 (highest) to 15 (lowest); new ports get 7.
pub const EVTCHN_FIFO_PRIORITY_MAX: u32 = 0;
pub const EVTCHN_FIFO_PRIORITY_DEFAULT: u32 = 7;
pub const EVTCHN_FIFO_PRIORITY_MIN: u32 = 15;
pub const EVTCHN_FIFO_MAX_QUEUES: usize = EVTCHN_FIFO_PRIORITY_MIN as usize + 1;
/// Bit numbers in an `event_word_t`.
pub const EVTCHN_FIFO_PENDING: u32 = 31;
pub const EVTCHN_FIFO_MASKED: u32 = 30;
pub const EVTCHN_FIFO_LINKED: u32 = 29;
pub const EVTCHN_FIFO_BUSY: u32 = 28;
/// The LINK field: the next port of the queue, in the low 17 bits.
pub const EVTCHN_FIFO_LINK_BITS: u32 = 17;
pub const EVTCHN_FIFO_LINK_MASK: u32 = (1 << EVTCHN_FIFO_LINK_BITS) - 1;
pub const EVTCHN_FIFO_NR_CHANNELS: u32 = 1 << EVTCHN_FIFO_LINK_BITS;
/// Event words (u32) per event-array page, and the most pages an array has.
pub const EVTCHN_FIFO_EVENT_WORDS_PER_PAGE: u32 = (super::PAGE_SIZE / 4) as u32;
pub const EVTCHN_FIFO_MAX_EVENT_ARRAY_PAGES: u32 =
    EVTCHN_FIFO_NR_CHANNELS / EVTCHN_FIFO_EVENT_WORDS_PER_PAGE;

/// `struct evtchn_fifo_control_block`: per-vCPU READY bits (one per priority)
/// and the HEAD port of each priority's queue. Xen writes it concurrently:
/// only ever accessed atomically at these offsets.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EvtchnFifoControlBlock {
    pub ready: u32,
    pub _rsvd: u32,
    pub head: [u32; EVTCHN_FIFO_MAX_QUEUES],
}
crate::assert_layout!(EvtchnFifoControlBlock, 72; ready => 0, head => 8);

/// `struct evtchn_bind_ipi`: a port that `EVTCHNOP_send` on it notifies to `vcpu` (our own domain).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BindIpi {
    pub vcpu: u32,
    /// OUT
    pub port: u32,
}
crate::assert_layout!(BindIpi, 8; vcpu => 0, port => 4);

/// `struct evtchn_bind_vcpu`: deliver `port`'s events to `vcpu` from now on.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BindVcpu {
    pub port: u32,
    pub vcpu: u32,
}
crate::assert_layout!(BindVcpu, 8; port => 0, vcpu => 4);
