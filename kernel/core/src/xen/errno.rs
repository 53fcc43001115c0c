//! errno.h: the few Xen error numbers the probes interpret (hypercalls return -errno).

pub const EPERM: i64 = 1;
pub const ENOENT: i64 = 2;
pub const EFAULT: i64 = 14;
pub const EINVAL: i64 = 22;
pub const ENOSPC: i64 = 28;
pub const ENOSYS: i64 = 38;
pub const EOPNOTSUPP: i64 = 95;

/// A short name for a negative hypercall return value.
pub fn name(rc: i64) -> &'static str {
    match -rc {
        0 => "OK",
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        EFAULT => "EFAULT",
        EINVAL => "EINVAL",
        ENOSPC => "ENOSPC",
        ENOSYS => "ENOSYS",
        EOPNOTSUPP => "EOPNOTSUPP",
        _ => "E?",
    }
}
