//! The report as JSON for tools: verdict, environment, checks, every figure (with unit, sample
//! count and method), stalls, warnings, and all records.

use super::load::Run;
use serde_json::{json, Value};

pub fn to_json(run: &Run) -> Value {
    let e = &run.env;
    let kind = |k: &str| run.of_kind(k).cloned().collect::<Vec<Value>>();
    json!({
        "kind": "xenprobe-report",
        "source": run.source,
        "verdict": run.verdict.name(),
        "exit_code": run.verdict.exit_code(),
        "reason": run.reason,
        "environment": {
            "xen_version": e.xen_version,
            "scheduler": e.scheduler,
            "xenstored": e.xenstored,
            "mode": e.mode,
            "cmdline": e.cmdline,
            "probe_version": e.probe_version,
            "memory_mib": e.memory_mib,
        },
        "checks": kind("check"),
        "figures": run.figures(),
        "stalls": kind("stall"),
        "errors": kind("error"),
        "warnings": run.warnings,
        "records": run.records,
    })
}
