//! The xenstore types in xenstore's own words, for reports: message types by their
//! xs_wire.h name (`READ`), permissions as the wire text (`n0 r1`), and what went wrong
//! with a request or a reply in a sentence.

use super::path::PathError;
use super::pending::RouteError;
use super::perm::Perm;
use super::reader::ReadError;
use super::wire::{DecodeError, EncodeError, MsgType, XENSTORE_PAYLOAD_MAX};
use core::fmt;

impl fmt::Display for MsgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "type {}", self.0),
        }
    }
}

impl fmt::Display for Perm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.kind.letter() as char, self.domid)
    }
}

/// A permission list as GET_PERMS spells it, separated by spaces: `n0 r1`.
pub struct Perms<'a>(pub &'a [Perm]);

impl fmt::Display for Perms<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            write!(f, "{}{p}", if i > 0 { " " } else { "" })?;
        }
        Ok(())
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            PathError::Empty => f.write_str("empty path"),
            PathError::TooLong { len, max } => write!(f, "path of {len} bytes, over {max}"),
            PathError::BadChar { at, byte } => {
                write!(
                    f,
                    "byte {byte:#04x} at offset {at} (paths take A-Za-z0-9-/_@)"
                )
            }
            PathError::DoubleSlash { at } => write!(f, "'//' at offset {at}"),
            PathError::TrailingSlash => f.write_str("trailing '/'"),
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EncodeError::PayloadTooLong { len } => {
                write!(f, "payload of {len} bytes, over {XENSTORE_PAYLOAD_MAX}")
            }
            EncodeError::BufferTooSmall { need, have } => {
                write!(f, "message needs {need} bytes, buffer has {have}")
            }
            EncodeError::EmbeddedNul { part } => write!(f, "NUL inside payload part {part}"),
            EncodeError::Path(e) => write!(f, "bad path: {e}"),
            EncodeError::NoPerms => f.write_str("SET_PERMS without a permission"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::LenTooLarge { len } => {
                write!(
                    f,
                    "header announces {len} payload bytes, over {XENSTORE_PAYLOAD_MAX}"
                )
            }
            DecodeError::Truncated { need, have } => write!(f, "{have} of {need} bytes"),
            DecodeError::UnknownType { ty } => write!(f, "undefined message type {ty}"),
            DecodeError::MissingNul => f.write_str("string without its NUL"),
            DecodeError::TrailingData { at } => write!(f, "bytes after the last field, from {at}"),
            DecodeError::Empty => f.write_str("a required field is missing"),
            DecodeError::BadNumber => f.write_str("not an unsigned decimal that fits"),
            DecodeError::BadPerm => f.write_str("not a permission (n, r, w or b, then a domid)"),
            DecodeError::BadBool => f.write_str("neither T nor F"),
            DecodeError::NotOk => f.write_str("success reply whose payload is not OK"),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ReadError::LenTooLarge { len } => {
                write!(
                    f,
                    "header announces {len} payload bytes, over {XENSTORE_PAYLOAD_MAX}"
                )
            }
            ReadError::Ring(r) => r.fmt(f),
            ReadError::Truncated { have, need } => {
                write!(f, "stream ended inside a message ({have} of {need} bytes)")
            }
        }
    }
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RouteError::UnknownReqId { req_id, ty } => {
                write!(
                    f,
                    "{ty} reply to req_id {req_id:#x}, which no request in flight has"
                )
            }
            RouteError::UnknownType { ty, request } => write!(
                f,
                "reply of undefined type {ty} to {} (req_id {:#x})",
                request.ty, request.req_id
            ),
            RouteError::TypeMismatch { got, request } => write!(
                f,
                "{got} reply to {} (req_id {:#x})",
                request.ty, request.req_id
            ),
            RouteError::WatchEventIds { req_id, tx_id } => {
                write!(
                    f,
                    "WATCH_EVENT with req_id {req_id:#x} and tx_id {tx_id:#x} (both must be 0)"
                )
            }
        }
    }
}

/// An ordinal: `1st`, `2nd`, `12th`, `130th`.
pub struct Nth(pub u64);

impl fmt::Display for Nth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        let suffix = match (n % 10, n % 100) {
            (1, r) if r != 11 => "st",
            (2, r) if r != 12 => "nd",
            (3, r) if r != 13 => "rd",
            _ => "th",
        };
        write!(f, "{n}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::perm::PermKind;
    use super::*;

    #[test]
    fn in_xenstores_words() {
        let perms = [Perm::new(PermKind::None, 0), Perm::new(PermKind::Read, 1)];
        assert_eq!(Perms(&perms).to_string(), "n0 r1");
        assert_eq!(MsgType::READ.to_string(), "READ");
        assert_eq!(MsgType(20).to_string(), "type 20");
        let e = EncodeError::PayloadTooLong { len: 4102 };
        assert_eq!(e.to_string(), "payload of 4102 bytes, over 4096");
        let nth = [1, 2, 3, 4, 11, 12, 13, 21, 102, 130].map(|n| Nth(n).to_string());
        assert_eq!(
            nth,
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "102nd", "130th"]
        );
    }
}
