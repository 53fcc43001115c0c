//! Backend completion policies of the ring probe (`ring.back=`): when the
//! backend may publish the response to a request it took.
//!
//! - `echo`: at once (the plain echo backend).
//! - `delay:D`: `D` after it took the request, as a synchronous mirror to a
//!   slower target completes each write only when the mirror has it.
//! - `epoch:E`: at the first epoch boundary at or after it took the request,
//!   boundaries being the multiples of `E` in Xen system time, as a
//!   checkpointing backend (Remus, COLO) releases everything it held when an
//!   epoch commits. Xen system time is one clock for every domain, so a
//!   frontend in another domain knows the boundaries too.
//! - `jitter:D`: a delay drawn for each request from a fixed-seed uniform
//!   distribution over `[0, 2D]` (mean `D`), keyed by the request's index, so
//!   both ends draw the same delay for the same request.
//!
//! [`Policy::due`] is the one schedule: the backend holds a response until
//! `due(index, taken)`, and the frontend judges a completion it sees at `t`
//! against `due(index, sent)`: `due` never decreases as time grows and
//! `sent <= taken`, so `t < due(index, sent)` means the backend published
//! earlier than its policy allows (or the clock went backwards): a FAILURE.
//! Responses are published in ring order, so under `jitter` a quick response
//! waits for a slower one before it ([`Held`]).

use crate::cmdline::{parse_duration_ns, Ns};
use core::fmt;

/// The shortest and longest `D` / `E` accepted.
pub const MIN_NS: u64 = 10_000;
pub const MAX_NS: u64 = 10_000_000_000;
/// The accepted forms and what `D` and `E` may be, for help and error texts.
pub const ACCEPTED: &str =
    "echo, delay:D, epoch:E, jitter:D; D and E durations like 500us, 5ms, 1s in 10us..=10s";
/// The jitter distribution's fixed seed.
pub const JITTER_SEED: u64 = 0x5851_f42d_4c95_7f2d;

/// A backend completion policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    #[default]
    Echo,
    Delay(u64),
    Epoch(u64),
    Jitter(u64),
}

/// Why a policy was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyError<'a> {
    /// Not one of the forms ([`ACCEPTED`]).
    Malformed(&'a str),
    /// A well-formed duration outside [`MIN_NS`]..=[`MAX_NS`].
    OutOfRange(&'a str),
    /// The policy may hold a completion `hold_ns`, not shorter than the frontend's timeout.
    LongerThanTimeout { policy: Policy, timeout_ns: u64 },
}

impl Policy {
    /// Parse one of the forms ([`ACCEPTED`]).
    pub fn parse(s: &str) -> Result<Policy, PolicyError<'_>> {
        if s == "echo" {
            return Ok(Policy::Echo);
        }
        let (form, d) = s.split_once(':').ok_or(PolicyError::Malformed(s))?;
        let make: fn(u64) -> Policy = match form {
            "delay" => Policy::Delay,
            "epoch" => Policy::Epoch,
            "jitter" => Policy::Jitter,
            _ => return Err(PolicyError::Malformed(s)),
        };
        let ns = parse_duration_ns(d).ok_or(PolicyError::Malformed(s))?;
        if !(MIN_NS..=MAX_NS).contains(&ns) {
            return Err(PolicyError::OutOfRange(s));
        }
        Ok(make(ns))
    }

    /// The longest a response may be held after its request was taken.
    pub fn max_hold_ns(self) -> u64 {
        match self {
            Policy::Echo => 0,
            Policy::Delay(d) | Policy::Epoch(d) => d,
            Policy::Jitter(d) => 2 * d,
        }
    }

    /// Refuse a policy that may hold a completion as long as a frontend waits (`timeout_ns`).
    pub fn fits(self, timeout_ns: u64) -> Result<(), PolicyError<'static>> {
        if self.max_hold_ns() >= timeout_ns {
            return Err(PolicyError::LongerThanTimeout {
                policy: self,
                timeout_ns,
            });
        }
        Ok(())
    }

    /// When the response to request `idx` taken (or, for a frontend, sent) at `at_ns` is due.
    pub fn due(self, idx: u32, at_ns: u64) -> u64 {
        match self {
            Policy::Echo => at_ns,
            Policy::Delay(d) => at_ns.saturating_add(d),
            Policy::Epoch(e) => at_ns.div_ceil(e).saturating_mul(e),
            Policy::Jitter(d) => at_ns.saturating_add(jitter_ns(d, idx)),
        }
    }

    /// How long a frontend pauses before round trip `idx` so that one-at-a-time requests
    /// arrive at every phase of the backend's schedule: uniform over `[0, E]` (fixed seed)
    /// under `epoch` (back to back, each would wait a whole epoch), none otherwise.
    pub fn think_ns(self, idx: u32) -> u64 {
        match self {
            Policy::Epoch(e) => jitter_ns(e / 2, idx),
            _ => 0,
        }
    }
}

/// The delay `jitter:D` draws for request `idx`: uniform over `[0, 2D]` (splitmix64).
pub fn jitter_ns(d: u64, idx: u32) -> u64 {
    let mut z = JITTER_SEED.wrapping_add(u64::from(idx).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    z % (2 * d + 1)
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Policy::Echo => f.write_str("echo"),
            Policy::Delay(d) => write!(f, "delay:{}", Ns(d)),
            Policy::Epoch(e) => write!(f, "epoch:{}", Ns(e)),
            Policy::Jitter(d) => write!(f, "jitter:{}", Ns(d)),
        }
    }
}

impl fmt::Display for PolicyError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PolicyError::Malformed(s) => write!(f, "'{s}' is not a completion policy")?,
            PolicyError::OutOfRange(s) => write!(f, "'{s}' is out of range")?,
            PolicyError::LongerThanTimeout { policy, timeout_ns } => {
                return write!(
                    f,
                    "{policy} may hold a completion {}, not shorter than ring.timeout={}: the \
                     frontend would judge the backend silent; shorten the policy or raise ring.timeout",
                    Ns(policy.max_hold_ns()),
                    Ns(timeout_ns)
                )
            }
        }
        write!(f, " (accepted: {ACCEPTED})")
    }
}

/// The most slots a ring probe ring has (16-byte payloads in 32-byte slots).
pub const MAX_RING: usize = 64;
const _: () =
    assert!(crate::shring::ring_size(4096, crate::ringmsg::MIN_SLOT as usize) as usize == MAX_RING);

/// Responses written but held, oldest first, with the time each is due. They are released
/// in order: a response is published once it and every response before it are due.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Held {
    due: [u64; MAX_RING],
    head: usize,
    len: usize,
}

impl Default for Held {
    fn default() -> Self {
        Held {
            due: [0; MAX_RING],
            head: 0,
            len: 0,
        }
    }
}

impl Held {
    pub fn len(&self) -> u32 {
        self.len as u32
    }

    /// Hold one more response; false when full (the caller never holds more than a ring).
    pub fn push(&mut self, due_ns: u64) -> bool {
        if self.len == MAX_RING {
            return false;
        }
        self.due[(self.head + self.len) % MAX_RING] = due_ns;
        self.len += 1;
        true
    }

    /// When the oldest held response is due (the next time anything can be released).
    pub fn next_due(&self) -> Option<u64> {
        (self.len > 0).then(|| self.due[self.head])
    }

    /// Take the responses due at `now_ns`, oldest first, stopping at the first one not due.
    pub fn release(&mut self, now_ns: u64) -> u32 {
        let mut n = 0;
        while self.next_due().is_some_and(|d| d <= now_ns) {
            self.head = (self.head + 1) % MAX_RING;
            self.len -= 1;
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod sim;
