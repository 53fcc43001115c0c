//! Injected faults (`xenstore.fault=`): the client's view of the ring is made
//! to look like a misbehaving xenstored (xp_core::xs::fault); each must end
//! in a clear ERROR from the client, never a hang or a panic, and the client
//! must work again after resynchronising.

use super::BASE;
use crate::drv::xenstore::{Client, XsErr};
use crate::probe::Ctx;
use alloc::format;
use alloc::vec::Vec;
use xp_core::xs::Fault;

/// How long the truncated-reply fault waits before it is a timeout.
const FAULT_TIMEOUT_NS: u64 = 2_000_000_000;

pub fn inject(ctx: &mut Ctx<'_>, c: &mut Client, which: &str) -> Result<(), XsErr> {
    let faults: Vec<Fault> = match which {
        "all" => Fault::ALL.to_vec(),
        name => Fault::from_name(name).into_iter().collect(),
    };
    let node = [BASE, b"-fault"].concat();
    c.write(0, &node, b"fault probe")?;
    let timeout = core::mem::replace(&mut c.timeout_ns, FAULT_TIMEOUT_NS);
    for f in faults {
        c.inject(f);
        let r = c.read(0, &node);
        let drained = c.resync();
        match r {
            Err(e @ (XsErr::Stream(_) | XsErr::Route(_) | XsErr::Timeout(_))) => {
                ctx.error(format_args!(
                    "injected fault {}: {e} (resynchronised, {drained} bytes dropped)",
                    f.name()
                ))
            }
            other => {
                let name = format!("fault_{}_reported", f.name());
                ctx.check(
                    &name,
                    false,
                    "an ERROR from the client",
                    match other {
                        Ok(v) => format!("no error: the read returned {} bytes", v.len()),
                        Err(e) => format!("{e}"),
                    },
                );
            }
        }
    }
    c.timeout_ns = timeout;
    let back = c.read(0, &node);
    let ok = back.as_deref() == Ok(b"fault probe".as_slice());
    ctx.check(
        "client_works_after_faults",
        ok,
        "the node reads back",
        match back {
            Ok(v) => format!("{} bytes: {}", v.len(), v.escape_ascii()),
            Err(e) => format!("{e}"),
        },
    );
    c.rm(0, &node)
}
