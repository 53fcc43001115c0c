//! Permission strings of GET_PERMS / SET_PERMS (docs/misc/xenstore.txt,
//! "Database read, write and permissions operations"): one letter, then the
//! domid in decimal. `r0` read only, `w1` write only, `b2` both, `n3` none.

use super::wire::{fmt_dec, DecodeError};

/// The letter of a permission. Parsed from text, so a plain enum: any other
/// letter is a [`DecodeError::BadPerm`], not a value of this type.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum PermKind {
    /// `n`: no access.
    None,
    /// `r`: read only.
    Read,
    /// `w`: write only.
    Write,
    /// `b`: read and write.
    Both,
}

impl PermKind {
    /// The wire letter.
    pub const fn letter(self) -> u8 {
        match self {
            PermKind::None => b'n',
            PermKind::Read => b'r',
            PermKind::Write => b'w',
            PermKind::Both => b'b',
        }
    }

    /// The kind for a wire letter.
    pub const fn from_letter(b: u8) -> Option<Self> {
        match b {
            b'n' => Some(PermKind::None),
            b'r' => Some(PermKind::Read),
            b'w' => Some(PermKind::Write),
            b'b' => Some(PermKind::Both),
            _ => None,
        }
    }
}

/// One permission entry. The first entry of a node's list names its owner
/// and the access of every domain not listed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub struct Perm {
    pub kind: PermKind,
    pub domid: u16,
}

impl Perm {
    pub const fn new(kind: PermKind, domid: u16) -> Self {
        Self { kind, domid }
    }

    /// Parses `r0`-style text (no NUL). The domid must be plain decimal
    /// digits and fit in 16 bits.
    pub fn parse(s: &[u8]) -> Result<Self, DecodeError> {
        let (&letter, digits) = s.split_first().ok_or(DecodeError::BadPerm)?;
        let kind = PermKind::from_letter(letter).ok_or(DecodeError::BadPerm)?;
        let domid = parse_dec(digits, u16::MAX as u64).ok_or(DecodeError::BadPerm)?;
        Ok(Self {
            kind,
            domid: domid as u16,
        })
    }

    /// Length of the text form.
    pub fn text_len(&self) -> usize {
        1 + super::wire::dec_len(self.domid as u64)
    }

    /// Writes the text form into `buf`; returns it.
    pub fn text<'b>(&self, buf: &'b mut [u8; 6]) -> &'b [u8] {
        let mut d = [0u8; 20];
        let digits = fmt_dec(self.domid as u64, &mut d);
        buf[0] = self.kind.letter();
        buf[1..=digits.len()].copy_from_slice(digits);
        &buf[..=digits.len()]
    }
}

/// Parses a non-empty string of ASCII digits whose value is at most `max`.
pub(crate) fn parse_dec(s: &[u8], max: u64) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        let d = (b as char).to_digit(10)? as u64;
        acc.checked_mul(10)?.checked_add(d).filter(|&v| v <= max)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_letter() {
        assert_eq!(Perm::parse(b"r0"), Ok(Perm::new(PermKind::Read, 0)));
        assert_eq!(Perm::parse(b"w1"), Ok(Perm::new(PermKind::Write, 1)));
        assert_eq!(Perm::parse(b"b2"), Ok(Perm::new(PermKind::Both, 2)));
        assert_eq!(Perm::parse(b"n3"), Ok(Perm::new(PermKind::None, 3)));
        assert_eq!(Perm::parse(b"b65535"), Ok(Perm::new(PermKind::Both, 65535)));
    }

    #[test]
    fn refuses_malformed() {
        for s in [
            &b""[..],
            b"r",
            b"x0",
            b"r-1",
            b"r65536",
            b"r1a",
            b"R0",
            b"r 1",
        ] {
            assert_eq!(Perm::parse(s), Err(DecodeError::BadPerm), "{s:?}");
        }
    }

    #[test]
    fn text_round_trips() {
        for p in [
            Perm::new(PermKind::None, 0),
            Perm::new(PermKind::Both, 65535),
        ] {
            let mut b = [0u8; 6];
            let t = p.text(&mut b);
            assert_eq!(t.len(), p.text_len());
            assert_eq!(Perm::parse(t), Ok(p));
        }
        let mut b = [0u8; 6];
        assert_eq!(Perm::new(PermKind::Read, 42).text(&mut b), b"r42");
    }

    #[test]
    fn letters_round_trip() {
        for k in [
            PermKind::None,
            PermKind::Read,
            PermKind::Write,
            PermKind::Both,
        ] {
            assert_eq!(PermKind::from_letter(k.letter()), Some(k));
        }
        assert_eq!(PermKind::from_letter(b'x'), None);
    }

    #[test]
    fn parse_dec_bounds() {
        assert_eq!(parse_dec(b"0", 9), Some(0));
        assert_eq!(parse_dec(b"007", 9), Some(7));
        assert_eq!(parse_dec(b"10", 9), None);
        assert_eq!(parse_dec(b"18446744073709551615", u64::MAX), Some(u64::MAX));
        assert_eq!(parse_dec(b"18446744073709551616", u64::MAX), None);
        assert_eq!(parse_dec(b"", 9), None);
        assert_eq!(parse_dec(b"+1", 9), None);
    }
}
