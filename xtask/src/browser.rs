//! The HTML report in a real browser (part of `cargo xtask test`): `xenprobe report --out` on
//! two recorded lab logs (a planted lost wake-up, FAILURE; a domU run with every histogram,
//! SUCCESS), each page opened in headless Chromium (Debian's `chromium`, installed with
//! apt-get when missing). In the laid-out page the verdict heading comes first, then the
//! failed checks, the plots and the tables; every plot is drawn at a readable size; nothing
//! is wider than the window or loaded from elsewhere; the browser logs nothing to its
//! console; the screenshot is a PNG of the window's size and not blank. The screenshots stay
//! in `target/report-browser/` for a person to look at.

use crate::build::{self, cargo};
use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The pages: recorded log, the verdict it must show, `report`'s exit code for it.
const PAGES: [(&str, &str, i32); 2] = [
    (
        "hostlib/src/report/testdata/black-second-timer-serial.log",
        "FAILURE",
        5,
    ),
    ("hostlib/src/report/testdata/domu-serial.log", "SUCCESS", 0),
];

/// The browser window, in CSS pixels.
const WINDOW: (u32, u32) = (1200, 2000);

/// A screenshot of a blank page of this window is about 10 KB; one with the report's text and
/// plots several times that.
const MIN_PNG_BYTES: u64 = 40_000;

/// Appended to a copy of the page: measures the laid-out page and writes the figures as JSON
/// into `<pre id="xp-layout">`, which `--dump-dom` returns.
const MEASURE: &str = r#"<script>(function () {
  const top = s => { const e = document.querySelector(s);
    return e ? e.getBoundingClientRect().top + window.scrollY : null; };
  const h1 = document.querySelector('h1');
  const out = {
    first_heading: h1 ? h1.innerText : null,
    verdict: top('h1#verdict'), failed: top('#failed'), figure: top('figure'),
    checks: top('#checks'),
    figures: [...document.querySelectorAll('figure svg')].map(s => {
      const r = s.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)]; }),
    overflow_px: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    external: document.querySelectorAll('img,link,script[src],iframe,object,embed').length,
  };
  const p = document.createElement('pre'); p.id = 'xp-layout';
  p.textContent = JSON.stringify(out); document.body.appendChild(p);
})();</script>"#;

pub fn test() -> Result<()> {
    let chromium = crate::lab::host::ensure_tool("chromium", "chromium")?;
    build::run(cargo().args(["build", "--quiet", "-p", "xenprobe"]))?;
    let bin = xp_kbuild::target_dir().join("debug/xenprobe");
    let dir = xp_kbuild::target_dir().join("report-browser");
    let _ = std::fs::remove_dir_all(&dir);
    for (i, (log, verdict, code)) in PAGES.iter().enumerate() {
        let out = dir.join(format!("page{}", i + 1));
        report(&bin, &build::root().join(log), &out, *code)?;
        let b = Browser {
            exe: &chromium,
            profile: dir.join("profile"),
        };
        check_layout(&b.measure(&out)?, verdict, &out)
            .with_context(|| format!("the report of {log} in Chromium"))?;
        let png = dir.join(format!("page{}.png", i + 1));
        b.screenshot(&out.join("index.html"), &png)?;
        check_png(&png)?;
    }
    eprintln!(
        "browser test: 2 reports laid out in Chromium in order (verdict, failed checks, plots, tables), no console messages; screenshots in {}",
        dir.display()
    );
    Ok(())
}

/// `xenprobe report LOG --out DIR`, which must exit with the log's verdict.
fn report(bin: &Path, log: &Path, out: &Path, code: i32) -> Result<()> {
    let o = Command::new(bin)
        .arg("report")
        .arg(log)
        .arg("--out")
        .arg(out)
        .output()
        .context("running xenprobe report")?;
    ensure!(
        o.status.code() == Some(code),
        "xenprobe report {} exited {:?}, not {code}: {}",
        log.display(),
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    Ok(())
}

/// Headless Chromium with a profile of its own (not the user's).
struct Browser<'a> {
    exe: &'a Path,
    profile: PathBuf,
}

impl Browser<'_> {
    fn run(&self, args: &[String]) -> Result<(String, String)> {
        let o = Command::new(self.exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", self.profile.display()))
            .args(["--enable-logging=stderr", "--v=0"])
            .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
            .args(args)
            .output()
            .with_context(|| format!("starting {}", self.exe.display()))?;
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        ensure!(
            o.status.success(),
            "chromium {args:?} failed ({}): {}",
            o.status,
            text(&o.stderr)
        );
        Ok((text(&o.stdout), text(&o.stderr)))
    }

    /// The page with [`MEASURE`] appended, laid out; what it measured. Anything the page
    /// writes to the browser console (an error, an exception) fails the test.
    fn measure(&self, out: &Path) -> Result<Value> {
        let page = std::fs::read_to_string(out.join("index.html"))?;
        let probe = out.join("measure.html");
        std::fs::write(
            &probe,
            page.replace("</body>", &format!("{MEASURE}</body>")),
        )?;
        let (dom, log) = self.run(&["--dump-dom".into(), url(&probe)])?;
        let console: Vec<&str> = log.lines().filter(|l| l.contains(":CONSOLE")).collect();
        ensure!(
            console.is_empty(),
            "the page wrote to the console: {console:?}"
        );
        let json = between(&dom, "<pre id=\"xp-layout\">", "</pre>")
            .context("no measurements in the dumped DOM (the page did not load?)")?;
        let json = json
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        serde_json::from_str(&json).context("the page's measurements are not JSON")
    }

    fn screenshot(&self, page: &Path, png: &Path) -> Result<()> {
        self.run(&[format!("--screenshot={}", png.display()), url(page)])?;
        Ok(())
    }
}

fn url(p: &Path) -> String {
    format!("file://{}", p.display())
}

fn between<'a>(s: &'a str, from: &str, to: &str) -> Option<&'a str> {
    let a = s.find(from)? + from.len();
    Some(&s[a..a + s[a..].find(to)?])
}

/// What a reader sees, in order, at a readable size, inside the window.
fn check_layout(m: &Value, verdict: &str, out: &Path) -> Result<()> {
    let want = format!("xenprobe report {verdict}");
    ensure!(
        m["first_heading"].as_str() == Some(want.as_str()),
        "the first heading reads {}, not {want:?}",
        m["first_heading"]
    );
    let at = |k: &str| m[k].as_f64();
    let mut order = vec![("verdict", at("verdict"))];
    if verdict != "SUCCESS" {
        order.push(("failed checks", at("failed")));
    }
    order.extend([("first plot", at("figure")), ("all checks", at("checks"))]);
    for w in order.windows(2) {
        let ((a, ya), (b, yb)) = (w[0], w[1]);
        match (ya, yb) {
            (Some(ya), Some(yb)) if ya < yb => {}
            _ => bail!("{a} (at {}) is not above {b} (at {})", px(ya), px(yb)),
        }
    }
    check_figures(m, out)?;
    ensure!(
        m["overflow_px"].as_f64() == Some(0.0),
        "the page is {} px wider than the window",
        m["overflow_px"]
    );
    ensure!(
        m["external"].as_u64() == Some(0),
        "the page loads {} external resources (it must be self-contained)",
        m["external"]
    );
    Ok(())
}

fn px(y: Option<f64>) -> String {
    y.map_or("absent".into(), |y| format!("{y:.0} px"))
}

/// One laid-out plot per SVG file written, each at least 600 x 300 px.
fn check_figures(m: &Value, out: &Path) -> Result<()> {
    let files = std::fs::read_dir(out)?
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "svg"))
        })
        .count();
    let figs = m["figures"].as_array().cloned().unwrap_or_default();
    ensure!(
        files > 0 && figs.len() == files,
        "{} plots laid out, {files} SVG files written",
        figs.len()
    );
    for f in &figs {
        let (w, h) = (f[0].as_f64().unwrap_or(0.0), f[1].as_f64().unwrap_or(0.0));
        ensure!(w >= 600.0 && h >= 300.0, "a plot is drawn at {w} x {h} px");
    }
    Ok(())
}

/// A PNG of the window's size, big enough to hold more than a blank page.
fn check_png(png: &Path) -> Result<()> {
    let b = std::fs::read(png).with_context(|| format!("no screenshot {}", png.display()))?;
    ensure!(
        b.len() > 24 && b.starts_with(b"\x89PNG\r\n\x1a\n") && &b[12..16] == b"IHDR",
        "{} is not a PNG",
        png.display()
    );
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    ensure!(
        (be(16), be(20)) == WINDOW,
        "{} is {} x {} px, not the window's {} x {}",
        png.display(),
        be(16),
        be(20),
        WINDOW.0,
        WINDOW.1
    );
    ensure!(
        b.len() as u64 >= MIN_PNG_BYTES,
        "{} is {} bytes: a blank page?",
        png.display(),
        b.len()
    );
    Ok(())
}
