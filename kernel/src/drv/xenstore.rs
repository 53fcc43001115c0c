//! The xenstore client: the domain's store ring (start_info.store_mfn /
//! store_evtchn) driven through xp_core::xs.
//!
//! Many requests may be in flight; replies are matched by req_id whatever
//! their order, WATCH_EVENTs go to the watcher that registered the token.
//! Every wait has a deadline (`timeout_ns`, default 5 s): a request not
//! answered in time is an [`XsErr::Timeout`] naming it, and its late reply,
//! if it ever comes, is dropped. A daemon that breaks the protocol (indexes
//! out of range, a length over 4096, a reply nobody asked for, an unknown
//! type) makes the client *broken*: every call fails with that error until
//! [`Client::resync`]. Notification after producing requests and after
//! consuming replies follows a [`NotifyPolicy`] (the spec's by default).
//!
//! The store port's handler only counts events ([`EVENTS`]); the ring is
//! read by whoever waits, with events masked outside `evtchn::block`.

mod client;
mod error;
mod ops;
mod page;
mod watch;

pub use error::{ErrName, Timeout, XsErr};
pub use page::SharedPage;
pub use watch::{Event, Watches};

use super::{evtchn, timer};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};
use spin::Mutex;
use xp_core::xen::start_info::StartInfo;
use xp_core::xs::{FaultyRing, MsgType, NotifyPolicy, Pending, Reassembler, MSG_MAX};

/// Requests in flight at most (C xenstored throttles a domain at 20 outstanding).
pub const MAX_IN_FLIGHT: usize = 32;
/// Default deadline of one request.
pub const DEFAULT_TIMEOUT_NS: u64 = 5_000_000_000;

/// Events received on the store port.
pub static EVENTS: AtomicU64 = AtomicU64::new(0);

static CLIENT: Mutex<Option<Client>> = Mutex::new(None);

fn on_event(_port: u32) {
    EVENTS.fetch_add(1, Ordering::AcqRel);
}

/// A reply as it arrived (the request's type, or ERROR), before interpretation.
#[derive(Debug)]
pub struct Reply {
    pub ty: MsgType,
    pub payload: Vec<u8>,
}

/// Counters for reports.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    pub requests: u64,
    pub replies: u64,
    pub notifies: u64,
    /// Replies to requests that had already timed out (dropped).
    pub late_replies: u64,
}

/// The four ring indexes as they really are (not through a fault view).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingState {
    pub req_cons: u32,
    pub req_prod: u32,
    pub rsp_cons: u32,
    pub rsp_prod: u32,
}

/// The client of our domain's ring.
pub struct Client {
    ring: FaultyRing<SharedPage>,
    port: u32,
    pending: Pending<MAX_IN_FLIGHT>,
    rx: Reassembler<'static>,
    tx_buf: Box<[u8; MSG_MAX]>,
    replies: Vec<(u32, Result<Reply, XsErr>)>,
    pub watches: Watches,
    policy: NotifyPolicy,
    broken: Option<XsErr>,
    abandoned: [u32; 32],
    abandoned_next: usize,
    pub counters: Counters,
    /// Deadline of one request, from when it is sent.
    pub timeout_ns: u64,
}

/// Why the client could not be set up.
#[derive(Clone, Copy, Debug)]
pub enum InitError {
    Dom0,
    NotMapped { mfn: u64 },
    Bind(crate::xen::XenError),
}

impl core::fmt::Display for InitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            InitError::Dom0 => f.write_str("dom0 has no xenstore ring (xenstored runs above it)"),
            InitError::NotMapped { mfn } => write!(
                f,
                "store page (mfn {mfn:#x}) is not in the bootstrap mapping"
            ),
            InitError::Bind(e) => write!(f, "store event channel: {e}"),
        }
    }
}

/// Map the store page, bind its port and create the client.
pub fn init(si: &StartInfo) -> Result<(), InitError> {
    if si.is_dom0() {
        return Err(InitError::Dom0);
    }
    let page = crate::mm::builder_page(si, si.store_mfn)
        .map(xp_core::xs::StorePage)
        .ok_or(InitError::NotMapped { mfn: si.store_mfn })?;
    let rx_buf: &'static mut [u8; MSG_MAX] = Box::leak(Box::new([0u8; MSG_MAX]));
    *CLIENT.lock() = Some(Client {
        ring: FaultyRing::new(page),
        port: si.store_evtchn,
        pending: Pending::new(),
        rx: Reassembler::new(rx_buf),
        tx_buf: Box::new([0u8; MSG_MAX]),
        replies: Vec::new(),
        watches: Watches::default(),
        policy: NotifyPolicy::SPEC,
        broken: None,
        abandoned: [0; 32],
        abandoned_next: 0,
        counters: Counters::default(),
        timeout_ns: DEFAULT_TIMEOUT_NS,
    });
    evtchn::bind(si.store_evtchn, on_event).map_err(InitError::Bind)?;
    log::debug!(
        "xenstore: ring page mfn {:#x}, event channel {}",
        si.store_mfn,
        si.store_evtchn
    );
    Ok(())
}

/// Run `f` with the client, or [`XsErr::Unavailable`] without one.
pub fn with<R>(f: impl FnOnce(&mut Client) -> R) -> Result<R, XsErr> {
    CLIENT.lock().as_mut().map(f).ok_or(XsErr::Unavailable)
}

/// Whether a client exists (domU with a store ring).
pub fn available() -> bool {
    CLIENT.lock().is_some()
}

/// What a domU learns from xenstore at boot: its domid (the relative node "domid" that
/// the toolstack writes) and its home path (GET_DOMAIN_PATH).
pub fn learn_home() -> Result<(u16, alloc::string::String), XsErr> {
    with(|c| {
        let raw = c.read(0, b"domid")?;
        let bad = XsErr::Unexpected("\"domid\" is not a domain id");
        let domid = core::str::from_utf8(&raw)
            .ok()
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or(bad)?;
        let home = c.get_domain_path(domid)?;
        Ok((
            domid,
            alloc::string::String::from_utf8_lossy(&home).into_owned(),
        ))
    })?
}
