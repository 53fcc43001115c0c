//! Xen's view of one stall: the trace records of guest vCPUs around the stall, on Xen system
//! time, per vCPU. Pure: bytes of a xentrace file in, lines out.
//!
//! Trace records carry the TSC of the pCPU that wrote them; the stall record carries the
//! pvclock record its vCPU used (`tsc_timestamp`, `system_time`, `tsc_to_system_mul`,
//! `tsc_shift`), which is Xen's own TSC-to-system-time scale, so both are on one clock.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use xp_core::pvclock::TimeSnapshot;
use xp_core::xentrace::event::{decode, runstate_name, DomVcpu, Event, Undecoded};
use xp_core::xentrace::{Item, Records, SkipReason};

/// What the stall record says: where, how long, and the clock to read the trace with.
#[derive(Clone, Copy, Debug)]
pub struct StallWindow {
    pub start_ns: u64,
    pub gap_ns: u64,
    pub clock: TimeSnapshot,
    /// How much before the start and after the end to show.
    pub margin_ns: u64,
}

/// One line of a vCPU's timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Xen system time, ns.
    pub sys_ns: u64,
    pub cpu: u32,
    pub what: String,
}

/// What the decoder did not use, counted by reason (Xen's own words where it has them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Records Xen dropped because a trace buffer was full (TRC_LOST_RECORDS).
    pub lost_records: u64,
    /// Bytes skipped, by reason (truncation, not a window).
    pub bytes: BTreeMap<String, u64>,
    /// Records of events the timeline does not decode, by event id.
    pub unknown: BTreeMap<u32, u64>,
    /// Records with a wrong data length, by event id.
    pub wrong_length: BTreeMap<u32, u64>,
    /// Records without a TSC before any record with one on their pCPU.
    pub no_timestamp: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Timeline {
    pub vcpus: BTreeMap<DomVcpu, Vec<Entry>>,
    pub skipped: Skipped,
    /// Records read in the whole file.
    pub records: u64,
}

fn is_guest(v: DomVcpu) -> bool {
    v.dom != 0 && v.dom < 0x7ff0
}

/// Reads the whole trace, keeps guest vCPU events inside the window.
pub fn build(trace: &[u8], w: &StallWindow) -> Timeline {
    let mut st = State::default();
    for item in Records::new(trace) {
        match item {
            Item::Skip(s) => {
                let why = skip_reason(&s.reason);
                *st.t.skipped.bytes.entry(why).or_default() += s.bytes as u64;
            }
            Item::Rec(r) => st.record(&r, w),
        }
    }
    for v in st.t.vcpus.values_mut() {
        v.sort_by_key(|e| e.sys_ns);
    }
    st.t
}

fn skip_reason(r: &SkipReason) -> String {
    match r {
        SkipReason::TruncatedWindow { .. } | SkipReason::TruncatedHeader => "truncated".into(),
        SkipReason::TruncatedRecord { .. } => "record past its window (truncated)".into(),
        SkipReason::NotAWindow { .. } => "not a cpu_change window".into(),
    }
}

#[derive(Default)]
struct State {
    t: Timeline,
    /// Last TSC seen per pCPU (records without one inherit it, as xenalyze does).
    tsc: BTreeMap<u32, u64>,
    /// The vCPU running on each pCPU (from context switches): who made a hypercall.
    running: BTreeMap<u32, DomVcpu>,
}

impl State {
    fn record(&mut self, r: &xp_core::xentrace::Rec<'_>, w: &StallWindow) {
        self.t.records += 1;
        let tsc = match r.tsc.or_else(|| self.tsc.get(&r.cpu).copied()) {
            Some(t) => t,
            None => return self.t.skipped.no_timestamp += 1,
        };
        self.tsc.insert(r.cpu, tsc);
        let ev = match decode(r) {
            Ok(ev) => ev,
            Err(Undecoded::Unknown { event }) => {
                return *self.t.skipped.unknown.entry(event).or_default() += 1
            }
            Err(Undecoded::WrongLength { event, .. }) => {
                return *self.t.skipped.wrong_length.entry(event).or_default() += 1
            }
        };
        if let Event::LostRecords { lost, .. } = ev {
            self.t.skipped.lost_records += u64::from(lost);
        }
        if let Event::Switch { next, .. } = ev {
            self.running.insert(r.cpu, next);
        }
        let sys = w.clock.system_time_at(tsc);
        let from = w.start_ns.saturating_sub(w.margin_ns);
        let to = w.start_ns + w.gap_ns + w.margin_ns;
        if (from..=to).contains(&sys) {
            self.keep(r.cpu, sys, &ev);
        }
    }

    fn keep(&mut self, cpu: u32, sys_ns: u64, ev: &Event) {
        let running = self.running.get(&cpu).copied();
        for (v, what) in describe(ev, running) {
            if is_guest(v) {
                let e = Entry { sys_ns, cpu, what };
                self.t.vcpus.entry(v).or_default().push(e);
            }
        }
    }
}

/// The vCPU(s) an event is about and what it says, in Xen's words.
pub fn describe(ev: &Event, running: Option<DomVcpu>) -> Vec<(DomVcpu, String)> {
    let one = |v: DomVcpu, s: String| vec![(v, s)];
    match *ev {
        Event::Block { v } => one(v, "do_block (SCHEDOP_block)".into()),
        Event::Wake { v } => one(v, "vcpu_wake".into()),
        Event::Sleep { v } => one(v, "vcpu_sleep".into()),
        Event::Yield { v } => one(v, "do_yield".into()),
        Event::Runstate { v, old, new } => one(
            v,
            format!("runstate {} -> {}", runstate_name(old), runstate_name(new)),
        ),
        Event::Switch { prev, next } => vec![
            (prev, format!("switched out (next {next})")),
            (next, format!("switched in (prev {prev})")),
        ],
        Event::PlantedDefer { v, kind, ms, nth } => one(v, planted(kind, ms, nth)),
        Event::PlantedWake { v } => one(v, "PLANTED FAULT: deferred wake-up delivered now".into()),
        Event::Hypercall { op, arg0, .. } => match running {
            Some(v) => one(v, hypercall_name(op, arg0)),
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn planted(kind: u32, ms: u32, nth: u32) -> String {
    let what = match kind {
        1 => "singleshot timer fired",
        2 => "event-channel notification sent",
        _ => "event",
    };
    format!("{what}; PLANTED FAULT: wake-up deferred by {ms} ms (event #{nth})")
}

/// Hypercall names of xen/include/public/xen.h, with the sub-op where Xen traces it.
pub fn hypercall_name(op: u32, arg0: Option<u32>) -> String {
    let sub = |names: &[&str]| {
        let c = arg0.unwrap_or(u32::MAX) as usize;
        names
            .get(c)
            .map_or_else(|| format!("{c}"), |n| n.to_string())
    };
    match op {
        24 => format!("hypercall vcpu_op({})", sub(&VCPUOP)),
        29 => format!("hypercall sched_op({})", sub(&SCHEDOP)),
        _ => match HYPERCALLS.get(op as usize) {
            Some(n) if !n.is_empty() => format!("hypercall {n}"),
            _ => format!("hypercall {op}"),
        },
    }
}

const HYPERCALLS: [&str; 43] = [
    "set_trap_table",
    "mmu_update",
    "set_gdt",
    "stack_switch",
    "set_callbacks",
    "fpu_taskswitch",
    "sched_op_compat",
    "platform_op",
    "set_debugreg",
    "get_debugreg",
    "update_descriptor",
    "",
    "memory_op",
    "multicall",
    "update_va_mapping",
    "set_timer_op",
    "event_channel_op_compat",
    "xen_version",
    "console_io",
    "physdev_op_compat",
    "grant_table_op",
    "vm_assist",
    "update_va_mapping_otherdomain",
    "iret",
    "vcpu_op",
    "set_segment_base",
    "mmuext_op",
    "xsm_op",
    "nmi_op",
    "sched_op",
    "callback_op",
    "xenoprof_op",
    "event_channel_op",
    "physdev_op",
    "hvm_op",
    "sysctl",
    "domctl",
    "kexec_op",
    "tmem_op",
    "argo_op",
    "xenpmu_op",
    "dm_op",
    "hypfs_op",
];

const VCPUOP: [&str; 14] = [
    "initialise",
    "up",
    "down",
    "is_up",
    "get_runstate_info",
    "register_runstate_memory_area",
    "set_periodic_timer",
    "stop_periodic_timer",
    "set_singleshot_timer",
    "stop_singleshot_timer",
    "register_vcpu_info",
    "send_nmi",
    "get_physid",
    "register_vcpu_time_memory_area",
];
const SCHEDOP: [&str; 7] = [
    "yield",
    "block",
    "shutdown",
    "poll",
    "remote_shutdown",
    "shutdown_code",
    "watchdog",
];

/// Text lines: per vCPU, times relative to the stall start; a run of identical events on
/// one pCPU is one line with its count and span.
pub fn render(t: &Timeline, w: &StallWindow) -> String {
    let mut s = String::new();
    if t.vcpus.is_empty() {
        let _ = writeln!(s, "    no guest vCPU event in the trace around this stall");
    }
    let rel = |ns: u64| (ns as f64 - w.start_ns as f64) / 1e6;
    for (v, entries) in &t.vcpus {
        let _ = writeln!(s, "    {v}:");
        for run in entries.chunk_by(|a, b| a.what == b.what && a.cpu == b.cpu) {
            let (a, b) = (&run[0], &run[run.len() - 1]);
            let _ = write!(
                s,
                "      {:>+11.3} ms  pCPU{:<2} {}",
                rel(a.sys_ns),
                a.cpu,
                a.what
            );
            if run.len() > 1 {
                let _ = write!(s, " (x{}, until {:+.3} ms)", run.len(), rel(b.sys_ns));
            }
            s.push('\n');
        }
    }
    s
}

/// One line saying what was skipped, or None when nothing was.
pub fn skipped_line(k: &Skipped) -> Option<String> {
    let mut parts = Vec::new();
    if k.lost_records > 0 {
        parts.push(format!(
            "{} records lost by Xen (trace buffer full: raise xentrace -S)",
            k.lost_records
        ));
    }
    for (why, n) in &k.bytes {
        parts.push(format!("{n} bytes ({why})"));
    }
    let sum = |m: &BTreeMap<u32, u64>| m.values().sum::<u64>();
    if !k.unknown.is_empty() {
        let ids: Vec<String> = k
            .unknown
            .iter()
            .map(|(e, n)| format!("{e:#010x} x{n}"))
            .collect();
        parts.push(format!(
            "{} records of events the timeline does not use ({})",
            sum(&k.unknown),
            ids.join(", ")
        ));
    }
    if !k.wrong_length.is_empty() {
        let ids: Vec<String> = k
            .wrong_length
            .keys()
            .map(|e| format!("{e:#010x}"))
            .collect();
        parts.push(format!(
            "{} records with a wrong length ({})",
            sum(&k.wrong_length),
            ids.join(", ")
        ));
    }
    if k.no_timestamp > 0 {
        parts.push(format!("{} records without a timestamp", k.no_timestamp));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}
