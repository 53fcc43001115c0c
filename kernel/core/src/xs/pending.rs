//! The in-flight request table. docs/misc/xenstore.txt: "A caller who sends
//! several requests may receive the replies in any order and must use
//! req_id ... to match up replies to requests." A reply carries the
//! request's type, or ERROR. WATCH_EVENT messages are unsolicited, with
//! req_id and tx_id 0, and are routed apart from replies.
//!
//! req_ids are allocated here, never 0 (the watch-event id), never one
//! still in flight, wrapping after `u32::MAX`.

use super::wire::{Header, MsgType};

/// A request waiting for its reply.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct InFlight {
    pub req_id: u32,
    /// The request's type; the reply should have it too (or ERROR).
    pub ty: MsgType,
    /// The request's transaction id.
    pub tx_id: u32,
    /// Caller data kept with the request (e.g. the send time).
    pub tag: u64,
}

/// Where a received message belongs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    /// The reply to this request, of the request's type.
    Reply(InFlight),
    /// An ERROR reply to this request.
    Error(InFlight),
    /// A watch event (req_id and tx_id 0).
    WatchEvent,
}

/// A received message that does not fit the table. When `request` is given,
/// the message did match that request, which is no longer in flight.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RouteError {
    /// No request with this req_id is in flight.
    UnknownReqId { req_id: u32, ty: MsgType },
    /// A reply whose type value is not defined.
    UnknownType { ty: u32, request: InFlight },
    /// A reply of a defined type other than the request's or ERROR.
    TypeMismatch { got: MsgType, request: InFlight },
    /// A WATCH_EVENT whose req_id or tx_id is not 0.
    WatchEventIds { req_id: u32, tx_id: u32 },
}

/// The table is full.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TableFull {
    pub capacity: usize,
}

/// Up to `N` requests in flight.
#[derive(Clone, Debug)]
pub struct Pending<const N: usize> {
    slots: [Option<InFlight>; N],
    next_id: u32,
}

impl<const N: usize> Default for Pending<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Pending<N> {
    pub const fn new() -> Self {
        Self {
            slots: [None; N],
            next_id: 1,
        }
    }

    /// Starts a request; returns the req_id to put in its header.
    pub fn start(&mut self, ty: MsgType, tx_id: u32, tag: u64) -> Result<u32, TableFull> {
        let free = self.slots.iter().position(Option::is_none);
        let slot = free.ok_or(TableFull { capacity: N })?;
        let req_id = self.fresh_id();
        self.slots[slot] = Some(InFlight {
            req_id,
            ty,
            tx_id,
            tag,
        });
        Ok(req_id)
    }

    /// The next id that is neither 0 nor in flight. There are at most N-1
    /// in flight when called, so this ends within N tries.
    fn fresh_id(&mut self) -> u32 {
        loop {
            let id = self.next_id;
            self.next_id = id.wrapping_add(1);
            if id != 0 && self.get(id).is_none() {
                return id;
            }
        }
    }

    /// Matches a received header. A message with a known req_id completes
    /// that request whatever else is wrong with it.
    pub fn route(&mut self, h: &Header) -> Result<Route, RouteError> {
        if h.ty == MsgType::WATCH_EVENT {
            return match (h.req_id, h.tx_id) {
                (0, 0) => Ok(Route::WatchEvent),
                (req_id, tx_id) => Err(RouteError::WatchEventIds { req_id, tx_id }),
            };
        }
        let request = self.cancel(h.req_id).ok_or(RouteError::UnknownReqId {
            req_id: h.req_id,
            ty: h.ty,
        })?;
        match h.ty {
            ty if ty == MsgType::ERROR => Ok(Route::Error(request)),
            ty if ty == request.ty => Ok(Route::Reply(request)),
            ty if !ty.is_known() => Err(RouteError::UnknownType { ty: ty.0, request }),
            got => Err(RouteError::TypeMismatch { got, request }),
        }
    }

    /// Removes a request (e.g. on timeout) and returns it.
    pub fn cancel(&mut self, req_id: u32) -> Option<InFlight> {
        let slot = self
            .slots
            .iter_mut()
            .find(|s| s.is_some_and(|r| r.req_id == req_id))?;
        slot.take()
    }

    /// The request with this req_id, if in flight.
    pub fn get(&self, req_id: u32) -> Option<&InFlight> {
        self.iter().find(|r| r.req_id == req_id)
    }

    /// All requests in flight, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &InFlight> {
        self.slots.iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub const fn capacity(&self) -> usize {
        N
    }

    /// Forgets every request (e.g. after a ring reconnection).
    pub fn clear(&mut self) {
        self.slots = [None; N];
    }
}

#[cfg(test)]
#[path = "pending_tests.rs"]
mod tests;
