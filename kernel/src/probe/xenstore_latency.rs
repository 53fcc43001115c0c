//! Probe `xenstore-latency`: the 12 cases of Xen's own test-xenstore
//! (tools/tests/xenstore), measured from the guest over its ring, so they can
//! be put beside test-xenstore run in dom0 against the same xenstored.
//!
//! Same structure as test-xenstore: per iteration, pre-init (rm the test
//! node, write it empty) and the case's init, then only the case's own
//! requests are timed, then its deinit verifies the result. Nodes live under
//! `data/xenstore-test` (a domU may only create nodes below `data`).
//!
//! `wait_peer=S`: first wait up to S for dom0 to write
//! /local/domain/$DOMID/data/xp-peer-done (watched), so that dom0's
//! test-xenstore and this probe do not run at the same time on the lab's
//! single pCPU.

use super::shown::List;
use super::xenstore::common::{
    client_options, describe, session, CONSUMER, NOTIFY, NOTIFY_DELAY, TIMEOUT,
};
use super::{Ctx, RunFn};
use crate::drv::xenstore::{Client, XsErr};
use crate::time::now_ns;
use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;
use xp_core::cmdline::{Dur, Num, Opt, ProbeSpec};
use xp_core::hist::Histogram;
use xp_core::xs::XsError;

const ITERATIONS: Opt<Num> = Opt::<Num>::new("iterations", 1, 100_000, 100, "iterations per case");
const WAIT_PEER: Opt<Dur> = Opt::<Dur>::new(
    "wait_peer",
    0,
    600_000_000_000,
    0,
    "first wait this long for dom0 to write data/xp-peer-done (0: do not wait)",
);

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "xenstore-latency",
    about: "test-xenstore's 12 cases measured from the guest over the ring (count, min, avg, p50, p99, max)",
    options: &[
        ITERATIONS.spec,
        WAIT_PEER.spec,
        NOTIFY.spec,
        NOTIFY_DELAY.spec,
        CONSUMER.spec,
        TIMEOUT.spec,
    ],
    run,
};

const DIR: &[u8] = b"data/xenstore-test";
const PEER_DONE: &[u8] = b"data/xp-peer-done";
/// test-xenstore's WRITE_BUFFERS_N and its buffer size in Xen 4.17.
const N_BUF: usize = 10;
const BUF_SIZE: usize = 2000;
const MAX_TA_LOOPS: u32 = 100;

#[derive(Clone, Copy)]
enum Case {
    Read(usize),
    Write(usize),
    Dir,
    RmNode,
    RmDir,
    TaEmpty { abort: bool },
    TaRmw { abort: bool },
    TaErr,
}

/// test-xenstore's table, in its order and with its names.
const CASES: [(&str, Case); 12] = [
    ("read 1", Case::Read(1)),
    ("read 2000", Case::Read(BUF_SIZE)),
    ("write 1", Case::Write(1)),
    ("write 2000", Case::Write(BUF_SIZE)),
    ("dir", Case::Dir),
    ("rm node", Case::RmNode),
    ("rm dir", Case::RmDir),
    ("ta empty", Case::TaEmpty { abort: false }),
    ("ta empty x", Case::TaEmpty { abort: true }),
    ("ta rmw", Case::TaRmw { abort: false }),
    ("ta rmw x", Case::TaRmw { abort: true }),
    ("ta err", Case::TaErr),
];

/// The test node and its ten children with their buffers (`'a' + i`, repeated).
struct Nodes {
    path: Vec<u8>,
    child: Vec<Vec<u8>>,
    buf: Vec<Vec<u8>>,
}

impl Nodes {
    fn new() -> Self {
        let mut path = DIR.to_vec();
        path.extend(format!("/{}", now_ns() % 100_000).bytes());
        let child = (0..N_BUF)
            .map(|i| [&path[..], b"/", &[b'a' + i as u8]].concat())
            .collect();
        let buf = (0..N_BUF)
            .map(|i| alloc::vec![b'a' + i as u8; BUF_SIZE])
            .collect();
        Self { path, child, buf }
    }
}

pub fn run(ctx: &mut Ctx<'_>) {
    let n = ctx.opt(&ITERATIONS);
    let wait = ctx.opt(&WAIT_PEER);
    let (policy, timeout) = client_options(ctx);
    session(ctx, |ctx, c| {
        if wait > 0 {
            wait_peer(ctx, c, wait)?;
        }
        super::xenstore::identify(ctx, c)?;
        c.set_policy(policy);
        c.timeout_ns = timeout;
        let nodes = Nodes::new();
        let mut bad = Vec::new();
        for (name, case) in CASES {
            let mut h = Box::new(Histogram::default());
            for _ in 0..n {
                if let Err(e) = iteration(c, &nodes, case, &mut h) {
                    bad.push(format!("{name}: {e}"));
                    break;
                }
            }
            let method = format!(
                "test-xenstore case '{name}' from the guest: only the case's own requests timed (pvclock), n={}, {}",
                h.count(),
                describe(&policy)
            );
            ctx.stats(&name.replace(' ', "_"), &h, "ns", &method);
        }
        ctx.check(
            "all_cases_verified",
            bad.is_empty(),
            "every iteration's result verified",
            List(&bad),
        );
        let _ = c.rm(0, &nodes.path);
        c.rm(0, DIR)
    });
}

/// Waits until dom0 wrote `data/xp-peer-done` (its test-xenstore run finished).
fn wait_peer(ctx: &mut Ctx<'_>, c: &mut Client, wait: u64) -> Result<(), XsErr> {
    let t0 = now_ns();
    c.watch(PEER_DONE, b"peer")?;
    let mut done = false;
    while !done && c.next_event(b"peer", t0 + wait).is_some() {
        done = c.read(0, PEER_DONE).is_ok();
    }
    c.unwatch(PEER_DONE, b"peer")?;
    if done {
        ctx.metric(
            "peer_wait",
            now_ns() - t0,
            "ns",
            "until dom0 wrote data/xp-peer-done (watch)",
        );
    } else {
        ctx.error(format_args!(
            "dom0 did not write {} within {} s",
            PEER_DONE.escape_ascii(),
            wait / 1_000_000_000
        ));
    }
    Ok(())
}

/// One iteration: pre-init, init, the timed run, deinit (a failed check is ENODATA-like).
fn iteration(c: &mut Client, n: &Nodes, case: Case, h: &mut Histogram) -> Result<(), XsErr> {
    let _ = c.rm(0, &n.path);
    c.write(0, &n.path, b"")?;
    init(c, n, case)?;
    let t = now_ns();
    timed(c, n, case)?;
    h.record(now_ns() - t);
    deinit(c, n, case)
}

fn init(c: &mut Client, n: &Nodes, case: Case) -> Result<(), XsErr> {
    match case {
        Case::Read(len) => c.write(0, &n.child[0], &n.buf[0][..len]),
        Case::Dir | Case::RmDir => {
            (0..N_BUF).try_for_each(|i| c.write(0, &n.child[i], &n.buf[i][..1]))
        }
        Case::TaRmw { .. } | Case::TaErr => c.write(0, &n.child[0], &n.buf[0][..1]),
        _ => Ok(()),
    }
}

fn timed(c: &mut Client, n: &Nodes, case: Case) -> Result<(), XsErr> {
    match case {
        Case::Read(_) => c.read(0, &n.child[0]).map(drop),
        Case::Write(len) => c.write(0, &n.child[0], &n.buf[0][..len]),
        Case::Dir => c.directory(0, &n.path).map(drop),
        Case::RmNode | Case::RmDir => c.rm(0, &n.path),
        Case::TaEmpty { abort } => retry(c, !abort, |_, _| Ok(())),
        Case::TaRmw { abort } => retry(c, !abort, |c, tx| {
            c.read(tx, &n.child[0])?;
            c.write(tx, &n.child[0], b"b")?;
            expect(c.read(tx, &n.child[0])?, b"b")?;
            expect(c.read(0, &n.child[0])?, b"a")
        }),
        Case::TaErr => {
            let tx = c.transaction_start()?;
            c.read(tx, &n.child[0])?;
            c.write(0, &n.child[0], b"b")?;
            expect(c.read(tx, &n.child[0])?, b"a")?;
            c.write(tx, &n.child[0], b"c")?;
            expect(c.read(tx, &n.child[0])?, b"c")?;
            match c.transaction_end(tx, true) {
                Err(XsErr::Daemon(XsError::Eagain)) => Ok(()),
                Err(e) => Err(e),
                Ok(()) => Err(XsErr::Unexpected("a conflicting transaction committed")),
            }
        }
    }
}

/// test-xenstore's transaction loop: start, body, end (commit or abort), again after
/// EAGAIN. A failed body ends the transaction too.
fn retry(
    c: &mut Client,
    commit: bool,
    mut body: impl FnMut(&mut Client, u32) -> Result<(), XsErr>,
) -> Result<(), XsErr> {
    for _ in 0..MAX_TA_LOOPS {
        let tx = c.transaction_start()?;
        if let Err(e) = body(c, tx) {
            let _ = c.transaction_end(tx, false);
            return Err(e);
        }
        match c.transaction_end(tx, commit) {
            Err(XsErr::Daemon(XsError::Eagain)) => continue,
            r => return r,
        }
    }
    Ok(())
}

/// A value check inside a case; a mismatch is reported like test-xenstore's ENODATA.
fn expect(got: Vec<u8>, want: &[u8]) -> Result<(), XsErr> {
    match got == want {
        true => Ok(()),
        false => Err(XsErr::Unexpected("a value other than the case wrote")),
    }
}

fn deinit(c: &mut Client, n: &Nodes, case: Case) -> Result<(), XsErr> {
    let want: &[u8] = match case {
        Case::Write(len) => &n.buf[0][..len],
        Case::TaRmw { abort: false } | Case::TaErr => b"b",
        Case::TaRmw { abort: true } => b"a",
        Case::Dir => {
            let names = c.directory(0, &n.path)?;
            return match names.len() {
                N_BUF => Ok(()),
                _ => Err(XsErr::Unexpected("a directory without the 10 children")),
            };
        }
        _ => return Ok(()),
    };
    expect(c.read(0, &n.child[0])?, want)
}
