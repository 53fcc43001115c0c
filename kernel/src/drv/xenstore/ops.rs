//! Every operation a guest may use, typed: the request, the reply decoded
//! strictly (a malformed reply is [`XsErr::Decode`]), errors as [`XsErr`].
//! `tx` is a transaction id, 0 outside transactions.

use super::{Client, Event, XsErr};
use alloc::vec::Vec;
use xp_core::xs::{reply, DecodeError, MsgType, Perm, PermList, Request, XsError};

/// A directory listing: child names.
pub type Names = Vec<Vec<u8>>;

/// How a transaction run by [`Client::transaction`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxOutcome<T> {
    pub value: T,
    /// Attempts made (1 = committed first time; each retry followed an EAGAIN).
    pub attempts: u32,
}

fn decode<T>(op: MsgType, r: Result<T, DecodeError>) -> Result<T, XsErr> {
    r.map_err(|err| XsErr::Decode { op, err })
}

fn names(list: reply::NulList<'_>) -> Names {
    list.map(<[u8]>::to_vec).collect()
}

impl Client {
    /// Sends `req` and checks the reply is exactly `OK\0`.
    fn ack(&mut self, req: &Request<'_>, tx: u32) -> Result<(), XsErr> {
        let r = self.call(req, tx)?;
        decode(req.msg_type(), reply::expect_ok(&r.payload))
    }

    pub fn read(&mut self, tx: u32, path: &[u8]) -> Result<Vec<u8>, XsErr> {
        Ok(self.call(&Request::Read { path }, tx)?.payload)
    }

    pub fn write(&mut self, tx: u32, path: &[u8], value: &[u8]) -> Result<(), XsErr> {
        self.ack(&Request::Write { path, value }, tx)
    }

    pub fn mkdir(&mut self, tx: u32, path: &[u8]) -> Result<(), XsErr> {
        self.ack(&Request::Mkdir { path }, tx)
    }

    pub fn rm(&mut self, tx: u32, path: &[u8]) -> Result<(), XsErr> {
        self.ack(&Request::Rm { path }, tx)
    }

    pub fn directory(&mut self, tx: u32, path: &[u8]) -> Result<Names, XsErr> {
        let r = self.call(&Request::Directory { path }, tx)?;
        Ok(names(decode(
            MsgType::DIRECTORY,
            reply::nul_list(&r.payload),
        )?))
    }

    /// One DIRECTORY_PART: (generation, names from `offset`, whether the list is complete).
    pub fn directory_part(
        &mut self,
        tx: u32,
        path: &[u8],
        offset: u32,
    ) -> Result<(u64, Names, bool), XsErr> {
        let r = self.call(&Request::DirectoryPart { path, offset }, tx)?;
        let p = decode(MsgType::DIRECTORY_PART, reply::dir_part(&r.payload))?;
        Ok((p.generation, names(p.children), p.complete))
    }

    /// A whole listing through DIRECTORY_PART, restarting if the node changes between parts.
    pub fn directory_by_parts(&mut self, tx: u32, path: &[u8]) -> Result<Names, XsErr> {
        'restart: for _ in 0..8 {
            let mut all = Names::new();
            let mut generation = None;
            loop {
                let offset: usize = all.iter().map(|n| n.len() + 1).sum();
                let (g, part, complete) = self.directory_part(tx, path, offset as u32)?;
                if generation.is_some_and(|old| old != g) {
                    continue 'restart;
                }
                generation = Some(g);
                let empty = part.is_empty();
                all.extend(part);
                if complete || empty {
                    return Ok(all);
                }
            }
        }
        Err(XsErr::Daemon(XsError::Eagain))
    }

    pub fn get_perms(&mut self, tx: u32, path: &[u8]) -> Result<Vec<Perm>, XsErr> {
        let r = self.call(&Request::GetPerms { path }, tx)?;
        Ok(decode(MsgType::GET_PERMS, PermList::parse(&r.payload))?.collect())
    }

    pub fn set_perms(&mut self, tx: u32, path: &[u8], perms: &[Perm]) -> Result<(), XsErr> {
        self.ack(&Request::SetPerms { path, perms }, tx)
    }

    /// Registers `token` for events first, so the event that fires at once is kept.
    pub fn watch(&mut self, path: &[u8], token: &[u8]) -> Result<(), XsErr> {
        self.watches.add(path, token);
        let r = self.ack(&Request::Watch { path, token }, 0);
        if r.is_err() {
            self.watches.remove(path, token);
        }
        r
    }

    pub fn unwatch(&mut self, path: &[u8], token: &[u8]) -> Result<(), XsErr> {
        let r = self.ack(&Request::Unwatch { path, token }, 0);
        if r.is_ok() {
            self.watches.remove(path, token);
        }
        r
    }

    /// RESET_WATCHES: drops every watch of this connection (and the local registry).
    pub fn reset_watches(&mut self) -> Result<(), XsErr> {
        let r = self.ack(&Request::ResetWatches, 0);
        if r.is_ok() {
            self.watches.clear();
        }
        r
    }

    /// The next event for `token`, waiting until `deadline`.
    pub fn next_event(&mut self, token: &[u8], deadline: u64) -> Option<Event> {
        if self.watches.queued(token) == 0 {
            self.wait_for(deadline, |c| c.watches.queued(token) > 0);
        }
        self.watches.take(token)
    }

    pub fn transaction_start(&mut self) -> Result<u32, XsErr> {
        let r = self.call(&Request::TransactionStart, 0)?;
        decode(MsgType::TRANSACTION_START, reply::parse_u32(&r.payload))
    }

    pub fn transaction_end(&mut self, tx: u32, commit: bool) -> Result<(), XsErr> {
        self.ack(&Request::TransactionEnd { commit }, tx)
    }

    /// Runs `body` in a transaction and commits, starting over after each EAGAIN, at most
    /// `max_attempts` times. An error in `body` aborts the transaction and is returned.
    pub fn transaction<T>(
        &mut self,
        max_attempts: u32,
        mut body: impl FnMut(&mut Self, u32) -> Result<T, XsErr>,
    ) -> Result<TxOutcome<T>, XsErr> {
        for attempts in 1..=max_attempts {
            let tx = self.transaction_start()?;
            let value = match body(self, tx) {
                Ok(v) => v,
                Err(e) => {
                    let _ = self.transaction_end(tx, false);
                    return Err(e);
                }
            };
            match self.transaction_end(tx, true) {
                Ok(()) => return Ok(TxOutcome { value, attempts }),
                Err(XsErr::Daemon(XsError::Eagain)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(XsErr::Daemon(XsError::Eagain))
    }

    pub fn get_domain_path(&mut self, domid: u16) -> Result<Vec<u8>, XsErr> {
        let r = self.call(&Request::GetDomainPath { domid }, 0)?;
        Ok(decode(MsgType::GET_DOMAIN_PATH, reply::single_string(&r.payload))?.to_vec())
    }

    /// GET_FEATURE for this connection (where the daemon supports it).
    pub fn get_feature(&mut self) -> Result<u32, XsErr> {
        let r = self.call(&Request::GetFeature { domid: None }, 0)?;
        decode(MsgType::GET_FEATURE, reply::parse_u32(&r.payload))
    }
}
