//! Self-tests of xenprobe's own crash and verdict paths.
//!
//! `selftest.panic` and `selftest.fault` must end the domain as crashed with
//! their report on the console (the host says CRASH, exit 6);
//! `selftest.verdict` reports one check with the requested outcome so the
//! host's exit-code mapping (0/3/4/5) can be tested end to end.

use super::Ctx;
use super::RunFn;
use xp_core::cmdline::{Opt, ProbeSpec, Word};
use xp_core::outcome::Outcome;

pub const PANIC: ProbeSpec<RunFn> = ProbeSpec {
    name: "selftest.panic",
    about: "panics on purpose: the run must end as CRASH with message and location",
    options: &[],
    run: run_panic,
};

const KIND: Opt<Word> = Opt::<Word>::new(
    "kind",
    &["pf", "gp", "ud", "de", "bp", "failsafe"],
    "pf",
    "which exception (failsafe: a return Xen cannot complete, so Xen calls the failsafe callback)",
);
const RESULT: Opt<Word> = Opt::<Word>::new(
    "result",
    &["success", "skip", "error", "failure"],
    "success",
    "outcome of the check",
);
pub const FAULT: ProbeSpec<RunFn> = ProbeSpec {
    name: "selftest.fault",
    about: "raises a CPU exception on purpose: the run must end as CRASH with vector, rip and registers",
    options: &[KIND.spec],
    run: run_fault,
};

pub const VERDICT: ProbeSpec<RunFn> = ProbeSpec {
    name: "selftest.verdict",
    about: "reports one check with the requested outcome",
    options: &[RESULT.spec],
    run: run_verdict,
};

pub fn run_panic(_: &mut Ctx<'_>) {
    panic!("selftest.panic: deliberate panic");
}

pub fn run_fault(ctx: &mut Ctx<'_>) {
    let kind = ctx.opt(&KIND);
    if kind == "failsafe" {
        return run_failsafe(ctx);
    }
    crate::println!("  raising {kind}");
    crate::arch::raise::raise(kind);
    ctx.error(format_args!("selftest.fault: {kind} did not fault"));
}

pub fn run_verdict(ctx: &mut Ctx<'_>) {
    let r = ctx.opt(&RESULT);
    let o = match r {
        "skip" => Outcome::Skip,
        "error" => Outcome::Error,
        "failure" => Outcome::Failure,
        _ => Outcome::Success,
    };
    ctx.check_as("requested_verdict", o, r, o.verdict());
}

/// DS from an LDT that is then removed: Xen's next segment restore fails and it calls the
/// failsafe callback (the domain ends as CRASH, vector 256, with the interrupted rip/cs).
fn run_failsafe(ctx: &mut Ctx<'_>) {
    let sel = match crate::arch::raise::arm_failsafe() {
        Ok(sel) => sel,
        Err(e) => return ctx.error(format_args!("selftest.fault: failsafe: {e}")),
    };
    crate::println!("  ds {sel:#x} loaded from an LDT that is gone: Xen cannot restore it");
    let end = crate::time::now_ns() + 2_000_000_000;
    while crate::time::now_ns() < end {
        // Console output wakes dom0's xenconsoled: another vCPU runs on this pCPU and Xen
        // reloads our segments when we run again.
        crate::println!("  waiting for Xen to switch vCPUs");
        crate::drv::timer::wait_until(crate::time::now_ns() + 100_000_000, || false);
    }
    ctx.error(format_args!(
        "selftest.fault: failsafe: Xen did not call the failsafe callback within 2 s (no other vCPU ran on this pCPU: run it beside a busy dom0)"
    ));
}
