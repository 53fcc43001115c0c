//! xenbus device states (xen/include/public/io/xenbus.h) and the decisions of
//! the ring probe's frontend/backend handshake, which follows the split-driver
//! convention:
//!
//! ```text
//! front: Initialising -> (ring-ref, event-channel written) Initialised
//! back:  InitWait -> (sees Initialised; maps, binds) Connected
//! front: (sees Connected) Connected ... traffic ... Closing
//! back:  (sees Closing, or the peer broke the protocol: Closing) unmaps, unbinds -> Closed
//! front: (sees back Closed) ends grant access; Initialising (another round) or Closed (done)
//! back:  (sees front Initialising) InitWait; (sees front Closed) done
//! ```
//!
//! States are written as decimal strings; what the peer wrote is untrusted, so a
//! state is an integer newtype and an unknown value is simply not acted upon.

/// `enum xenbus_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XenbusState(pub u32);

impl XenbusState {
    pub const UNKNOWN: Self = Self(0);
    pub const INITIALISING: Self = Self(1);
    pub const INIT_WAIT: Self = Self(2);
    pub const INITIALISED: Self = Self(3);
    pub const CONNECTED: Self = Self(4);
    pub const CLOSING: Self = Self(5);
    pub const CLOSED: Self = Self(6);
    pub const RECONFIGURING: Self = Self(7);
    pub const RECONFIGURED: Self = Self(8);

    /// Parse a xenstore value (decimal, no sign; an unparsable value is UNKNOWN).
    pub fn parse(v: &[u8]) -> Self {
        if v.is_empty() || v.len() > 9 || !v.iter().all(u8::is_ascii_digit) {
            return Self::UNKNOWN;
        }
        Self(v.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    }

    pub fn name(self) -> &'static str {
        const NAMES: [&str; 9] = [
            "Unknown",
            "Initialising",
            "InitWait",
            "Initialised",
            "Connected",
            "Closing",
            "Closed",
            "Reconfiguring",
            "Reconfigured",
        ];
        NAMES.get(self.0 as usize).copied().unwrap_or("invalid")
    }
}

impl core::fmt::Display for XenbusState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} ({})", self.0, self.name())
    }
}

/// What a backend does when it sees the frontend's state (it is in `own` state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackStep {
    /// Nothing yet.
    Wait,
    /// Read ring-ref and event-channel, map and bind, then write Connected.
    Connect,
    /// Unmap, unbind, write Closed.
    Disconnect,
    /// The frontend starts another round: write InitWait.
    Reset,
    /// The frontend is gone for good.
    Done,
}

/// The backend's decision table.
pub fn back_step(own: XenbusState, front: XenbusState) -> BackStep {
    use XenbusState as S;
    match (own, front) {
        (S::INIT_WAIT, S::INITIALISED) => BackStep::Connect,
        (S::CONNECTED, S::CLOSING | S::CLOSED | S::INITIALISING) => BackStep::Disconnect,
        (S::CLOSING, _) => BackStep::Disconnect,
        (S::CLOSED, S::INITIALISING) => BackStep::Reset,
        (S::CLOSED, S::CLOSED) => BackStep::Done,
        (S::INIT_WAIT, S::CLOSED) => BackStep::Done,
        _ => BackStep::Wait,
    }
}

/// What a frontend in `own` state does when it sees the backend's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontStep {
    Wait,
    /// The backend connected: write Connected and run traffic.
    Run,
    /// The backend is closing or closed while we were not: write Closing.
    Close,
    /// The backend closed after our Closing: end access, then the next round or Closed.
    Closed,
}

/// The frontend's decision table.
pub fn front_step(own: XenbusState, back: XenbusState) -> FrontStep {
    use XenbusState as S;
    match (own, back) {
        (S::INITIALISED, S::CONNECTED) => FrontStep::Run,
        (S::INITIALISED | S::CONNECTED, S::CLOSING | S::CLOSED) => FrontStep::Close,
        (S::CLOSING, S::CLOSED) => FrontStep::Closed,
        _ => FrontStep::Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use XenbusState as S;

    #[test]
    fn parse_and_names() {
        assert_eq!(S::parse(b"4"), S::CONNECTED);
        assert_eq!(S::parse(b""), S::UNKNOWN);
        assert_eq!(S::parse(b"-1"), S::UNKNOWN);
        assert_eq!(S::parse(b"9999999999"), S::UNKNOWN);
        assert_eq!(S::parse(b"42").name(), "invalid");
        assert_eq!(S::CLOSING.to_string(), "5 (Closing)");
    }

    /// A whole round and a reconnection, driven only by the two tables.
    #[test]
    fn handshake_round_trip() {
        let (mut f, mut b) = (S::INITIALISING, S::INIT_WAIT);
        assert_eq!(back_step(b, f), BackStep::Wait);
        f = S::INITIALISED;
        assert_eq!(back_step(b, f), BackStep::Connect);
        b = S::CONNECTED;
        assert_eq!(front_step(f, b), FrontStep::Run);
        f = S::CLOSING;
        assert_eq!(back_step(b, f), BackStep::Disconnect);
        b = S::CLOSED;
        assert_eq!(front_step(f, b), FrontStep::Closed);
        f = S::INITIALISING;
        assert_eq!(back_step(b, f), BackStep::Reset);
        b = S::INIT_WAIT;
        f = S::CLOSED;
        assert_eq!(back_step(b, f), BackStep::Done);
    }

    #[test]
    fn backend_closing_on_error_closes_the_front() {
        assert_eq!(front_step(S::CONNECTED, S::CLOSING), FrontStep::Close);
        assert_eq!(front_step(S::INITIALISED, S::CLOSED), FrontStep::Close);
        assert_eq!(back_step(S::CLOSING, S::CONNECTED), BackStep::Disconnect);
        // Garbage from the peer is never acted upon.
        assert_eq!(back_step(S::INIT_WAIT, S(77)), BackStep::Wait);
        assert_eq!(front_step(S::INITIALISED, S(77)), FrontStep::Wait);
    }
}
