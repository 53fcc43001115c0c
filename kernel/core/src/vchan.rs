//! The libxenvchan protocol (xen/include/public/io/libxenvchan.h), server side.
//!
//! The shared page starts with `struct vchan_interface`:
//! `left {cons, prod}` (client writes, server reads), `right {cons, prod}`
//! (server writes, client reads), `left_order`, `right_order` (u16: 10 =
//! ring at offset 1024 of this page, 11 = at 2048, >= 12 = separate granted
//! pages), `cli_live`, `srv_live` (0 gone, 1 connected, 2 not yet), and the
//! notify flags `cli_notify`, `srv_notify`: `X_notify` holds the bits X must
//! act on (the peer sets them to ask for an event: WRITE = tell me when data
//! was written, READ = tell me when space was freed). Indexes are free-running
//! `u32`s; the peer's are untrusted.

use crate::ring::{self, ByteRing, RingError};
use crate::shmem::SharedMem;

pub const LEFT_CONS: usize = 0;
pub const LEFT_PROD: usize = 4;
pub const RIGHT_CONS: usize = 8;
pub const RIGHT_PROD: usize = 12;
pub const LEFT_ORDER: usize = 16;
pub const RIGHT_ORDER: usize = 18;
pub const CLI_LIVE: usize = 20;
pub const SRV_LIVE: usize = 21;
pub const CLI_NOTIFY: usize = 22;
pub const SRV_NOTIFY: usize = 23;
pub const GRANTS: usize = 24;

pub const NOTIFY_WRITE: u8 = 1;
pub const NOTIFY_READ: u8 = 2;
pub const LIVE_GONE: u8 = 0;
pub const LIVE_CONNECTED: u8 = 1;
pub const LIVE_WAITING: u8 = 2;

/// The layout xenprobe serves: both rings inside the shared page
/// (left: order 10 at 1024, right: order 11 at 2048).
pub const LEFT_ORDER_INLINE: u16 = 10;
pub const RIGHT_ORDER_INLINE: u16 = 11;

/// The server's own indexes, kept privately: the client maps the page writable, so
/// what the page says about *our* indexes is never read back. Only the client's
/// `left.prod` and `right.cons` are read, and validated against the ring sizes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Server {
    pub left_cons: u32,
    pub right_prod: u32,
}

/// The client's ring (client -> server) and ours (server -> client), inline in the page.
const LEFT: ByteRing = ByteRing {
    name: "vchan left",
    base: 1024,
    size: 1 << LEFT_ORDER_INLINE,
};
const RIGHT: ByteRing = ByteRing {
    name: "vchan right",
    base: 2048,
    size: 1 << RIGHT_ORDER_INLINE,
};

impl Server {
    /// Bytes the client wrote that we have not read (left ring), validated.
    pub fn readable(&self, p: &impl SharedMem) -> Result<u32, RingError> {
        ring::used(p.load32(LEFT_PROD), self.left_cons, LEFT.size).map_err(|e| e.named(LEFT.name))
    }

    /// Copy up to `out.len()` readable bytes out and publish the new `left.cons` (Release:
    /// after the data reads); returns how many.
    pub fn read(&mut self, p: &impl SharedMem, out: &mut [u8]) -> Result<usize, RingError> {
        let n = LEFT.get(p, p.load32(LEFT_PROD), self.left_cons, out)?;
        self.left_cons = self.left_cons.wrapping_add(n as u32);
        p.store32(LEFT_CONS, self.left_cons);
        Ok(n)
    }

    /// Free bytes in the right ring (what we may write), validated.
    pub fn writable(&self, p: &impl SharedMem) -> Result<u32, RingError> {
        ring::free(self.right_prod, p.load32(RIGHT_CONS), RIGHT.size)
            .map_err(|e| e.named(RIGHT.name))
    }

    /// Copy in as much of `data` as fits and publish the new `right.prod` (Release: after
    /// the data); returns how many.
    pub fn write(&mut self, p: &impl SharedMem, data: &[u8]) -> Result<usize, RingError> {
        let n = RIGHT.put(p, self.right_prod, p.load32(RIGHT_CONS), data)?;
        self.right_prod = self.right_prod.wrapping_add(n as u32);
        p.store32(RIGHT_PROD, self.right_prod);
        Ok(n)
    }
}

/// The client's liveness byte: LIVE_WAITING until it connects, LIVE_CONNECTED, then
/// LIVE_GONE (written by libxenvchan_close, or by gntdev's unmap notification).
pub fn client_live(p: &impl SharedMem) -> u8 {
    p.load8(CLI_LIVE)
}

/// Ask the client to notify us on its next write (`bit` = NOTIFY_WRITE) or read.
/// The server's requests live in `cli_notify`, which the client acts on.
pub fn request_notify(p: &impl SharedMem, bit: u8) {
    p.or8(CLI_NOTIFY, bit);
    p.fence();
}

/// After we wrote (`NOTIFY_WRITE`) or read (`NOTIFY_READ`): true when the client asked
/// for that event, in which case its request is consumed and we must send an event.
pub fn take_notify(p: &impl SharedMem, bit: u8) -> bool {
    p.fence();
    p.fetch_and8(SRV_NOTIFY, !bit) & bit != 0
}

/// Initialise a fresh interface page for a server with inline rings.
pub fn init_server(p: &impl SharedMem) {
    for off in [LEFT_CONS, LEFT_PROD, RIGHT_CONS, RIGHT_PROD] {
        p.store32(off, 0);
    }
    p.store32(
        LEFT_ORDER,
        u32::from(LEFT_ORDER_INLINE) | u32::from(RIGHT_ORDER_INLINE) << 16,
    );
    p.store8(CLI_NOTIFY, NOTIFY_WRITE);
    p.store8(SRV_NOTIFY, 0);
    p.store8(SRV_LIVE, LIVE_CONNECTED);
    p.store8(CLI_LIVE, LIVE_WAITING);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shmem::fake::CellPage;

    type Page = CellPage;

    #[test]
    fn init_layout_matches_libxenvchan() {
        let p = Page::default();
        init_server(&p);
        assert_eq!(p.load8(LEFT_ORDER), 10);
        assert_eq!(p.load8(RIGHT_ORDER), 11);
        assert_eq!(
            (p.load8(SRV_LIVE), p.load8(CLI_LIVE)),
            (LIVE_CONNECTED, LIVE_WAITING)
        );
    }

    #[test]
    fn indexes_are_validated() {
        let p = Page::default();
        init_server(&p);
        let mut s = Server::default();
        p.write(1024, b"hello");
        p.store32(LEFT_PROD, 5);
        assert_eq!(s.readable(&p), Ok(5));
        let mut out = [0u8; 3];
        assert_eq!(s.read(&p, &mut out), Ok(3));
        assert_eq!(&out, b"hel");
        assert_eq!(p.load32(LEFT_CONS), 3);
        p.store32(LEFT_PROD, 5000); // more than the 1024-byte ring holds
        let e = s.read(&p, &mut out).unwrap_err();
        assert_eq!((e.what, e.prod, e.cons), ("vchan left", 5000, 3));
        assert_eq!(p.load32(LEFT_CONS), 3, "nothing consumed");
        p.store32(RIGHT_CONS, 7); // client claims to have read what we never wrote
        assert!(s.writable(&p).is_err());
        assert!(s.write(&p, b"x").is_err());
        p.store32(RIGHT_CONS, 0);
        assert_eq!(s.writable(&p), Ok(2048));
    }

    #[test]
    fn data_wraps() {
        let p = Page::default();
        let mut s = Server {
            left_cons: 1020,
            right_prod: 2040,
        };
        p.write(1024 + 1020, b"abcd");
        p.write(1024, b"efghij");
        p.store32(LEFT_PROD, 1030);
        let mut out = [0u8; 100];
        assert_eq!(s.read(&p, &mut out), Ok(10));
        assert_eq!(&out[..10], b"abcdefghij");
        p.store32(RIGHT_CONS, 2040);
        assert_eq!(s.write(&p, &[9; 20]), Ok(20));
        assert_eq!((p.load8(2048 + 2047), p.load8(2048 + 11)), (9, 9));
        assert_eq!(p.load32(RIGHT_PROD), 2060);
    }

    #[test]
    fn notify_flags() {
        let p = Page::default();
        init_server(&p);
        assert!(!take_notify(&p, NOTIFY_WRITE)); // client did not ask
        p.or8(SRV_NOTIFY, NOTIFY_WRITE); // client asks to hear about writes
        assert!(take_notify(&p, NOTIFY_WRITE));
        assert!(!take_notify(&p, NOTIFY_WRITE)); // consumed
        request_notify(&p, NOTIFY_READ);
        assert_eq!(p.load8(CLI_NOTIFY), NOTIFY_WRITE | NOTIFY_READ);
    }
}
