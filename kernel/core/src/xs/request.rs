//! Typed requests and their payload syntax (docs/misc/xenstore.txt,
//! "Xenstore protocol details"). `|` there is a NUL here:
//!
//! | request | payload |
//! |---|---|
//! | READ, MKDIR, RM, DIRECTORY, GET_PERMS | `path\0` |
//! | WRITE | `path\0value` (no NUL after the value) |
//! | DIRECTORY_PART | `path\0offset\0` |
//! | SET_PERMS | `path\0perm\0perm\0...` |
//! | WATCH, UNWATCH | `path\0token\0` |
//! | TRANSACTION_START, RESET_WATCHES | `\0` |
//! | TRANSACTION_END | `T\0` commit, `F\0` abort |
//! | GET_DOMAIN_PATH, IS_DOMAIN_INTRODUCED, RELEASE, RESUME | `domid\0` |
//! | INTRODUCE | `domid\0mfn\0evtchn\0` |
//! | SET_TARGET | `domid\0tdomid\0` |
//! | CONTROL | `command\0[param\0...]` |
//! | GET_FEATURE | `[domid\0]` |
//! | SET_FEATURE | `domid\0value\0` |
//! | GET_QUOTA | empty (names), or `[domid\0]quota\0` |
//! | SET_QUOTA | `[domid\0]quota\0value\0` |
//!
//! [`Request::encode`] validates paths, NULs and the payload limit before
//! writing anything.

use super::path::{validate_path, validate_watch_path};
use super::perm::Perm;
use super::wire::{encode, EncodeError, MsgType, Part};

/// A request, borrowing its strings from the caller.
#[derive(Clone, Copy, Debug)]
pub enum Request<'a> {
    Control {
        args: &'a [&'a [u8]],
    },
    Directory {
        path: &'a [u8],
    },
    DirectoryPart {
        path: &'a [u8],
        offset: u32,
    },
    Read {
        path: &'a [u8],
    },
    GetPerms {
        path: &'a [u8],
    },
    Watch {
        path: &'a [u8],
        token: &'a [u8],
    },
    Unwatch {
        path: &'a [u8],
        token: &'a [u8],
    },
    TransactionStart,
    TransactionEnd {
        commit: bool,
    },
    Introduce {
        domid: u16,
        mfn: u64,
        evtchn: u32,
    },
    Release {
        domid: u16,
    },
    GetDomainPath {
        domid: u16,
    },
    Write {
        path: &'a [u8],
        value: &'a [u8],
    },
    Mkdir {
        path: &'a [u8],
    },
    Rm {
        path: &'a [u8],
    },
    SetPerms {
        path: &'a [u8],
        perms: &'a [Perm],
    },
    IsDomainIntroduced {
        domid: u16,
    },
    Resume {
        domid: u16,
    },
    SetTarget {
        domid: u16,
        target: u16,
    },
    ResetWatches,
    /// Features of the caller (`None`) or of a domain (dom0 only).
    GetFeature {
        domid: Option<u16>,
    },
    SetFeature {
        domid: u16,
        value: u32,
    },
    /// The blank-separated list of quota names the daemon supports.
    GetQuotaNames,
    /// A quota of a domain, or the global default when `domid` is `None`.
    GetQuota {
        domid: Option<u16>,
        quota: &'a [u8],
    },
    SetQuota {
        domid: Option<u16>,
        quota: &'a [u8],
        value: u32,
    },
}

/// Up to four payload parts and how many are used.
type Parts<'a> = ([Part<'a>; 4], usize);

fn parts<'a>(list: &[Part<'a>]) -> Parts<'a> {
    let mut a = [Part::Bytes(&[]); 4];
    a[..list.len()].copy_from_slice(list);
    (a, list.len())
}

fn opt_domid(domid: Option<u16>) -> Part<'static> {
    match domid {
        // An empty `Bytes` part adds nothing: the domid field is omitted.
        None => Part::Bytes(&[]),
        Some(d) => Part::Num(d as u64),
    }
}

impl<'a> Request<'a> {
    /// The header type of this request.
    pub const fn msg_type(&self) -> MsgType {
        use Request::*;
        match self {
            Control { .. } => MsgType::CONTROL,
            Directory { .. } => MsgType::DIRECTORY,
            DirectoryPart { .. } => MsgType::DIRECTORY_PART,
            Read { .. } => MsgType::READ,
            GetPerms { .. } => MsgType::GET_PERMS,
            Watch { .. } => MsgType::WATCH,
            Unwatch { .. } => MsgType::UNWATCH,
            TransactionStart => MsgType::TRANSACTION_START,
            TransactionEnd { .. } => MsgType::TRANSACTION_END,
            Introduce { .. } => MsgType::INTRODUCE,
            Release { .. } => MsgType::RELEASE,
            GetDomainPath { .. } => MsgType::GET_DOMAIN_PATH,
            Write { .. } => MsgType::WRITE,
            Mkdir { .. } => MsgType::MKDIR,
            Rm { .. } => MsgType::RM,
            SetPerms { .. } => MsgType::SET_PERMS,
            IsDomainIntroduced { .. } => MsgType::IS_DOMAIN_INTRODUCED,
            Resume { .. } => MsgType::RESUME,
            SetTarget { .. } => MsgType::SET_TARGET,
            ResetWatches => MsgType::RESET_WATCHES,
            GetFeature { .. } => MsgType::GET_FEATURE,
            SetFeature { .. } => MsgType::SET_FEATURE,
            GetQuotaNames | GetQuota { .. } => MsgType::GET_QUOTA,
            SetQuota { .. } => MsgType::SET_QUOTA,
        }
    }

    /// Checks the path arguments and SET_PERMS' list. Other strings are
    /// checked for NULs by [`encode`].
    pub fn validate(&self) -> Result<(), EncodeError> {
        use Request::*;
        match *self {
            Directory { path }
            | DirectoryPart { path, .. }
            | Read { path }
            | GetPerms { path }
            | Write { path, .. }
            | Mkdir { path }
            | Rm { path } => validate_path(path)?,
            Watch { path, .. } | Unwatch { path, .. } => validate_watch_path(path)?,
            SetPerms { path, perms } => {
                validate_path(path)?;
                if perms.is_empty() {
                    return Err(EncodeError::NoPerms);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The payload as parts, in wire order.
    pub fn parts(&self) -> Parts<'a> {
        use Part::{Bytes, Num, Str};
        use Request::*;
        match *self {
            Control { args } => parts(&[Part::Strs(args)]),
            Directory { path } | Read { path } | GetPerms { path } => parts(&[Str(path)]),
            Mkdir { path } | Rm { path } => parts(&[Str(path)]),
            DirectoryPart { path, offset } => parts(&[Str(path), Num(offset as u64)]),
            Watch { path, token } | Unwatch { path, token } => parts(&[Str(path), Str(token)]),
            TransactionStart | ResetWatches => parts(&[Str(b"")]),
            TransactionEnd { commit } => parts(&[Str(if commit { b"T" } else { b"F" })]),
            Introduce { domid, mfn, evtchn } => {
                parts(&[Num(domid as u64), Num(mfn), Num(evtchn as u64)])
            }
            Release { domid } | GetDomainPath { domid } => parts(&[Num(domid as u64)]),
            IsDomainIntroduced { domid } | Resume { domid } => parts(&[Num(domid as u64)]),
            Write { path, value } => parts(&[Str(path), Bytes(value)]),
            SetPerms { path, perms } => parts(&[Str(path), Part::Perms(perms)]),
            SetTarget { domid, target } => parts(&[Num(domid as u64), Num(target as u64)]),
            GetFeature { domid } => parts(&[opt_domid(domid)]),
            SetFeature { domid, value } => parts(&[Num(domid as u64), Num(value as u64)]),
            GetQuotaNames => parts(&[]),
            GetQuota { domid, quota } => parts(&[opt_domid(domid), Str(quota)]),
            SetQuota {
                domid,
                quota,
                value,
            } => parts(&[opt_domid(domid), Str(quota), Num(value as u64)]),
        }
    }

    /// Validates, then writes header and payload into `buf`; returns the
    /// message length. On error nothing is written.
    pub fn encode(&self, req_id: u32, tx_id: u32, buf: &mut [u8]) -> Result<usize, EncodeError> {
        self.validate()?;
        let (p, n) = self.parts();
        encode(self.msg_type(), req_id, tx_id, &p[..n], buf)
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
