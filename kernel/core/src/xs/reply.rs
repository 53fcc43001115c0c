//! Reply payload decoders (docs/misc/xenstore.txt, "Xenstore protocol
//! details"). Strict: a payload that does not have exactly the documented
//! shape is a [`DecodeError`], so a conformance probe sees every deviation.
//!
//! | reply | payload | decoder |
//! |---|---|---|
//! | most writes | `OK\0` | [`expect_ok`] |
//! | READ | `value` (binary, as is) | none needed |
//! | DIRECTORY | `name\0`* | [`nul_list`] |
//! | DIRECTORY_PART | `gencnt\0name\0`*, `\0` after the last name | [`dir_part`] |
//! | GET_PERMS | `perm\0`+ | [`PermList::parse`] |
//! | WATCH_EVENT | `path\0token\0` | [`watch_event`] |
//! | TRANSACTION_START, GET_FEATURE, GET_QUOTA | `decimal\0` | [`parse_u32`] |
//! | IS_DOMAIN_INTRODUCED | `T\0` or `F\0` | [`parse_bool`] |
//! | GET_DOMAIN_PATH | `path\0` | [`single_string`] |
//! | ERROR | `ENAME\0` | [`XsError::from_payload`](super::error::XsError::from_payload) |

use super::perm::{parse_dec, Perm};
use super::wire::DecodeError;

/// Checks a plain success reply: exactly `OK\0`.
pub fn expect_ok(payload: &[u8]) -> Result<(), DecodeError> {
    match payload == b"OK\0" {
        true => Ok(()),
        false => Err(DecodeError::NotOk),
    }
}

/// The one NUL-terminated string that is the whole payload.
pub fn single_string(payload: &[u8]) -> Result<&[u8], DecodeError> {
    let s = payload.strip_suffix(&[0]).ok_or(DecodeError::MissingNul)?;
    match s.iter().position(|&b| b == 0) {
        Some(i) => Err(DecodeError::TrailingData { at: i + 1 }),
        None => Ok(s),
    }
}

/// A payload that is one unsigned decimal `u32` and a NUL.
pub fn parse_u32(payload: &[u8]) -> Result<u32, DecodeError> {
    let s = single_string(payload)?;
    parse_dec(s, u32::MAX as u64)
        .map(|v| v as u32)
        .ok_or(DecodeError::BadNumber)
}

/// `T\0` or `F\0`.
pub fn parse_bool(payload: &[u8]) -> Result<bool, DecodeError> {
    match single_string(payload)? {
        b"T" => Ok(true),
        b"F" => Ok(false),
        _ => Err(DecodeError::BadBool),
    }
}

/// Zero or more NUL-terminated strings, yielded without their NULs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NulList<'a> {
    rest: &'a [u8],
}

/// Checks that `payload` is empty or ends in a NUL, and lists its strings.
pub fn nul_list(payload: &[u8]) -> Result<NulList<'_>, DecodeError> {
    match payload.last() {
        None | Some(0) => Ok(NulList { rest: payload }),
        Some(_) => Err(DecodeError::MissingNul),
    }
}

impl<'a> Iterator for NulList<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let end = self.rest.iter().position(|&b| b == 0)?;
        let item = &self.rest[..end];
        self.rest = &self.rest[end + 1..];
        Some(item)
    }
}

/// A DIRECTORY_PART reply.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DirPart<'a> {
    /// The node's generation count; equal counts across parts mean the
    /// node did not change between them.
    pub generation: u64,
    /// The child names in this part.
    pub children: NulList<'a>,
    /// Whether this part ends the list (it ends with an empty string).
    pub complete: bool,
}

/// Decodes `gencnt\0name\0...`; an empty name after the last child marks
/// the end of the whole list.
pub fn dir_part(payload: &[u8]) -> Result<DirPart<'_>, DecodeError> {
    let mut list = nul_list(payload)?;
    let gen = list.next().ok_or(DecodeError::Empty)?;
    let generation = parse_dec(gen, u64::MAX).ok_or(DecodeError::BadNumber)?;
    let names = &payload[gen.len() + 1..];
    // `names` is empty or ends in a NUL; the terminator is an empty last
    // string: either the whole of `names`, or a NUL right after another.
    let complete = names == b"\0" || names.ends_with(b"\0\0");
    let names = if complete {
        &names[..names.len() - 1]
    } else {
        names
    };
    Ok(DirPart {
        generation,
        children: NulList { rest: names },
        complete,
    })
}

/// A WATCH_EVENT payload.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WatchEvent<'a> {
    /// The path that changed (relative iff the watch was set relative).
    pub path: &'a [u8],
    pub token: &'a [u8],
}

/// Decodes exactly `path\0token\0`.
pub fn watch_event(payload: &[u8]) -> Result<WatchEvent<'_>, DecodeError> {
    let mut list = nul_list(payload)?;
    let path = list.next().ok_or(DecodeError::Empty)?;
    let token = list.next().ok_or(DecodeError::Empty)?;
    let used = path.len() + token.len() + 2;
    match used == payload.len() {
        true => Ok(WatchEvent { path, token }),
        false => Err(DecodeError::TrailingData { at: used }),
    }
}

/// A GET_PERMS reply: one or more permissions, all checked up front.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PermList<'a> {
    list: NulList<'a>,
}

impl<'a> PermList<'a> {
    /// Checks every entry; the first is the owner.
    pub fn parse(payload: &'a [u8]) -> Result<Self, DecodeError> {
        let list = nul_list(payload)?;
        if payload.is_empty() {
            return Err(DecodeError::Empty);
        }
        list.clone().try_for_each(|s| Perm::parse(s).map(drop))?;
        Ok(Self { list })
    }
}

impl Iterator for PermList<'_> {
    type Item = Perm;

    fn next(&mut self) -> Option<Perm> {
        // Every entry was parsed successfully in `parse`.
        self.list.next().and_then(|s| Perm::parse(s).ok())
    }
}

#[cfg(test)]
#[path = "reply_tests.rs"]
mod tests;
