//! `cargo xtask xl --lab`: the generated config booted in the virtual lab through the path a
//! user follows on a real host. The lab's own probe domain idles (stall probe) while the dom0
//! script writes the generated config (only `name` and `kernel` changed: the lab's copy of the
//! same image), runs `xl create` on it, waits for the domain to go away, and prints `xl info`
//! and the guest log xenconsoled wrote (`--log=guest`, as XENCONSOLED_TRACE=guest does). That
//! log is saved and read by `cargo xtask report`'s loader, as a user would. The keys are also compared with
//! the config the lab's own `xl create` used (read back from the dom0 initramfs).

use super::{config, keys, XlCfg};
use crate::run::{self, RunOpts};
use anyhow::{bail, Context, Result};
use std::path::Path;

const NAME: &str = "xenprobe-user";
const BEGIN: &str = "xl-lab: console log begins";
const END: &str = "xl-lab: console log ends";

/// The dom0 script: create the domain from `cfg`, wait (at most `wait_s`), print its log.
fn script(cfg: &str, wait_s: u32) -> String {
    format!(
        "cat > /tmp/{NAME}.cfg <<'XPEOF'\n{cfg}XPEOF\n\
         echo \"xl-lab: xl create /tmp/{NAME}.cfg\"\n\
         xl create /tmp/{NAME}.cfg 2>&1 || echo \"xl-lab: xl create failed\"\n\
         n=0\n\
         while st=$(xl list {NAME} 2>/dev/null | awk 'NR==2 {{print $5}}') && [ -n \"$st\" ] && [ $n -lt {} ]; do\n\
         \x20   case \"$st\" in *s*|*c*) echo \"xl-lab: domain state $st\"; break ;; esac\n\
         \x20   sleep 0.5; n=$((n + 1))\n\
         done\n\
         sleep 0.5\n\
         echo \"{BEGIN}\"\n\
         xl info\n\
         cat /var/log/xen/console/guest-{NAME}.log\n\
         echo \"{END}\"\n\
         xl destroy $DOMNAME\n",
        wait_s * 2
    )
}

pub fn boot(elf: &Path, user: &XlCfg) -> Result<i32> {
    let lab_cfg = XlCfg {
        name: NAME.into(),
        kernel: "/probe/xenprobe".into(),
        memory_mib: user.memory_mib,
        cmdline: user.cmdline.clone(),
    };
    let text = config(&lab_cfg)?;
    let out_dir = crate::build::root().join("lab-out/xl");
    let opts = RunOpts {
        cmdline: "probes=stall duration=0 stall.threshold=10000ms".into(),
        timeout_s: 200,
        dom0_script: Some(script(&text, 150)),
        out_dir: out_dir.clone(),
        ..RunOpts::default()
    };
    eprintln!("\n[xl --lab] booting the generated config (name {NAME}, kernel /probe/xenprobe) with xl create in the lab");
    let out = run::execute(&opts, elf, false)?;
    let lines = &out.lab.script_lines;
    for l in lines
        .iter()
        .filter(|l| l.starts_with("xl-lab:") || l.contains("xl create"))
    {
        eprintln!("  dom0 | {l}");
    }
    let (Some(b), Some(e)) = (
        lines.iter().position(|l| l == BEGIN),
        lines.iter().position(|l| l == END),
    ) else {
        bail!(
            "the dom0 script did not print the guest log (lab: {}; serial log {})",
            out.reason.unwrap_or_default(),
            out.lab.serial_log.display()
        );
    };
    let log = out_dir.join(format!("guest-{NAME}.log"));
    std::fs::write(&log, lines[b + 1..e].join("\n") + "\n")
        .with_context(|| format!("writing {}", log.display()))?;
    eprintln!(
        "[xl --lab] xenconsoled's guest log saved as {}; `cargo xtask report` on it:\n",
        log.display()
    );
    let run = crate::report::load(&log)?;
    print!("{}", crate::report::render_text(&run));
    compare_keys(&out_dir.join("dom0-initrd.cpio"), &text)?;
    Ok(run.verdict.exit_code())
}

/// Print the generated config's keys beside those of the lab's own probe.cfg.
fn compare_keys(cpio: &Path, generated: &str) -> Result<()> {
    let bytes = std::fs::read(cpio).with_context(|| format!("reading {}", cpio.display()))?;
    let Some(lab) = cpio_file(&bytes, "etc/xenprobe/probe.cfg") else {
        bail!("{} has no etc/xenprobe/probe.cfg", cpio.display());
    };
    let lab = keys(&String::from_utf8_lossy(lab));
    let gen = keys(generated);
    println!("\nxl config keys: the lab's own probe.cfg | the generated one (as booted above)");
    for (k, v) in &lab {
        let g = gen
            .iter()
            .find(|(x, _)| x == k)
            .map_or("(missing)", |(_, v)| v.as_str());
        println!("  {k:<12} {v:<48} | {g}");
    }
    let extra: Vec<&str> = gen
        .iter()
        .filter(|(k, _)| lab.iter().all(|(x, _)| x != k))
        .map(|(k, _)| k.as_str())
        .collect();
    let same = extra.is_empty() && lab.iter().all(|(k, _)| gen.iter().any(|(x, _)| x == k));
    println!(
        "  same keys: {}",
        if same {
            "yes".to_string()
        } else {
            format!("NO (only generated: {})", extra.join(", "))
        }
    );
    Ok(())
}

/// The contents of `name` in a newc ("070701") cpio archive.
pub fn cpio_file<'a>(mut b: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let hex = |s: &[u8]| u32::from_str_radix(std::str::from_utf8(s).ok()?, 16).ok();
    let pad = |n: usize| (n + 3) & !3;
    while b.len() >= 110 && &b[..6] == b"070701" {
        let size = hex(&b[54..62])? as usize;
        let nlen = hex(&b[94..102])? as usize;
        let data = pad(110 + nlen);
        let fname = b.get(110..110 + nlen.saturating_sub(1))?;
        let body = b.get(data..data + size)?;
        if fname == name.as_bytes() || fname.strip_prefix(b"./") == Some(name.as_bytes()) {
            return Some(body);
        }
        b = b.get(pad(data + size)..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn script_quotes_the_config_verbatim() {
        let s = super::script("name = \"x\"\nextra = \"probes=a $HOME\"\n", 10);
        assert!(s.contains("<<'XPEOF'\nname = \"x\"\nextra = \"probes=a $HOME\"\nXPEOF\n"));
        assert!(s.contains("[ $n -lt 20 ]"));
    }

    #[test]
    fn cpio_lookup() {
        let mut a = Vec::new();
        for (name, body) in [("etc/a", "one"), ("etc/xenprobe/probe.cfg", "k = 1\n")] {
            let h = format!("070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}", 1, 0o100644, 0, 0, 1, 0, body.len(), 0, 0, 0, 0, name.len() + 1, 0);
            a.extend_from_slice(h.as_bytes());
            a.extend_from_slice(name.as_bytes());
            a.push(0);
            while a.len() % 4 != 0 {
                a.push(0);
            }
            a.extend_from_slice(body.as_bytes());
            while a.len() % 4 != 0 {
                a.push(0);
            }
        }
        assert_eq!(
            super::cpio_file(&a, "etc/xenprobe/probe.cfg"),
            Some(&b"k = 1\n"[..])
        );
        assert_eq!(super::cpio_file(&a, "etc/missing"), None);
        assert_eq!(super::cpio_file(&a[..50], "etc/a"), None);
    }
}
