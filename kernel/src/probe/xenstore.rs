//! Probe `xenstore`: conformance of xenstored as a domU sees it over its ring.
//!
//! Each check says what is expected and what was seen. The daemon is first
//! fingerprinted from behaviour alone (identify.rs, reported as info); where C
//! xenstored and oxenstored are documented to differ (quota errors, limits,
//! permission answers, message types), the expectation is that of the
//! implementation `expect=c|ocaml` names (and the fingerprint is checked against
//! it), or without it the fingerprinted one; each such check names which it
//! assumed and why, with the other's answer beside it. Groups: reads and writes,
//! value and path limits, permissions, many requests in flight (basic.rs),
//! watches (watch.rs), transactions (tx.rs), message types and quotas
//! (quota.rs). `fault=` instead injects misbehaviour into the client's view
//! of the ring (fault.rs), which must end in ERROR.

mod basic;
pub mod common;
mod fault;
mod identify;
mod quota;
mod tx;
mod watch;

pub use identify::identify;

use super::{Ctx, RunFn};
use common::{client_options, describe, session, Assumed, CONSUMER, NOTIFY, NOTIFY_DELAY, TIMEOUT};
use xp_core::cmdline::{Given, Opt, ProbeSpec, Word};
use xp_core::xs::fingerprint::Impl;

pub const SPEC: ProbeSpec<RunFn> = ProbeSpec {
    name: "xenstore",
    about:
        "xenstored conformance over the ring, with the implementation fingerprinted from behaviour",
    options: &[
        NOTIFY.spec,
        NOTIFY_DELAY.spec,
        CONSUMER.spec,
        TIMEOUT.spec,
        EXPECT.spec,
        FAULT.spec,
    ],
    run,
};

const EXPECT: Opt<Given<Word>> = Opt::<Given<Word>>::new(
    "expect",
    &["c", "ocaml"],
    "the xenstored this host runs: the per-implementation checks expect it, and the fingerprint must agree (when not given, the checks assume the fingerprinted one)",
);
const FAULT: Opt<Given<Word>> = Opt::<Given<Word>>::new(
    "fault",
    &[
        "rsp_prod",
        "req_cons",
        "len",
        "req_id",
        "type",
        "truncated",
        "all",
    ],
    "inject a misbehaving-xenstored fault into the client's view of the ring (ERROR expected)",
);

/// Where the probe writes (removed before and after).
pub const BASE: &[u8] = b"data/xp-c";

pub fn run(ctx: &mut Ctx<'_>) {
    let (policy, timeout) = client_options(ctx);
    let fault = ctx.opt(&FAULT);
    let expect = ctx.opt(&EXPECT).map(|v| match v {
        "c" => Impl::C,
        _ => Impl::Ocaml,
    });
    let (home, domid) = (
        ctx.env.xs_home.clone().unwrap_or_default(),
        ctx.env.domid.unwrap_or(0),
    );
    session(ctx, |ctx, c| {
        c.set_policy(policy);
        c.timeout_ns = timeout;
        ctx.info("notify_policy", describe(&policy));
        if let Some(f) = fault {
            return fault::inject(ctx, c, f);
        }
        let _ = c.rm(0, BASE);
        let found = identify(ctx, c)?;
        let imp = assumed(ctx, expect, found);
        basic::read_write(ctx, c)?;
        basic::value_limit(ctx, c, imp)?;
        basic::path_limits(ctx, c, imp, &home)?;
        basic::permissions(ctx, c, imp, domid)?;
        basic::misc(ctx, c, domid, &home)?;
        watch::watches(ctx, c, &home)?;
        tx::transactions(ctx, c, imp)?;
        quota::message_types(ctx, c, imp)?;
        quota::quotas(ctx, c, imp)?;
        c.rm(0, BASE)?;
        let n = c.counters;
        ctx.info(
            "client_counters",
            format_args!(
                "{} requests, {} replies, {} notifies",
                n.requests, n.replies, n.notifies
            ),
        );
        Ok(())
    });
}

/// What the per-implementation checks assume: `expect` when given (checking that the
/// fingerprint agrees), else the fingerprint.
fn assumed(ctx: &mut Ctx<'_>, expect: Option<Impl>, found: Option<Impl>) -> Assumed {
    let Some(want) = expect else {
        return Assumed {
            imp: found,
            given: false,
        };
    };
    ctx.check(
        "fingerprint_matches_expect",
        found == Some(want),
        format_args!("{} (xenstore.expect={})", want.name(), want.key()),
        found.map_or("no consistent fingerprint", Impl::name),
    );
    Assumed {
        imp: Some(want),
        given: true,
    }
}
