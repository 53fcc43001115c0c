//! Re-export of the raw hypercall entry points for the wrappers in `xen::*`.

pub use crate::arch::hypercall::{call2 as raw2, call3 as raw3, call5 as raw5};
