//! BTCPay Greenfield API v1 compatibility (issue 14; spec: `docs/greenfield.md`).
//!
//! Pure pieces only so far, not wired into the HTTP server:
//! - [`types`]: the request and response bodies of the Greenfield routes
//!   bchpay serves, mirroring BTCPay v2.4.1's swagger type for type.
//! - [`webhook_body`]: Greenfield webhook event bodies and the `BTCPay-Sig`
//!   signature.

pub mod types;
pub mod webhook_body;
