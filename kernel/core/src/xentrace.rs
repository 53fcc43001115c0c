//! Reader of xentrace's output file: per-CPU windows of raw Xen trace records.
//!
//! The file (tools/xentrace/xentrace.c) is a sequence of windows: a `cpu_change_record`
//! (header [`CPU_CHANGE_HEADER`], cpu, byte count) followed by that many bytes copied from
//! the CPU's trace buffer: whole `t_rec` records (xen/include/public/trace.h). The data comes
//! from Xen's buffers, which another domain's activity fills: nothing here trusts it.
//! [`Records`] yields every record and says what it skipped ([`Skip`]): a window cut short
//! (the file ends early), a record running past its window, bytes that are not a window
//! header; [`event::decode`] then says which records are of an unknown kind or have a wrong
//! length, and [`event::Event::LostRecords`] is Xen's own note that its buffer overflowed.
//! Nothing panics and nothing allocates.

pub mod event;

use crate::xen::trace::{
    CPU_CHANGE_HEADER, TRACE_EXTRA_MAX, TRACE_EXTRA_SHIFT, TRC_HD_CYCLE_FLAG, TRC_HD_EVENT_MASK,
};

/// One raw record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rec<'a> {
    /// The pCPU whose buffer held it.
    pub cpu: u32,
    /// Byte offset of its header in the file.
    pub offset: usize,
    /// The 28-bit event id.
    pub event: u32,
    /// TSC when Xen wrote it, if the record carries one.
    pub tsc: Option<u64>,
    /// Data words, little-endian, at most [`TRACE_EXTRA_MAX`] of them.
    pub extra: &'a [u8],
}

impl Rec<'_> {
    pub fn words(&self) -> usize {
        self.extra.len() / 4
    }

    /// Data word `i`, if present.
    pub fn word(&self, i: usize) -> Option<u32> {
        let b = self.extra.get(i * 4..i * 4 + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// What the reader skipped, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Skip {
    pub offset: usize,
    pub bytes: usize,
    pub reason: SkipReason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The file ends inside a window header.
    TruncatedHeader,
    /// The file ends before the window's declared size (`missing` bytes).
    TruncatedWindow { cpu: u32, missing: usize },
    /// A record's declared size runs past the end of its window.
    TruncatedRecord { cpu: u32, event: u32 },
    /// Bytes where a window header should be (up to the next plausible header).
    NotAWindow { found: u32 },
}

impl core::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            SkipReason::TruncatedHeader => write!(f, "file ends inside a cpu_change record"),
            SkipReason::TruncatedWindow { cpu, missing } => {
                write!(
                    f,
                    "file ends {missing} bytes before the end of a CPU{cpu} window"
                )
            }
            SkipReason::TruncatedRecord { cpu, event } => {
                write!(f, "record {event:#010x} on CPU{cpu} runs past its window")
            }
            SkipReason::NotAWindow { found } => {
                write!(
                    f,
                    "no cpu_change record where one was due (found {found:#010x})"
                )
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    Rec(Rec<'a>),
    Skip(Skip),
}

/// Iterator over the records of a xentrace file.
pub struct Records<'a> {
    data: &'a [u8],
    pos: usize,
    /// End of the current window and its CPU; `None` between windows.
    window: Option<(usize, u32)>,
}

impl<'a> Records<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Records {
            data,
            pos: 0,
            window: None,
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Item<'a>;

    fn next(&mut self) -> Option<Item<'a>> {
        loop {
            if self.pos >= self.data.len() {
                return None;
            }
            match self.window {
                Some((end, cpu)) if self.pos < end => return Some(self.record(end, cpu)),
                _ => {
                    self.window = None;
                    if let Some(skip) = self.open_window() {
                        return Some(Item::Skip(skip));
                    }
                }
            }
        }
    }
}

fn le32(d: &[u8], at: usize) -> Option<u32> {
    let b = d.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Size of a record from its header.
pub fn rec_size(header: u32) -> usize {
    let extra = (header >> TRACE_EXTRA_SHIFT) & TRACE_EXTRA_MAX;
    let cycles = if header & TRC_HD_CYCLE_FLAG != 0 {
        8
    } else {
        0
    };
    4 + cycles + 4 * extra as usize
}

impl<'a> Records<'a> {
    /// Reads a window header at `pos`; on failure skips and says what.
    fn open_window(&mut self) -> Option<Skip> {
        let at = self.pos;
        let rest = self.data.len() - at;
        if rest < 12 {
            self.pos = self.data.len();
            return Some(Skip {
                offset: at,
                bytes: rest,
                reason: SkipReason::TruncatedHeader,
            });
        }
        let h = le32(self.data, at).unwrap_or(0);
        if h != CPU_CHANGE_HEADER {
            let next = self.next_header(at + 4);
            self.pos = next;
            return Some(Skip {
                offset: at,
                bytes: next - at,
                reason: SkipReason::NotAWindow { found: h },
            });
        }
        let cpu = le32(self.data, at + 4).unwrap_or(0);
        let size = le32(self.data, at + 8).unwrap_or(0) as usize;
        self.pos = at + 12;
        let end = self.pos.saturating_add(size);
        if end > self.data.len() {
            let missing = end - self.data.len();
            self.window = Some((self.data.len(), cpu));
            // Report the truncation first; the records that are there still follow.
            return Some(Skip {
                offset: at,
                bytes: 0,
                reason: SkipReason::TruncatedWindow { cpu, missing },
            });
        }
        self.window = Some((end, cpu));
        None
    }

    /// The next 4-byte-aligned offset holding a window header, or the end of the data.
    fn next_header(&self, from: usize) -> usize {
        let mut at = from;
        while at + 4 <= self.data.len() {
            if le32(self.data, at) == Some(CPU_CHANGE_HEADER) {
                return at;
            }
            at += 4;
        }
        self.data.len()
    }

    fn record(&mut self, end: usize, cpu: u32) -> Item<'a> {
        let at = self.pos;
        let h = le32(&self.data[..end], at);
        let size = h.map_or(usize::MAX, rec_size);
        let event = h.unwrap_or(0) & TRC_HD_EVENT_MASK;
        if at.saturating_add(size) > end {
            self.pos = end;
            let reason = SkipReason::TruncatedRecord { cpu, event };
            return Item::Skip(Skip {
                offset: at,
                bytes: end - at,
                reason,
            });
        }
        let h = h.unwrap_or(0);
        let (tsc, data_at) = if h & TRC_HD_CYCLE_FLAG != 0 {
            let lo = u64::from(le32(self.data, at + 4).unwrap_or(0));
            let hi = u64::from(le32(self.data, at + 8).unwrap_or(0));
            (Some(hi << 32 | lo), at + 12)
        } else {
            (None, at + 4)
        };
        self.pos = at + size;
        Item::Rec(Rec {
            cpu,
            offset: at,
            event,
            tsc,
            extra: &self.data[data_at..at + size],
        })
    }
}

#[cfg(test)]
mod tests;
