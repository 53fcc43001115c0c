//! io/xs_wire.h: the xenstore ring page of a domain.
//!
//! ```c
//! struct xenstore_domain_interface {
//!     char req[1024]; char rsp[1024];
//!     XENSTORE_RING_IDX req_cons, req_prod, rsp_cons, rsp_prod;
//!     uint32_t server_features; uint32_t connection; uint32_t error;
//! };
//! ```
//! The page is shared with xenstored: the kernel accesses these offsets only
//! through atomics, never through a reference to the struct (which is here
//! for the layout asserts).

use crate::assert_layout;

#[repr(C)]
pub struct XenstoreDomainInterface {
    pub req: [u8; 1024],
    pub rsp: [u8; 1024],
    pub req_cons: u32,
    pub req_prod: u32,
    pub rsp_cons: u32,
    pub rsp_prod: u32,
    pub server_features: u32,
    pub connection: u32,
    pub error: u32,
}
assert_layout!(XenstoreDomainInterface, 2076;
    req => 0, rsp => 1024, req_cons => 2048, req_prod => 2052, rsp_cons => 2056,
    rsp_prod => 2060, server_features => 2064, connection => 2068, error => 2072);

pub const REQ_OFFSET: usize = 0;
pub const RSP_OFFSET: usize = 1024;
pub const REQ_CONS: usize = 2048;
pub const REQ_PROD: usize = 2052;
pub const RSP_CONS: usize = 2056;
pub const RSP_PROD: usize = 2060;
pub const SERVER_FEATURES: usize = 2064;
pub const CONNECTION: usize = 2068;
pub const ERROR: usize = 2072;

/// `server_features` bit: the server supports the reconnection protocol.
pub const XENSTORE_SERVER_FEATURE_RECONNECTION: u32 = 1;
/// `server_features` bit: the server reports ring errors in `error`.
pub const XENSTORE_SERVER_FEATURE_ERROR: u32 = 2;
/// `connection` values.
pub const XENSTORE_CONNECTED: u32 = 0;
pub const XENSTORE_RECONNECT: u32 = 1;
