//! Self-tests of xenprobe's own crash and verdict paths.
//!
//! `selftest.panic` and `selftest.fault` must end the domain as crashed with
//! their report on the console (the host says CRASH, exit 6);
//! `selftest.verdict` reports one check with the requested outcome so the
//! host's exit-code mapping (0/3/4/5) can be tested end to end.

use super::Ctx;
use super::RunFn;
use xp_core::cmdline::{OptKind, OptSpec, ProbeSpec};
use xp_core::outcome::Outcome;

pub const PANIC: ProbeSpec<RunFn> = ProbeSpec {
    name: "selftest.panic",
    about: "panics on purpose: the run must end as CRASH with message and location",
    options: &[],
    run: run_panic,
};

const FAULT_KINDS: &[&str] = &["pf", "gp", "ud", "de", "bp"];
pub const FAULT: ProbeSpec<RunFn> = ProbeSpec {
    name: "selftest.fault",
    about: "raises a CPU exception on purpose: the run must end as CRASH with vector, rip and registers",
    options: &[OptSpec { key: "kind", kind: OptKind::Choice(FAULT_KINDS), help: "which exception" }],
    run: run_fault,
};

pub const VERDICT: ProbeSpec<RunFn> = ProbeSpec {
    name: "selftest.verdict",
    about: "reports one check with the requested outcome",
    options: &[OptSpec {
        key: "result",
        kind: OptKind::Choice(&["success", "skip", "error", "failure"]),
        help: "outcome of the check",
    }],
    run: run_verdict,
};

pub fn run_panic(_: &mut Ctx<'_>) {
    panic!("selftest.panic: deliberate panic");
}

pub fn run_fault(ctx: &mut Ctx<'_>) {
    let kind = ctx.cmd.opt_choice("selftest.fault", "kind", "pf");
    crate::println!("  raising {kind}");
    crate::arch::raise::raise(kind);
    ctx.error(format_args!("selftest.fault: {kind} did not fault"));
}

pub fn run_verdict(ctx: &mut Ctx<'_>) {
    let r = ctx.cmd.opt_choice("selftest.verdict", "result", "success");
    let o = match r {
        "skip" => Outcome::Skip,
        "error" => Outcome::Error,
        "failure" => Outcome::Failure,
        _ => Outcome::Success,
    };
    ctx.check_as("requested_verdict", o, r, o.verdict());
}
