//! What the three xenstore probes share: running with the client (SKIP
//! without one), the notification-mode options, per-implementation
//! expectations.

use crate::drv::xenstore::{self as xs, Client, ErrName, XsErr};
use crate::probe::Ctx;
use alloc::format;
use core::fmt;
use xp_core::cmdline::{Dur, Opt, Word};
use xp_core::outcome::Outcome;
use xp_core::xs::fingerprint::{Impl, Signal};
use xp_core::xs::{NotifyPolicy, Nth, ProducerMode, XsError};

pub const NOTIFY: Opt<Word> = Opt::<Word>::new(
    "notify",
    &["eager", "lazy", "delayed"],
    "eager",
    "after writing requests: eager (signal each time, the spec), lazy (never), delayed (notify_delay later)",
);
pub const NOTIFY_DELAY: Opt<Dur> = Opt::<Dur>::new(
    "notify_delay",
    0,
    60_000_000_000,
    1_000_000,
    "delay of notify=delayed",
);
pub const CONSUMER: Opt<Word> = Opt::<Word>::new(
    "consumer",
    &["notify", "lazy"],
    "notify",
    "after consuming replies: notify (the spec) or lazy (never)",
);
pub const TIMEOUT: Opt<Dur> = Opt::<Dur>::new(
    "timeout",
    1_000_000,
    600_000_000_000,
    xs::DEFAULT_TIMEOUT_NS,
    "deadline of each request (raise it with notify=lazy)",
);

/// The notification policy and request timeout the probe's options ask for.
pub fn client_options(ctx: &mut Ctx<'_>) -> (NotifyPolicy, u64) {
    let lazy_consumer = ctx.opt(&CONSUMER) == "lazy";
    let producer = match ctx.opt(&NOTIFY) {
        "lazy" => ProducerMode::Lazy,
        "delayed" => ProducerMode::Delayed {
            delay_ns: ctx.opt(&NOTIFY_DELAY),
        },
        _ => ProducerMode::Eager,
    };
    let timeout = ctx.opt(&TIMEOUT);
    (NotifyPolicy::new(producer, lazy_consumer), timeout)
}

/// Describes a policy for reports.
pub fn describe(p: &NotifyPolicy) -> alloc::string::String {
    let producer = match p.producer {
        ProducerMode::Eager => alloc::string::String::from("eager"),
        ProducerMode::Lazy => "lazy".into(),
        ProducerMode::Delayed { delay_ns } => alloc::format!("delayed {} us", delay_ns / 1000),
    };
    let consumer = if p.lazy_consumer { "lazy" } else { "notify" };
    alloc::format!("producer {producer}, consumer {consumer}")
}

/// Runs `f` with the client; SKIP when there is none (dom0), ERROR for an error `f`
/// returns. The client's policy and timeout are restored afterwards, and a client `f`
/// left broken is resynchronised.
pub fn session(ctx: &mut Ctx<'_>, f: impl FnOnce(&mut Ctx<'_>, &mut Client) -> Result<(), XsErr>) {
    if !xs::available() {
        let why = ctx.env.xs_home.as_ref().err().cloned().unwrap_or_default();
        ctx.check_as(
            "xenstore_available",
            Outcome::Skip,
            "a xenstore ring (domU)",
            why,
        );
        return;
    }
    let r = xs::with(|c| {
        let saved = (c.policy(), c.timeout_ns);
        let r = f(ctx, c);
        c.set_policy(saved.0);
        c.timeout_ns = saved.1;
        if c.broken().is_some() {
            c.resync();
        }
        r
    });
    if let Ok(Err(e)) | Err(e) = r {
        ctx.error(format_args!("xenstore: {e}"));
    }
}

/// A daemon's answer: success (`None`) or its error. Other failures (timeouts, protocol
/// violations) stay errors, for the probe to report as ERROR.
pub fn answer<T>(r: Result<T, XsErr>) -> Result<Option<XsError>, XsErr> {
    match r {
        Ok(_) => Ok(None),
        Err(XsErr::Daemon(e)) => Ok(Some(e)),
        Err(e) => Err(e),
    }
}

/// An answer as text: `OK` or the error name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ans(pub Option<XsError>);

impl fmt::Display for Ans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("OK"),
            Some(e) => ErrName(e).fmt(f),
        }
    }
}

/// Checks an answer that both implementations give alike.
pub fn check_answer(
    ctx: &mut Ctx<'_>,
    name: &str,
    want: Option<XsError>,
    got: Option<XsError>,
) -> bool {
    ctx.check(name, want == got, Ans(want), Ans(got))
}

/// Which implementation the per-implementation checks expect, and why.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Assumed {
    pub imp: Option<Impl>,
    /// True when `xenstore.expect=` named it; false when it is the fingerprint's verdict.
    pub given: bool,
}

impl Assumed {
    /// `C xenstored, as xenstore.expect=c says` or `oxenstored, as fingerprinted`.
    fn why(self, i: Impl) -> alloc::string::String {
        match self.given {
            true => format!("{}, as xenstore.expect={} says", i.name(), i.key()),
            false => format!("{}, as fingerprinted", i.name()),
        }
    }
}

/// Checks `observed` against what the assumed implementation is documented to do
/// (`ok(imp)`); the expectation names the implementation and why it was assumed, and shows
/// the other implementation's when it differs. Without an implementation (no
/// `xenstore.expect=` and no consistent fingerprint) both are shown and the check fails.
pub fn check_impl_by(
    ctx: &mut Ctx<'_>,
    imp: Assumed,
    name: &str,
    expected: impl Fn(Impl) -> alloc::string::String,
    ok: impl Fn(Impl) -> bool,
    observed: impl fmt::Display,
) -> bool {
    let Some(i) = imp.imp else {
        let both = format!(
            "C xenstored: {}; oxenstored: {} (no xenstore.expect= and no consistent fingerprint)",
            expected(Impl::C),
            expected(Impl::Ocaml)
        );
        return ctx.check(name, false, both, observed);
    };
    let (mine, other) = (expected(i), expected(i.other()));
    let text = match mine == other {
        true => format!("{mine} ({})", imp.why(i)),
        false => format!("{mine} ({}; {}: {other})", imp.why(i), i.other().name()),
    };
    ctx.check(name, ok(i), text, observed)
}

/// Checks an observation that must equal the assumed implementation's documented value.
pub fn check_impl<T: PartialEq + fmt::Display>(
    ctx: &mut Ctx<'_>,
    imp: Assumed,
    name: &str,
    want: impl Fn(Impl) -> T,
    got: T,
) -> bool {
    let text = |i: Impl| format!("{}", want(i));
    let ok = |i: Impl| want(i) == got;
    check_impl_by(ctx, imp, name, text, ok, &got)
}

/// Checks a [`Signal`]'s answer against the assumed implementation.
pub fn check_signal(
    ctx: &mut Ctx<'_>,
    imp: Assumed,
    name: &str,
    s: Signal,
    got: Option<XsError>,
) -> bool {
    check_impl(ctx, imp, name, |i| Ans(s.expected(i)), Ans(got))
}

/// `11 accepted, the 12th ENOSPC`: what filling a limit one by one measured.
pub fn accepted_then(n: u64, err: Option<XsError>) -> alloc::string::String {
    format!("{n} accepted, the {} {}", Nth(n + 1), Ans(err))
}
