//! The ring probe's messages inside io/ring.h slots, and what a peer may get wrong.
//!
//! One 4 KiB page: the io/ring.h header (`shring`), whose padding carries at
//! [`SLOT_SIZE`] the slot size the frontend uses, then `size` slots. A slot is
//! `{ seq u32, len u32, ts u64, payload[len] }`; a response replaces its request
//! in the same slot, as io/ring.h's union does. `seq` is the request's
//! free-running index, `ts` the sender's Xen system time (ns; the same clock in
//! every domain), and the payload a pattern derived from `seq`, so the frontend
//! can verify every echoed byte. The frontend changes the slot size only while
//! the ring is empty (between measurement phases).
//!
//! Everything read from the page is the peer's claim: [`Layout::from_peer`]
//! and [`check_len`] refuse values that would put a slot or a payload outside
//! the page, so a consumer that uses them never reads outside the ring.

use crate::ring::RingError;
use crate::shring;
use core::fmt;

/// Byte offset (in the io/ring.h header padding) of the slot size in use.
pub const SLOT_SIZE: usize = 16;
/// Offsets inside a slot.
pub const MSG_SEQ: usize = 0;
pub const MSG_LEN: usize = 4;
pub const MSG_TS: usize = 8;
pub const MSG_PAYLOAD: usize = 16;
/// Slot sizes: multiples of 16 in this range (1024-byte slots still give a 2-slot ring).
pub const MIN_SLOT: u32 = 32;
pub const MAX_SLOT: u32 = 1024;
/// The largest payload a message may carry.
pub const MAX_PAYLOAD: u32 = MAX_SLOT - MSG_PAYLOAD as u32;
const PAGE: usize = 4096;

/// Slot size and ring size (slots) of one phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub slot: u32,
    pub size: u32,
}

impl Layout {
    /// The smallest layout that carries `payload` bytes per message.
    pub fn for_payload(payload: u32) -> Option<Layout> {
        if payload > MAX_PAYLOAD {
            return None;
        }
        let slot = (MSG_PAYLOAD as u32 + payload).div_ceil(16) * 16;
        Self::from_peer(slot.max(MIN_SLOT)).ok()
    }

    /// Validate a slot size read from the shared page.
    pub fn from_peer(slot: u32) -> Result<Layout, PeerError> {
        if !(MIN_SLOT..=MAX_SLOT).contains(&slot) || !slot.is_multiple_of(16) {
            return Err(PeerError::SlotSize(slot));
        }
        Ok(Layout {
            slot,
            size: shring::ring_size(PAGE, slot as usize),
        })
    }

    /// Byte offset of slot `idx` (free-running) in the page.
    pub fn offset(&self, idx: u32) -> usize {
        shring::slot_offset(idx, self.size, self.slot as usize)
    }

    /// Payload bytes a slot holds.
    pub fn capacity(&self) -> u32 {
        self.slot - MSG_PAYLOAD as u32
    }
}

/// A message length read from a slot must fit the slot.
pub fn check_len(l: Layout, seq: u32, len: u32) -> Result<(), PeerError> {
    if len > l.capacity() {
        return Err(PeerError::Len {
            seq,
            len,
            cap: l.capacity(),
        });
    }
    Ok(())
}

/// Payload byte `i` of message `seq`.
pub fn pattern(seq: u32, i: u32) -> u8 {
    (seq.wrapping_mul(0x9e37_79b9) >> 24) as u8 ^ (i as u8).wrapping_mul(7)
}

/// Payload bytes `8w..8w+8` of message `seq`, little endian (how the kernel moves them).
pub fn pattern_word(seq: u32, w: u32) -> u64 {
    u64::from_le_bytes(core::array::from_fn(|b| pattern(seq, w * 8 + b as u32)))
}

/// Whether word `w` read back from a response of `len` bytes matches (bytes past `len` ignored).
pub fn word_ok(seq: u32, len: u32, w: u32, got: u64) -> bool {
    let valid = len.saturating_sub(w * 8).min(8);
    let mask = if valid == 8 {
        u64::MAX
    } else {
        (1u64 << (valid * 8)) - 1
    };
    (got ^ pattern_word(seq, w)) & mask == 0
}

/// Words (8 bytes) that carry a payload of `len` bytes.
pub fn words(len: u32) -> u32 {
    len.div_ceil(8)
}

/// What a peer did wrong. Each variant is a FAILURE of the peer, named by [`PeerError::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerError {
    /// A producer index out of range (behind our consumer, or more than the ring ahead).
    Index(RingError),
    /// The slot size in the shared header is not one a ring can use.
    SlotSize(u32),
    /// A message claims more payload than its slot holds.
    Len { seq: u32, len: u32, cap: u32 },
    /// A response for another request than the one due.
    Seq { expected: u32, got: u32 },
    /// A response whose length differs from its request's.
    EchoLen { seq: u32, sent: u32, got: u32 },
    /// A response whose payload differs from its request's at byte offset `word * 8`.
    Payload { seq: u32, word: u32 },
    /// The peer published work past the event index we set without an event (lost wake-up).
    NoNotify { pending: u32, waited_ns: u64 },
    /// Nothing came back in time.
    Silent { waited_ns: u64 },
}

impl From<RingError> for PeerError {
    fn from(e: RingError) -> Self {
        PeerError::Index(e)
    }
}

impl PeerError {
    /// The name of the check this error fails.
    pub fn check(&self) -> &'static str {
        match self {
            PeerError::Index(_) => "peer_indexes_valid",
            PeerError::SlotSize(_) => "peer_slot_size_valid",
            PeerError::Len { .. } => "peer_message_len_valid",
            PeerError::Seq { .. } | PeerError::EchoLen { .. } | PeerError::Payload { .. } => {
                "peer_echo_intact"
            }
            PeerError::NoNotify { .. } => "peer_notifies",
            PeerError::Silent { .. } => "peer_responds",
        }
    }
}

impl fmt::Display for PeerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PeerError::Index(e) => write!(f, "{e}"),
            PeerError::SlotSize(s) => write!(
                f,
                "slot size {s} (accepted: multiples of 16 in {MIN_SLOT}..={MAX_SLOT})"
            ),
            PeerError::Len { seq, len, cap } => {
                write!(f, "message {seq} claims {len} bytes, its slot holds {cap}")
            }
            PeerError::Seq { expected, got } => {
                write!(f, "response for request {got} where {expected} was due")
            }
            PeerError::EchoLen { seq, sent, got } => {
                write!(f, "response {seq} has {got} bytes, the request had {sent}")
            }
            PeerError::Payload { seq, word } => write!(
                f,
                "response {seq} differs from its request at byte {}",
                word * 8
            ),
            PeerError::NoNotify { pending, waited_ns } => {
                write!(
                    f,
                    "{pending} entries published past our event index with no event for {} us",
                    waited_ns / 1000
                )
            }
            PeerError::Silent { waited_ns } => {
                write!(f, "no response and no event for {} us", waited_ns / 1000)
            }
        }
    }
}

#[cfg(test)]
mod tests;
