//! The bench's measurements, one function per figure (or pair of figures measured together).

use super::{dom0, median, missing, Ctx};
use crate::report::Figure;
use crate::run::Outcome;
use anyhow::Result;
use xp_core::outcome::Outcome as O;
use xp_core::records::owned;
use xp_host::results::Verdict;

pub struct EnvInfo {
    pub xen_version: Option<String>,
}

/// Every figure, in the order of the targets table, plus the baselines.
pub fn all(ctx: &Ctx) -> Result<(Vec<Figure>, EnvInfo)> {
    let mut f = vec![image(ctx)];
    f.push(missing(
        "xtask_test_wall",
        "s",
        "wall time of `cargo xtask test`",
        "bench does not run the whole suite: `cargo xtask test` prints its own total",
    ));
    let registry = registry(ctx)?;
    let cold = ctx.run("domu-platform-cold", |o| {
        o.cmdline = "probes=platform".into();
        o.cold = true;
    })?;
    // Makes sure the lab is saved, so that the timed runs below restore it.
    ctx.run("domu-platform-prime", |o| {
        o.cmdline = "probes=platform".into()
    })?;
    let domu: Vec<Outcome> = (0..ctx.repeat)
        .map(|i| {
            ctx.run(&format!("domu-platform-{i}"), |o| {
                o.cmdline = "probes=platform".into()
            })
        })
        .collect::<Result<_>>()?;
    let xen_version = domu
        .iter()
        .find_map(|o| o.parsed.info("xen_version"))
        .map(String::from);
    let warm = "domU (xl create), platform probe, saved lab restored";
    f.push(wall("lab_wall_domu", &domu, warm));
    f.push(wall("lab_wall_domu_vs_dom0", &domu, warm));
    let what = "domU (xl create), platform probe, cold boot of Xen and dom0 (--cold)";
    f.push(wall(
        "lab_wall_domu_cold",
        std::slice::from_ref(&cold),
        what,
    ));
    let d0: Vec<Outcome> = (0..ctx.repeat)
        .map(|i| {
            ctx.run(&format!("dom0-platform-{i}"), |o| {
                dom0(o);
                o.cmdline = "probes=platform".into();
            })
        })
        .collect::<Result<_>>()?;
    f.push(wall("lab_wall_dom0", &d0, "probe as dom0, platform probe"));
    f.push(min_memory(ctx, domu.iter().any(ok))?);
    f.push(entry_to_ready(&domu));
    f.push(linux_boot(ctx)?);
    let vchan = vchan_run(ctx, &registry)?;
    f.extend(measurement_run(ctx, &registry, vchan.as_ref())?);
    f.extend(super::smp::figures(ctx)?);
    f.extend(super::planted::figures(ctx, false)?);
    Ok((f, EnvInfo { xen_version }))
}

/// A Linux PV guest's boot beside ours, in the same lab: the lab's dom0 kernel booted as a peer
/// domU (128 MiB, no root file system). Ready = its printk time when it tries to mount root
/// (the point where it would run init), in the same virtual time as our entry_to_ready.
fn linux_boot(ctx: &Ctx) -> Result<Figure> {
    let method = "Linux 6.1 (Debian's dom0 kernel) as a PV domU, 128 MiB: printk time of its \
                  \"Unable to mount root fs\" / \"Run /init\" line, n=1";
    let kernel = crate::lab::provision(ctx.base.release, false)?.dom0_kernel;
    let out = ctx.run("linux-pv", |o| {
        o.cmdline = "probes=platform".into();
        o.peers = vec![crate::lab::Peer {
            name: "linux".into(),
            cmdline: "console=hvc0 loglevel=6 printk.time=1".into(),
            memory_mib: 128,
            kernel: Some(kernel.clone()),
        }];
    })?;
    let lines: Vec<&String> = out
        .lab
        .peer_lines
        .iter()
        .filter(|(n, _)| n == "linux")
        .map(|(_, l)| l)
        .collect();
    let ready = lines
        .iter()
        .find(|l| l.contains("Unable to mount root fs") || l.contains("Run /init"));
    Ok(match ready.and_then(|l| printk_secs(l)) {
        Some(s) => Figure::new("linux_pv_boot".into(), s * 1e9, "ns", Some(1), method),
        None => missing(
            "linux_pv_boot",
            "ns",
            method,
            &format!(
                "no ready line in the Linux guest's {} console lines (last: {:?})",
                lines.len(),
                lines.last()
            ),
        ),
    })
}

/// The seconds of a printk timestamp (`[    1.234567] ...`).
fn printk_secs(line: &str) -> Option<f64> {
    line.trim_start()
        .strip_prefix('[')?
        .split(']')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// The vchan baseline: tests/lab/vchan-interop.toml's run (dom0's vchan-socket-proxy looping
/// the guest's pings back), if this kernel has the vchan probe.
fn vchan_run(ctx: &Ctx, registry: &[String]) -> Result<Option<Outcome>> {
    if !registry.iter().any(|r| r == "vchan") {
        return Ok(None);
    }
    let s = crate::scenario::load(&crate::build::root().join("tests/lab/vchan-interop.toml"))?;
    let out = ctx.run("vchan", |o| {
        o.cmdline = s.cmdline.clone();
        o.dom0_script = s.dom0_script.clone();
        o.timeout_s = s.timeout;
    })?;
    Ok(Some(out))
}

fn ok(o: &Outcome) -> bool {
    o.verdict == Verdict::Outcome(O::Success)
}

fn image(ctx: &Ctx) -> Figure {
    let method = "size of the release ELF after `strip` (what a user copies to a Xen host)";
    match crate::build::stripped_size(&ctx.kernel) {
        Ok(b) => Figure::new("image_stripped".into(), b as f64, "bytes", Some(1), method),
        Err(e) => missing("image_stripped", "bytes", method, &e.to_string()),
    }
}

/// The probes this kernel has: the ERROR of an unknown probe lists them (a dom0 run, ~2 s).
fn registry(ctx: &Ctx) -> Result<Vec<String>> {
    let out = ctx.run("registry", |o| {
        dom0(o);
        o.cmdline = "probes=bench-lists-the-registry".into();
        o.timeout_s = 30;
    })?;
    let msg = out
        .parsed
        .of::<owned::Error>()
        .map(|e| e.msg.clone())
        .find(|m| m.contains("available: "));
    let list = msg
        .as_deref()
        .and_then(|m| m.split("available: ").nth(1))
        .and_then(|l| l.split(')').next());
    let probes: Vec<String> = list
        .map(|l| l.split(", ").map(String::from).collect())
        .unwrap_or_default();
    eprintln!(
        "[bench] probes in this kernel: {}",
        if probes.is_empty() {
            "? (no list in the ERROR)".into()
        } else {
            probes.join(", ")
        }
    );
    Ok(probes)
}

fn wall(name: &str, runs: &[Outcome], what: &str) -> Figure {
    let secs: Vec<f64> = runs
        .iter()
        .filter(|o| ok(o))
        .map(|o| o.lab.wall.as_secs_f64())
        .collect();
    let (lo, hi) = secs
        .iter()
        .fold((f64::MAX, 0.0f64), |(l, h), &s| (l.min(s), h.max(s)));
    let method = format!(
        "wall time of run::execute ({what}; probe, power-off), kernel prebuilt, packages \
         provisioned; median of {} SUCCESS runs of {} (min {lo:.2} s, max {hi:.2} s)",
        secs.len(),
        runs.len()
    );
    match median(secs.clone()) {
        Some(m) => Figure::new(name.into(), m, "s", Some(secs.len() as u64), &method),
        None => missing(
            name,
            "s",
            &method,
            "no run ended in SUCCESS (see the [bench] lines)",
        ),
    }
}

fn entry_to_ready(runs: &[Outcome]) -> Figure {
    let recs: Vec<&owned::Metric> = runs
        .iter()
        .flat_map(|o| o.parsed.of::<owned::Metric>())
        .filter(|r| r.name == "entry_to_ready")
        .collect();
    let vals: Vec<f64> = recs.iter().map(|r| r.value as f64).collect();
    let method = recs.first().map_or(String::new(), |r| r.method.clone());
    let method = format!("platform probe metric ({method}); median over the domU runs");
    match median(vals.clone()) {
        Some(m) => Figure::new(
            "entry_to_ready".into(),
            m,
            "ns",
            Some(vals.len() as u64),
            &method,
        ),
        None => missing(
            "entry_to_ready",
            "ns",
            &method,
            "no platform.entry_to_ready metric in the domU runs",
        ),
    }
}

/// The first line of a run's failure that says why (libxc's error for too little memory).
fn why(o: &Outcome) -> String {
    let text = o
        .lab
        .failure
        .clone()
        .or(o.reason.clone())
        .unwrap_or_default();
    let line = text
        .lines()
        .find(|l| l.contains("xc: error"))
        .or_else(|| text.lines().next());
    format!("{}: {}", o.verdict.name(), line.unwrap_or("").trim())
}

/// Smallest memory (MiB) the default suite passes in: down from 4 while it passes, up otherwise.
fn min_memory(ctx: &Ctx, four_ok: bool) -> Result<Figure> {
    let run = |mib: u32| {
        ctx.run(&format!("domu-mem{mib}"), |o| {
            o.memory_mib = mib;
            o.cmdline = String::new();
        })
    };
    let steps: Vec<u32> = if four_ok {
        vec![3, 2, 1]
    } else {
        vec![5, 6, 8, 16, 32]
    };
    let (mut best, mut tried) = (
        four_ok.then_some(4),
        vec![format!(
            "4 MiB: {}",
            if four_ok {
                "SUCCESS (the domU runs)"
            } else {
                "failed"
            }
        )],
    );
    for mib in steps {
        let o = run(mib)?;
        tried.push(format!(
            "{mib} MiB: {}",
            if ok(&o) { "SUCCESS".into() } else { why(&o) }
        ));
        match (four_ok, ok(&o)) {
            (true, true) => best = Some(mib),
            (false, true) => {
                best = Some(mib);
                break;
            }
            (true, false) => break,
            (false, false) => {}
        }
    }
    let method = format!(
        "default suite (empty command line) at decreasing/increasing xl memory=; {}",
        tried.join("; ")
    );
    Ok(match best {
        Some(m) => Figure::new(
            "min_guest_memory".into(),
            m.into(),
            "MiB",
            Some(tried.len() as u64),
            &method,
        ),
        None => missing(
            "min_guest_memory",
            "MiB",
            &method,
            "the default suite passed at no size tried",
        ),
    })
}

const XS_ITER: u32 = 100;

/// One domU run for the per-op figures: dom0 runs test-xenstore while the guest idles in the
/// stall probe, then the guest measures (timer overhead, xenstore, ring when the kernel has them).
fn measurement_run(ctx: &Ctx, registry: &[String], vchan: Option<&Outcome>) -> Result<Vec<Figure>> {
    let has = |p: &str| registry.iter().any(|r| r == p);
    let xs_probe = ["xenstore-latency", "xenstore"]
        .into_iter()
        .find(|p| has(p));
    let mut probes = vec!["stall", "timer"];
    probes.extend(xs_probe);
    probes.extend(has("ring").then_some("ring"));
    let cmdline = format!(
        "probes={} duration=4 stall.threshold=1000ms timer.intervals=1ms timer.samples=50",
        probes.join(",")
    );
    let script = format!(
        "for t in 'read 1' 'write 1'; do test-xenstore -i {XS_ITER} -t \"$t\" 2>&1; done; \
         echo bench-test-xenstore-done"
    );
    let out = ctx.run("measure", |o| {
        o.cmdline = cmdline.clone();
        o.dom0_script = Some(script.clone());
    })?;
    let mut f = vec![super::ops::timer_overhead(&out)];
    f.extend(super::ops::xenstore(&out, xs_probe, XS_ITER));
    f.extend(super::ops::ring(&out, has("ring"), vchan));
    Ok(f)
}

#[cfg(test)]
mod tests {
    #[test]
    fn printk_timestamps() {
        let l = "[   13.612345] VFS: Unable to mount root fs on unknown-block(0,0)";
        assert_eq!(super::printk_secs(l), Some(13.612345));
        assert_eq!(super::printk_secs("no stamp"), None);
        assert_eq!(super::printk_secs("[ garbage] x"), None);
    }
}
