//! The few xenstore operations the ring and vchan handshakes need, over
//! drv::xenstore, with string paths and errors as text. Everything
//! xenstore-specific these probes do goes through here.

use crate::drv::xenstore::{self, XsErr};
use crate::probe::Env;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use xp_core::xs::{Perm, PermKind};

/// Token of the watches these handshakes set.
const TOKEN: &[u8] = b"xp-ring";

pub struct Store;

fn text<T>(what: &str, path: &str, r: Result<Result<T, XsErr>, XsErr>) -> Result<T, String> {
    r.and_then(|r| r)
        .map_err(|e| format!("xenstore {what} {path}: {e}"))
}

impl Store {
    /// Our domid and home path (`/local/domain/N`), as learnt at boot.
    pub fn home(env: &Env) -> Result<(u16, String), String> {
        let home = env
            .xs_home
            .clone()
            .map_err(|e| format!("no xenstore home: {e}"))?;
        let domid = env.domid.ok_or("our domid is unknown")?;
        Ok((domid, home))
    }

    pub fn read(&self, path: &str) -> Option<String> {
        let v = xenstore::with(|c| c.read(0, path.as_bytes())).ok()?.ok()?;
        String::from_utf8(v).ok()
    }

    pub fn write(&self, path: &str, value: &str) -> Result<(), String> {
        text(
            "write",
            path,
            xenstore::with(|c| c.write(0, path.as_bytes(), value.as_bytes())),
        )
    }

    /// Owner `owner` (others: none), `reader` may read.
    pub fn perms(&self, path: &str, owner: u16, reader: u16) -> Result<(), String> {
        let p = [
            Perm::new(PermKind::None, owner),
            Perm::new(PermKind::Read, reader),
        ];
        text(
            "set_perms",
            path,
            xenstore::with(|c| c.set_perms(0, path.as_bytes(), &p)),
        )
    }

    pub fn rm(&self, path: &str) -> Result<(), String> {
        text("rm", path, xenstore::with(|c| c.rm(0, path.as_bytes())))
    }

    /// Child names of `path` (none if it does not exist).
    pub fn list(&self, path: &str) -> Vec<String> {
        let names = xenstore::with(|c| c.directory(0, path.as_bytes()));
        let names = names.ok().and_then(Result::ok).unwrap_or_default();
        names
            .into_iter()
            .filter_map(|n| String::from_utf8(n).ok())
            .collect()
    }

    pub fn watch(&self, path: &str) -> Result<(), String> {
        text(
            "watch",
            path,
            xenstore::with(|c| c.watch(path.as_bytes(), TOKEN)),
        )
    }

    /// Whether watch events arrived (takes them all; does not wait, sends nothing).
    pub fn fired(&self) -> bool {
        let mut any = false;
        while let Ok(Some(_)) = xenstore::with(|c| c.next_event(TOKEN, 0)) {
            any = true;
        }
        any
    }

    /// Block until a watch event or `deadline` (true: an event came).
    pub fn wait(&self, deadline: u64) -> bool {
        let got = xenstore::with(|c| c.next_event(TOKEN, deadline))
            .ok()
            .flatten();
        got.is_some() && {
            self.fired();
            true
        }
    }
}
