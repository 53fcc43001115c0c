//! The client's request/reply machinery: sending (with ring-space waits
//! and the notify policy), waiting with deadlines, reading and routing
//! replies and watch events, and resynchronising after a broken stream.

use super::{evtchn, timer, Client, Reply, RingState, SharedPage, Timeout, XsErr, EVENTS};
use crate::time::now_ns;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use xp_core::xs::{
    read_available, reply, write_request, Fault, Header, MsgType, NotifyPolicy, Part, ReadError,
    Request, Route, RouteError, XsError,
};

impl Client {
    /// The real page (server_features, connection, indexes).
    pub fn page(&self) -> &SharedPage {
        self.ring.inner()
    }

    pub fn ring_state(&self) -> RingState {
        use xp_core::xs::RingPage;
        let p = self.ring.inner();
        RingState {
            req_cons: p.req_cons(),
            req_prod: p.req_prod(),
            rsp_cons: p.rsp_cons(),
            rsp_prod: p.rsp_prod(),
        }
    }

    /// Reply bytes the daemon published that we have not consumed (validated indexes).
    pub fn replies_waiting(&self) -> Result<usize, xp_core::xs::RingError> {
        xp_core::xs::ring::rsp_available(self.ring.inner())
    }

    pub fn policy(&self) -> NotifyPolicy {
        self.policy
    }

    /// Use `p` from now on (a pending delayed notify of the old policy is sent now).
    pub fn set_policy(&mut self, p: NotifyPolicy) {
        if self.policy.deadline().is_some() {
            self.notify();
        }
        self.policy = p;
    }

    /// The error that broke the client, if it is broken.
    pub fn broken(&self) -> Option<XsErr> {
        self.broken
    }

    /// Signal the store port.
    pub fn notify(&mut self) {
        self.counters.notifies += 1;
        let _ = evtchn::send(self.port);
    }

    /// Make the client's view of the ring misbehave (see xp_core::xs::fault).
    pub fn inject(&mut self, f: Fault) {
        self.ring.arm(f);
    }

    /// Sends a typed request; returns its req_id. Nothing is sent if it is refused.
    pub fn send(&mut self, req: &Request<'_>, tx: u32) -> Result<u32, XsErr> {
        self.check()?;
        let req_id = self.start(req.msg_type(), tx)?;
        match req.encode(req_id, tx, &mut self.tx_buf[..]) {
            Ok(n) => self.push(req_id, n),
            Err(e) => Err(self.fail_start(req_id, e.into())),
        }
    }

    /// Sends a request built from raw parts (any type, any payload: for probing the daemon).
    pub fn send_raw(&mut self, ty: MsgType, tx: u32, parts: &[Part<'_>]) -> Result<u32, XsErr> {
        self.check()?;
        let req_id = self.start(ty, tx)?;
        match xp_core::xs::encode(ty, req_id, tx, parts, &mut self.tx_buf[..]) {
            Ok(n) => self.push(req_id, n),
            Err(e) => Err(self.fail_start(req_id, e.into())),
        }
    }

    fn check(&self) -> Result<(), XsErr> {
        self.broken.map_or(Ok(()), Err)
    }

    fn start(&mut self, ty: MsgType, tx: u32) -> Result<u32, XsErr> {
        let id = self
            .pending
            .start(ty, tx, now_ns())
            .map_err(|f| XsErr::TableFull {
                capacity: f.capacity,
            })?;
        log::trace!("xenstore: -> {} req_id {id} tx {tx}", type_name(ty));
        Ok(id)
    }

    fn fail_start(&mut self, req_id: u32, e: XsErr) -> XsErr {
        self.pending.cancel(req_id);
        e
    }

    /// Writes the encoded request (`tx_buf[..n]`), waiting for ring space, notifying as
    /// the policy says. A request cut in half breaks the stream, so that breaks the client.
    fn push(&mut self, req_id: u32, n: usize) -> Result<u32, XsErr> {
        let deadline = now_ns().saturating_add(self.timeout_ns);
        let mut sent = 0;
        while sent < n {
            let k = match write_request(&self.ring, &self.tx_buf[sent..n]) {
                Ok(k) => k,
                Err(e) => return Err(self.break_with(req_id, XsErr::Stream(ReadError::Ring(e)))),
            };
            sent += k;
            if self.policy.after_produce(now_ns(), k) {
                self.notify();
            }
            if sent < n
                && !self.wait_for(deadline, |c| {
                    xp_core::xs::ring::req_space(&c.ring).map_or(true, |s| s > 0)
                })
            {
                let t = self.timeout(req_id, deadline);
                return Err(self.break_with(req_id, t));
            }
        }
        self.counters.requests += 1;
        Ok(req_id)
    }

    fn break_with(&mut self, req_id: u32, e: XsErr) -> XsErr {
        self.pending.cancel(req_id);
        *self.broken.get_or_insert(e)
    }

    /// Whether the reply to `req_id` (or its error) has arrived and waits to be taken.
    pub fn has_reply(&self, req_id: u32) -> bool {
        self.replies.iter().any(|(id, _)| *id == req_id)
    }

    /// Bytes of a reply that has started to arrive but is not complete.
    pub fn partial_reply(&self) -> usize {
        self.rx.partial_len()
    }

    /// Waits for the reply to `req_id` until `deadline`; ERROR replies are returned as
    /// replies here (see [`Client::call`]).
    pub fn wait(&mut self, req_id: u32, deadline: u64) -> Result<Reply, XsErr> {
        self.wait_for(deadline, |c| c.has_reply(req_id));
        if let Some(i) = self.replies.iter().position(|(id, _)| *id == req_id) {
            return self.replies.swap_remove(i).1;
        }
        if let Some(e) = self.broken {
            self.pending.cancel(req_id);
            return Err(e);
        }
        let t = self.timeout(req_id, deadline);
        self.pending.cancel(req_id);
        self.abandon(req_id);
        Err(t)
    }

    fn timeout(&self, req_id: u32, deadline: u64) -> XsErr {
        let req = self.pending.get(req_id);
        let s = self.ring_state();
        XsErr::Timeout(Timeout {
            op: req.map_or(MsgType::INVALID, |r| r.ty),
            req_id,
            waited_ns: req.map_or(0, |r| deadline.saturating_sub(r.tag)),
            unconsumed: s.req_prod.wrapping_sub(s.req_cons),
            partial: match self.rx.finish() {
                Err(ReadError::Truncated { have, need }) => Some((have, need)),
                _ => None,
            },
        })
    }

    fn abandon(&mut self, req_id: u32) {
        self.abandoned[self.abandoned_next] = req_id;
        self.abandoned_next = (self.abandoned_next + 1) % self.abandoned.len();
    }

    /// Sends `req` and waits for its reply; an ERROR reply is `Err(XsErr::Daemon)`.
    pub fn call(&mut self, req: &Request<'_>, tx: u32) -> Result<Reply, XsErr> {
        let id = self.send(req, tx)?;
        self.finish(id)
    }

    /// Waits for `req_id` with the client's timeout and turns an ERROR reply into an error.
    pub fn finish(&mut self, req_id: u32) -> Result<Reply, XsErr> {
        let sent = self.pending.get(req_id).map_or(now_ns(), |r| r.tag);
        let r = self.wait(req_id, sent.saturating_add(self.timeout_ns))?;
        if r.ty == MsgType::ERROR {
            return Err(XsErr::Daemon(XsError::from_payload(&r.payload)));
        }
        Ok(r)
    }

    /// Services the ring until `cond` holds, the deadline passes or the client breaks.
    /// Blocks between checks until a store event or the policy's delayed-notify deadline.
    pub fn wait_for(&mut self, deadline: u64, mut cond: impl FnMut(&mut Self) -> bool) -> bool {
        loop {
            self.pump();
            if cond(self) {
                return true;
            }
            let now = now_ns();
            if self.broken.is_some() || now >= deadline {
                return false;
            }
            let wake = self
                .policy
                .deadline()
                .map_or(deadline, |d| d.clamp(now, deadline));
            // Events are masked outside block(): one raised after the pump above is pending
            // and makes the first SCHEDOP_block return at once.
            let seen = EVENTS.load(Ordering::Acquire);
            timer::wait_until(wake, || EVENTS.load(Ordering::Acquire) != seen);
        }
    }

    /// Sends a due delayed notify, reads every complete message off the ring and routes
    /// it, then notifies for the consumed bytes if the policy says so.
    pub fn pump(&mut self) {
        if self.policy.poll(now_ns()) {
            self.notify();
        }
        if self.broken.is_some() {
            return;
        }
        let before = self.ring_state().rsp_cons;
        loop {
            let (h, payload) = match self.rx.fill_from(&self.ring) {
                Ok(Some(m)) => (m.header, m.payload.to_vec()),
                Ok(None) => break,
                Err(e) => {
                    self.broken = Some(XsErr::Stream(e));
                    break;
                }
            };
            self.dispatch(h, payload);
        }
        let consumed = self.ring_state().rsp_cons.wrapping_sub(before) as usize;
        if self.policy.after_consume(consumed) {
            self.notify();
        }
    }

    fn dispatch(&mut self, h: Header, payload: Vec<u8>) {
        let at_ns = now_ns();
        log::trace!(
            "xenstore: <- {} req_id {} tx {} ({} bytes)",
            type_name(h.ty),
            h.req_id,
            h.tx_id,
            payload.len()
        );
        match self.pending.route(&h) {
            Ok(Route::Reply(req) | Route::Error(req)) => {
                self.counters.replies += 1;
                self.replies
                    .push((req.req_id, Ok(Reply { ty: h.ty, payload })));
            }
            Ok(Route::WatchEvent) => match reply::watch_event(&payload) {
                Ok(ev) => self.watches.deliver(ev.path, ev.token, at_ns),
                Err(err) => {
                    self.broken = Some(XsErr::Decode {
                        op: MsgType::WATCH_EVENT,
                        err,
                    })
                }
            },
            Err(RouteError::UnknownReqId { req_id, .. })
                if self.abandoned.contains(&req_id) && req_id != 0 =>
            {
                self.counters.late_replies += 1;
                self.abandoned
                    .iter_mut()
                    .filter(|a| **a == req_id)
                    .for_each(|a| *a = 0);
            }
            Err(
                e @ (RouteError::UnknownType { request, .. }
                | RouteError::TypeMismatch { request, .. }),
            ) => {
                self.replies.push((request.req_id, Err(XsErr::Route(e))));
            }
            Err(e) => self.broken = Some(XsErr::Route(e)),
        }
    }

    /// Recovers from a broken stream: forgets requests in flight (their late replies are
    /// dropped), lets the daemon finish writing, discards whatever is in the reply ring and
    /// restarts reassembly at the next message. Returns the bytes discarded.
    pub fn resync(&mut self) -> usize {
        self.ring.disarm();
        let ids: Vec<u32> = self.pending.iter().map(|r| r.req_id).collect();
        ids.into_iter().for_each(|id| self.abandon(id));
        self.pending.clear();
        self.replies.clear();
        timer::wait_until(now_ns() + 50_000_000, || false);
        let mut drained = 0;
        let mut buf = [0u8; 256];
        while let Ok(n @ 1..) = read_available(self.ring.inner(), &mut buf) {
            drained += n;
        }
        self.rx.reset();
        self.broken = None;
        self.notify();
        drained
    }
}

/// xs_wire.h's name of a message type, or its number.
fn type_name(ty: MsgType) -> alloc::borrow::Cow<'static, str> {
    ty.name()
        .map_or_else(|| alloc::format!("type {}", ty.0).into(), Into::into)
}
