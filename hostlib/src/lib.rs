//! xenprobe's host-side library: what the `xenprobe` binary (on a real Xen host, and in the
//! lab's dom0) and `cargo xtask` (the developer workflow) both do.
//!
//! * [`xlcfg`]: the xl config of a probe domain;
//! * [`console`]: one probe console line classified (human text, `@xp` record, result line);
//! * [`tail`]: a growing log read line by line;
//! * [`results`]: a whole console log parsed (records, result line, verdict);
//! * [`report`]: summaries, HTML with SVG plots, JUnit, JSON, comparisons of runs;
//! * [`xtrace`]: Xen's trace (xentrace) around each stall, for the report.

pub mod console;
pub mod report;
pub mod results;
pub mod tail;
pub mod xlcfg;
pub mod xtrace;
