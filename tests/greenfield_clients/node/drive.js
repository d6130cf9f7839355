// Drives bchpay's Greenfield routes through the npm package
// `btcpay-greenfield-node-client` 1.7.0 (written by others, generated from
// BTCPay's swagger), the way a shop's setup and checkout would, and prints
// one JSON object on stdout for a Rust test to check.
//
// Environment: BASE_URL (no trailing slash), API_KEY, STORE_ID, and
// optionally WEBHOOK_URL (where the created webhook points; default a
// loopback URL that nothing listens on) and CURRENCY (default USD).
//
// Every step is recorded as {ok, status, body} (or {ok:false, status, error,
// body} when the server answered with an error), so the test sees the raw
// JSON the client received. The run exits 0 even when steps fail: deciding
// is the test's job. It exits 2 only on a missing environment variable.
'use strict';

const client = require('btcpay-greenfield-node-client');
// The client's own HTTP dependency, for the one route the client lacks.
const fetch = require('node-fetch');

const { OpenAPI, StoresService, ApiKeysService, ServerInfoService, InvoicesService, WebhooksService } = client;

function env(name) {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`drive.js: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
}

const BASE_URL = env('BASE_URL');
const API_KEY = env('API_KEY');
const STORE_ID = env('STORE_ID');
const WEBHOOK_URL = process.env.WEBHOOK_URL || 'http://127.0.0.1:9/greenfield-webhook';
const CURRENCY = process.env.CURRENCY || 'USD';

OpenAPI.BASE = BASE_URL;
OpenAPI.TOKEN = API_KEY; // sent as `Authorization: token API_KEY`

const out = { client: 'btcpay-greenfield-node-client@1.7.0', steps: {} };

// Runs one call; keeps what the server answered, error or not.
async function step(name, call) {
  try {
    const body = await call();
    out.steps[name] = { ok: true, body };
  } catch (e) {
    // ApiError carries the status and the parsed body (core/ApiError.ts).
    out.steps[name] = {
      ok: false,
      status: e && e.status !== undefined ? e.status : null,
      error: String(e && e.message ? e.message : e),
      body: e && e.body !== undefined ? e.body : null,
    };
  }
  return out.steps[name];
}

async function main() {
  // Setup, as a shop plugin does it.
  await step('stores', () => StoresService.storesGetStores());
  await step('store', () => StoresService.storesGetStore({ storeId: STORE_ID }));
  await step('apiKeyCurrent', () => ApiKeysService.getApiKeysService());
  await step('serverInfo', () => ServerInfoService.serverInfoGetServerInfo());
  // The package has no call for GET /api/v1/stores/{id}/payment-methods (it
  // was generated before BTCPay 2.0 added it): the same request, by hand,
  // with the headers the package sends.
  await step('storePaymentMethods', async () => {
    const res = await fetch(`${BASE_URL}/api/v1/stores/${encodeURIComponent(STORE_ID)}/payment-methods`, {
      headers: { Accept: 'application/json', Authorization: `token ${API_KEY}` },
    });
    const text = await res.text();
    let body = text;
    try {
      body = JSON.parse(text);
    } catch (_) {
      // kept as text: the test reports what came back
    }
    if (!res.ok) {
      const err = new Error(`HTTP ${res.status}`);
      err.status = res.status;
      err.body = body;
      throw err;
    }
    return body;
  });
  const created = await step('webhookCreate', () =>
    WebhooksService.postWebhooksService({
      storeId: STORE_ID,
      requestBody: {
        enabled: true,
        automaticRedelivery: true,
        url: WEBHOOK_URL,
        authorizedEvents: {
          everything: false,
          specificEvents: [
            'InvoiceReceivedPayment', 'InvoicePaymentSettled', 'InvoiceProcessing',
            'InvoiceExpired', 'InvoiceSettled', 'InvoiceInvalid',
          ],
        },
      },
    }));
  const webhookId = created.ok && created.body ? created.body.id : 'missing';
  await step('webhookGet', () => WebhooksService.webhokksGetWebhook({ storeId: STORE_ID, webhookId }));
  await step('webhookList', () => WebhooksService.webhokksGetWebhooks({ storeId: STORE_ID }));

  // Checkout: an invoice priced in fiat, read back, its payment methods.
  const invoice = await step('invoiceCreate', () =>
    InvoicesService.invoicesCreateInvoice({
      storeId: STORE_ID,
      requestBody: {
        amount: '12.34',
        currency: CURRENCY,
        metadata: {
          orderId: `node-${Date.now()}`,
          orderUrl: 'https://shop.example/wp-admin/post.php?post=1&action=edit',
          taxIncluded: '1.10',
          posData: JSON.stringify({ WooCommerce: { 'Order ID': 1 } }),
        },
        checkout: {
          speedPolicy: 'MediumSpeed',
          paymentMethods: ['BCH_CHAIN'],
          expirationMinutes: null,
          monitoringMinutes: null,
          paymentTolerance: null,
          redirectURL: 'https://shop.example/checkout/order-received/1/',
          redirectAutomatically: null,
          defaultLanguage: null,
        },
      },
    }));
  const invoiceId = invoice.ok && invoice.body ? invoice.body.id : 'missing';
  await step('invoiceGet', () => InvoicesService.invoicesGetInvoice({ storeId: STORE_ID, invoiceId }));
  await step('invoicePaymentMethods', () =>
    InvoicesService.invoicesGetInvoicePaymentMethods({ storeId: STORE_ID, invoiceId }));
  await step('invoiceMarkInvalid', () =>
    InvoicesService.invoicesMarkInvoiceStatus({ storeId: STORE_ID, invoiceId, requestBody: { status: 'Invalid' } }));
  await step('invoiceGetAfterMark', () => InvoicesService.invoicesGetInvoice({ storeId: STORE_ID, invoiceId }));

  // Errors in Greenfield's shapes.
  await step('invoiceGetUnknown', () =>
    InvoicesService.invoicesGetInvoice({ storeId: STORE_ID, invoiceId: 'inv_doesnotexist' }));
  await step('invoiceCreateBadAmount', () =>
    InvoicesService.invoicesCreateInvoice({ storeId: STORE_ID, requestBody: { amount: '-1', currency: CURRENCY } }));

  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  out.fatal = String(e && e.stack ? e.stack : e);
  process.stdout.write(JSON.stringify(out) + '\n');
});
