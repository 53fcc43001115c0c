//! The xenbus-style device the two-domain roles share, laid out the way a
//! toolstack lays out a split driver (the lab's dom0 script plays toolstack):
//!
//! ```text
//! /local/domain/F/device/xpring/0/          owner F, B may read
//!     backend = /local/domain/B/backend/xpring/F/0, backend-id = B
//!     ring-ref, event-channel, state        (written by the frontend)
//! /local/domain/B/backend/xpring/F/0/       owner B, F may read
//!     frontend = /local/domain/F/device/xpring/0, frontend-id = F
//!     state, completion                     (written by the backend)
//! ```
//!
//! Each end watches the other's `state` and acts on xp_core::xenbus's tables.
//! `completion` is the backend's completion policy (`ring.back=`, absent:
//! `echo`), which the frontend judges every response against.

use super::store::Store;
use crate::drv::timer;
use crate::probe::Ctx;
use crate::probe::Env;
use crate::time::now_ns;
use alloc::format;
use alloc::string::String;
use xp_core::ringpol::Policy;
use xp_core::xenbus::XenbusState;

/// How long an end waits for the toolstack or its peer before giving up.
pub const PEER_WAIT_NS: u64 = 30_000_000_000;

/// One end of the device: our directory, the peer's, the peer's domid.
pub struct Dev {
    pub st: Store,
    pub own: String,
    pub peer_dir: String,
    pub peer: u16,
}

impl Dev {
    pub fn set_state(&self, s: XenbusState) -> Result<(), String> {
        log::debug!("xenbus: {}/state <- {s}", self.own);
        self.st
            .write(&format!("{}/state", self.own), &format!("{}", s.0))
    }

    pub fn peer_state(&self) -> XenbusState {
        let v = self
            .st
            .read(&format!("{}/state", self.peer_dir))
            .unwrap_or_default();
        XenbusState::parse(v.as_bytes())
    }

    /// Wait (on watch events) until `want(peer state)`, returning that state.
    pub fn await_peer(&self, want: impl Fn(XenbusState) -> bool) -> Result<XenbusState, String> {
        let deadline = now_ns() + PEER_WAIT_NS;
        loop {
            let s = self.peer_state();
            log::trace!("xenbus: {}/state is {s}", self.peer_dir);
            if want(s) {
                return Ok(s);
            }
            if !self.st.wait(deadline) {
                return Err(format!(
                    "peer state stayed {s} for {} s",
                    PEER_WAIT_NS / 1_000_000_000
                ));
            }
        }
    }

    /// The peer's state changed since the last call (no request sent unless it did).
    pub fn peer_moved(&self) -> Option<XenbusState> {
        self.st.fired().then(|| self.peer_state())
    }
}

/// Read `path` until it exists (the toolstack may not have written it yet).
fn await_node(st: &Store, path: &str) -> Result<String, String> {
    let deadline = now_ns() + PEER_WAIT_NS;
    loop {
        if let Some(v) = st.read(path) {
            return Ok(v);
        }
        if now_ns() > deadline {
            return Err(format!(
                "{path} did not appear (is the xpring device set up in xenstore?)"
            ));
        }
        timer::wait_until(now_ns() + 50_000_000, || false);
    }
}

fn domid(v: &str, what: &str) -> Result<u16, String> {
    v.parse::<u16>()
        .map_err(|_| format!("{what} = \"{}\" is not a domid", v.escape_debug()))
}

/// The frontend's device: ours is `device/xpring/0`, the backend's is what it names.
pub fn front_dev(env: &Env) -> Result<Dev, String> {
    let (_, home) = Store::home(env)?;
    let own = format!("{home}/device/xpring/0");
    let st = Store;
    let peer = domid(
        &await_node(&st, &format!("{own}/backend-id"))?,
        "backend-id",
    )?;
    let peer_dir = await_node(&st, &format!("{own}/backend"))?;
    st.watch(&format!("{peer_dir}/state"))?;
    Ok(Dev {
        st,
        own,
        peer_dir,
        peer,
    })
}

/// The backend's device for frontend `peer` (or the first one the toolstack set up).
pub fn back_dev(env: &Env, peer: Option<u16>) -> Result<Dev, String> {
    let (_, home) = Store::home(env)?;
    let st = Store;
    let base = format!("{home}/backend/xpring");
    let fid = match peer {
        Some(p) => p,
        None => {
            let deadline = now_ns() + PEER_WAIT_NS;
            loop {
                if let Some(f) = st.list(&base).first() {
                    break domid(f, "frontend directory")?;
                }
                if now_ns() > deadline {
                    return Err(format!("no frontend under {base}"));
                }
                timer::wait_until(now_ns() + 50_000_000, || false);
            }
        }
    };
    let own = format!("{base}/{fid}/0");
    let peer_dir = await_node(&st, &format!("{own}/frontend"))?;
    st.watch(&format!("{peer_dir}/state"))?;
    Ok(Dev {
        st,
        own,
        peer_dir,
        peer: fid,
    })
}

/// The node a backend publishes its completion policy in.
pub const COMPLETION: &str = "completion";

/// The backend's completion policy, as it published it (ERROR if malformed or too long).
pub fn back_policy(ctx: &mut Ctx<'_>, dev: &Dev, timeout_ns: u64) -> Option<Policy> {
    let path = format!("{}/{COMPLETION}", dev.peer_dir);
    let text = dev.st.read(&path).unwrap_or_else(|| String::from("echo"));
    let checked = Policy::parse(&text).map_err(|e| format!("{e}"));
    match checked.and_then(|p| p.fits(timeout_ns).map(|()| p).map_err(|e| format!("{e}"))) {
        Ok(p) => {
            ctx.info("completion_policy", format_args!("{p} (backend's {path})"));
            Some(p)
        }
        Err(e) => {
            ctx.error(format_args!("backend's {path} = {text}: {e}"));
            None
        }
    }
}
