//! The report as JSON for tools: verdict, environment, checks, every figure (with unit, sample
//! count and method), stalls, warnings, and all records.

use super::load::Run;
use serde_json::{json, Value};
use xp_core::records::owned;

pub fn to_json(run: &Run) -> Value {
    let e = &run.env;
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
        "checks": run.of::<owned::Check>().collect::<Vec<_>>(),
        "figures": run.figures(),
        "stalls": run.of::<owned::Stall>().collect::<Vec<_>>(),
        "errors": run.of::<owned::Error>().collect::<Vec<_>>(),
        "warnings": run.warnings,
        "records": run.records,
    })
}
