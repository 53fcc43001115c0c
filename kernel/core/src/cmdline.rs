//! Guest command line: `probes=a,b duration=SECONDS probe.key=value ...`.
//!
//! Parsing is strict: an unknown key, an unknown probe, an option of a probe
//! that is not selected, a duplicate or a malformed value is an error whose
//! text names what was wrong and what is accepted. Values are validated
//! here, so the typed getters used by probes cannot fail later.

use core::fmt;

mod opt;
pub use opt::{Dflt, Dur, Durs, Given, List, Num, Nums, Opt, OptType, Text, Word, Words};

/// The most probes one run may select.
pub const MAX_PROBES: usize = 16;
/// The most `probe.key=value` options one run may give.
pub const MAX_OPTS: usize = 32;
/// The most items a list value may have.
pub const MAX_LIST: usize = 16;

/// What values an option accepts.
#[derive(Clone, Copy, Debug)]
pub enum OptKind {
    /// A whole number in `min..=max`.
    U64 { min: u64, max: u64 },
    /// A duration with a unit (`ns`, `us`, `ms`, `s`), in `min..=max` nanoseconds.
    Duration { min_ns: u64, max_ns: u64 },
    /// A comma-separated list of durations.
    DurationList { min_ns: u64, max_ns: u64 },
    /// One of the listed words.
    Choice(&'static [&'static str]),
    /// A comma-separated list of whole numbers in `min..=max`.
    U64List { min: u64, max: u64 },
    /// A comma-separated list of the listed words.
    ChoiceList(&'static [&'static str]),
    /// A value in one of several forms that `accepts` recognises (e.g. `ring.back=delay:5ms`);
    /// `forms` describes them for the error message.
    Form {
        accepts: fn(&str) -> bool,
        forms: &'static [&'static str],
    },
}

/// One option a probe accepts, as `probe.key=value`.
#[derive(Clone, Copy, Debug)]
pub struct OptSpec {
    pub key: &'static str,
    pub kind: OptKind,
    pub help: &'static str,
    /// What the probe uses when the option is not given (declared by its [`Opt`] handle).
    pub default: Dflt,
}

/// What the registry says about one probe; `run` is whatever the kernel runs it with.
#[derive(Clone, Copy, Debug)]
pub struct ProbeSpec<R = ()> {
    pub name: &'static str,
    pub about: &'static str,
    pub options: &'static [OptSpec],
    pub run: R,
}

/// How the kernel ends the domain after the result line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitMode {
    /// SCHEDOP_shutdown (poweroff, or crash).
    Shutdown,
    /// dom0 under QEMU: write the exit code to the isa-debug-exit port 0xf4.
    IsaDebugExit,
}

/// Global keys and what they accept.
pub const GLOBAL_KEYS: &[OptSpec] = &[
    OptSpec {
        key: "probes",
        kind: OptKind::Choice(&[]),
        help: "comma-separated probe names",
        default: Dflt::Word("platform"),
    },
    OptSpec {
        key: "duration",
        kind: OptKind::U64 {
            min: 0,
            max: 10_000_000,
        },
        help: "seconds a long-running probe runs (0 = forever)",
        default: Dflt::None,
    },
    OptSpec {
        key: "loglevel",
        kind: OptKind::Choice(&["error", "warn", "info", "debug", "trace"]),
        help: "console log level",
        default: Dflt::Word("info"),
    },
    OptSpec {
        key: "exit",
        kind: OptKind::Choice(&["shutdown", "isa-debug-exit"]),
        help: "how the domain ends after the result",
        default: Dflt::Word("shutdown"),
    },
    OptSpec {
        key: "evtchn.abi",
        kind: OptKind::Choice(&["2l", "fifo"]),
        help: "event-channel ABI: 2-level, or FIFO (default: FIFO where Xen offers it)",
        default: Dflt::None,
    },
    OptSpec {
        key: "vcpus",
        kind: OptKind::U64 { min: 1, max: 64 },
        help: "vCPUs to use (default: every vCPU the domain has)",
        default: Dflt::None,
    },
];

/// `evtchn.abi=`: the event-channel ABI the kernel is asked to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvtchnAbi {
    /// The 2-level bitmaps in shared_info (4096 ports on x86_64).
    TwoLevel,
    /// FIFO queues with priorities (EVTCHNOP_init_control; 131072 ports).
    Fifo,
}

impl EvtchnAbi {
    /// The command-line spelling.
    pub fn name(self) -> &'static str {
        match self {
            EvtchnAbi::TwoLevel => "2l",
            EvtchnAbi::Fifo => "fifo",
        }
    }
}

/// A parsed, validated command line. Borrows the input text.
#[derive(Debug)]
pub struct Cmdline<'a> {
    probes: [&'a str; MAX_PROBES],
    nprobes: usize,
    /// `duration=` in seconds, if given.
    pub duration_s: Option<u64>,
    /// `loglevel=`, if given.
    pub loglevel: Option<&'a str>,
    /// `exit=`.
    pub exit: ExitMode,
    /// `evtchn.abi=`, if given (absent: FIFO where Xen offers it, else 2-level).
    pub evtchn_abi: Option<EvtchnAbi>,
    /// `vcpus=`, if given (absent: every vCPU the domain has).
    pub vcpus: Option<u64>,
    opts: [(&'a str, &'a str, &'a str); MAX_OPTS],
    nopts: usize,
}

/// Why a command line was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmdlineError<'a> {
    NotKeyValue(&'a str),
    UnknownKey(&'a str),
    UnknownProbe(&'a str),
    UnknownOption {
        probe: &'a str,
        key: &'a str,
    },
    NotSelected {
        key: &'a str,
        probe: &'a str,
    },
    BadValue {
        key: &'a str,
        value: &'a str,
        kind: OptKindTag,
    },
    Duplicate(&'a str),
    TooMany {
        what: &'static str,
        max: usize,
    },
    NoProbes,
}

/// A copyable description of what an option expected, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptKindTag(&'static str, u64, u64, &'static [&'static str]);

impl OptKind {
    fn tag(self) -> OptKindTag {
        match self {
            OptKind::U64 { min, max } => OptKindTag("int", min, max, &[]),
            OptKind::Duration { min_ns, max_ns } => OptKindTag("dur", min_ns, max_ns, &[]),
            OptKind::DurationList { min_ns, max_ns } => OptKindTag("durs", min_ns, max_ns, &[]),
            OptKind::Choice(c) => OptKindTag("choice", 0, 0, c),
            OptKind::U64List { min, max } => OptKindTag("ints", min, max, &[]),
            OptKind::ChoiceList(c) => OptKindTag("choices", 0, 0, c),
            OptKind::Form { forms, .. } => OptKindTag("form", 0, 0, forms),
        }
    }
}

impl fmt::Display for OptKindTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let OptKindTag(k, lo, hi, words) = *self;
        match k {
            "int" => write!(f, "a whole number in {lo}..={hi}"),
            "dur" => write!(f, "a duration like 100us, 1ms, 2s in {}..={}", Ns(lo), Ns(hi)),
            "durs" => write!(
                f,
                "a comma-separated list (at most {MAX_LIST}) of durations like 100us,1ms in {}..={}",
                Ns(lo),
                Ns(hi)
            ),
            "ints" => write!(f, "a comma-separated list (at most {MAX_LIST}) of whole numbers in {lo}..={hi}"),
            "choices" => {
                write!(f, "a comma-separated list (at most {MAX_LIST}) of: ")?;
                join(f, words.iter())
            }
            "form" => {
                f.write_str("one of the forms ")?;
                join(f, words.iter())
            }
            _ => {
                f.write_str("one of: ")?;
                join(f, words.iter())
            }
        }
    }
}

/// Formats nanoseconds with the largest unit that divides them.
pub struct Ns(pub u64);
impl fmt::Display for Ns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        match n {
            0 => f.write_str("0"),
            _ if n.is_multiple_of(1_000_000_000) => write!(f, "{}s", n / 1_000_000_000),
            _ if n.is_multiple_of(1_000_000) => write!(f, "{}ms", n / 1_000_000),
            _ if n.is_multiple_of(1_000) => write!(f, "{}us", n / 1_000),
            _ => write!(f, "{n}ns"),
        }
    }
}

fn join<'x>(f: &mut fmt::Formatter<'_>, items: impl Iterator<Item = &'x &'x str>) -> fmt::Result {
    for (i, s) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        f.write_str(s)?;
    }
    Ok(())
}

/// The `exit=` mode of a command line even when the rest of it is invalid, so a
/// run that ends with a command-line ERROR still ends the way the lab asked.
pub fn exit_mode_hint(text: &str) -> ExitMode {
    if text
        .split_ascii_whitespace()
        .any(|t| t == "exit=isa-debug-exit")
    {
        ExitMode::IsaDebugExit
    } else {
        ExitMode::Shutdown
    }
}

/// Parse a duration with a unit: `250ns`, `100us`, `10ms`, `2s` (a bare `0` is allowed).
pub fn parse_duration_ns(s: &str) -> Option<u64> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    if num.is_empty() || num.len() > 19 {
        return None;
    }
    let n: u64 = num.parse().ok()?;
    let mul = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "" if n == 0 => 1,
        _ => return None,
    };
    n.checked_mul(mul)
}

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// True when `value` is acceptable for `kind`.
pub fn value_ok(kind: OptKind, value: &str) -> bool {
    match kind {
        OptKind::U64 { min, max } => parse_u64(value).is_some_and(|v| (min..=max).contains(&v)),
        OptKind::Duration { min_ns, max_ns } => {
            parse_duration_ns(value).is_some_and(|v| (min_ns..=max_ns).contains(&v))
        }
        OptKind::DurationList { min_ns, max_ns } => {
            let n = value.split(',').count();
            (1..=MAX_LIST).contains(&n)
                && value
                    .split(',')
                    .all(|v| parse_duration_ns(v).is_some_and(|v| (min_ns..=max_ns).contains(&v)))
        }
        OptKind::Choice(words) => words.contains(&value),
        OptKind::U64List { min, max } => list_ok(value, |v| {
            parse_u64(v).is_some_and(|v| (min..=max).contains(&v))
        }),
        OptKind::ChoiceList(words) => list_ok(value, |v| words.contains(&v)),
        OptKind::Form { accepts, .. } => accepts(value),
    }
}

/// 1..=MAX_LIST comma-separated items, each accepted by `item`.
fn list_ok(value: &str, item: impl Fn(&str) -> bool) -> bool {
    (1..=MAX_LIST).contains(&value.split(',').count()) && value.split(',').all(item)
}

impl<'a> Cmdline<'a> {
    /// The value of `probe`'s option `o`, or its default.
    pub fn opt<T: OptType>(&self, probe: &str, o: &Opt<T>) -> T::Value<'a> {
        o.read(self.raw_opt(probe, o.spec.key))
    }

    /// Parse `text` against the probe registry. `default_probes` is used when
    /// `probes=` is absent.
    pub fn parse<R>(
        text: &'a str,
        registry: &'a [ProbeSpec<R>],
        default_probes: &'a [&'a str],
    ) -> Result<Self, CmdlineError<'a>> {
        let mut c = Cmdline {
            probes: [""; MAX_PROBES],
            nprobes: 0,
            duration_s: None,
            loglevel: None,
            exit: ExitMode::Shutdown,
            evtchn_abi: None,
            vcpus: None,
            opts: [("", "", ""); MAX_OPTS],
            nopts: 0,
        };
        let mut seen_probes = false;
        for tok in text.split_ascii_whitespace() {
            let (key, value) = tok.split_once('=').ok_or(CmdlineError::NotKeyValue(tok))?;
            match key {
                "probes" => {
                    if seen_probes {
                        return Err(CmdlineError::Duplicate(key));
                    }
                    seen_probes = true;
                    c.set_probes(value.split(',').filter(|p| !p.is_empty()), registry)?;
                }
                "duration" | "loglevel" | "exit" | "evtchn.abi" | "vcpus" => {
                    c.set_global(key, value)?
                }
                _ => c.add_option(key, value, registry)?,
            }
        }
        if !seen_probes {
            c.set_probes(default_probes.iter().copied(), registry)?;
        }
        c.check_options_selected()?;
        Ok(c)
    }

    fn set_probes<R>(
        &mut self,
        names: impl Iterator<Item = &'a str>,
        registry: &'a [ProbeSpec<R>],
    ) -> Result<(), CmdlineError<'a>> {
        for name in names {
            let spec = registry.iter().find(|p| p.name == name);
            let spec = spec.ok_or(CmdlineError::UnknownProbe(name))?;
            if self.probes().any(|p| p == spec.name) {
                return Err(CmdlineError::Duplicate(name));
            }
            if self.nprobes == MAX_PROBES {
                return Err(CmdlineError::TooMany {
                    what: "probes",
                    max: MAX_PROBES,
                });
            }
            self.probes[self.nprobes] = spec.name;
            self.nprobes += 1;
        }
        if self.nprobes == 0 {
            return Err(CmdlineError::NoProbes);
        }
        Ok(())
    }

    fn set_global(&mut self, key: &'a str, value: &'a str) -> Result<(), CmdlineError<'a>> {
        let spec = GLOBAL_KEYS
            .iter()
            .find(|s| s.key == key)
            .ok_or(CmdlineError::UnknownKey(key))?;
        if !value_ok(spec.kind, value) {
            return Err(CmdlineError::BadValue {
                key,
                value,
                kind: spec.kind.tag(),
            });
        }
        let dup = match key {
            "duration" => self
                .duration_s
                .replace(parse_u64(value).unwrap_or(0))
                .is_some(),
            "loglevel" => self.loglevel.replace(value).is_some(),
            "vcpus" => self.vcpus.replace(parse_u64(value).unwrap_or(1)).is_some(),
            "evtchn.abi" => {
                let abi = if value == "2l" {
                    EvtchnAbi::TwoLevel
                } else {
                    EvtchnAbi::Fifo
                };
                self.evtchn_abi.replace(abi).is_some()
            }
            _ => {
                let old = self.exit;
                self.exit = if value == "isa-debug-exit" {
                    ExitMode::IsaDebugExit
                } else {
                    ExitMode::Shutdown
                };
                old != ExitMode::Shutdown
            }
        };
        if dup {
            return Err(CmdlineError::Duplicate(key));
        }
        Ok(())
    }

    fn add_option<R>(
        &mut self,
        key: &'a str,
        value: &'a str,
        registry: &'a [ProbeSpec<R>],
    ) -> Result<(), CmdlineError<'a>> {
        // The probe is the longest registered name that `key` starts with, followed by '.'.
        let spec = registry
            .iter()
            .filter(|p| key.len() > p.name.len() + 1 && key.starts_with(p.name))
            .filter(|p| key.as_bytes()[p.name.len()] == b'.')
            .max_by_key(|p| p.name.len())
            .ok_or(CmdlineError::UnknownKey(key))?;
        let opt_key = &key[spec.name.len() + 1..];
        let opt = spec.options.iter().find(|o| o.key == opt_key);
        let opt = opt.ok_or(CmdlineError::UnknownOption {
            probe: spec.name,
            key: opt_key,
        })?;
        if !value_ok(opt.kind, value) {
            return Err(CmdlineError::BadValue {
                key,
                value,
                kind: opt.kind.tag(),
            });
        }
        if self.raw_opt(spec.name, opt.key).is_some() {
            return Err(CmdlineError::Duplicate(key));
        }
        if self.nopts == MAX_OPTS {
            return Err(CmdlineError::TooMany {
                what: "options",
                max: MAX_OPTS,
            });
        }
        self.opts[self.nopts] = (spec.name, opt.key, value);
        self.nopts += 1;
        Ok(())
    }

    fn check_options_selected(&self) -> Result<(), CmdlineError<'a>> {
        for &(probe, key, _) in &self.opts[..self.nopts] {
            if !self.probes().any(|p| p == probe) {
                return Err(CmdlineError::NotSelected { key, probe });
            }
        }
        Ok(())
    }

    /// The selected probes, in command-line order.
    pub fn probes(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.probes[..self.nprobes].iter().copied()
    }

    /// The raw value of `probe.key`, if given.
    fn raw_opt(&self, probe: &str, key: &str) -> Option<&'a str> {
        let opts = &self.opts[..self.nopts];
        opts.iter()
            .find(|(p, k, _)| *p == probe && *k == key)
            .map(|&(_, _, v)| v)
    }
}

/// Renders a [`CmdlineError`] with the accepted alternatives from the registry.
pub struct Explain<'e, 'a, R>(pub &'e CmdlineError<'a>, pub &'a [ProbeSpec<R>]);

impl<R> fmt::Display for Explain<'_, '_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reg = self.1;
        let names = || reg.iter().map(|p| &p.name);
        match *self.0 {
            CmdlineError::NotKeyValue(t) => {
                write!(f, "'{t}' is not key=value (keys: probes, duration, loglevel, exit, evtchn.abi, vcpus, <probe>.<option>)")
            }
            CmdlineError::UnknownKey(k) => {
                write!(f, "unknown key '{k}' (accepted: probes, duration, loglevel, exit, evtchn.abi, vcpus, <probe>.<option> for probes ")?;
                join(f, names())?;
                f.write_str(")")
            }
            CmdlineError::UnknownProbe(p) => {
                write!(f, "unknown probe '{p}' in probes= (available: ")?;
                join(f, names())?;
                f.write_str(")")
            }
            CmdlineError::UnknownOption { probe, key } => {
                write!(f, "unknown option '{probe}.{key}' (")?;
                let spec = reg.iter().find(|p| p.name == probe);
                match spec.map(|s| s.options).filter(|o| !o.is_empty()) {
                    Some(opts) => {
                        write!(f, "{probe} accepts: ")?;
                        for (i, o) in opts.iter().enumerate() {
                            write!(f, "{}{o}", if i > 0 { "; " } else { "" })?;
                        }
                    }
                    None => write!(f, "{probe} takes no options")?,
                }
                f.write_str(")")
            }
            CmdlineError::NotSelected { key, probe } => {
                write!(
                    f,
                    "option '{key}' is set but probe '{probe}' is not in probes="
                )
            }
            CmdlineError::BadValue { key, value, kind } => {
                write!(f, "bad value '{value}' for {key} (expected {kind})")
            }
            CmdlineError::Duplicate(k) => write!(f, "'{k}' is given twice"),
            CmdlineError::TooMany { what, max } => write!(f, "too many {what} (at most {max})"),
            CmdlineError::NoProbes => f.write_str("probes= selects no probe"),
        }
    }
}

#[cfg(test)]
mod tests;
