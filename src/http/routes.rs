//! The `/api/v1` route table: every route with its method, path, the
//! permission it needs, whether it takes a JSON body, and how its family
//! shapes refusals. The server mounts exactly these ([`mount`]), the guard
//! checks each request against them ([`super::guard`]), and the tests walk
//! them: a route cannot be served without being checked.
//!
//! Another family (Greenfield's `/stores/…`) adds its rows with its own
//! [`ErrorShape`].

use actix_web::{http::Method, web, HttpResponse, Route};

use super::error::ApiError;
use super::{admin, api_keys, backup, events, invoices, rates, wallet};
use crate::api_key::Permission;

/// Where the table is mounted.
pub const PREFIX: &str = "/api/v1";

/// The HTTP methods the table uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// GET
    Get,
    /// POST
    Post,
    /// DELETE
    Delete,
}

impl Verb {
    /// The method's name (`"GET"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Delete => "DELETE",
        }
    }

    /// As actix names it.
    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Delete => Method::DELETE,
        }
    }
}

/// What a route reads from the request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Nothing.
    None,
    /// A JSON document: `Content-Type: application/json`, at most 64 KiB, no repeated key.
    Json,
}

/// Why the guard turns a request away, before any handler runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No key, a wrong key, a revoked key.
    Unauthenticated,
    /// The key lacks the permission.
    MissingPermission(Permission),
    /// A body that is not `application/json`.
    UnsupportedMediaType,
    /// A body that is not one JSON document without repeated keys.
    InvalidJson(String),
    /// A body over the limit.
    TooLarge(usize),
    /// The body could not be read.
    UnreadableBody,
    /// No route has this path.
    NoRoute,
    /// A route has this path, not this method.
    WrongMethod,
    /// The store could not be read.
    Internal,
}

/// How a route family words its refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorShape {
    /// bchpay's `{"error": {"code", "message", "field"?}}`.
    Bchpay,
}

impl ErrorShape {
    /// The answer to `refusal`.
    pub fn respond(self, refusal: &Refusal) -> HttpResponse {
        match self {
            ErrorShape::Bchpay => {
                use actix_web::ResponseError;
                bchpay_error(refusal).error_response()
            }
        }
    }
}

/// A refusal in bchpay's words.
fn bchpay_error(refusal: &Refusal) -> ApiError {
    match refusal {
        Refusal::Unauthenticated => ApiError::unauthorized(),
        Refusal::MissingPermission(p) => ApiError {
            status: 403,
            ..ApiError::field(
                "missing_permission",
                p.as_str(),
                format!("this API key lacks the permission {p}"),
            )
        },
        Refusal::UnsupportedMediaType => ApiError::new(
            415,
            "unsupported_media_type",
            "the request body must be sent as Content-Type: application/json",
        ),
        Refusal::InvalidJson(why) => {
            ApiError::new(400, "invalid_json", format!("request body is not valid JSON: {why}"))
        }
        Refusal::TooLarge(limit) => ApiError::too_large(*limit),
        Refusal::UnreadableBody => ApiError::new(400, "invalid_body", "the request body could not be read"),
        Refusal::NoRoute => ApiError::not_found("route"),
        Refusal::WrongMethod => ApiError::new(405, "method_not_allowed", "this route does not take this method"),
        Refusal::Internal => ApiError::internal(),
    }
}

/// One row of the table.
pub struct ApiRoute {
    /// Its method.
    pub verb: Verb,
    /// Its path below [`PREFIX`], with `{name}` for a segment.
    pub path: &'static str,
    /// The permission a key needs to be let in; `None`: any valid key
    /// (Greenfield's `GET api-keys/current`).
    pub permission: Option<Permission>,
    /// What it reads from the body.
    pub body: Body,
    /// How its refusals are worded.
    pub errors: ErrorShape,
    /// Its handler, as an actix route without a method guard.
    pub handler: fn() -> Route,
}

impl ApiRoute {
    /// The whole path (`/api/v1/invoices/{id}`).
    pub fn full_path(&self) -> String {
        format!("{PREFIX}{}", self.path)
    }
}

/// Shorthand for a row of bchpay's own family.
const fn bchpay(
    verb: Verb,
    path: &'static str,
    permission: Permission,
    body: Body,
    handler: fn() -> Route,
) -> ApiRoute {
    ApiRoute {
        verb,
        path,
        permission: Some(permission),
        body,
        errors: ErrorShape::Bchpay,
        handler,
    }
}

use Body::{Json, None as NoBody};
use Permission::{CanCreateInvoice, CanModifyWebhooks, CanViewInvoices, CanViewStoreSettings, Unrestricted};
use Verb::{Delete, Get, Post};

/// Every `/api/v1` route. Order matters as in actix: the first row whose
/// method and path match is the one served and checked.
pub static API_V1: &[ApiRoute] = &[
    bchpay(Post, "/invoices", CanCreateInvoice, Json, || web::to(invoices::create)),
    bchpay(Get, "/invoices", CanViewInvoices, NoBody, || web::to(invoices::list)),
    bchpay(Get, "/invoices/{id}", CanViewInvoices, NoBody, || {
        web::to(invoices::read)
    }),
    bchpay(Get, "/rates", CanViewInvoices, NoBody, || web::to(rates::list)),
    bchpay(Get, "/wallet", CanViewStoreSettings, NoBody, || web::to(wallet::read)),
    bchpay(Get, "/events", CanViewInvoices, NoBody, || web::to(events::list)),
    bchpay(Post, "/events/{id}/redeliver", CanModifyWebhooks, NoBody, || {
        web::to(events::redeliver)
    }),
    bchpay(Get, "/admin/stats", Unrestricted, NoBody, || web::to(admin::stats)),
    bchpay(Get, "/admin/invoices", Unrestricted, NoBody, || {
        web::to(admin::invoices)
    }),
    bchpay(Get, "/admin/invoices/{id}", Unrestricted, NoBody, || {
        web::to(admin::invoice)
    }),
    bchpay(Get, "/admin/addresses", Unrestricted, NoBody, || {
        web::to(admin::addresses)
    }),
    bchpay(Get, "/admin/pool", Unrestricted, NoBody, || web::to(admin::pool)),
    bchpay(Get, "/admin/events", Unrestricted, NoBody, || web::to(admin::events)),
    bchpay(Get, "/admin/backup", Unrestricted, NoBody, || web::to(backup::backup)),
    bchpay(Post, "/api-keys", Unrestricted, Json, || web::to(api_keys::create)),
    bchpay(Get, "/api-keys", Unrestricted, NoBody, || web::to(api_keys::list)),
    bchpay(Delete, "/api-keys/{id}", Unrestricted, NoBody, || {
        web::to(api_keys::revoke)
    }),
];

/// Mounts every row of [`API_V1`] (inside the `/api/v1` scope).
pub fn mount(cfg: &mut web::ServiceConfig) {
    for route in API_V1 {
        cfg.route(route.path, (route.handler)().method(route.verb.method()));
    }
}
