//! BTCPay Greenfield API v1 compatibility (issue 14; spec: `docs/greenfield.md`).
//!
//! - [`types`]: the request and response bodies of the Greenfield routes
//!   bchpay serves, mirroring BTCPay v2.4.1's swagger type for type.
//! - [`webhook_body`]: Greenfield webhook event bodies and the `BTCPay-Sig`
//!   signature.
//! - [`reply`]: how the routes answer: `200` JSON, errors in Greenfield's
//!   shapes, the `stores/{storeId}` check.
//! - [`store_routes`]: stores, payment methods, server info, the current key.
//! - [`invoice_routes`], [`invoice_list`]: create, read, list, an invoice's
//!   payment methods, over bchpay's own creation path and store;
//!   [`create`] reads the create request, [`mapping`] shows bchpay's invoice.
//! - [`mark_route`]: marking an invoice settled or invalid by hand.
//! - [`modal`]: BTCPay's modal checkout (`/modal/btcpay.js`, `/invoice?id=&view=modal`).
//! - [`webhook_routes`] (+ [`webhook_request`]): registered webhooks, their
//!   deliveries and redelivery (delivered by the `WebhookDispatcher`, see
//!   `crate::event::registered`).
//!
//! The routes are rows of the `/api/v1` table (`crate::http::routes`, made
//! with `greenfield(…)`), checked by the same guard as bchpay's own.

pub mod create;
pub mod invoice_list;
pub mod invoice_routes;
pub mod mapping;
pub mod mark_route;
pub mod modal;
pub mod reply;
pub mod store_routes;
pub mod types;
pub mod webhook_body;
pub mod webhook_request;
pub mod webhook_routes;
