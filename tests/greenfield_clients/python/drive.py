"""Drives bchpay's Greenfield routes through the PyPI package `pygreenfield`
1.0.0 (written by others, swagger-codegen output for BTCPay's API), the way
the BTCPay for WooCommerce plugin v2.8.0 does (its setup checks, its webhook
and invoice bodies), and prints one JSON line on stdout for the Rust test
(tests/api/greenfield_clients.rs) to check.

Environment: BASE_URL (no trailing slash), API_KEY, STORE_ID, and
- PHASE=setup (default): the plugin's setup, a checkout, a mark Invalid, two
  errors. Also WEBHOOK_URL (where the webhook points), ORDER_ID (the
  checkout's order id), CURRENCY (default USD).
- PHASE=paid: after the test paid INVOICE_ID: the invoice, its payment
  methods, the deliveries of WEBHOOK_ID and one redelivery.
- PHASE=key: the settings page's key check alone (stores, api-keys/current).

Each call is made once, with `_preload_content=False`, to keep the raw JSON
the server sent (the package's models drop fields newer than the swagger it
was generated from, e.g. `paymentMethodId`, and the webhook `id`); that JSON
is then read by the package's own deserializer into the response type the
package declares for the call (`model_ok`, `model`). Every step is
{route, ok, status, body}; `plugin` holds what the plugin's own checks
conclude. The exit code is 0 unless the environment is incomplete (2):
deciding is the test's job.
"""
import json
import os
import sys
import time

import pygreenfield
from pygreenfield.rest import ApiException


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.stderr.write("drive.py: %s is not set\n" % name)
        sys.exit(2)
    return value


BASE_URL = env("BASE_URL")
API_KEY = env("API_KEY")
STORE_ID = env("STORE_ID")
PHASE = os.environ.get("PHASE") or "setup"
CURRENCY = os.environ.get("CURRENCY") or "USD"

config = pygreenfield.Configuration()
config.host = BASE_URL
config.api_key["Authorization"] = API_KEY
config.api_key_prefix["Authorization"] = "token"  # `Authorization: token API_KEY`
api = pygreenfield.ApiClient(config)

stores = pygreenfield.StoresApi(api)
keys = pygreenfield.APIKeysApi(api)
server = pygreenfield.ServerInfoApi(api)
store_pms = pygreenfield.StorePaymentMethodsApi(api)
invoices = pygreenfield.InvoicesApi(api)
webhooks = pygreenfield.WebhooksApi(api)

out = {"client": "pygreenfield==1.0.0", "phase": PHASE, "steps": {}, "plugin": {}}

R = {
    "stores": "GET /api/v1/stores",
    "store": "GET /api/v1/stores/{storeId}",
    "apiKeyCurrent": "GET /api/v1/api-keys/current",
    "serverInfo": "GET /api/v1/server/info",
    "storePaymentMethods": "GET /api/v1/stores/{storeId}/payment-methods",
    "webhooks": "GET /api/v1/stores/{storeId}/webhooks",
    "webhookCreate": "POST /api/v1/stores/{storeId}/webhooks",
    "webhook": "GET /api/v1/stores/{storeId}/webhooks/{webhookId}",
    "deliveries": "GET /api/v1/stores/{storeId}/webhooks/{webhookId}/deliveries",
    "redeliver": "POST /api/v1/stores/{storeId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
    "invoiceCreate": "POST /api/v1/stores/{storeId}/invoices",
    "invoice": "GET /api/v1/stores/{storeId}/invoices/{invoiceId}",
    "invoicePaymentMethods": "GET /api/v1/stores/{storeId}/invoices/{invoiceId}/payment-methods",
    "invoiceStatus": "POST /api/v1/stores/{storeId}/invoices/{invoiceId}/status",
}


def to_plain(value):
    """A model (or a list of them) as plain JSON values."""
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class _Raw(object):
    """What `ApiClient.deserialize` reads: an object with `data`."""

    def __init__(self, data):
        self.data = data


def step(name, route, response_type, call, *args, **kwargs):
    """Runs `call` once; keeps the raw answer and how the models read it."""
    record = {"route": route}
    try:
        resp = call(*args, _preload_content=False, **kwargs)
        raw = resp.data.decode("utf-8")
        record.update(ok=True, status=resp.status, body=json.loads(raw) if raw else None)
    except ApiException as e:
        body = e.body.decode("utf-8") if isinstance(e.body, bytes) else e.body
        try:
            body = json.loads(body) if body else None
        except ValueError:
            pass
        record.update(ok=False, status=e.status, error=str(e.reason), body=body)
    except Exception as e:  # connection refused, bad JSON: reported, not raised
        record.update(ok=False, status=None, error=repr(e), body=None)
    if record["ok"]:
        try:
            record["model"] = to_plain(api.deserialize(_Raw(raw), response_type))
            record["model_ok"] = True
        except Exception as e:
            record["model_ok"] = False
            record["model_error"] = repr(e)
    out["steps"][name] = record
    return record


def body_of(record):
    return record.get("body") if record["ok"] else None


# The plugin's permission checks (GreenfieldApiAuthorization, v2.8.0).
REQUIRED = [
    "btcpay.store.canviewinvoices",
    "btcpay.store.cancreateinvoice",
    "btcpay.store.canviewstoresettings",
    "btcpay.store.canmodifyinvoices",
]
OPTIONAL = ["btcpay.store.cancreatenonapprovedpullpayments", "btcpay.store.webhooks.canmodifywebhooks"]


def plugin_key_checks(data):
    permissions = (data or {}).get("permissions") or []
    names = [str(p).split(":")[0] for p in permissions]
    left = [n for n in names if n not in OPTIONAL]
    single, store_id = True, None
    for p in permissions:
        parts = str(p).split(":")
        if len(parts) != 2:
            single = False
            break
        if store_id is None:
            store_id = parts[1]
        elif store_id != parts[1]:
            single = False
            break
    first = str(permissions[0]).split(":") if permissions else []
    return {
        "hasSingleStore": single,
        "hasRequiredPermissions": set(left) == set(REQUIRED),
        "storeId": first[1] if len(first) > 1 else None,
        "hasWebhookPermission": "btcpay.store.webhooks.canmodifywebhooks" in names,
        "hasRefundsPermission": "btcpay.store.cancreatenonapprovedpullpayments" in names,
    }


def version_below(a, b):
    """PHP's version_compare(a, b) < 0 for plain dotted numbers."""
    x = [int(n) for n in str(a).split(".")]
    y = [int(n) for n in str(b).split(".")]
    n = max(len(x), len(y))
    return x + [0] * (n - len(x)) < y + [0] * (n - len(y))


WEBHOOK_EVENTS = [
    "InvoiceReceivedPayment", "InvoicePaymentSettled", "InvoiceProcessing",
    "InvoiceExpired", "InvoiceSettled", "InvoiceInvalid",
]


def plugin_invoice(order_id):
    """The plugin's invoice body (AbstractGateway::createInvoice with "send
    customer data" on, through greenfield-php's Invoice::createInvoice)."""
    return {
        "amount": "12.34",
        "currency": CURRENCY,
        "metadata": {
            "buyerEmail": "buyer@example.com",
            "buyerName": "Kim Minji",
            "buyerAddress1": "1 Main St",
            "buyerAddress2": "",
            "buyerCity": "Seoul",
            "buyerState": "",
            "buyerZip": "04524",
            "buyerCountry": "KR",
            "taxIncluded": "1.10",
            "posData": json.dumps({"WooCommerce": {"Order ID": order_id, "Order Number": order_id}}),
            "orderUrl": "https://shop.example/wp-admin/post.php?post=%s&action=edit" % order_id,
            "orderId": str(order_id),
        },
        "checkout": {
            "speedPolicy": None,
            "paymentMethods": ["BCH_CHAIN"],
            "expirationMinutes": None,
            "monitoringMinutes": None,
            "paymentTolerance": None,
            "redirectURL": "https://shop.example/checkout/order-received/%s/?key=wc_order_x" % order_id,
            "redirectAutomatically": None,
            "defaultLanguage": None,
        },
    }


def setup():
    order_id = os.environ.get("ORDER_ID") or str(int(time.time() * 1000))
    webhook_url = os.environ.get("WEBHOOK_URL") or "http://127.0.0.1:9/?wc-api=btcpaygf_default"
    plugin = out["plugin"]

    # GlobalSettings::save(): stores, api-keys/current, server/info, payment methods.
    listed = body_of(step("stores", R["stores"], "StoreDataList", stores.stores_get_stores))
    plugin["storesNonEmpty"] = isinstance(listed, list) and len(listed) > 0
    step("store", R["store"], "StoreData", stores.stores_get_store, STORE_ID)
    key = body_of(step("apiKeyCurrent", R["apiKeyCurrent"], "ApiKeyData", keys.api_v1_api_keys_current_get))
    plugin.update(plugin_key_checks(key))
    info = body_of(step("serverInfo", R["serverInfo"], "ApplicationServerInfoData", server.server_info_get_server_info))
    if isinstance(info, dict):
        plugin["fullySynchedNotice"] = int(info.get("fullySynched") or 0) != 1
        plugin["versionNotice"] = version_below(info.get("version"), "1.7.6")
    pms = body_of(step(
        "storePaymentMethods", R["storePaymentMethods"], "list[GenericPaymentMethodData]",
        store_pms.store_payment_methods_get_store_payment_methods, STORE_ID,
    ))
    if isinstance(pms, list):
        # GreenfieldApiHelper::supportedPaymentMethods(): enabled ones, '-' -> '_'.
        plugin["gateways"] = [
            str(pm.get("paymentMethod") or pm.get("paymentMethodId")).replace("-", "_")
            for pm in pms if pm.get("enabled") is True
        ]

    # GreenfieldApiWebhook::registerWebhook(), then webhookExists().
    created = body_of(step(
        "webhookCreate", R["webhookCreate"], "WebhookDataCreate",
        webhooks.api_v1_stores_store_id_webhooks_post,
        {
            "enabled": True,
            "automaticRedelivery": True,
            "url": webhook_url,
            "authorizedEvents": {"everything": False, "specificEvents": WEBHOOK_EVENTS},
        },
        STORE_ID,
    ))
    webhook_id = (created or {}).get("id") or "missing"
    got = body_of(step("webhookGet", R["webhook"], "WebhookData", webhooks.webhokks_get_webhook, STORE_ID, webhook_id))
    plugin["webhookExists"] = bool(
        isinstance(got, dict) and got.get("id") == webhook_id and webhook_url in str(got.get("url"))
    )
    step("webhookList", R["webhooks"], "WebhookDataList", webhooks.webhokks_get_webhooks, STORE_ID)

    # Checkout: the plugin's invoice, read back as validInvoiceExists() does.
    invoice = body_of(step(
        "invoiceCreate", R["invoiceCreate"], "InvoiceData",
        invoices.invoices_create_invoice, plugin_invoice(order_id), STORE_ID,
    ))
    invoice_id = (invoice or {}).get("id") or "missing"
    read = body_of(step("invoiceGet", R["invoice"], "InvoiceData", invoices.invoices_get_invoice, STORE_ID, invoice_id))
    if isinstance(read, dict):
        plugin["validInvoiceExists"] = read.get("status") not in ("Expired", "Invalid")
        methods = (read.get("checkout") or {}).get("paymentMethods") or []
        plugin["invoiceGateways"] = sorted(str(m).replace("-", "_") for m in methods)
    step(
        "invoicePaymentMethods", R["invoicePaymentMethods"], "list[InvoicePaymentMethodDataModel]",
        invoices.invoices_get_invoice_payment_methods, STORE_ID, invoice_id,
    )

    # markInvoiceInvalid(): another order whose customer picked another gateway.
    other = body_of(step(
        "invoiceCreateOther", R["invoiceCreate"], "InvoiceData",
        invoices.invoices_create_invoice, plugin_invoice(order_id + "1"), STORE_ID,
    ))
    other_id = (other or {}).get("id") or "missing"
    step(
        "invoiceMarkInvalid", R["invoiceStatus"], "InvoiceData",
        invoices.invoices_mark_invoice_status, {"status": "Invalid"}, STORE_ID, other_id,
    )
    step("invoiceGetAfterMark", R["invoice"], "InvoiceData", invoices.invoices_get_invoice, STORE_ID, other_id)
    step(
        "webhookDeliveries", R["deliveries"], "WebhookDeliveryList",
        webhooks.api_v1_stores_store_id_webhooks_webhook_id_deliveries_get, STORE_ID, webhook_id, count="50",
    )

    # Errors in Greenfield's shapes.
    step("invoiceGetUnknown", R["invoice"], "InvoiceData", invoices.invoices_get_invoice, STORE_ID, "inv_doesnotexist")
    step(
        "invoiceCreateBadAmount", R["invoiceCreate"], "InvoiceData",
        invoices.invoices_create_invoice, {"amount": "-1", "currency": CURRENCY}, STORE_ID,
    )


def key():
    """The settings page's key check alone (GlobalSettings::save())."""
    listed = body_of(step("stores", R["stores"], "StoreDataList", stores.stores_get_stores))
    out["plugin"]["storesNonEmpty"] = isinstance(listed, list) and len(listed) > 0
    current = body_of(step("apiKeyCurrent", R["apiKeyCurrent"], "ApiKeyData", keys.api_v1_api_keys_current_get))
    out["plugin"].update(plugin_key_checks(current))


def paid():
    invoice_id = env("INVOICE_ID")
    webhook_id = env("WEBHOOK_ID")
    plugin = out["plugin"]
    # After InvoiceSettled: invoiceIsFullyPaid() and updateWCOrderPayments().
    read = body_of(step("invoiceGet", R["invoice"], "InvoiceData", invoices.invoices_get_invoice, STORE_ID, invoice_id))
    if isinstance(read, dict):
        plugin["isSettled"] = read.get("status") == "Settled" or read.get("additionalStatus") == "PaidLate"
    pms = body_of(step(
        "invoicePaymentMethods", R["invoicePaymentMethods"], "list[InvoicePaymentMethodDataModel]",
        invoices.invoices_get_invoice_payment_methods, STORE_ID, invoice_id,
    ))
    if isinstance(pms, list):
        plugin["payments"] = [
            {
                "paymentMethod": pm.get("paymentMethod") or pm.get("paymentMethodId"),
                "transactionId": str(p.get("id")).split("-")[0],
                "receivedTimestamp": int(p.get("receivedDate")),
                "value": p.get("value"),
                "status": p.get("status"),
            }
            for pm in pms if float(pm.get("paymentMethodPaid") or 0) > 0
            for p in pm.get("payments") or []
        ]
    deliveries = body_of(step(
        "webhookDeliveries", R["deliveries"], "WebhookDeliveryList",
        webhooks.api_v1_stores_store_id_webhooks_webhook_id_deliveries_get, STORE_ID, webhook_id, count="50",
    ))
    first = deliveries[-1]["id"] if isinstance(deliveries, list) and deliveries else "missing"
    step(
        "webhookRedeliver", R["redeliver"], "str",
        webhooks.api_v1_stores_store_id_webhooks_webhook_id_deliveries_delivery_id_redeliver_post,
        STORE_ID, webhook_id, first,
    )


if __name__ == "__main__":
    try:
        {"paid": paid, "key": key}.get(PHASE, setup)()
    except Exception as e:  # a bug here, reported for the test to show
        out["fatal"] = repr(e)
    sys.stdout.write(json.dumps(out) + "\n")
