//! xen/include/public/trace.h (Xen 4.17): trace record layout and the event ids xenprobe
//! decodes, plus the two ids of its planted-fault patch (boot/lab/xen-patches).
//!
//! A record (`struct t_rec`) is one 32-bit header - `event:28`, `extra_u32:3`,
//! `cycles_included:1` - then, if cycles are included, the TSC as two 32-bit halves (low
//! first), then `extra_u32` data words.

/// Largest `extra_u32` count.
pub const TRACE_EXTRA_MAX: u32 = 7;
pub const TRACE_EXTRA_SHIFT: u32 = 28;
/// `TRC_HD_CYCLE_FLAG`: the record carries a TSC.
pub const TRC_HD_CYCLE_FLAG: u32 = 1 << 31;
/// The 28 event bits of a header.
pub const TRC_HD_EVENT_MASK: u32 = 0x0fff_ffff;

pub const TRC_CLS_SHIFT: u32 = 16;
pub const TRC_SUBCLS_SHIFT: u32 = 12;

pub const TRC_GEN: u32 = 0x0001_f000;
pub const TRC_SCHED: u32 = 0x0002_f000;
pub const TRC_PV: u32 = 0x0020_f000;

pub const TRC_SCHED_MIN: u32 = 0x0002_1000;
pub const TRC_SCHED_CLASS: u32 = 0x0002_2000;
pub const TRC_SCHED_VERBOSE: u32 = 0x0002_8000;
pub const TRC_PV_ENTRY: u32 = 0x0020_1000;

pub const TRC_LOST_RECORDS: u32 = TRC_GEN + 1;
pub const TRC_TRACE_WRAP_BUFFER: u32 = TRC_GEN + 2;
pub const TRC_TRACE_CPU_CHANGE: u32 = TRC_GEN + 3;

/// Runstate change: the old state is in bits 8..11 of the event, the new one in bits 4..7.
pub const TRC_SCHED_RUNSTATE_CHANGE: u32 = TRC_SCHED_MIN + 1;
pub const TRC_SCHED_CONTINUE_RUNNING: u32 = TRC_SCHED_MIN + 2;
pub const TRC_SCHED_SLEEP: u32 = TRC_SCHED_VERBOSE + 3;
pub const TRC_SCHED_WAKE: u32 = TRC_SCHED_VERBOSE + 4;
pub const TRC_SCHED_YIELD: u32 = TRC_SCHED_VERBOSE + 5;
pub const TRC_SCHED_BLOCK: u32 = TRC_SCHED_VERBOSE + 6;
pub const TRC_SCHED_SWITCH: u32 = TRC_SCHED_VERBOSE + 10;
pub const TRC_SCHED_SWITCH_INFPREV: u32 = TRC_SCHED_VERBOSE + 14;
pub const TRC_SCHED_SWITCH_INFNEXT: u32 = TRC_SCHED_VERBOSE + 15;
pub const TRC_SCHED_SWITCH_INFCONT: u32 = TRC_SCHED_VERBOSE + 17;
/// Planted-fault patch: a wake-up deferred (dom, vcpu, kind 1 timer / 2 evtchn, ms, event #).
pub const TRC_SCHED_PLANTED_DEFER: u32 = TRC_SCHED_VERBOSE + 0x40;
/// Planted-fault patch: the deferred wake-up delivered (dom, vcpu).
pub const TRC_SCHED_PLANTED_WAKE: u32 = TRC_SCHED_VERBOSE + 0x41;

/// PV hypercall: word 0 = op | which arguments follow (2 bits each from bit 20).
pub const TRC_PV_HYPERCALL_V2: u32 = TRC_PV_ENTRY + 13;
pub const TRC_PV_HYPERCALL_V2_ARG_MASK: u32 = 0xfff0_0000;

/// xentrace's `struct cpu_change_record` header (tools/xentrace/xentrace.c): the event with
/// two data words (cpu, window size in bytes), no TSC.
pub const CPU_CHANGE_HEADER: u32 = TRC_TRACE_CPU_CHANGE | (2 << TRACE_EXTRA_SHIFT);

/// `xentrace -e` mask for what the timeline uses: classes SCHED and PV, subclasses
/// 1 (TRC_SCHED_MIN, TRC_PV_ENTRY) and 8 (TRC_SCHED_VERBOSE). Xen matches the class and
/// subclass bits separately, so this leaves out the scheduler-specific TRC_SCHED_CLASS.
pub const XENPROBE_TRACE_MASK: u32 = 0x0022_9000;

const _: () = assert!(CPU_CHANGE_HEADER == 0x2001_f003);
const _: () = assert!(TRC_SCHED_WAKE == 0x0002_8004 && TRC_PV_HYPERCALL_V2 == 0x0020_100d);
