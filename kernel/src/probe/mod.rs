//! Probes: one module each, behind one small interface.
//!
//! A probe gets a [`Ctx`] through which it reports checks, facts and
//! metrics; its outcome is the most severe of what it reported.

mod evtchn;
mod gnttab;
mod platform;
mod ring;
mod selftest;
mod shown;
mod stall;
mod timer;
mod vchan;
mod wakeup;
mod xenstore;
mod xenstore_latency;
mod xenstore_lazy;

use crate::report::{self, Text};
use core::fmt::Display;
use xp_core::cmdline::{Cmdline, Opt, OptType, ProbeSpec};
use xp_core::hist::Histogram;
use xp_core::outcome::Outcome;
use xp_core::records::{self as rec, Buckets, Verdict};
use xp_core::xen::start_info::StartInfo;

/// How event, timer and runstate setup went (probes check and report it).
pub struct EventsInfo {
    pub callbacks: Result<(), crate::xen::XenError>,
    /// The VIRQ_TIMER port.
    pub timer: Result<u32, crate::xen::XenError>,
    /// Whether Xen flags runstate updates in progress.
    pub runstate: Result<bool, crate::xen::XenError>,
}

/// Facts about the running domain the probes may use.
pub struct Env {
    pub si: &'static StartInfo,
    pub mem: crate::mm::MemInfo,
    pub trap_table_rc: i64,
    pub events: EventsInfo,
    /// Our domain id, when known (dom0: 0; a domU learns it from xenstore).
    pub domid: Option<u16>,
    /// Our xenstore home path (GET_DOMAIN_PATH), or why there is no xenstore client.
    pub xs_home: Result<alloc::string::String, alloc::string::String>,
    /// Grant-table setup: (nr_frames, max_nr_frames) from GNTTABOP_query_size.
    pub gnttab: Result<(u32, u32), crate::drv::gnttab::GntError>,
    /// System time (ns) at entry and when the kernel was ready to run probes.
    pub entry_ns: u64,
    pub ready_ns: u64,
}

/// What a probe reports through.
pub struct Ctx<'a> {
    pub probe: &'static str,
    pub cmd: &'a Cmdline<'a>,
    pub env: &'a Env,
    outcome: Outcome,
}

impl<'a> Ctx<'a> {
    /// This probe's option `o` (declared once, with its default, in the probe's spec), or its
    /// default. An option the probe's spec does not list could never be given: reading one
    /// is an ERROR naming it, never a silent default.
    pub fn opt<T: OptType>(&mut self, o: &Opt<T>) -> T::Value<'a> {
        let spec = REGISTRY.iter().find(|p| p.name == self.probe);
        if !spec.is_some_and(|p| p.options.iter().any(|s| s.key == o.spec.key)) {
            let probe = self.probe;
            self.error(format_args!(
                "probe {probe} reads option '{}', which its spec does not declare",
                o.spec.key
            ));
        }
        let cmd: &'a Cmdline<'a> = self.cmd;
        cmd.opt(self.probe, o)
    }

    /// Report a check: `outcome` with what was expected and what was seen.
    pub fn check_as(
        &mut self,
        name: &str,
        outcome: Outcome,
        expected: impl Display,
        observed: impl Display,
    ) {
        self.outcome = self.outcome.worst(outcome);
        let mark = if outcome == Outcome::Success {
            "ok  "
        } else {
            outcome.verdict()
        };
        crate::println!("  [{mark}] {name}: expected {expected}, observed {observed}");
        report::emit(&rec::Check::<Text> {
            probe: &self.probe,
            name: &name,
            verdict: Verdict(outcome),
            expected: &expected,
            observed: &observed,
        });
    }

    /// A pass/fail check (failure = the thing under test is wrong).
    pub fn check(
        &mut self,
        name: &str,
        ok: bool,
        expected: impl Display,
        observed: impl Display,
    ) -> bool {
        let o = if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        self.check_as(name, o, expected, observed);
        ok
    }

    /// A fact about the environment.
    pub fn info(&mut self, key: &str, value: impl Display) {
        crate::println!("  {key}: {value}");
        report::emit(&rec::Info::<Text> {
            probe: &self.probe,
            key: &key,
            value: &value,
        });
    }

    /// A single measured value with its unit and how it was measured.
    pub fn metric(&mut self, name: &str, value: u64, unit: &str, method: &str) {
        crate::println!("  {name}: {value} {unit} ({method})");
        report::emit(&rec::Metric::<Text> {
            probe: &self.probe,
            name: &name,
            value,
            unit: &unit,
            method: &method,
        });
    }

    /// Distribution statistics (percentiles) and the non-empty histogram buckets of `h`.
    pub fn stats(&mut self, name: &str, h: &Histogram, unit: &str, method: &str) {
        let p = |ppm| h.percentile_ppm(ppm).unwrap_or(0);
        let (min, avg, max) = (
            h.min().unwrap_or(0),
            h.mean().unwrap_or(0),
            h.max().unwrap_or(0),
        );
        let (p50, p99, p999) = (p(500_000), p(990_000), p(999_000));
        crate::println!(
            "  {name} [{unit}]: n={} min={min} avg={avg} p50={p50} p99={p99} p99.9={p999} max={max} ({method})",
            h.count()
        );
        report::emit(&rec::Stats::<Text> {
            probe: &self.probe,
            name: &name,
            unit: &unit,
            count: h.count(),
            min,
            avg,
            p50,
            p99,
            p999,
            max,
            method: &method,
            precision: Some(&"percentiles are bucket upper bounds, <= 6.25% above the sample"),
        });
        report::emit(&rec::Histogram::<Text, Buckets> {
            probe: &self.probe,
            name: &name,
            unit: &unit,
            buckets: Buckets(h),
        });
    }

    /// The probe itself (or its environment) is broken.
    pub fn error(&mut self, msg: impl Display) {
        self.outcome = self.outcome.worst(Outcome::Error);
        crate::println!("  ERROR: {msg}");
        report::emit(&rec::Error::<Text> {
            probe: Some(&self.probe),
            vcpu: None,
            msg: &msg,
        });
    }
}

/// How a probe is run.
pub type RunFn = fn(&mut Ctx<'_>);

/// The registry: what the command line may name, in `--help` order.
pub const REGISTRY: &[ProbeSpec<RunFn>] = &[
    platform::SPEC,
    evtchn::SPEC,
    gnttab::SPEC,
    ring::SPEC,
    vchan::SPEC,
    xenstore::SPEC,
    xenstore_latency::SPEC,
    xenstore_lazy::SPEC,
    timer::SPEC,
    stall::SPEC,
    wakeup::SPEC,
    selftest::PANIC,
    selftest::FAULT,
    selftest::VERDICT,
];

/// Probes run when the command line names none.
pub const DEFAULT: &[&str] = &["platform"];

/// Run one probe by name, the `index`th (from 1) of `of`; returns its outcome.
pub fn run(
    name: &'static str,
    (index, of): (usize, usize),
    cmd: &Cmdline<'_>,
    env: &Env,
) -> Outcome {
    let Some(spec) = REGISTRY.iter().find(|p| p.name == name) else {
        report::error(format_args!("no runner for probe {name}"));
        return Outcome::Error;
    };
    crate::println!("--- probe {name}: {}", spec.about);
    log::debug!(
        "probe {name}: starting, heap {} bytes used",
        crate::mm::heap_usage().0
    );
    report::emit(&rec::ProbeStart::<Text> {
        probe: &name,
        about: &spec.about,
        index: index as u64,
        of: of as u64,
    });
    let start = crate::time::now_ns();
    let mut ctx = Ctx {
        probe: spec.name,
        cmd,
        env,
        outcome: Outcome::Success,
    };
    (spec.run)(&mut ctx);
    let o = ctx.outcome;
    let ns = crate::time::now_ns().saturating_sub(start);
    crate::println!("--- probe {name}: {o} ({} us)", ns / 1000);
    report::emit(&rec::ProbeEnd::<Text> {
        probe: &name,
        result: o,
        elapsed_ns: ns,
    });
    o
}
