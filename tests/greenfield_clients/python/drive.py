"""Drives bchpay's Greenfield routes through the PyPI package `pygreenfield`
1.0.0 (written by others, swagger-codegen output for BTCPay's API), the way a
shop's setup and checkout would, and prints one JSON object on stdout for a
Rust test to check.

Environment: BASE_URL (no trailing slash), API_KEY, STORE_ID, and optionally
WEBHOOK_URL (where the created webhook points; default a loopback URL that
nothing listens on) and CURRENCY (default USD).

Each call is made once, with `_preload_content=False`, to keep the raw JSON
the server sent (the package's models drop fields newer than the swagger it
was generated from, e.g. `paymentMethodId`, and the webhook `id`); that JSON
is then read by the package's own deserializer into the response type the
package declares for the call, recording whether it parses (`model_ok`,
`model`). Every step is
kept, error or not; the exit code is 0 unless the environment is incomplete
(2): deciding is the test's job.
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
WEBHOOK_URL = os.environ.get("WEBHOOK_URL") or "http://127.0.0.1:9/greenfield-webhook"
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

out = {"client": "pygreenfield==1.0.0", "steps": {}}


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


def step(name, response_type, call, *args, **kwargs):
    """Runs `call` once; keeps the raw answer and how the models read it."""
    record = {}
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


def main():
    # Setup, as a shop plugin does it.
    step("stores", "StoreDataList", stores.stores_get_stores)
    step("store", "StoreData", stores.stores_get_store, STORE_ID)
    step("apiKeyCurrent", "ApiKeyData", keys.api_v1_api_keys_current_get)
    step("serverInfo", "ApplicationServerInfoData", server.server_info_get_server_info)
    step("storePaymentMethods", "list[GenericPaymentMethodData]", store_pms.store_payment_methods_get_store_payment_methods, STORE_ID)
    created = step(
        "webhookCreate",
        "WebhookDataCreate",
        webhooks.api_v1_stores_store_id_webhooks_post,
        {
            "enabled": True,
            "automaticRedelivery": True,
            "url": WEBHOOK_URL,
            "authorizedEvents": {
                "everything": False,
                "specificEvents": [
                    "InvoiceReceivedPayment", "InvoicePaymentSettled", "InvoiceProcessing",
                    "InvoiceExpired", "InvoiceSettled", "InvoiceInvalid",
                ],
            },
        },
        STORE_ID,
    )
    webhook_id = (created.get("body") or {}).get("id", "missing") if created["ok"] else "missing"
    step("webhookGet", "WebhookData", webhooks.webhokks_get_webhook, STORE_ID, webhook_id)
    step("webhookList", "WebhookDataList", webhooks.webhokks_get_webhooks, STORE_ID)

    # Checkout: an invoice priced in fiat, read back, its payment methods.
    invoice = step(
        "invoiceCreate",
        "InvoiceData",
        invoices.invoices_create_invoice,
        {
            "amount": "12.34",
            "currency": CURRENCY,
            "metadata": {
                "orderId": "py-%d" % int(time.time() * 1000),
                "orderUrl": "https://shop.example/wp-admin/post.php?post=2&action=edit",
                "taxIncluded": "1.10",
                "posData": json.dumps({"WooCommerce": {"Order ID": 2}}),
            },
            "checkout": {
                "speedPolicy": "MediumSpeed",
                "paymentMethods": ["BCH_CHAIN"],
                "expirationMinutes": None,
                "monitoringMinutes": None,
                "paymentTolerance": None,
                "redirectURL": "https://shop.example/checkout/order-received/2/",
                "redirectAutomatically": None,
                "defaultLanguage": None,
            },
        },
        STORE_ID,
    )
    invoice_id = (invoice.get("body") or {}).get("id", "missing") if invoice["ok"] else "missing"
    step("invoiceGet", "InvoiceData", invoices.invoices_get_invoice, STORE_ID, invoice_id)
    step("invoicePaymentMethods", "list[InvoicePaymentMethodDataModel]", invoices.invoices_get_invoice_payment_methods, STORE_ID, invoice_id)
    step("invoiceMarkInvalid", "InvoiceData", invoices.invoices_mark_invoice_status, {"status": "Invalid"}, STORE_ID, invoice_id)
    step("invoiceGetAfterMark", "InvoiceData", invoices.invoices_get_invoice, STORE_ID, invoice_id)

    # Errors in Greenfield's shapes.
    step("invoiceGetUnknown", "InvoiceData", invoices.invoices_get_invoice, STORE_ID, "inv_doesnotexist")
    step("invoiceCreateBadAmount", "InvoiceData", invoices.invoices_create_invoice, {"amount": "-1", "currency": CURRENCY}, STORE_ID)

    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
