//! The `@xp` records, defined once: every kind and its fields.
//!
//! The kernel builds these structs with borrowed text (`&dyn Display`) and writes them with
//! the no_std encoder ([`write`], over [`crate::json::Obj`]); the host reads them back with
//! serde (feature `serde`) as [`Record`], whose variants hold the same structs with owned
//! text ([`owned`]). Kind names and field names come from this one definition: the encoder
//! writes each field under its Rust name and serde reads it under the same name, so renaming
//! a kind or a field changes both sides or fails to compile on the one that uses it.
//!
//! A field that older probe builds did not write is an `Option` (omitted when `None`), so
//! logs recorded before it existed still read.

use crate::hist;
use crate::json::Obj;
use crate::outcome::{Outcome, RECORD_PREFIX};
use core::fmt::{self, Display, Write};

/// A value a record field can hold, as the kernel's encoder writes it.
pub trait Encode {
    /// Add the field `key` with this value to `o` (an `Option` that is `None` adds nothing).
    fn put<'w, W: Write>(&self, key: &str, o: Obj<'w, W>) -> Obj<'w, W>;
}

impl Encode for u64 {
    fn put<'w, W: Write>(&self, key: &str, o: Obj<'w, W>) -> Obj<'w, W> {
        o.u64(key, *self)
    }
}

impl Encode for i64 {
    fn put<'w, W: Write>(&self, key: &str, o: Obj<'w, W>) -> Obj<'w, W> {
        o.i64(key, *self)
    }
}

impl Encode for &str {
    fn put<'w, W: Write>(&self, key: &str, o: Obj<'w, W>) -> Obj<'w, W> {
        o.str(key, self)
    }
}

impl Encode for &dyn Display {
    fn put<'w, W: Write>(&self, key: &str, o: Obj<'w, W>) -> Obj<'w, W> {
        o.display(key, self)
    }
}

impl<T: Encode> Encode for Option<T> {
    fn put<'w, W: Write>(&self, key: &str, o: Obj<'w, W>) -> Obj<'w, W> {
        match self {
            Some(v) => v.put(key, o),
            None => o,
        }
    }
}

#[cfg(feature = "serde")]
impl Encode for String {
    fn put<'w, W: Write>(&self, key: &str, o: Obj<'w, W>) -> Obj<'w, W> {
        o.str(key, self)
    }
}

#[cfg(feature = "serde")]
impl Encode for Vec<[u64; 3]> {
    fn put<'w, W: Write>(&self, key: &str, o: Obj<'w, W>) -> Obj<'w, W> {
        o.raw(key, |w| {
            w.write_char('[')?;
            for (i, [lo, hi, n]) in self.iter().enumerate() {
                write!(w, "{}[{lo},{hi},{n}]", if i > 0 { "," } else { "" })?;
            }
            w.write_char(']')
        })
    }
}

/// An outcome as the `Test result:` line spells it (`SUCCESS`, ...): `result` fields.
impl Encode for Outcome {
    fn put<'w, W: Write>(&self, key: &str, o: Obj<'w, W>) -> Obj<'w, W> {
        o.str(key, self.name())
    }
}

/// A check's verdict, spelt `pass`, `skip`, `error` or `fail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict(pub Outcome);

impl Verdict {
    pub fn passed(self) -> bool {
        self.0 == Outcome::Success
    }
}

impl Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.verdict())
    }
}

impl Encode for Verdict {
    fn put<'w, W: Write>(&self, key: &str, o: Obj<'w, W>) -> Obj<'w, W> {
        o.str(key, self.0.verdict())
    }
}

/// The kernel's histogram buckets: the non-empty ones as `[lo, hi, n]` triples.
pub struct Buckets<'a>(pub &'a hist::Histogram);

impl Encode for Buckets<'_> {
    fn put<'w, W: Write>(&self, key: &str, o: Obj<'w, W>) -> Obj<'w, W> {
        o.raw(key, |w| {
            w.write_char('[')?;
            for (i, (lo, hi, n)) in self.0.iter_nonzero().enumerate() {
                write!(w, "{}[{lo},{hi},{n}]", if i > 0 { "," } else { "" })?;
            }
            w.write_char(']')
        })
    }
}

/// One kind of record: its name and how its fields are written.
pub trait Kind {
    /// The `kind` field's value.
    const KIND: &'static str;
    /// Add every field (after `kind`).
    fn fields<'w, W: Write>(&self, o: Obj<'w, W>) -> Obj<'w, W>;
}

/// Write `r` as one console line: `@xp {"kind":...}` and a newline.
pub fn write<W: Write, R: Kind>(w: &mut W, r: &R) -> fmt::Result {
    w.write_str(RECORD_PREFIX)?;
    r.fields(Obj::new(w).str("kind", R::KIND)).end()?;
    w.write_char('\n')
}

macro_rules! records {
    ($(
        $(#[$doc:meta])*
        $kind:literal => $Name:ident<$($g:ident),*> {
            $( $(#[$fdoc:meta])* $f:ident : $t:ty ),+ $(,)?
        } owned <$($o:ty),*>;
    )+) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, PartialEq)]
            #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
            pub struct $Name<$($g),*> {
                $( $(#[$fdoc])* pub $f: $t, )+
            }

            impl<$($g: Encode),*> Kind for $Name<$($g),*> {
                const KIND: &'static str = $kind;
                fn fields<'w, W: Write>(&self, o: Obj<'w, W>) -> Obj<'w, W> {
                    $( let o = self.$f.put(stringify!($f), o); )+
                    o
                }
            }
        )+

        /// The records as the host reads them (owned text).
        #[cfg(feature = "serde")]
        pub mod owned {
            $( pub type $Name = super::$Name<$($o),*>; )+
        }

        /// Any record, as read from a console line.
        #[cfg(feature = "serde")]
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "kind")]
        pub enum Record {
            $( #[serde(rename = $kind)] $Name(owned::$Name), )+
        }

        #[cfg(feature = "serde")]
        impl Record {
            /// The `kind` field's value.
            pub fn kind(&self) -> &'static str {
                match self { $( Record::$Name(_) => $kind, )+ }
            }
        }

        $(
            #[cfg(feature = "serde")]
            impl Pick for owned::$Name {
                fn pick(r: &Record) -> Option<&Self> {
                    match r {
                        Record::$Name(x) => Some(x),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        )+
    };
}

records! {
    /// The first record of a run.
    "start" => Start<S> {
        version: S,
        cmdline: S,
        /// `dom0` or `domU`.
        mode: S,
        /// Xen's version and extraversion (`4.17.7`).
        xen_version: Option<S>,
    } owned <String>;

    /// A probe begins: it is the `index`th (from 1) of the `of` probes the command line runs.
    "probe_start" => ProbeStart<S> {
        probe: S,
        about: S,
        index: u64,
        of: u64,
    } owned <String>;

    /// A fact about the environment.
    "info" => Info<S> {
        probe: S,
        key: S,
        value: S,
    } owned <String>;

    /// A check: what was expected, what was seen, and the verdict.
    "check" => Check<S> {
        probe: S,
        name: S,
        verdict: Verdict,
        expected: S,
        observed: S,
    } owned <String>;

    /// One measured value with its unit and method.
    "metric" => Metric<S> {
        probe: S,
        name: S,
        value: u64,
        unit: S,
        method: S,
    } owned <String>;

    /// A distribution's statistics (percentiles are bucket upper bounds).
    "stats" => Stats<S> {
        probe: S,
        name: S,
        unit: S,
        count: u64,
        min: u64,
        avg: u64,
        p50: u64,
        p99: u64,
        p999: u64,
        max: u64,
        method: S,
        precision: Option<S>,
    } owned <String>;

    /// The non-empty buckets of a distribution, `[lo, hi, n]` each.
    "histogram" => Histogram<S, B> {
        probe: S,
        name: S,
        unit: S,
        buckets: B,
    } owned <String, Vec<[u64; 3]>>;

    /// The probe (or, without `probe`, the run) is broken; `vcpu` when one vCPU's loop is.
    "error" => Error<S> {
        probe: Option<S>,
        vcpu: Option<u64>,
        msg: S,
    } owned <String>;

    /// A probe ended with `result` after `elapsed_ns`.
    "probe_end" => ProbeEnd<S> {
        probe: S,
        result: Outcome,
        elapsed_ns: u64,
    } owned <String>;

    /// The pvclock advanced more than Xen's runstate accounted for.
    "clock_jump" => ClockJump<S> {
        probe: S,
        vcpu: Option<u64>,
        start_ns: u64,
        pvclock_gap_ns: u64,
        runstate_ns: u64,
        before_system_time: u64,
        before_tsc_timestamp: u64,
        before_tsc: u64,
        after_system_time: u64,
        after_tsc_timestamp: u64,
        after_tsc: u64,
        mul: u64,
        shift: i64,
    } owned <String>;

    /// A stall: a heartbeat gap above the threshold, classified from the runstate over it.
    /// The clock fields are the pvclock record in use when it ended: with them the host maps
    /// the TSC stamps of Xen's own trace (xentrace) to Xen system time.
    "stall" => Stall<S> {
        probe: S,
        /// The vCPU whose heartbeat stopped (absent in single-vCPU logs of older builds).
        vcpu: Option<u64>,
        start_ns: u64,
        /// UTC (ns since the epoch) of the start; 0 when the guest had no wall clock.
        start_wall_ns: u64,
        gap_ns: u64,
        class: S,
        reason: S,
        running_ns: u64,
        runnable_ns: u64,
        blocked_ns: u64,
        offline_ns: u64,
        blocked_past_deadline_ns: u64,
        runstate_coverage_permille: u64,
        tsc_timestamp: Option<u64>,
        system_time: Option<u64>,
        tsc_to_system_mul: Option<u64>,
        tsc_shift: Option<i64>,
        late_ns: Option<u64>,
    } owned <String>;

    /// A sibling's watchdog: vCPU `vcpu` has been silent past the threshold (`event` `stuck`,
    /// with its runstate and the classification so far) or beats again (`recovered`, after
    /// `silent_ns`); `watcher` is the vCPU that saw it.
    "watchdog" => Watchdog<S> {
        probe: S,
        vcpu: u64,
        watcher: u64,
        event: S,
        so_far_ns: Option<u64>,
        threshold_ns: Option<u64>,
        state_now: Option<S>,
        class: Option<S>,
        reason: Option<S>,
        running_ns: Option<u64>,
        runnable_ns: Option<u64>,
        blocked_ns: Option<u64>,
        offline_ns: Option<u64>,
        silent_ns: Option<u64>,
    } owned <String>;

    /// How many vCPUs run the probes, of those the domain has.
    "vcpus" => Vcpus<> {
        running: u64,
        available: u64,
    } owned <>;

    /// A sibling vCPU did not take an event sent to it in time: how long it was waited for,
    /// its runstate now, and the classification of the gap.
    "wakeup_late" => WakeupLate<S> {
        probe: S,
        vcpu: u64,
        waited_ns: u64,
        state_now: S,
        class: S,
        reason: S,
    } owned <String>;

    /// The stall probe's periodic summary.
    "summary" => Summary<S> {
        probe: S,
        vcpu: Option<u64>,
        elapsed_ns: u64,
        beats: u64,
        interval_p50_ns: u64,
        interval_p99_ns: u64,
        interval_max_ns: u64,
        steal_ppm: u64,
        running_ns: u64,
        runnable_ns: u64,
        blocked_ns: u64,
        offline_ns: u64,
        heap_used_bytes: Option<u64>,
    } owned <String>;

    /// The probe crashed: a trap (`vector`, `name`, `error_code`, `rip`, `cr2`) or a panic
    /// (`message`, `location`).
    "crash" => Crash<S> {
        /// `trap` or `panic`.
        reason: S,
        vector: Option<u64>,
        name: Option<S>,
        error_code: Option<u64>,
        rip: Option<S>,
        cr2: Option<S>,
        message: Option<S>,
        location: Option<S>,
    } owned <String>;

    /// The run's verdict (the `Test result:` line follows).
    "result" => RunResult<> {
        result: Outcome,
    } owned <>;
}

/// Picks one kind out of a [`Record`].
#[cfg(feature = "serde")]
pub trait Pick: Sized {
    fn pick(r: &Record) -> Option<&Self>;
}

#[cfg(feature = "serde")]
impl Record {
    /// The probe the record belongs to, if any.
    pub fn probe(&self) -> Option<&str> {
        match self {
            Record::ProbeStart(r) => Some(&r.probe),
            Record::Info(r) => Some(&r.probe),
            Record::Check(r) => Some(&r.probe),
            Record::Metric(r) => Some(&r.probe),
            Record::Stats(r) => Some(&r.probe),
            Record::Histogram(r) => Some(&r.probe),
            Record::Error(r) => r.probe.as_deref(),
            Record::ProbeEnd(r) => Some(&r.probe),
            Record::ClockJump(r) => Some(&r.probe),
            Record::Stall(r) => Some(&r.probe),
            Record::Summary(r) => Some(&r.probe),
            Record::WakeupLate(r) => Some(&r.probe),
            Record::Watchdog(r) => Some(&r.probe),
            Record::Start(_) | Record::Crash(_) | Record::RunResult(_) | Record::Vcpus(_) => None,
        }
    }

    /// Read one record from the JSON after `@xp `; the error names the kind when it is known.
    pub fn parse(json: &str) -> Result<Record, String> {
        let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if !v.is_object() {
            return Err("not a JSON object".into());
        }
        let kind = v["kind"].as_str().map(str::to_string);
        serde_json::from_value(v).map_err(|e| match kind {
            Some(k) => format!("a `{k}` record: {e}"),
            None => format!("no `kind`: {e}"),
        })
    }
}

#[cfg(feature = "serde")]
impl owned::Crash {
    /// What happened, in words: `probe panicked: ... at file:line:col`, or `probe trapped:
    /// vector 14 (#PF) at rip 0x..., error code 0x2, cr2 0x...`.
    pub fn describe(&self) -> String {
        let s = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".into());
        if self.reason == "panic" {
            return format!(
                "probe panicked: {} at {}",
                s(&self.message),
                s(&self.location)
            );
        }
        let vector = self.vector.map_or("?".into(), |v| v.to_string());
        let code = self.error_code.map_or("?".into(), |e| format!("{e:#x}"));
        let cr2 = self.cr2.as_ref().map(|c| format!(", cr2 {c}"));
        format!(
            "probe trapped: vector {vector} ({}) at rip {}, error code {code}{}",
            s(&self.name),
            s(&self.rip),
            cr2.unwrap_or_default()
        )
    }
}

/// Records of one kind, in order.
#[cfg(feature = "serde")]
pub fn of<'a, T: Pick + 'a>(records: &'a [Record]) -> impl Iterator<Item = &'a T> {
    records.iter().filter_map(T::pick)
}

#[cfg(feature = "serde")]
mod serde_impls {
    use super::Verdict;
    use crate::outcome::Outcome;
    use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

    fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Outcome, D::Error> {
        let s = String::deserialize(d)?;
        Outcome::parse(&s).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown outcome {s:?} (accepted: SUCCESS, SKIP, ERROR, FAILURE, pass, skip, error, fail)"
            ))
        })
    }

    impl Serialize for Outcome {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.name())
        }
    }
    impl<'de> Deserialize<'de> for Outcome {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            parse(d)
        }
    }
    impl Serialize for Verdict {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.0.verdict())
        }
    }
    impl<'de> Deserialize<'de> for Verdict {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            parse(d).map(Verdict)
        }
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests;
