//! A libxenvchan server (io/libxenvchan.h; libxenvchan's init.c and io.c):
//! one page granted to the client with both rings inside it (left: order 10 at
//! 1024, client -> server; right: order 11 at 2048, server -> client), and an
//! unbound event channel for the client to bind. The client's indexes are
//! validated by xp_core::vchan::Server; ours are kept privately. Notification
//! follows libxenvchan: before sleeping we set a bit in `cli_notify` and re-check,
//! after reading or writing we send an event only if the client's bit in
//! `srv_notify` asked for it (and clear it).

use super::ring::{Doorbell, GrantedPage, SharedPage};
use super::{evtchn, gnttab, timer};
use crate::shmem::SharedMem;
use crate::time::now_ns;
use xp_core::ring::RingError;
use xp_core::vchan::{self, Server, NOTIFY_READ, NOTIFY_WRITE};

pub struct VchanServer {
    page: GrantedPage,
    pub bell: Doorbell,
    s: Server,
    /// Bytes moved each way, events sent and received.
    pub read_bytes: u64,
    pub written_bytes: u64,
}

impl VchanServer {
    /// Grant a fresh interface page and an unbound port to `client`, rings inline.
    pub fn new(client: u16) -> Result<Self, alloc::string::String> {
        let page = GrantedPage::new(client, false).map_err(|e| alloc::format!("grant: {e}"))?;
        vchan::init_server(&page.page());
        let port = evtchn::alloc_unbound(client).map_err(|e| alloc::format!("{e}"))?;
        let bell = Doorbell::bind(port).map_err(|e| alloc::format!("{e}"))?;
        log::debug!(
            "vchan: interface page granted to domain {client} as ref {}, event channel {port}",
            page.gref.0
        );
        Ok(VchanServer {
            page,
            bell,
            s: Server::default(),
            read_bytes: 0,
            written_bytes: 0,
        })
    }

    pub fn gref(&self) -> u32 {
        self.page.gref.0
    }

    fn p(&self) -> SharedPage<'_> {
        self.page.page()
    }

    /// The client's liveness byte (LIVE_WAITING, LIVE_CONNECTED, LIVE_GONE).
    pub fn client_live(&self) -> u8 {
        vchan::client_live(&self.p())
    }

    /// Sleep until an event or `deadline`; `bit` says what we wait for (NOTIFY_WRITE: data,
    /// NOTIFY_READ: space), asked of the client first. False on timeout.
    pub fn wait(&self, bit: u8, deadline: u64, ready: impl Fn(&Self) -> bool) -> bool {
        let seen = self.bell.kicks();
        vchan::request_notify(&self.p(), bit);
        if ready(self) {
            return true;
        }
        timer::wait_until(deadline, || self.bell.kicks() != seen)
    }

    /// Bytes the client has written that we have not read.
    pub fn readable(&self) -> Result<u32, RingError> {
        self.s.readable(&self.p())
    }

    /// Free space for our writes.
    pub fn writable(&self) -> Result<u32, RingError> {
        self.s.writable(&self.p())
    }

    /// Copy out what is readable (up to `buf.len()`), then tell the client if it asked.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, RingError> {
        let page = self.page.page();
        // Release (in Server::read): our reads of the data happen before the index moves.
        let n = self.s.read(&page, buf)?;
        self.read_bytes += n as u64;
        if n > 0 && vchan::take_notify(&page, NOTIFY_READ) {
            self.bell.ring();
        }
        Ok(n)
    }

    /// Copy in as much of `data` as fits, publish it, and tell the client if it asked.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, RingError> {
        let page = self.page.page();
        let n = self.s.write(&page, data)?;
        self.written_bytes += n as u64;
        if n > 0 && vchan::take_notify(&page, NOTIFY_WRITE) {
            self.bell.ring();
        }
        Ok(n)
    }

    /// Say we are gone (srv_live = 0, event), close the port, and end the grant once
    /// the client has unmapped it (waiting up to `wait_ns`). Err: still mapped (the page
    /// is then leaked, never reused).
    pub fn close(mut self, wait_ns: u64) -> Result<(), gnttab::GntError> {
        self.p().store8(vchan::SRV_LIVE, vchan::LIVE_GONE);
        self.bell.ring();
        let deadline = now_ns() + wait_ns;
        let mut res = self.page.end();
        while matches!(res, Err(gnttab::GntError::InUse { .. })) && now_ns() < deadline {
            timer::wait_until(now_ns() + 10_000_000, || false);
            res = self.page.end();
        }
        evtchn::unbind(self.bell.port);
        let _ = evtchn::close(self.bell.port);
        res
    }
}
