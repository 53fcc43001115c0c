use super::*;
use proptest::prelude::*;

const INTERVALS: Opt<Durs> = Opt::<Durs>::new("intervals", (1_000, 10_000_000_000), &[7, 8], "");
const SAMPLES: Opt<Num> = Opt::<Num>::new("samples", 1, 100_000, 1, "");
const MODE: Opt<Word> = Opt::<Word>::new("mode", &["block", "poll"], "block", "");
const BACK: Opt<Given<Text>> = Opt::<Given<Text>>::form(
    "back",
    |v| crate::ringpol::Policy::parse(v).is_ok(),
    &[crate::ringpol::ACCEPTED],
    "",
);
const TIMER_OPTS: &[OptSpec] = &[INTERVALS.spec, SAMPLES.spec, MODE.spec, BACK.spec];
const REG: &[ProbeSpec] = &[
    ProbeSpec {
        name: "platform",
        about: "",
        options: &[],
        run: (),
    },
    ProbeSpec {
        name: "timer",
        about: "",
        options: TIMER_OPTS,
        run: (),
    },
    ProbeSpec {
        name: "selftest.panic",
        about: "",
        options: &[],
        run: (),
    },
];
const DEF: &[&str] = &["platform"];

fn err(s: &str) -> String {
    let e = Cmdline::parse(s, REG, DEF).unwrap_err();
    Explain(&e, REG).to_string()
}

#[test]
fn defaults() {
    let c = Cmdline::parse("", REG, DEF).unwrap();
    assert_eq!(c.probes().collect::<Vec<_>>(), ["platform"]);
    assert_eq!(c.duration_s, None);
    assert_eq!(c.exit, ExitMode::Shutdown);
    assert_eq!(c.evtchn_abi, None);
}

#[test]
fn evtchn_abi_is_global_whatever_probes_run() {
    for (v, abi) in [("2l", EvtchnAbi::TwoLevel), ("fifo", EvtchnAbi::Fifo)] {
        let line = format!("probes=timer evtchn.abi={v}");
        let c = Cmdline::parse(&line, REG, DEF).unwrap();
        assert_eq!((c.evtchn_abi, abi.name()), (Some(abi), v));
    }
    let e = err("evtchn.abi=3l");
    assert!(
        e.contains("bad value '3l' for evtchn.abi") && e.contains("one of: 2l, fifo"),
        "{e}"
    );
    assert!(err("evtchn.abi=2l evtchn.abi=fifo").contains("'evtchn.abi' is given twice"));
    assert!(err("bogus=1").contains("exit, evtchn.abi, vcpus, <probe>"));
}

#[test]
fn full_line() {
    let line = "probes=timer,platform duration=30 timer.samples=500 timer.intervals=100us,1ms \
                exit=isa-debug-exit loglevel=debug";
    let c = Cmdline::parse(line, REG, DEF).unwrap();
    assert_eq!(c.probes().collect::<Vec<_>>(), ["timer", "platform"]);
    assert_eq!(c.duration_s, Some(30));
    assert_eq!(c.opt("timer", &SAMPLES), 500);
    assert_eq!(c.opt("timer", &INTERVALS).as_slice(), [100_000, 1_000_000]);
    assert_eq!(c.opt("timer", &MODE), "block");
    assert_eq!(c.exit, ExitMode::IsaDebugExit);
    assert_eq!(c.loglevel, Some("debug"));
}

#[test]
fn list_default_used_when_absent() {
    let c = Cmdline::parse("probes=timer", REG, DEF).unwrap();
    assert_eq!(c.opt("timer", &INTERVALS).as_slice(), [7, 8]);
}

#[test]
fn probe_names_with_dots() {
    let c = Cmdline::parse("probes=selftest.panic", REG, DEF).unwrap();
    assert_eq!(c.probes().collect::<Vec<_>>(), ["selftest.panic"]);
    assert!(
        err("probes=selftest.panic selftest.panic.x=1").contains("selftest.panic takes no options")
    );
}

#[test]
fn errors_name_the_culprit_and_alternatives() {
    let e = err("probes=platform bogus=1");
    assert!(
        e.contains("unknown key 'bogus'") && e.contains("platform, timer"),
        "{e}"
    );
    let e = err("probes=nope");
    assert!(
        e.contains("unknown probe 'nope'") && e.contains("available: platform"),
        "{e}"
    );
    let e = err("probes=timer timer.sample=3");
    assert!(
        e.contains("'timer.sample'")
            && e.contains("timer accepts: intervals: ")
            && e.contains("; samples: (a whole number in 1..=100000; default 1); mode: "),
        "{e}"
    );
    let e = err("probes=timer timer.samples=0");
    assert!(
        e.contains("bad value '0' for timer.samples") && e.contains("1..=100000"),
        "{e}"
    );
    let e = err("duration=ten");
    assert!(e.contains("bad value 'ten' for duration"), "{e}");
    let e = err("timer.samples=3");
    assert!(e.contains("probe 'timer' is not in probes="), "{e}");
    assert!(err("probes=timer timer.mode=spin").contains("one of: block, poll"));
    assert!(err("probes=timer timer.intervals=5").contains("durations like"));
    assert!(err("hello").contains("'hello' is not key=value"));
    assert!(err("duration=1 duration=2").contains("'duration' is given twice"));
    assert!(err("probes=platform,platform").contains("given twice"));
    assert!(err("probes=").contains("selects no probe"));
    assert!(err("exit=halt").contains("one of: shutdown, isa-debug-exit"));
}

#[test]
fn exit_mode_survives_a_bad_line() {
    let line = "bogus=1 exit=isa-debug-exit";
    assert!(Cmdline::parse(line, REG, DEF).is_err());
    assert_eq!(exit_mode_hint(line), ExitMode::IsaDebugExit);
    assert_eq!(exit_mode_hint("exit=shutdown"), ExitMode::Shutdown);
}

#[test]
fn durations() {
    assert_eq!(parse_duration_ns("250ns"), Some(250));
    assert_eq!(parse_duration_ns("100us"), Some(100_000));
    assert_eq!(parse_duration_ns("10ms"), Some(10_000_000));
    assert_eq!(parse_duration_ns("2s"), Some(2_000_000_000));
    assert_eq!(parse_duration_ns("0"), Some(0));
    for bad in [
        "",
        "5",
        "ms",
        "1.5ms",
        "-1s",
        "99999999999999999999s",
        "18446744073709551615s",
    ] {
        assert_eq!(parse_duration_ns(bad), None, "{bad}");
    }
    assert_eq!(Ns(1_500).to_string(), "1500ns");
    assert_eq!(Ns(2_000_000).to_string(), "2ms");
}

proptest! {
    #[test]
    fn never_panics(s in "\\PC{0,200}") {
        if let Err(e) = Cmdline::parse(&s, REG, DEF) {
            let _ = Explain(&e, REG).to_string();
        }
    }

    #[test]
    fn samples_round_trip(n in 1u64..=100_000) {
        let line = format!("probes=timer timer.samples={n}");
        let c = Cmdline::parse(&line, REG, DEF).unwrap();
        prop_assert_eq!(c.opt("timer", &SAMPLES), n);
    }
}

#[test]
fn list_kinds() {
    let ints = OptKind::U64List { min: 0, max: 1008 };
    assert!(value_ok(ints, "16,64,1008"));
    assert!(!value_ok(ints, "16,2000"));
    assert!(!value_ok(ints, "16,,64"));
    assert!(!value_ok(ints, &"1,".repeat(MAX_LIST + 1)));
    let words = OptKind::ChoiceList(&["a", "b"]);
    assert!(value_ok(words, "a,b,a"));
    assert!(!value_ok(words, "a,c"));
    let msg = alloc_fmt(ints.tag());
    assert!(msg.contains("list") && msg.contains("0..=1008"), "{msg}");
    assert!(alloc_fmt(words.tag()).ends_with("of: a, b"));
}

fn alloc_fmt(t: OptKindTag) -> String {
    format!("{t}")
}

#[test]
fn form_values_name_the_accepted_forms() {
    let c = Cmdline::parse("probes=timer timer.back=epoch:25ms", REG, DEF).unwrap();
    assert_eq!(c.opt("timer", &BACK), Some("epoch:25ms"));
    let msg = err("probes=timer timer.back=epoch:0");
    assert_eq!(
        msg,
        "bad value 'epoch:0' for timer.back (expected one of the forms echo, delay:D, epoch:E, \
         jitter:D; D and E durations like 500us, 5ms, 1s in 10us..=10s)"
    );
}
