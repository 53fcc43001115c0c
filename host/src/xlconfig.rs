//! `xenprobe xl-config`: the probe image and its xl config, for hosts where someone else runs
//! xl (or a config management system copies the files).

use crate::cli::{Domain, XlConfig};
use crate::image;
use anyhow::{Context, Result};
use xp_host::xlcfg::{self, XlCfg};

/// The config of `d` with kernel= `kernel`.
pub fn cfg(d: &Domain, kernel: String) -> XlCfg {
    XlCfg {
        name: d.name.clone(),
        kernel,
        memory_mib: d.memory,
        cmdline: d.cmdline.clone(),
    }
}

/// The config text for `d` with kernel= `kernel`.
pub fn text(d: &Domain, kernel: String, writer: &str) -> Result<String> {
    xlcfg::config(&cfg(d, kernel), writer)
}

pub fn main(a: XlConfig) -> Result<i32> {
    image::write(&a.image)?;
    let abs = std::path::absolute(&a.image)
        .with_context(|| format!("resolving {}", a.image.display()))?;
    let kernel = a.kernel_path.unwrap_or_else(|| abs.display().to_string());
    let cfg = text(&a.domain, kernel.clone(), "`xenprobe xl-config`")?;
    std::fs::write(&a.out, &cfg).with_context(|| format!("writing {}", a.out.display()))?;
    let (out, log) = (
        a.out.display(),
        format!("/var/log/xen/console/guest-{}.log", a.domain.name),
    );
    println!(
        "wrote {} ({} bytes) and {out}: kernel {kernel}, {} MiB, extra \"{}\"\n\
         \n\
         On the Xen host, as root in dom0 (kernel= must be the image's path there):\n\
         \x20 {{ xl info; xl create -c {out}; }} 2>&1 | tee xenprobe.log\n\
         \x20 xenprobe report xenprobe.log --out xenprobe-report\n\
         Without a console (long stall runs; xenconsoled started with --log=guest):\n\
         \x20 xl create {out}\n\
         \x20 xenprobe follow {log} --metrics 127.0.0.1:9756",
        a.image.display(),
        image::IMAGE.len(),
        a.domain.memory,
        a.domain.cmdline
    );
    Ok(0)
}
