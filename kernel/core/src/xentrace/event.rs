//! Meaning of the records the stall timeline uses (formats as in tools/xentrace/formats and
//! the TRACE_xD call sites of Xen 4.17's common/sched/core.c, common/trace.c).

use super::Rec;
use crate::xen::trace::*;

/// A domain and one of its vCPUs (`d1v0` in Xen's own words).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomVcpu {
    pub dom: u16,
    pub vcpu: u16,
}

impl core::fmt::Display for DomVcpu {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.dom {
            0x7fff => write!(f, "idle v{}", self.vcpu),
            d => write!(f, "d{d}v{}", self.vcpu),
        }
    }
}

/// Xen's runstate numbers (RUNSTATE_running 0, runnable 1, blocked 2, offline 3).
pub fn runstate_name(s: u8) -> &'static str {
    ["running", "runnable", "blocked", "offline"][usize::from(s & 3)]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Xen's buffer was full: `lost` records were dropped from `first_tsc` on.
    LostRecords {
        lost: u32,
        first_tsc: u64,
    },
    /// Padding at the end of a per-CPU buffer.
    WrapPadding,
    Runstate {
        v: DomVcpu,
        old: u8,
        new: u8,
    },
    ContinueRunning {
        v: DomVcpu,
    },
    Sleep {
        v: DomVcpu,
    },
    Wake {
        v: DomVcpu,
    },
    Yield {
        v: DomVcpu,
    },
    Block {
        v: DomVcpu,
    },
    /// Context switch on this pCPU (units are vCPUs at the default granularity).
    Switch {
        prev: DomVcpu,
        next: DomVcpu,
    },
    SwitchInfPrev {
        v: DomVcpu,
        runtime_ns: u32,
    },
    SwitchInfNext {
        v: DomVcpu,
        wait_ns: u32,
    },
    SwitchInfCont {
        v: DomVcpu,
    },
    /// Planted fault: the wake-up of `v` deferred (`kind` 1 timer, 2 event channel).
    PlantedDefer {
        v: DomVcpu,
        kind: u32,
        ms: u32,
        nth: u32,
    },
    PlantedWake {
        v: DomVcpu,
    },
    /// PV hypercall by the vCPU running on this pCPU, with the 32-bit arguments Xen traced.
    Hypercall {
        op: u32,
        arg0: Option<u32>,
        arg1: Option<u32>,
    },
}

/// Why a record was not decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undecoded {
    /// An event id this decoder does not know (another class, or a newer Xen).
    Unknown { event: u32 },
    /// A known event with a data length other than Xen writes.
    WrongLength {
        event: u32,
        words: usize,
        expected: usize,
    },
}

/// Data words each known event carries.
fn expected_words(event: u32) -> Option<usize> {
    Some(match event {
        TRC_LOST_RECORDS => 4,
        TRC_SCHED_CONTINUE_RUNNING => 1,
        TRC_SCHED_SLEEP | TRC_SCHED_WAKE | TRC_SCHED_YIELD | TRC_SCHED_BLOCK => 2,
        TRC_SCHED_SWITCH | TRC_SCHED_SWITCH_INFNEXT | TRC_SCHED_SWITCH_INFCONT => 4,
        TRC_SCHED_SWITCH_INFPREV => 3,
        TRC_SCHED_PLANTED_DEFER => 5,
        TRC_SCHED_PLANTED_WAKE => 2,
        e if is_runstate(e) => 1,
        _ => return None,
    })
}

fn is_runstate(event: u32) -> bool {
    event & !0xff0 == TRC_SCHED_RUNSTATE_CHANGE
}

/// Decodes one record.
pub fn decode(r: &Rec<'_>) -> Result<Event, Undecoded> {
    let e = r.event;
    if e == TRC_TRACE_WRAP_BUFFER {
        return Ok(Event::WrapPadding);
    }
    if e == TRC_PV_HYPERCALL_V2 {
        return hypercall(r);
    }
    let expected = expected_words(e).ok_or(Undecoded::Unknown { event: e })?;
    if r.words() != expected {
        return Err(Undecoded::WrongLength {
            event: e,
            words: r.words(),
            expected,
        });
    }
    Ok(fixed(r))
}

/// Word `i` (length already checked).
fn w(r: &Rec<'_>, i: usize) -> u32 {
    r.word(i).unwrap_or(0)
}

/// `{ vcpu:16, domain:16 }` packed in one word (runstate records).
fn packed(x: u32) -> DomVcpu {
    DomVcpu {
        dom: (x >> 16) as u16,
        vcpu: x as u16,
    }
}

/// Domain and vCPU as two words (TRACE_2D(dom, vcpu) and friends).
fn pair(r: &Rec<'_>, i: usize) -> DomVcpu {
    DomVcpu {
        dom: w(r, i) as u16,
        vcpu: w(r, i + 1) as u16,
    }
}

fn fixed(r: &Rec<'_>) -> Event {
    let e = r.event;
    match e {
        TRC_LOST_RECORDS => Event::LostRecords {
            lost: w(r, 0),
            first_tsc: u64::from(w(r, 3)) << 32 | u64::from(w(r, 2)),
        },
        TRC_SCHED_CONTINUE_RUNNING => Event::ContinueRunning { v: packed(w(r, 0)) },
        TRC_SCHED_SLEEP => Event::Sleep { v: pair(r, 0) },
        TRC_SCHED_WAKE => Event::Wake { v: pair(r, 0) },
        TRC_SCHED_YIELD => Event::Yield { v: pair(r, 0) },
        TRC_SCHED_BLOCK => Event::Block { v: pair(r, 0) },
        TRC_SCHED_SWITCH => Event::Switch {
            prev: pair(r, 0),
            next: pair(r, 2),
        },
        TRC_SCHED_SWITCH_INFPREV => Event::SwitchInfPrev {
            v: pair(r, 0),
            runtime_ns: w(r, 2),
        },
        TRC_SCHED_SWITCH_INFNEXT => Event::SwitchInfNext {
            v: pair(r, 0),
            wait_ns: w(r, 2),
        },
        TRC_SCHED_SWITCH_INFCONT => Event::SwitchInfCont { v: pair(r, 0) },
        TRC_SCHED_PLANTED_DEFER => Event::PlantedDefer {
            v: pair(r, 0),
            kind: w(r, 2),
            ms: w(r, 3),
            nth: w(r, 4),
        },
        TRC_SCHED_PLANTED_WAKE => Event::PlantedWake { v: pair(r, 0) },
        _ => Event::Runstate {
            v: packed(w(r, 0)),
            old: (e >> 8 & 0xf) as u8,
            new: (e >> 4 & 0xf) as u8,
        },
    }
}

/// TRC_PV_HYPERCALL_V2: the op, then one word per 32-bit argument flagged in bits 20..31
/// (2 bits per argument: 1 = 32-bit, one word; 2 = 64-bit, two words; 4.17 traces only
/// 32-bit ones).
fn hypercall(r: &Rec<'_>) -> Result<Event, Undecoded> {
    let e = r.event;
    let op_word = r.word(0).ok_or(Undecoded::WrongLength {
        event: e,
        words: 0,
        expected: 1,
    })?;
    let flags = (op_word & TRC_PV_HYPERCALL_V2_ARG_MASK) >> 20;
    let mut args = [None; 6];
    let mut next = 1;
    for (i, a) in args.iter_mut().enumerate() {
        match flags >> (2 * i) & 3 {
            0 => {}
            1 => {
                *a = Some(next);
                next += 1;
            }
            2 => next += 2, // a 64-bit argument (not traced by 4.17): not decoded
            _ => {
                return Err(Undecoded::WrongLength {
                    event: e,
                    words: r.words(),
                    expected: 0,
                })
            }
        }
    }
    if r.words() != next {
        return Err(Undecoded::WrongLength {
            event: e,
            words: r.words(),
            expected: next,
        });
    }
    let arg = |i: usize| args[i].and_then(|k| r.word(k));
    Ok(Event::Hypercall {
        op: op_word & !TRC_PV_HYPERCALL_V2_ARG_MASK,
        arg0: arg(0),
        arg1: arg(1),
    })
}
