//! Probe options declared once: a typed handle holds the option's key, the values it
//! accepts, its default and its help, and is what the probe reads the value through
//! (`ctx.opt(&SAMPLES)`). A misspelt handle does not compile; the default lives in one place
//! and the help text shows it.

use super::{parse_duration_ns, parse_u64, Ns, OptKind, OptSpec, MAX_LIST};
use core::fmt;
use core::marker::PhantomData;

/// An option's default, as the help shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dflt {
    /// Absent unless given (the probe decides what that means).
    None,
    U64(u64),
    Ns(u64),
    U64s(&'static [u64]),
    Nss(&'static [u64]),
    Word(&'static str),
}

impl fmt::Display for Dflt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, v: &[u64], ns: bool| {
            for (i, x) in v.iter().enumerate() {
                f.write_str(if i > 0 { "," } else { "" })?;
                match ns {
                    true => write!(f, "{}", Ns(*x))?,
                    false => write!(f, "{x}")?,
                }
            }
            Ok(())
        };
        match *self {
            Dflt::None => f.write_str("none"),
            Dflt::U64(v) => write!(f, "{v}"),
            Dflt::Ns(v) => write!(f, "{}", Ns(v)),
            Dflt::U64s(v) => list(f, v, false),
            Dflt::Nss(v) => list(f, v, true),
            Dflt::Word(w) => f.write_str(w),
        }
    }
}

/// `key: help (accepts ...; default ...)`, the help line of an option.
impl fmt::Display for OptSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.key)?;
        if !self.help.is_empty() {
            write!(f, "{} ", self.help)?;
        }
        write!(f, "({}", self.kind.tag())?;
        match self.default {
            Dflt::None => f.write_str(")"),
            d => write!(f, "; default {d})"),
        }
    }
}

/// Up to [`MAX_LIST`] numbers (a list option's value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct List {
    items: [u64; MAX_LIST],
    len: usize,
}

impl List {
    fn from_iter(it: impl Iterator<Item = u64>) -> List {
        let mut l = List {
            items: [0; MAX_LIST],
            len: 0,
        };
        for v in it.take(MAX_LIST) {
            l.items[l.len] = v;
            l.len += 1;
        }
        l
    }

    pub fn as_slice(&self) -> &[u64] {
        &self.items[..self.len]
    }
}

/// How a kind of option reads its value from the command line text.
pub trait OptType {
    /// The typed default a handle holds.
    type Default: Copy;
    /// What the probe gets.
    type Value<'a>;
    fn read<'a>(raw: Option<&'a str>, default: Self::Default) -> Self::Value<'a>;
}

/// A whole number.
pub struct Num;
/// A duration, read in nanoseconds.
pub struct Dur;
/// A list of whole numbers.
pub struct Nums;
/// A list of durations, in nanoseconds.
pub struct Durs;
/// One of a set of words.
pub struct Word;
/// A list of words of a set.
pub struct Words;
/// An option without a default: `Some` only when given.
pub struct Given<T>(PhantomData<T>);

impl OptType for Num {
    type Default = u64;
    type Value<'a> = u64;
    fn read(raw: Option<&str>, d: u64) -> u64 {
        raw.and_then(parse_u64).unwrap_or(d)
    }
}

impl OptType for Dur {
    type Default = u64;
    type Value<'a> = u64;
    fn read(raw: Option<&str>, d: u64) -> u64 {
        raw.and_then(parse_duration_ns).unwrap_or(d)
    }
}

fn list(raw: Option<&str>, d: &[u64], parse: fn(&str) -> Option<u64>) -> List {
    match raw {
        Some(v) => List::from_iter(v.split(',').filter_map(parse)),
        None => List::from_iter(d.iter().copied()),
    }
}

impl OptType for Nums {
    type Default = &'static [u64];
    type Value<'a> = List;
    fn read(raw: Option<&str>, d: &'static [u64]) -> List {
        list(raw, d, parse_u64)
    }
}

impl OptType for Durs {
    type Default = &'static [u64];
    type Value<'a> = List;
    fn read(raw: Option<&str>, d: &'static [u64]) -> List {
        list(raw, d, parse_duration_ns)
    }
}

impl OptType for Word {
    type Default = &'static str;
    type Value<'a> = &'a str;
    fn read<'a>(raw: Option<&'a str>, d: &'static str) -> &'a str {
        raw.unwrap_or(d)
    }
}

impl OptType for Words {
    type Default = &'static str;
    type Value<'a> = core::iter::Filter<core::str::Split<'a, char>, fn(&&str) -> bool>;
    fn read<'a>(raw: Option<&'a str>, d: &'static str) -> Self::Value<'a> {
        let keep: fn(&&str) -> bool = |w| !w.is_empty();
        raw.unwrap_or(d).split(',').filter(keep)
    }
}

/// The value as given (a form only the probe parses).
pub struct Text;

impl<T: OptType> OptType for Given<T> {
    type Default = T::Default;
    type Value<'a> = Option<T::Value<'a>>;
    fn read<'a>(raw: Option<&'a str>, d: T::Default) -> Self::Value<'a> {
        raw.map(|r| T::read(Some(r), d))
    }
}

impl OptType for Text {
    type Default = ();
    type Value<'a> = &'a str;
    fn read(raw: Option<&str>, _: ()) -> &str {
        raw.unwrap_or("")
    }
}

/// A probe option: its spec (key, accepted values, default, help) and its typed default.
pub struct Opt<T: OptType> {
    pub spec: OptSpec,
    default: T::Default,
}

impl<T: OptType> Opt<T> {
    /// The value from the command line text (validated at parse time), or the default.
    pub fn read<'a>(&self, raw: Option<&'a str>) -> T::Value<'a> {
        T::read(raw, self.default)
    }
}

/// `&'static str`, `&'static [&'static str]`: the constructors' argument types.
type S = &'static str;
type Ws = &'static [&'static str];

impl<T: OptType> Opt<T> {
    const fn with(key: S, kind: OptKind, d: Dflt, help: S, default: T::Default) -> Self {
        let spec = OptSpec {
            key,
            kind,
            help,
            default: d,
        };
        Opt { spec, default }
    }
}

impl Opt<Num> {
    pub const fn new(key: S, min: u64, max: u64, d: u64, help: S) -> Self {
        Opt::with(key, OptKind::U64 { min, max }, Dflt::U64(d), help, d)
    }
}

impl Opt<Dur> {
    pub const fn new(key: S, min_ns: u64, max_ns: u64, d: u64, help: S) -> Self {
        let kind = OptKind::Duration { min_ns, max_ns };
        Opt::with(key, kind, Dflt::Ns(d), help, d)
    }
}

impl Opt<Nums> {
    pub const fn new(key: S, (min, max): (u64, u64), d: &'static [u64], help: S) -> Self {
        Opt::with(key, OptKind::U64List { min, max }, Dflt::U64s(d), help, d)
    }
}

impl Opt<Durs> {
    pub const fn new(key: S, (min_ns, max_ns): (u64, u64), d: &'static [u64], help: S) -> Self {
        let kind = OptKind::DurationList { min_ns, max_ns };
        Opt::with(key, kind, Dflt::Nss(d), help, d)
    }
}

impl Opt<Word> {
    pub const fn new(key: S, words: Ws, d: S, help: S) -> Self {
        Opt::with(key, OptKind::Choice(words), Dflt::Word(d), help, d)
    }
}

impl Opt<Words> {
    pub const fn new(key: S, words: Ws, d: S, help: S) -> Self {
        Opt::with(key, OptKind::ChoiceList(words), Dflt::Word(d), help, d)
    }
}

impl Opt<Given<Num>> {
    pub const fn new(key: S, min: u64, max: u64, help: S) -> Self {
        Opt::with(key, OptKind::U64 { min, max }, Dflt::None, help, 0)
    }
}

impl Opt<Given<Word>> {
    pub const fn new(key: S, words: Ws, help: S) -> Self {
        Opt::with(key, OptKind::Choice(words), Dflt::None, help, "")
    }
}

impl Opt<Given<Words>> {
    pub const fn new(key: S, words: Ws, help: S) -> Self {
        Opt::with(key, OptKind::ChoiceList(words), Dflt::None, help, "")
    }
}

impl Opt<Given<Text>> {
    /// A value in one of several forms that `accepts` recognises; `forms` describes them.
    pub const fn form(key: S, accepts: fn(&str) -> bool, forms: Ws, help: S) -> Self {
        Opt::with(key, OptKind::Form { accepts, forms }, Dflt::None, help, ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLES: Opt<Num> = Opt::<Num>::new("samples", 1, 1000, 200, "samples per interval");
    const INTERVALS: Opt<Durs> = Opt::<Durs>::new(
        "intervals",
        (1_000, 1_000_000_000),
        &[100_000, 1_000_000],
        "deadlines",
    );
    const PEER: Opt<Given<Num>> = Opt::<Given<Num>>::new("peer", 0, 0x7fef, "the other end");
    const MODES: Opt<Words> = Opt::<Words>::new("modes", &["echo", "ping"], "echo,ping", "modes");

    #[test]
    fn defaults_live_in_the_spec_and_the_help_shows_them() {
        assert_eq!(SAMPLES.read(None), 200);
        assert_eq!(SAMPLES.read(Some("7")), 7);
        assert_eq!(INTERVALS.read(None).as_slice(), [100_000, 1_000_000]);
        assert_eq!(INTERVALS.read(Some("5ms")).as_slice(), [5_000_000]);
        assert_eq!((PEER.read(None), PEER.read(Some("3"))), (None, Some(3)));
        assert_eq!(MODES.read(None).collect::<Vec<_>>(), ["echo", "ping"]);
        assert_eq!(
            SAMPLES.spec.to_string(),
            "samples: samples per interval (a whole number in 1..=1000; default 200)"
        );
        assert_eq!(
            INTERVALS.spec.to_string(),
            "intervals: deadlines (a comma-separated list (at most 16) of durations like 100us,1ms in 1us..=1s; default 100us,1ms)"
        );
        assert!(PEER.spec.to_string().ends_with("in 0..=32751)"));
    }
}
