//! Observed values as a report shows them, in Xen's own words: `ok`, an errno name
//! (`EINVAL`), a list of numbers. Never Rust's Debug text.

use crate::xen::XenError;
use core::fmt::{self, Display};

/// `ok`, or what went wrong.
pub struct Done<'a, T, E>(pub &'a Result<T, E>);

impl<T, E: Display> Display for Done<'_, T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(_) => f.write_str("ok"),
            Err(e) => e.fmt(f),
        }
    }
}

/// A hypercall's answer: `ok`, or the errno's name (`EINVAL`).
pub struct Rc<'a, T>(pub &'a Result<T, XenError>);

impl<T> Display for Rc<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Ok(_) => f.write_str("ok"),
            Err(e) => f.write_str(xp_core::xen::errno::name(e.rc)),
        }
    }
}

/// Items separated by `, ` (`none` for an empty list).
pub struct List<'a, T>(pub &'a [T]);

impl<T: Display> Display for List<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, x) in self.0.iter().enumerate() {
            write!(f, "{}{x}", if i > 0 { ", " } else { "" })?;
        }
        Ok(())
    }
}
