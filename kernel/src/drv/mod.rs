//! Safe drivers above the Xen layer.

pub mod console;
pub mod logger;
