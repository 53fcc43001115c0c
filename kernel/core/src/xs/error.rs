//! ERROR replies (docs/misc/xenstore.txt, "Error replies"): the payload is
//! the errno *name* from io/xs_wire.h's `xsd_errors`, then a NUL. oxenstored
//! also sends `EQUOTA`. Anything else is kept, up to
//! [`UNKNOWN_ERROR_KEEP`] bytes, as [`XsError::Unknown`].

use core::fmt;

/// How many bytes of an unrecognised error name are kept.
pub const UNKNOWN_ERROR_KEEP: usize = 32;

/// An error name the daemon sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum XsError {
    Einval,
    Eacces,
    Eexist,
    Eisdir,
    Enoent,
    Enomem,
    Enospc,
    Eio,
    Enotempty,
    Enosys,
    Erofs,
    Ebusy,
    Eagain,
    Eisconn,
    E2big,
    Eperm,
    /// oxenstored's quota error (C xenstored says ENOSPC).
    Equota,
    Unknown(UnknownError),
}

/// An error name not in the list, as sent (NUL stripped), cut to
/// [`UNKNOWN_ERROR_KEEP`] bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UnknownError {
    bytes: [u8; UNKNOWN_ERROR_KEEP],
    /// Length as sent, possibly more than was kept.
    len: usize,
}

impl UnknownError {
    fn new(name: &[u8]) -> Self {
        let kept = name.len().min(UNKNOWN_ERROR_KEEP);
        let mut bytes = [0u8; UNKNOWN_ERROR_KEEP];
        bytes[..kept].copy_from_slice(&name[..kept]);
        Self {
            bytes,
            len: name.len(),
        }
    }

    /// The kept bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len.min(UNKNOWN_ERROR_KEEP)]
    }

    /// Length of the name as sent.
    pub fn sent_len(&self) -> usize {
        self.len
    }

    /// Whether bytes were dropped.
    pub fn is_truncated(&self) -> bool {
        self.len > UNKNOWN_ERROR_KEEP
    }
}

impl fmt::Debug for UnknownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.as_bytes().escape_ascii();
        let more = if self.is_truncated() { "..." } else { "" };
        write!(f, "UnknownError(\"{s}{more}\", len {})", self.len)
    }
}

const KNOWN: [(XsError, &str); 17] = [
    (XsError::Einval, "EINVAL"),
    (XsError::Eacces, "EACCES"),
    (XsError::Eexist, "EEXIST"),
    (XsError::Eisdir, "EISDIR"),
    (XsError::Enoent, "ENOENT"),
    (XsError::Enomem, "ENOMEM"),
    (XsError::Enospc, "ENOSPC"),
    (XsError::Eio, "EIO"),
    (XsError::Enotempty, "ENOTEMPTY"),
    (XsError::Enosys, "ENOSYS"),
    (XsError::Erofs, "EROFS"),
    (XsError::Ebusy, "EBUSY"),
    (XsError::Eagain, "EAGAIN"),
    (XsError::Eisconn, "EISCONN"),
    (XsError::E2big, "E2BIG"),
    (XsError::Eperm, "EPERM"),
    (XsError::Equota, "EQUOTA"),
];

impl XsError {
    /// Every known error, in xs_wire.h order, then EQUOTA.
    pub fn known() -> impl Iterator<Item = XsError> {
        KNOWN.iter().map(|&(e, _)| e)
    }

    /// Maps an error name (no NUL) to its variant.
    pub fn from_name(name: &[u8]) -> Self {
        match KNOWN.iter().find(|(_, n)| n.as_bytes() == name) {
            Some(&(e, _)) => e,
            None => XsError::Unknown(UnknownError::new(name)),
        }
    }

    /// Decodes an ERROR payload. One trailing NUL is stripped if present;
    /// a missing NUL is tolerated (the name is what matters).
    pub fn from_payload(payload: &[u8]) -> Self {
        Self::from_name(payload.strip_suffix(&[0]).unwrap_or(payload))
    }

    /// The name as sent (kept bytes for an unknown one).
    pub fn name(&self) -> &[u8] {
        match self {
            XsError::Unknown(u) => u.as_bytes(),
            known => KNOWN
                .iter()
                .find(|(e, _)| e == known)
                .map_or(&[], |(_, n)| n.as_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_round_trips() {
        assert_eq!(XsError::known().count(), 17);
        for e in XsError::known() {
            let mut payload = [0u8; 16];
            let n = e.name().len();
            payload[..n].copy_from_slice(e.name());
            assert_eq!(XsError::from_payload(&payload[..=n]), e);
            assert_eq!(XsError::from_name(e.name()), e);
        }
    }

    #[test]
    fn specific_names() {
        assert_eq!(XsError::from_payload(b"EINVAL\0"), XsError::Einval);
        assert_eq!(XsError::from_payload(b"EQUOTA\0"), XsError::Equota);
        assert_eq!(XsError::from_payload(b"E2BIG\0"), XsError::E2big);
        assert_eq!(XsError::from_payload(b"EAGAIN"), XsError::Eagain);
        assert_eq!(XsError::Enotempty.name(), b"ENOTEMPTY");
    }

    #[test]
    fn unknown_names_are_kept() {
        let XsError::Unknown(u) = XsError::from_payload(b"EWHAT\0") else {
            panic!()
        };
        assert_eq!(u.as_bytes(), b"EWHAT");
        assert!(!u.is_truncated());
        assert_eq!(XsError::from_payload(b"EWHAT\0").name(), b"EWHAT");
        // Only one NUL is stripped; a second stays in the name.
        let XsError::Unknown(u) = XsError::from_payload(b"EIO\0\0") else {
            panic!()
        };
        assert_eq!(u.as_bytes(), b"EIO\0");
        assert_eq!(
            XsError::from_payload(b""),
            XsError::Unknown(UnknownError::new(b""))
        );
    }

    #[test]
    fn long_unknown_names_are_cut() {
        let long = [b'E'; 100];
        let XsError::Unknown(u) = XsError::from_payload(&long) else {
            panic!()
        };
        assert_eq!(u.as_bytes(), &long[..UNKNOWN_ERROR_KEEP]);
        assert_eq!(u.sent_len(), 100);
        assert!(u.is_truncated());
        let dbg = format!("{u:?}");
        assert!(dbg.contains("...") && dbg.contains("len 100"), "{dbg}");
    }
}
