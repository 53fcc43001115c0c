//! Message framing: `struct xsd_sockmsg` and `enum xsd_sockmsg_type` of
//! io/xs_wire.h, the payload limits of docs/misc/xenstore.txt, and encoding a
//! request from payload parts into a caller buffer.
//!
//! Encoding checks everything before the first byte is written: a payload
//! over [`XENSTORE_PAYLOAD_MAX`] makes xenstored kill the connection, so it
//! is refused here with [`EncodeError::PayloadTooLong`], never sent.

use super::path::PathError;
use super::perm::Perm;
use core::fmt;

/// Size of `struct xsd_sockmsg`: four little-endian `u32`s.
pub const HEADER_LEN: usize = 16;
/// Largest payload in either direction (io/xs_wire.h).
pub const XENSTORE_PAYLOAD_MAX: usize = 4096;
/// Longest absolute path xenstored accepts.
pub const XENSTORE_ABS_PATH_MAX: usize = 3072;
/// Longest relative path a client should send.
pub const XENSTORE_REL_PATH_MAX: usize = 2048;
/// Largest whole message: header plus the largest payload.
pub const MSG_MAX: usize = HEADER_LEN + XENSTORE_PAYLOAD_MAX;

/// `enum xsd_sockmsg_type` as it travels: any `u32` may arrive, so this is
/// an integer newtype, never a Rust enum.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgType(pub u32);

impl MsgType {
    pub const CONTROL: Self = Self(0);
    /// Old name of [`MsgType::CONTROL`].
    pub const DEBUG: Self = Self::CONTROL;
    pub const DIRECTORY: Self = Self(1);
    pub const READ: Self = Self(2);
    pub const GET_PERMS: Self = Self(3);
    pub const WATCH: Self = Self(4);
    pub const UNWATCH: Self = Self(5);
    pub const TRANSACTION_START: Self = Self(6);
    pub const TRANSACTION_END: Self = Self(7);
    pub const INTRODUCE: Self = Self(8);
    pub const RELEASE: Self = Self(9);
    pub const GET_DOMAIN_PATH: Self = Self(10);
    pub const WRITE: Self = Self(11);
    pub const MKDIR: Self = Self(12);
    pub const RM: Self = Self(13);
    pub const SET_PERMS: Self = Self(14);
    pub const WATCH_EVENT: Self = Self(15);
    pub const ERROR: Self = Self(16);
    pub const IS_DOMAIN_INTRODUCED: Self = Self(17);
    pub const RESUME: Self = Self(18);
    pub const SET_TARGET: Self = Self(19);
    // 20 was XS_RESTRICT, removed; it is not a valid type.
    pub const RESET_WATCHES: Self = Self(21);
    pub const DIRECTORY_PART: Self = Self(22);
    pub const GET_FEATURE: Self = Self(23);
    pub const SET_FEATURE: Self = Self(24);
    pub const GET_QUOTA: Self = Self(25);
    pub const SET_QUOTA: Self = Self(26);
    /// `XS_INVALID`: guaranteed never to be a valid type.
    pub const INVALID: Self = Self(0xffff);

    const NAMES: [&'static str; 27] = [
        "CONTROL",
        "DIRECTORY",
        "READ",
        "GET_PERMS",
        "WATCH",
        "UNWATCH",
        "TRANSACTION_START",
        "TRANSACTION_END",
        "INTRODUCE",
        "RELEASE",
        "GET_DOMAIN_PATH",
        "WRITE",
        "MKDIR",
        "RM",
        "SET_PERMS",
        "WATCH_EVENT",
        "ERROR",
        "IS_DOMAIN_INTRODUCED",
        "RESUME",
        "SET_TARGET",
        "",
        "RESET_WATCHES",
        "DIRECTORY_PART",
        "GET_FEATURE",
        "SET_FEATURE",
        "GET_QUOTA",
        "SET_QUOTA",
    ];

    /// The xs_wire.h name without `XS_`, or `None` for a value that is not
    /// a defined type (20, 27 and above).
    pub const fn name(self) -> Option<&'static str> {
        if self.0 as usize >= Self::NAMES.len() || self.0 == 20 {
            return None;
        }
        Some(Self::NAMES[self.0 as usize])
    }

    /// Whether this value is one of the defined types.
    pub const fn is_known(self) -> bool {
        self.name().is_some()
    }
}

impl fmt::Debug for MsgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "MsgType({})", self.0),
        }
    }
}

/// `struct xsd_sockmsg`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Header {
    pub ty: MsgType,
    /// Echoed by the daemon in its reply; 0 in watch events.
    pub req_id: u32,
    /// Transaction id, 0 outside transactions.
    pub tx_id: u32,
    /// Payload length that follows the header.
    pub len: u32,
}

impl Header {
    /// The wire form: `type, req_id, tx_id, len`, each little-endian.
    pub fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        let words = [self.ty.0, self.req_id, self.tx_id, self.len];
        for (chunk, w) in b.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        b
    }

    /// Reads the four fields without judging them.
    pub fn from_bytes(b: &[u8; HEADER_LEN]) -> Self {
        let w = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Self {
            ty: MsgType(w(0)),
            req_id: w(4),
            tx_id: w(8),
            len: w(12),
        }
    }

    /// Reads a header and checks the one thing framing depends on: `len`.
    /// The type is not judged here, so a message of unknown type can still
    /// be framed and skipped; see [`Message::known_type`].
    pub fn decode(b: &[u8; HEADER_LEN]) -> Result<Self, DecodeError> {
        let h = Self::from_bytes(b);
        if h.len as usize > XENSTORE_PAYLOAD_MAX {
            return Err(DecodeError::LenTooLarge { len: h.len });
        }
        Ok(h)
    }
}

/// One framed message: a header and exactly `header.len` payload bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Message<'a> {
    pub header: Header,
    pub payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// Frames the message at the start of `bytes`; returns it and the
    /// number of bytes it took.
    pub fn parse(bytes: &'a [u8]) -> Result<(Self, usize), DecodeError> {
        let head: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(DecodeError::Truncated {
                need: HEADER_LEN,
                have: bytes.len(),
            })?;
        let header = Header::decode(head)?;
        let total = HEADER_LEN + header.len as usize;
        let payload = bytes.get(HEADER_LEN..total).ok_or(DecodeError::Truncated {
            need: total,
            have: bytes.len(),
        })?;
        Ok((Self { header, payload }, total))
    }

    /// The type, or [`DecodeError::UnknownType`] naming the value.
    pub fn known_type(&self) -> Result<MsgType, DecodeError> {
        match self.header.ty.is_known() {
            true => Ok(self.header.ty),
            false => Err(DecodeError::UnknownType {
                ty: self.header.ty.0,
            }),
        }
    }
}

/// Why bytes from the daemon could not be decoded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DecodeError {
    /// Header `len` over [`XENSTORE_PAYLOAD_MAX`]: a protocol violation.
    LenTooLarge { len: u32 },
    /// Fewer bytes than the header (or message) needs.
    Truncated { need: usize, have: usize },
    /// A type value that is not defined in xs_wire.h.
    UnknownType { ty: u32 },
    /// A string or list is not terminated by a NUL.
    MissingNul,
    /// Bytes after the last field the payload should have, from `at`.
    TrailingData { at: usize },
    /// A field that must be present is not (e.g. GET_PERMS with no perm).
    Empty,
    /// Not a plain unsigned decimal that fits.
    BadNumber,
    /// Not a permission string (`r`, `w`, `b` or `n` then a domid).
    BadPerm,
    /// Neither `T` nor `F`.
    BadBool,
    /// A success reply whose payload is not `OK\0`.
    NotOk,
}

/// Why a request could not be encoded. Nothing was written when this is
/// returned.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EncodeError {
    /// The payload would be `len` bytes, over [`XENSTORE_PAYLOAD_MAX`].
    PayloadTooLong { len: usize },
    /// The caller's buffer holds `have` bytes; the message needs `need`.
    BufferTooSmall { need: usize, have: usize },
    /// Payload part number `part` must not contain a NUL but does.
    EmbeddedNul { part: usize },
    /// A path argument is not a valid xenstore path.
    Path(PathError),
    /// SET_PERMS needs at least one permission.
    NoPerms,
}

impl From<PathError> for EncodeError {
    fn from(e: PathError) -> Self {
        Self::Path(e)
    }
}

/// One piece of a request payload.
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    /// A string followed by a NUL; must not itself contain a NUL.
    Str(&'a [u8]),
    /// Bytes as they are, no NUL added (WRITE's value).
    Bytes(&'a [u8]),
    /// An unsigned decimal followed by a NUL.
    Num(u64),
    /// Each permission as `r0`-style text followed by a NUL.
    Perms(&'a [Perm]),
    /// Each string followed by a NUL; none may contain a NUL.
    Strs(&'a [&'a [u8]]),
}

impl Part<'_> {
    /// Encoded length in bytes.
    pub fn len(&self) -> usize {
        match *self {
            Part::Str(s) => s.len() + 1,
            Part::Bytes(b) => b.len(),
            Part::Num(n) => dec_len(n) + 1,
            Part::Perms(p) => p.iter().map(|p| p.text_len() + 1).sum(),
            Part::Strs(ss) => ss.iter().map(|s| s.len() + 1).sum(),
        }
    }

    /// Whether the part encodes to nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn has_nul(&self) -> bool {
        match *self {
            Part::Str(s) => s.contains(&0),
            Part::Strs(ss) => ss.iter().any(|s| s.contains(&0)),
            Part::Bytes(_) | Part::Num(_) | Part::Perms(_) => false,
        }
    }

    /// Writes the part at the start of `out`, which holds at least
    /// `self.len()` bytes; returns that length.
    fn write(&self, out: &mut [u8]) -> usize {
        match *self {
            Part::Str(s) => put_nul(out, s),
            Part::Bytes(b) => put(out, b),
            Part::Num(n) => {
                let mut d = [0u8; 20];
                put_nul(out, fmt_dec(n, &mut d))
            }
            Part::Perms(ps) => ps.iter().fold(0, |at, p| {
                let mut t = [0u8; 6];
                at + put_nul(&mut out[at..], p.text(&mut t))
            }),
            Part::Strs(ss) => ss.iter().fold(0, |at, s| at + put_nul(&mut out[at..], s)),
        }
    }
}

fn put(out: &mut [u8], b: &[u8]) -> usize {
    out[..b.len()].copy_from_slice(b);
    b.len()
}

fn put_nul(out: &mut [u8], s: &[u8]) -> usize {
    let n = put(out, s);
    out[n] = 0;
    n + 1
}

/// Number of decimal digits of `n`.
pub(crate) fn dec_len(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// Formats `n` in decimal into the end of `buf`; returns the digits.
pub(crate) fn fmt_dec(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

/// Payload length of `parts`, refused if over [`XENSTORE_PAYLOAD_MAX`] or
/// if a NUL-terminated part contains a NUL.
pub fn payload_len(parts: &[Part]) -> Result<usize, EncodeError> {
    if let Some(i) = parts.iter().position(Part::has_nul) {
        return Err(EncodeError::EmbeddedNul { part: i });
    }
    let len: usize = parts.iter().map(Part::len).sum();
    match len > XENSTORE_PAYLOAD_MAX {
        true => Err(EncodeError::PayloadTooLong { len }),
        false => Ok(len),
    }
}

/// Encodes header and payload parts into `buf`; returns the message length.
/// Checks only framing (length, NULs); paths are checked by
/// [`Request`](super::request::Request). Probes that must send a malformed
/// path on purpose use this directly.
pub fn encode(
    ty: MsgType,
    req_id: u32,
    tx_id: u32,
    parts: &[Part],
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let len = payload_len(parts)?;
    let need = HEADER_LEN + len;
    if buf.len() < need {
        return Err(EncodeError::BufferTooSmall {
            need,
            have: buf.len(),
        });
    }
    let header = Header {
        ty,
        req_id,
        tx_id,
        len: len as u32,
    };
    buf[..HEADER_LEN].copy_from_slice(&header.to_bytes());
    let at = parts
        .iter()
        .fold(HEADER_LEN, |at, p| at + p.write(&mut buf[at..]));
    debug_assert_eq!(at, need);
    Ok(need)
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
