//! The xenstore client core: wire codec, ring transport, reply reassembly
//! and request matching. Pure, `no_std`, no allocation: every buffer is the
//! caller's. The kernel's xenstore driver supplies the shared page (through
//! [`RingPage`]), the event channel and the clock.
//!
//! Spec texts, and where each is followed:
//! - xen/include/public/io/xs_wire.h: `struct xsd_sockmsg` ([`Header`]),
//!   `enum xsd_sockmsg_type` ([`MsgType`]), `xsd_errors` ([`XsError`]),
//!   `XENSTORE_PAYLOAD_MAX` and the path limits ([`wire`]),
//!   `struct xenstore_domain_interface` and `MASK_XENSTORE_IDX` ([`ring`]).
//! - docs/misc/xenstore.txt:
//!   - the introduction (path syntax and limits) -> [`path`];
//!   - "payload length ... is limited to 4096" -> [`encode`] refuses it,
//!     [`Header::decode`] and [`Reassembler`] report it;
//!   - "replies in any order and must use req_id" -> [`Pending`];
//!   - "Error replies" -> [`XsError`];
//!   - "Xenstore protocol details" (each request's payload) -> [`request`],
//!     (each reply's payload) -> [`reply`]; permissions -> [`perm`];
//!   - "WATCH_EVENT ... req_id and tx_id are both 0" -> [`Route::WatchEvent`].
//! - docs/misc/xenstore-ring.txt: free-running indexes, "must take care to
//!   handle wraparound", "must not assume that producer or consumer
//!   pointers start at zero" -> [`ring`]; "Whenever the ring structure is
//!   updated the event channel must be signalled" -> [`NotifyPolicy`] (which
//!   can also break that rule on purpose).
//! - A misbehaving daemon, simulated: [`FaultyRing`] changes the client's
//!   view of the ring so each kind of broken peer can be shown to end in an
//!   error.
//! - Telling C xenstored and oxenstored apart by their answers: [`fingerprint`].
//!
//! A client round trip: [`Pending::start`] for a req_id, [`Request::encode`]
//! into a buffer, [`write_request`] (repeat while partial) and notify as the
//! policy says; on the event, [`Reassembler::fill_from`] until a
//! [`Message`] is complete, [`Pending::route`] its header, then decode its
//! payload with [`reply`] or [`XsError::from_payload`].

mod display;
pub mod error;
pub mod fault;
pub mod fingerprint;
pub mod notify;
pub mod path;
pub mod pending;
pub mod perm;
pub mod reader;
pub mod reply;
pub mod request;
pub mod ring;
pub mod wire;

pub use display::{Nth, Perms};
pub use error::{UnknownError, XsError};
pub use fault::{Fault, FaultyRing};
pub use notify::{NotifyPolicy, ProducerMode};
pub use path::{validate_path, validate_watch_path, PathError};
pub use pending::{InFlight, Pending, Route, RouteError, TableFull};
pub use perm::{Perm, PermKind};
pub use reader::{ReadError, Reassembler};
pub use reply::{DirPart, NulList, PermList, WatchEvent};
pub use request::Request;
pub use ring::{
    mask_xenstore_idx, read_available, write_request, RingError, RingPage, StorePage, REQ, RSP,
    XENSTORE_RING_SIZE,
};
pub use wire::{
    encode, DecodeError, EncodeError, Header, Message, MsgType, Part, HEADER_LEN, MSG_MAX,
    XENSTORE_ABS_PATH_MAX, XENSTORE_PAYLOAD_MAX, XENSTORE_REL_PATH_MAX,
};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod testutil;
