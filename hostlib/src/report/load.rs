//! Reading what a report is made from: a probe console log (lab serial log, xenconsoled log,
//! `xl console` capture), the JSON of `cargo xtask run --json`, or the JSON of `cargo xtask bench`.

use super::figures::{self, Figure};
use crate::results::{self, Parsed, Verdict};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use xp_core::outcome::Outcome;
use xp_core::records::{self, owned, Pick, Record};

/// Where the run ran; `None` = the input does not say.
#[derive(Debug, Default, Clone)]
pub struct Env {
    pub xen_version: Option<String>,
    pub scheduler: Option<String>,
    pub xenstored: Option<String>,
    pub mode: Option<String>,
    pub cmdline: Option<String>,
    pub probe_version: Option<String>,
    pub memory_mib: Option<String>,
}

/// One run (or bench), whatever it was read from.
#[derive(Debug)]
pub struct Run {
    /// The file it came from.
    pub source: String,
    pub verdict: Verdict,
    /// Why, when the verdict is not the probe's own (crash, lab failure).
    pub reason: Option<String>,
    pub records: Vec<Record>,
    pub env: Env,
    /// Problems with the input, each naming its line when there is one.
    pub warnings: Vec<String>,
    /// The `lab` object of a `run --json` file.
    pub lab: Option<Value>,
    /// A bench file's figures (empty for a run).
    pub bench: Vec<Figure>,
    /// Xen's trace of the run (xentrace), shown around each stall (crate::xtrace).
    pub xentrace: Option<std::path::PathBuf>,
}

impl Run {
    /// Records of one kind (`run.of::<owned::Stall>()`).
    pub fn of<'a, T: Pick + 'a>(&'a self) -> impl Iterator<Item = &'a T> + 'a {
        records::of(&self.records)
    }

    /// Every figure: a bench's own, or those of the records (plus the lab's wall time).
    pub fn figures(&self) -> Vec<Figure> {
        if !self.bench.is_empty() {
            return self.bench.clone();
        }
        let mut f = figures::from_records(&self.records);
        if let Some(w) = self.lab.as_ref().and_then(|l| l["wall_s"].as_f64()) {
            let m = "host wall time of the lab run (initramfs, QEMU boot to power-off)";
            f.push(Figure::new("lab.wall".into(), w, "s", Some(1), m));
        }
        f
    }

    pub fn is_bench(&self) -> bool {
        !self.bench.is_empty()
    }
}

/// A console log: records, result line, and what the log says about its environment.
pub fn from_log(source: String, text: &str) -> Run {
    let p = results::parse_console(text);
    let mut warnings = parse_warnings(&p);
    warnings.extend(cut_inside_record(&p, text));
    if p.records.is_empty() && p.result.is_none() {
        warnings.push("no @xp record and no result line: is this a xenprobe console log?".into());
    }
    let verdict = p.verdict();
    let reason = (verdict == Verdict::Crash).then(|| {
        results::crash_reason(&p).unwrap_or_else(|| {
            "no `Test result:` line: the probe crashed, hung or the log is cut short".into()
        })
    });
    let mut env = Env::default();
    scan_log_env(text, &mut env);
    let mut run = Run {
        source,
        verdict,
        reason,
        records: p.records,
        env,
        warnings,
        lab: None,
        bench: Vec::new(),
        xentrace: None,
    };
    env_from_records(&mut run);
    run
}

/// A warning when the log's last line is an unfinished `@xp` record: the file was cut (or
/// copied while the probe was still writing it).
fn cut_inside_record(p: &Parsed, text: &str) -> Option<String> {
    let last = text.split('\n').count();
    let (n, _) = p.bad.last().filter(|(n, _)| *n == last)?;
    Some(format!(
        "line {n}: the log ends inside this record: it was cut short (or copied while the probe \
         was still writing it)"
    ))
}

fn parse_warnings(p: &Parsed) -> Vec<String> {
    let bad = p
        .bad
        .iter()
        .map(|(n, why)| format!("line {n}: unparseable @xp record: {why}"));
    let notes = p.notes.iter().map(|(n, what)| format!("line {n}: {what}"));
    bad.chain(notes).collect()
}

/// A `run --json` or `bench --json` document.
pub fn from_json(source: String, text: &str) -> Result<Run> {
    let v: Value = serde_json::from_str(text).with_context(|| {
        format!("{source}: not valid JSON (a `cargo xtask run --json` or `bench` file cut short?)")
    })?;
    if v["kind"] == "xenprobe-bench" {
        return from_bench(source, &v);
    }
    let Some(raw) = v["records"].as_array() else {
        bail!("{source}: JSON without a `records` array: not a `cargo xtask run --json` file");
    };
    let (records, mut warnings) = json_records(raw);
    let verdict = match v["verdict"].as_str() {
        Some("CRASH") => Verdict::Crash,
        Some(s) => Verdict::Outcome(
            Outcome::parse(s).with_context(|| format!("{source}: unknown verdict {s:?}"))?,
        ),
        None => bail!("{source}: JSON without a `verdict`"),
    };
    let console: Vec<String> = v["console"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    warnings.extend(parse_warnings(&results::parse(&console)));
    let mut run = Run {
        source,
        verdict,
        reason: v["reason"].as_str().map(String::from),
        records,
        env: json_env(&v),
        warnings,
        lab: Some(v["lab"].clone()).filter(Value::is_object),
        bench: Vec::new(),
        xentrace: None,
    };
    env_from_records(&mut run);
    Ok(run)
}

/// The records of a `run --json` file, and a warning for each that is not one.
fn json_records(raw: &[Value]) -> (Vec<Record>, Vec<String>) {
    let (mut records, mut warnings) = (Vec::new(), Vec::new());
    for (i, r) in raw.iter().enumerate() {
        match serde_json::from_value::<Record>(r.clone()) {
            Ok(r) => records.push(r),
            Err(e) => warnings.push(format!("record {}: not a record ({e})", i + 1)),
        }
    }
    (records, warnings)
}

/// What a `run --json` file's `config` says, and its serial log when it is still there
/// (Xen's version and scheduler).
fn json_env(v: &Value) -> Env {
    let c = &v["config"];
    let text = |x: &Value| x.as_str().map(str::to_lowercase);
    let mut env = Env {
        scheduler: text(&c["sched"]),
        xenstored: text(&c["xenstored"])
            .filter(|_| c["mode"] != "Dom0")
            .map(|x| xenstored_name(&x)),
        mode: text(&c["mode"]),
        cmdline: c["cmdline"].as_str().map(String::from),
        memory_mib: c["memory_mib"]
            .as_u64()
            .map(|m| m.to_string())
            .filter(|_| c["mode"] != "Dom0"),
        ..Env::default()
    };
    let serial = v["lab"]["serial_log"]
        .as_str()
        .and_then(|p| std::fs::read(p).ok());
    if let Some(serial) = serial {
        scan_log_env(&String::from_utf8_lossy(&serial), &mut env);
    }
    env
}

fn from_bench(source: String, v: &Value) -> Result<Run> {
    let figs: Vec<Figure> = serde_json::from_value(v["figures"].clone())
        .with_context(|| format!("{source}: bench JSON with a bad `figures` array"))?;
    if figs.is_empty() {
        bail!("{source}: bench JSON without figures");
    }
    let env = Env {
        xen_version: v["xen_version"].as_str().map(String::from),
        scheduler: v["sched"].as_str().map(String::from),
        xenstored: v["xenstored"].as_str().map(xenstored_name),
        ..Env::default()
    };
    let verdict = Verdict::Outcome(Outcome::Success);
    Ok(Run {
        source,
        verdict,
        reason: None,
        records: Vec::new(),
        xentrace: None,
        env,
        warnings: Vec::new(),
        lab: None,
        bench: figs,
    })
}

/// Fill what the records say: the start record, and `info` records of any probe.
fn env_from_records(run: &mut Run) {
    let info = |keys: &[&str]| {
        run.of::<owned::Info>()
            .find(|r| keys.contains(&r.key.as_str()))
            .map(|r| r.value.clone())
            .filter(|v| !v.is_empty())
    };
    let start = run.of::<owned::Start>().next();
    let s = |f: fn(&owned::Start) -> Option<&String>| {
        start.and_then(f).cloned().filter(|v| !v.is_empty())
    };
    let e = Env {
        xen_version: s(|r| r.xen_version.as_ref()).or_else(|| info(&["xen_version"])),
        scheduler: info(&["scheduler", "xen_scheduler", "sched"]),
        xenstored: info(&["xenstored", "xenstored_flavour", "xenstored_kind"]),
        mode: s(|r| Some(&r.mode)),
        cmdline: s(|r| Some(&r.cmdline)),
        probe_version: s(|r| Some(&r.version)),
        memory_mib: None,
    };
    let env = &mut run.env;
    for (slot, v) in [
        (&mut env.xen_version, e.xen_version),
        (&mut env.scheduler, e.scheduler),
        (&mut env.xenstored, e.xenstored),
        (&mut env.mode, e.mode),
        (&mut env.cmdline, e.cmdline),
        (&mut env.probe_version, e.probe_version),
    ] {
        if slot.is_none() {
            *slot = v;
        }
    }
}

/// What a raw log says besides the probe: Xen's boot banner (`(XEN) Using scheduler: ...
/// (credit2)`; a restored lab run has its saved copy at the top of serial.log), `xl info`
/// output captured before the console (`xen_scheduler : credit2`), and the lab's line naming
/// dom0's xenstored.
fn scan_log_env(text: &str, env: &mut Env) {
    for line in text.lines() {
        if let Some(x) = line.strip_prefix(crate::console::LAB_XENSTORED) {
            env.xenstored = Some(xenstored_name(x.trim()));
        }
        // Xen's banner (SeaBIOS may leave text before it on the same line).
        if let Some((_, v)) = line.split_once("(XEN) Xen version ") {
            env.xen_version = v.split_whitespace().next().map(String::from);
        }
        if let Some(i) = line.find("Using scheduler:") {
            let l = &line[i..];
            let name = l.rfind('(').and_then(|o| l[o + 1..].split(')').next());
            env.scheduler = name.map(str::to_string).or(env.scheduler.take());
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim().to_string();
        match k.trim() {
            "xen_scheduler" if !v.is_empty() => env.scheduler = Some(v),
            "xen_version" if !v.is_empty() && env.xen_version.is_none() => {
                env.xen_version = Some(v)
            }
            _ => {}
        }
    }
}

/// The xenstored daemon as Xen's tools name it: `xenstored` (C) or `oxenstored` (OCaml), also
/// for a `run --json` config's `C` / `Ocaml`.
fn xenstored_name(x: &str) -> String {
    match x.to_lowercase().as_str() {
        "c" => "xenstored".into(),
        "ocaml" => "oxenstored".into(),
        _ => x.to_string(),
    }
}
