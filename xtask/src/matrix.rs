//! `cargo xtask matrix`: the conformance probes (xenstore, evtchn, timer, gnttab) in one lab run
//! per column - every release x {C xenstored, oxenstored}, plus each `--xen` build - and one
//! table: a row per check (and per `info` the probes report), the observed value in each cell,
//! rows whose values differ between columns marked. `--out DIR` writes matrix.json and
//! matrix.html; `--readme` rewrites README.md's table of differences from this run.

use crate::cli::Args;
use crate::lab::{Release, Xenstored};
use crate::run::{self, Outcome, RunOpts};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use xp_core::records::Record;
use xp_host::results::field;

mod render;

pub const USAGE: &[&str] = &[
    "--xen FILE",
    "--xen-release 4.17|4.20",
    "--out DIR",
    "--readme",
    "--cmdline \"...\"",
    "--from FILE",
];

pub const HELP: &str = "\
  matrix [options]   conformance probes (xenstore, evtchn, timer, gnttab) on every release x
                     {C xenstored, oxenstored}, one table check x column, differences marked
      --xen FILE             one more column per build: your hypervisor, the release's dom0
      --xen-release R        the release whose dom0 boots --xen builds (default 4.17)
      --out DIR              also write DIR/matrix.json and DIR/matrix.html
      --readme               rewrite README.md's table of differences from this run
      --cmdline \"...\"        the probes' command line (default: the four, short timer)
      --from FILE            no lab runs: the table of an earlier run's matrix.json";

const CMDLINE: &str = "probes=xenstore,evtchn,timer,gnttab timer.samples=100 evtchn.samples=200";

/// One column: its title and how the lab is run.
pub struct Column {
    pub title: String,
    pub opts: RunOpts,
}

/// The table: rows (probe.check) x columns, observed values.
pub struct Matrix {
    pub columns: Vec<String>,
    /// Row key -> one cell per column ("" when the column has no such record).
    pub rows: BTreeMap<String, Vec<String>>,
    /// Each column's verdict and what ran.
    pub runs: Vec<Value>,
}

pub fn main(mut a: Args) -> Result<i32> {
    let mut xens = Vec::new();
    while let Some(x) = a.value("--xen")? {
        xens.push(PathBuf::from(x));
    }
    let release = a.value("--xen-release")?;
    let out = a.value("--out")?.map(PathBuf::from);
    let readme = a.flag("--readme");
    let cmdline = a.value("--cmdline")?.unwrap_or_else(|| CMDLINE.into());
    let from = a.value("--from")?.map(PathBuf::from);
    a.finish()?;
    let release = release.map_or(Ok(Release::X417), |r| Release::parse(&r))?;
    let m = match from {
        Some(f) => load(&f)?,
        None => measure(&cmdline, &xens, release)?,
    };
    println!("{}", render::text(&m));
    if let Some(dir) = out {
        write_out(&dir, &m)?;
    }
    if readme {
        render::update_readme(&crate::build::root().join("README.md"), &m)?;
        eprintln!("README.md: table of differences regenerated");
    }
    Ok(0)
}

/// One lab run per column.
fn measure(cmdline: &str, xens: &[PathBuf], release: Release) -> Result<Matrix> {
    let kernel = crate::build::kernel()?;
    let root = crate::build::root().join("lab-out/matrix");
    let cols = columns(cmdline, xens, release, &root);
    let outcomes: Vec<Outcome> = cols
        .iter()
        .map(|c| {
            eprintln!("\n[matrix] column {}", c.title);
            run::execute(&c.opts, &kernel, false)
        })
        .collect::<Result<_>>()?;
    Ok(build(&cols, &outcomes))
}

/// A matrix.json written by `--out`.
fn load(path: &Path) -> Result<Matrix> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    anyhow::ensure!(
        doc["kind"] == "xenprobe-matrix",
        "{} is not a matrix.json",
        path.display()
    );
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|c| c.as_str().unwrap_or("").to_string())
            .collect()
    };
    let rows = doc["rows"].as_array().into_iter().flatten();
    Ok(Matrix {
        columns: strings(&doc["columns"]),
        rows: rows
            .map(|r| (field(r, "check"), strings(&r["cells"])))
            .collect(),
        runs: doc["runs"].as_array().cloned().unwrap_or_default(),
    })
}

/// A column's command line: the matrix knows each column's xenstored, so a run of the
/// xenstore probe expects it (`xenstore.expect=`) unless the command line says otherwise.
fn with_expect(cmdline: &str, xs: Xenstored) -> String {
    let probes = cmdline
        .split_whitespace()
        .filter_map(|t| t.strip_prefix("probes="));
    let xenstore = probes.flat_map(|p| p.split(',')).any(|p| p == "xenstore");
    if xenstore && !cmdline.contains("xenstore.expect=") {
        format!("{cmdline} xenstore.expect={}", xs.name())
    } else {
        cmdline.into()
    }
}

/// Every release x {C, OCaml}, then each `--xen` build on `release` with both xenstoreds.
pub fn columns(cmdline: &str, xens: &[PathBuf], release: Release, root: &Path) -> Vec<Column> {
    let mut cols = Vec::new();
    let mut add = |title: String, r: Release, xs: Xenstored, xen: Option<PathBuf>| {
        let opts = RunOpts {
            cmdline: with_expect(cmdline, xs),
            xenstored: xs,
            release: r,
            xen,
            timeout_s: 300,
            out_dir: root.join(title.replace(['/', ' '], "_")),
            ..RunOpts::default()
        };
        cols.push(Column { title, opts });
    };
    for r in Release::ALL {
        for xs in [Xenstored::C, Xenstored::Ocaml] {
            add(format!("{} {}", r.name(), xs.name()), r, xs, None);
        }
    }
    for x in xens {
        let name = x.file_name().unwrap_or_default().to_string_lossy();
        for xs in [Xenstored::C, Xenstored::Ocaml] {
            let title = format!("{name}@{} {}", release.name(), xs.name());
            add(title, release, xs, Some(x.clone()));
        }
    }
    cols
}

/// The row key and cell of a record, for checks and infos.
fn cell(r: &Record) -> Option<(String, String)> {
    match r {
        Record::Check(c) => {
            let mark = if c.verdict.passed() { "" } else { " !" };
            let key = format!("{}.{}", c.probe, c.name);
            Some((key, format!("{}{mark}", c.observed)))
        }
        Record::Info(i) => Some((format!("{}: {}", i.probe, i.key), i.value.clone())),
        _ => None,
    }
}

pub fn build(cols: &[Column], outs: &[Outcome]) -> Matrix {
    let mut rows: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, o) in outs.iter().enumerate() {
        for (k, v) in o.parsed.records.iter().filter_map(cell) {
            let row = rows
                .entry(k)
                .or_insert_with(|| vec![String::new(); outs.len()]);
            if row[i].is_empty() {
                row[i] = v;
            }
        }
    }
    let runs = cols
        .iter()
        .zip(outs)
        .map(|(c, o)| {
            json!({"column": c.title, "verdict": o.verdict.name(), "reason": o.reason, "booted": o.lab.what})
        })
        .collect();
    Matrix {
        columns: cols.iter().map(|c| c.title.clone()).collect(),
        rows,
        runs,
    }
}

impl Matrix {
    /// Whether a row's observed values differ between columns.
    pub fn differs(cells: &[String]) -> bool {
        cells.iter().any(|c| c != &cells[0])
    }

    /// Whether row `key` differs in behaviour: for the timing probes (timer, evtchn) only
    /// when more than the measured numbers differ (digits masked); otherwise at all.
    pub fn differs_in_kind(key: &str, cells: &[String]) -> bool {
        if !(key.starts_with("timer") || key.starts_with("evtchn")) {
            return Matrix::differs(cells);
        }
        // Each run of digits becomes one '#'.
        let mask = |c: &String| {
            let mut m = String::new();
            for ch in c.chars() {
                let d = ch.is_ascii_digit();
                if !(d && m.ends_with('#')) {
                    m.push(if d { '#' } else { ch });
                }
            }
            m
        };
        cells.iter().any(|c| mask(c) != mask(&cells[0]))
    }
}

fn write_out(dir: &Path, m: &Matrix) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let rows: Vec<Value> = m
        .rows
        .iter()
        .map(|(k, cells)| json!({"check": k, "cells": cells, "differs": Matrix::differs(cells)}))
        .collect();
    let doc =
        json!({"kind": "xenprobe-matrix", "columns": m.columns, "runs": m.runs, "rows": rows});
    std::fs::write(dir.join("matrix.json"), serde_json::to_string_pretty(&doc)?)?;
    std::fs::write(dir.join("matrix.html"), render::html(m))?;
    eprintln!("wrote {}/matrix.json and matrix.html", dir.display());
    Ok(())
}
