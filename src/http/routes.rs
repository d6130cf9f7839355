//! The `/api/v1` route table: every route with its method, path, the
//! permission it needs, whether it takes a JSON body, and how its family
//! shapes refusals. The server mounts exactly these ([`mount`]), the guard
//! checks each request against them ([`super::guard`]), and the tests walk
//! them: a route cannot be served without being checked.
//!
//! BTCPay Greenfield's family (`/stores/…`, `/server/info`,
//! `/api-keys/current`) has its rows here too, made with [`greenfield`]: its
//! refusals are worded as Greenfield's ([`ErrorShape::Greenfield`]) and its
//! paths are served with a trailing slash too.

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
    /// PUT
    Put,
}

impl Verb {
    /// The method's name (`"GET"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Delete => "DELETE",
            Verb::Put => "PUT",
        }
    }

    /// As actix names it.
    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Delete => Method::DELETE,
            Verb::Put => Method::PUT,
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
    /// BTCPay Greenfield's: `{"code", "message"}`, `401 unauthenticated`,
    /// `403 missing-permission` with `missingPermission`
    /// ([`crate::greenfield::reply::GreenfieldError`]).
    Greenfield,
}

impl ErrorShape {
    /// The answer to `refusal`.
    pub fn respond(self, refusal: &Refusal) -> HttpResponse {
        match self {
            ErrorShape::Bchpay => {
                use actix_web::ResponseError;
                bchpay_error(refusal).error_response()
            }
            ErrorShape::Greenfield => {
                use actix_web::ResponseError;
                crate::greenfield::reply::GreenfieldError::from_refusal(refusal).error_response()
            }
        }
    }

    /// The family of a path no row matches (`/api/v1/stores/…` and the other
    /// Greenfield prefixes are Greenfield's), for the `404` of the guard.
    pub fn of_unrouted(path: &str) -> ErrorShape {
        let rest = path.strip_prefix(PREFIX).unwrap_or(path);
        let greenfield = ["/stores", "/server", "/api-keys/current"].iter().any(|p| {
            rest.strip_prefix(p)
                .is_some_and(|tail| tail.is_empty() || tail.starts_with('/'))
        });
        if greenfield {
            ErrorShape::Greenfield
        } else {
            ErrorShape::Bchpay
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

    /// The paths it is mounted at below [`PREFIX`]: its own, and for a
    /// Greenfield row the same with a trailing slash (BTCPay serves both).
    pub fn mounted_paths(&self) -> Vec<String> {
        match self.errors {
            ErrorShape::Bchpay => vec![self.path.to_owned()],
            ErrorShape::Greenfield => vec![self.path.to_owned(), format!("{}/", self.path)],
        }
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

/// Shorthand for a row of the Greenfield family; `permission` `None`: any
/// valid key (`server/info`, `api-keys/current`).
pub const fn greenfield(
    verb: Verb,
    path: &'static str,
    permission: Option<Permission>,
    body: Body,
    handler: fn() -> Route,
) -> ApiRoute {
    ApiRoute {
        verb,
        path,
        permission,
        body,
        errors: ErrorShape::Greenfield,
        handler,
    }
}

use crate::greenfield::{
    invoice_list as gf_list, invoice_routes as gf_invoices, mark_route as gf_mark, store_routes as gf_store,
    webhook_routes as gf_hooks,
};
use Body::{Json, None as NoBody};
use Permission::{
    CanCreateInvoice, CanModifyInvoices, CanModifyWebhooks, CanViewInvoices, CanViewStoreSettings, Unrestricted,
};
use Verb::{Delete, Get, Post, Put};

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
    // BTCPay Greenfield (docs/greenfield.md §4). `api-keys/current` comes
    // before bchpay's `api-keys/{id}` rows.
    greenfield(Get, "/api-keys/current", None, NoBody, || {
        web::to(gf_store::current_key)
    }),
    greenfield(Get, "/server/info", None, NoBody, || web::to(gf_store::server_info)),
    greenfield(Get, "/stores", Some(CanViewStoreSettings), NoBody, || {
        web::to(gf_store::stores)
    }),
    greenfield(Get, "/stores/{storeId}", Some(CanViewStoreSettings), NoBody, || {
        web::to(gf_store::store)
    }),
    greenfield(
        Get,
        "/stores/{storeId}/payment-methods",
        Some(CanViewStoreSettings),
        NoBody,
        || web::to(gf_store::payment_methods),
    ),
    greenfield(Post, "/stores/{storeId}/invoices", Some(CanCreateInvoice), Json, || {
        web::to(gf_invoices::create)
    }),
    greenfield(Get, "/stores/{storeId}/invoices", Some(CanViewInvoices), NoBody, || {
        web::to(gf_list::list)
    }),
    greenfield(
        Get,
        "/stores/{storeId}/invoices/{invoiceId}",
        Some(CanViewInvoices),
        NoBody,
        || web::to(gf_invoices::read),
    ),
    greenfield(
        Get,
        "/stores/{storeId}/invoices/{invoiceId}/payment-methods",
        Some(CanViewInvoices),
        NoBody,
        || web::to(gf_invoices::payment_methods),
    ),
    greenfield(
        Post,
        "/stores/{storeId}/invoices/{invoiceId}/status",
        Some(CanModifyInvoices),
        Json,
        || web::to(gf_mark::mark),
    ),
    // Registered webhooks (docs/greenfield.md §4.9).
    greenfield(
        Get,
        "/stores/{storeId}/webhooks",
        Some(CanModifyWebhooks),
        NoBody,
        || web::to(gf_hooks::list),
    ),
    greenfield(
        Post,
        "/stores/{storeId}/webhooks",
        Some(CanModifyWebhooks),
        Json,
        || web::to(gf_hooks::create),
    ),
    greenfield(
        Get,
        "/stores/{storeId}/webhooks/{webhookId}",
        Some(CanModifyWebhooks),
        NoBody,
        || web::to(gf_hooks::read),
    ),
    greenfield(
        Put,
        "/stores/{storeId}/webhooks/{webhookId}",
        Some(CanModifyWebhooks),
        Json,
        || web::to(gf_hooks::update),
    ),
    greenfield(
        Delete,
        "/stores/{storeId}/webhooks/{webhookId}",
        Some(CanModifyWebhooks),
        NoBody,
        || web::to(gf_hooks::delete),
    ),
    greenfield(
        Get,
        "/stores/{storeId}/webhooks/{webhookId}/deliveries",
        Some(CanModifyWebhooks),
        NoBody,
        || web::to(gf_hooks::deliveries),
    ),
    greenfield(
        Get,
        "/stores/{storeId}/webhooks/{webhookId}/deliveries/{deliveryId}",
        Some(CanModifyWebhooks),
        NoBody,
        || web::to(gf_hooks::delivery),
    ),
    greenfield(
        Get,
        "/stores/{storeId}/webhooks/{webhookId}/deliveries/{deliveryId}/request",
        Some(CanModifyWebhooks),
        NoBody,
        || web::to(gf_hooks::delivery_request),
    ),
    greenfield(
        Post,
        "/stores/{storeId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
        Some(CanModifyWebhooks),
        NoBody,
        || web::to(gf_hooks::redeliver),
    ),
    bchpay(Post, "/api-keys", Unrestricted, Json, || web::to(api_keys::create)),
    bchpay(Get, "/api-keys", Unrestricted, NoBody, || web::to(api_keys::list)),
    bchpay(Delete, "/api-keys/{id}", Unrestricted, NoBody, || {
        web::to(api_keys::revoke)
    }),
];

/// Mounts every row of [`API_V1`] (inside the `/api/v1` scope).
pub fn mount(cfg: &mut web::ServiceConfig) {
    for route in API_V1 {
        for path in route.mounted_paths() {
            cfg.route(&path, (route.handler)().method(route.verb.method()));
        }
    }
}
