//! The result protocol (DESIGN.md): one `@xp {json}` line per event (the kinds and their
//! fields are `xp_core::records`), and the final line `Test result: SUCCESS|SKIP|ERROR|FAILURE`.

use crate::drv::console;
use core::fmt::{Display, Write};
use xp_core::outcome::{Outcome, RESULT_PREFIX};
use xp_core::records::{self, Kind};

/// Text in a record as the kernel writes it: anything `Display`, formatted as it is written.
pub type Text<'a> = &'a dyn Display;

/// Write one `@xp` record.
pub fn emit<R: Kind>(r: &R) {
    console::with(|c| {
        let _ = records::write(c, r);
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
    emit(&records::Error::<Text> {
        probe: None,
        vcpu: None,
        msg: &msg,
    });
}
