//! What can go wrong with a xenstore request, typed.
//!
//! [`XsErr::Daemon`] is an answer (the daemon said ENOENT, EACCES, EQUOTA or
//! an error name nobody knows); everything else means the request did not
//! complete normally: refused by the client before sending, not answered in
//! time, or the daemon broke the protocol. Probes treat the first kind as an
//! observation and the others as ERROR.

use core::fmt;
use xp_core::xs::{DecodeError, EncodeError, MsgType, ReadError, RouteError, XsError};

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XsErr {
    /// The daemon answered with an ERROR reply.
    Daemon(XsError),
    /// Refused by the client before anything was sent (limits, path syntax).
    Refused(EncodeError),
    /// No complete reply in time.
    Timeout(Timeout),
    /// The reply stream is broken (indexes out of range, length over 4096).
    Stream(ReadError),
    /// A reply that matches no request, or not the request it answers.
    Route(RouteError),
    /// A reply whose payload does not have the documented shape.
    Decode { op: MsgType, err: DecodeError },
    /// Too many requests in flight already.
    TableFull { capacity: usize },
    /// No xenstore (dom0 mode, or setup failed).
    Unavailable,
    /// A well-formed reply with content the caller cannot use.
    Unexpected(&'static str),
}

/// A request that was not answered in time, and what the ring looked like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeout {
    pub op: MsgType,
    pub req_id: u32,
    pub waited_ns: u64,
    /// Request bytes still unconsumed by the daemon.
    pub unconsumed: u32,
    /// Bytes of a reply that started to arrive (have, need), if any.
    pub partial: Option<(usize, usize)>,
}

impl From<XsError> for XsErr {
    fn from(e: XsError) -> Self {
        XsErr::Daemon(e)
    }
}

impl From<EncodeError> for XsErr {
    fn from(e: EncodeError) -> Self {
        XsErr::Refused(e)
    }
}

/// An error name as text.
pub struct ErrName(pub XsError);

impl fmt::Display for ErrName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            XsError::Unknown(u) if u.is_truncated() => write!(
                f,
                "unknown error \"{}...\" ({} bytes sent)",
                u.as_bytes().escape_ascii(),
                u.sent_len()
            ),
            XsError::Unknown(u) => write!(f, "unknown error \"{}\"", u.as_bytes().escape_ascii()),
            e => f.write_str(core::str::from_utf8(e.name()).unwrap_or("?")),
        }
    }
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.waited_ns / 1_000_000;
        write!(
            f,
            "{} (req_id {}) not answered within {ms} ms: ",
            self.op, self.req_id
        )?;
        match (self.unconsumed, self.partial) {
            (_, Some((have, need))) => write!(f, "reply truncated, {have} of {need} bytes arrived"),
            (0, None) => f.write_str("the daemon consumed the request but sent no reply"),
            (n, None) => write!(
                f,
                "the daemon did not consume it ({n} request bytes still in the ring)"
            ),
        }
    }
}

impl fmt::Display for XsErr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XsErr::Daemon(e) => write!(f, "xenstored answered {}", ErrName(*e)),
            XsErr::Refused(e) => write!(f, "refused by the client before sending: {e}"),
            XsErr::Timeout(t) => t.fmt(f),
            XsErr::Stream(ReadError::Ring(r)) => {
                write!(f, "misbehaving xenstored: {r}")
            }
            XsErr::Stream(ReadError::LenTooLarge { len }) => {
                write!(f, "misbehaving xenstored: reply header announces {len} payload bytes (limit 4096)")
            }
            XsErr::Stream(e) => write!(f, "misbehaving xenstored: reply stream broken: {e}"),
            XsErr::Route(e) => write!(f, "misbehaving xenstored: {e}"),
            XsErr::Decode { op, err } => write!(f, "malformed {op} reply: {err}"),
            XsErr::TableFull { capacity } => write!(f, "{capacity} requests already in flight"),
            XsErr::Unavailable => f.write_str("no xenstore connection"),
            XsErr::Unexpected(what) => write!(f, "unexpected reply: {what}"),
        }
    }
}
