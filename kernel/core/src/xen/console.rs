//! io/console.h: the PV console ring page.
//!
//! `struct xencons_interface { char in[1024]; char out[2048]; u32 in_cons, in_prod, out_cons, out_prod; }`

pub const IN_OFFSET: usize = 0;
pub const IN_SIZE: u32 = 1024;
pub const OUT_OFFSET: usize = 1024;
pub const OUT_SIZE: u32 = 2048;
pub const IN_CONS: usize = 3072;
pub const IN_PROD: usize = 3076;
pub const OUT_CONS: usize = 3080;
pub const OUT_PROD: usize = 3084;
