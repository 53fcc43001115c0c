//! Probe `vchan`: libxenvchan interop, against a peer we did not write.
//!
//! We are a libxenvchan server (drv::vchan: libxenvchan's page layout, ring
//! orders, notify flags and event channel) and publish `ring-ref` and
//! `event-channel` under `<home>/data/vchan-<mode>` with libxenvchan's
//! permissions (owner us, others none, the client may read). A client such as
//! dom0's `vchan-socket-proxy <our domid> <path> -` connects:
//! - `echo`: we echo every byte until the client goes away (the lab's dom0
//!   script times its lines from its end);
//! - `ping`: we send patterned messages and time each until it is back in
//!   full (the client loops its output to its input), verifying every byte.

use super::ring::store::Store;
use super::{Ctx, RunFn};
use crate::drv::vchan::VchanServer;
use crate::time::now_ns;
use alloc::boxed::Box;
use alloc::format;
use xp_core::cmdline::{Dur, Num, Nums, Opt, ProbeSpec, Words};
use xp_core::hist::Histogram;
use xp_core::vchan::{LIVE_CONNECTED, LIVE_GONE, LIVE_WAITING, NOTIFY_READ, NOTIFY_WRITE};

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "vchan",
    about: "libxenvchan server: a client we did not write (dom0's vchan-socket-proxy) connects; echo and timed pings",
    options: &[MODES.spec, PEER.spec, MESSAGES.spec, SIZES.spec, TIMEOUT.spec],
    run,
};

const MODES: Opt<Words> = Opt::<Words>::new(
    "modes",
    &["echo", "ping"],
    "echo,ping",
    "sessions to serve, in order",
);
const PEER: Opt<Num> = Opt::<Num>::new("peer", 0, 0x7fef, 0, "the client's domid");
const MESSAGES: Opt<Num> = Opt::<Num>::new("messages", 1, 100_000, 100, "pings per size");
const SIZES: Opt<Nums> =
    Opt::<Nums>::new("sizes", (1, 1024), &[16, 256, 1000], "ping sizes in bytes");
const TIMEOUT: Opt<Dur> = Opt::<Dur>::new(
    "timeout",
    1_000_000_000,
    600_000_000_000,
    30_000_000_000,
    "how long a client may take to connect or to finish",
);

fn run(ctx: &mut Ctx<'_>) {
    let (domid, home) = match Store::home(ctx.env) {
        Ok(h) => h,
        Err(e) => return ctx.error(format_args!("vchan needs xenstore: {e}")),
    };
    let peer = ctx.opt(&PEER) as u16;
    for mode in ctx.opt(&MODES) {
        let path = format!("{home}/data/vchan-{mode}");
        if let Err(e) = session(ctx, mode, &path, domid, peer) {
            return ctx.error(e);
        }
    }
}

/// Publish a server at `path`, wait for the client, serve `mode`, tear down.
fn session(
    ctx: &mut Ctx<'_>,
    mode: &str,
    path: &str,
    domid: u16,
    peer: u16,
) -> Result<(), alloc::string::String> {
    let timeout = ctx.opt(&TIMEOUT);
    let mut srv = VchanServer::new(peer)?;
    let st = Store;
    publish(ctx, &srv, mode, path, domid, peer)?;
    serve(ctx, &mut srv, mode, timeout);
    let _ = st.rm(path);
    let closed = srv.close(5_000_000_000);
    let seen = match &closed {
        Ok(()) => alloc::string::String::from("grant ended"),
        Err(e) => format!("{e}"),
    };
    ctx.check(
        &format!("{mode}_client_released_grant"),
        closed.is_ok(),
        "the client unmapped our page (grant ended)",
        seen,
    );
    Ok(())
}

/// Write ring-ref and event-channel under `path`, readable by `peer`.
fn publish(
    ctx: &mut Ctx<'_>,
    srv: &VchanServer,
    mode: &str,
    path: &str,
    domid: u16,
    peer: u16,
) -> Result<(), alloc::string::String> {
    let st = Store;
    for (key, val) in [("ring-ref", srv.gref()), ("event-channel", srv.bell.port)] {
        let node = format!("{path}/{key}");
        st.write(&node, &format!("{val}"))?;
        st.perms(&node, domid, peer)?;
    }
    let (gref, port) = (srv.gref(), srv.bell.port);
    let what = format_args!("{path} ring-ref {gref} event-channel {port}");
    ctx.info(&format!("{mode}_server"), what);
    Ok(())
}

/// Wait for the client to connect, then run `mode` with it.
fn serve(ctx: &mut Ctx<'_>, srv: &mut VchanServer, mode: &str, timeout: u64) {
    let t = now_ns();
    let up = srv.wait(NOTIFY_WRITE, t + timeout, |s| {
        s.client_live() != LIVE_WAITING
    });
    let live = srv.client_live();
    if !ctx.check(
        &format!("{mode}_client_connects"),
        up && live == LIVE_CONNECTED,
        "cli_live = 1 (a libxenvchan client mapped our page and bound our port)",
        live,
    ) {
        return;
    }
    ctx.metric(
        &format!("{mode}_connect_ns"),
        now_ns() - t,
        "ns",
        "n=1: ring-ref published -> client's cli_live = 1 seen (pvclock; includes the client's start-up)",
    );
    let r = if mode == "echo" {
        echo(ctx, srv, timeout)
    } else {
        ping(ctx, srv, timeout)
    };
    if let Err(e) = r {
        ctx.check(
            "client_indexes_valid",
            false,
            "the client's indexes in range",
            e,
        );
    }
}

/// Echo until the client goes away.
fn echo(
    ctx: &mut Ctx<'_>,
    srv: &mut VchanServer,
    timeout: u64,
) -> Result<(), xp_core::ring::RingError> {
    let deadline = now_ns() + timeout;
    let mut buf = [0u8; 2048];
    let (mut chunks, mut service) = (0u64, Box::new(Histogram::default()));
    loop {
        let t = now_ns();
        let room = srv.writable()? as usize;
        let n = srv.read(&mut buf[..room])?;
        if n > 0 {
            let mut done = 0;
            while done < n {
                done += srv.write(&buf[done..n])?;
            }
            service.record(now_ns() - t);
            chunks += 1;
            continue;
        }
        if srv.client_live() == LIVE_GONE || now_ns() > deadline {
            break;
        }
        let bits = NOTIFY_WRITE | if room == 0 { NOTIFY_READ } else { 0 };
        let some = |r: Result<u32, _>| r.map_or(true, |n| n > 0);
        srv.wait(bits, deadline, |s| {
            (some(s.readable()) && some(s.writable())) || s.client_live() == LIVE_GONE
        });
    }
    let gone = srv.client_live() == LIVE_GONE;
    ctx.check(
        "echo_session_ends",
        gone,
        "the client closed (cli_live = 0)",
        format_args!("cli_live {}", srv.client_live()),
    );
    ctx.metric(
        "echo_bytes",
        srv.written_bytes,
        "bytes",
        "echoed back to the client over the session",
    );
    ctx.metric("echo_chunks", chunks, "chunks", "reads that found data");
    ctx.stats(
        "echo_service",
        &service,
        "ns",
        "guest end: data found -> echo published (copy both ways, index updates, event if asked)",
    );
    Ok(())
}

/// Timed pings of each size, every byte verified.
fn ping(
    ctx: &mut Ctx<'_>,
    srv: &mut VchanServer,
    timeout: u64,
) -> Result<(), xp_core::ring::RingError> {
    let n = ctx.opt(&MESSAGES);
    let sizes = ctx.opt(&SIZES);
    for &len in sizes.as_slice() {
        let mut h = Box::new(Histogram::default());
        for seq in 0..n {
            let msg: alloc::vec::Vec<u8> = (0..len)
                .map(|i| xp_core::ringmsg::pattern(seq as u32, i as u32))
                .collect();
            let t0 = now_ns();
            let Some(back) = round_trip(srv, &msg, t0 + timeout)? else {
                ctx.check(
                    "ping_answered",
                    false,
                    format_args!("{len} bytes back within the timeout"),
                    format_args!("message {seq} of {len} bytes lost"),
                );
                return Ok(());
            };
            h.record(now_ns() - t0);
            if back != msg {
                ctx.check(
                    "ping_echo_intact",
                    false,
                    "the bytes we sent",
                    format_args!("message {seq} of {len} bytes differs"),
                );
                return Ok(());
            }
        }
        let m = format!("guest end: write {len} bytes -> all {len} back (dom0 vchan-socket-proxy looping its stdout to its stdin), every byte verified");
        ctx.stats(&format!("vchan_rtt_{len}B"), &h, "ns", &m);
    }
    ctx.check("ping_echo_intact", true, "every byte back in order", "yes");
    Ok(())
}

/// Send `msg` and collect as many bytes back; None on timeout.
fn round_trip(
    srv: &mut VchanServer,
    msg: &[u8],
    deadline: u64,
) -> Result<Option<alloc::vec::Vec<u8>>, xp_core::ring::RingError> {
    let (mut sent, mut got) = (0, alloc::vec![0u8; msg.len()]);
    let mut have = 0;
    while have < msg.len() {
        if sent < msg.len() {
            sent += srv.write(&msg[sent..])?;
        }
        have += srv.read(&mut got[have..])?;
        if have == msg.len() {
            break;
        }
        if now_ns() > deadline || srv.client_live() == LIVE_GONE {
            return Ok(None);
        }
        let need_space = sent < msg.len();
        let bits = NOTIFY_WRITE | if need_space { NOTIFY_READ } else { 0 };
        let some = |r: Result<u32, _>| r.map_or(true, |n| n > 0);
        srv.wait(bits, deadline, |s| {
            some(s.readable()) || (need_space && some(s.writable()))
        });
    }
    Ok(Some(got))
}
