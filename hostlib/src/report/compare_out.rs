//! `compare A B [C...] --out DIR`: the comparison as files. DIR/comparison.txt is the table
//! printed on the terminal; DIR/index.html is the same table under each run's verdict, linked
//! to that run's own report (DIR/A/index.html, DIR/B/, ...; bench files have none).

use super::compare::letter;
use super::html::STYLE;
use super::junit::esc;
use super::load::Run;
use anyhow::Result;
use std::fmt::Write;
use std::path::Path;

/// Every file of the comparison into `dir`.
pub fn write(runs: &[Run], table: &str, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
    for (i, r) in runs.iter().enumerate().filter(|(_, r)| !r.is_bench()) {
        super::write_dir(r, &dir.join(letter(i).to_string()))?;
    }
    super::write(&dir.join("comparison.txt"), table)?;
    super::write(&dir.join("index.html"), &page(runs, table))?;
    eprintln!("open {}", dir.join("index.html").display());
    Ok(())
}

/// The index page: one line per run (letter, verdict, source, link), then the table.
fn page(runs: &[Run], table: &str) -> String {
    let mut h = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>xenprobe comparison</title>\
         <style>{STYLE}</style></head><body><h1>xenprobe comparison</h1><ul>"
    );
    for (i, r) in runs.iter().enumerate() {
        let v = r.verdict.name();
        let l = letter(i);
        let link = if r.is_bench() {
            "bench figures".to_string()
        } else {
            format!("<a href=\"{l}/index.html\">report</a>")
        };
        let _ = write!(
            h,
            "<li><b>{l}</b> <span class=\"badge {v}\">{v}</span> {} ({link})</li>",
            esc(&r.source)
        );
    }
    let _ = write!(h, "</ul><pre>{}</pre></body></html>", esc(table));
    h
}
