//! The result protocol (DESIGN.md): one `@xp {json}` line per event, and the
//! final line `Test result: SUCCESS|SKIP|ERROR|FAILURE`.

use crate::drv::console::{self, Console};
use core::fmt::{Display, Write};
use xp_core::json::Obj;
use xp_core::outcome::{Outcome, RECORD_PREFIX, RESULT_PREFIX};

/// Write one `@xp` record; `f` adds the fields after `kind`.
pub fn record<F>(kind: &str, f: F)
where
    F: for<'w> FnOnce(Obj<'w, Console>) -> Obj<'w, Console>,
{
    console::with(|c| {
        let _ = c.write_str(RECORD_PREFIX);
        let _ = f(Obj::new(c).str("kind", kind)).end();
        let _ = c.write_str("\n");
    });
}

/// The closing line of a run.
pub fn result_line(o: Outcome) {
    console::with(|c| {
        let _ = writeln!(c, "{RESULT_PREFIX}{}", o.name());
    });
}

/// A run-level error that is not a probe's (bad command line, broken setup).
pub fn error(msg: impl Display) {
    crate::println!("ERROR: {msg}");
    record("error", |o| o.display("msg", &msg));
}
