// Drives bchpay's Greenfield routes through the npm package
// `btcpay-greenfield-node-client` 1.7.0 (written by others, generated from
// BTCPay's swagger), the way the BTCPay for WooCommerce plugin v2.8.0 does
// (its setup checks, its webhook and invoice bodies), and prints one JSON line
// on stdout for the Rust test (tests/api/greenfield_clients.rs) to check.
//
// Environment: BASE_URL (no trailing slash), API_KEY, STORE_ID, and
// - PHASE=setup (default): the plugin's setup, a checkout, a mark Invalid,
//   two errors. Also WEBHOOK_URL (where the webhook points), ORDER_ID
//   (the checkout's order id), CURRENCY (default USD).
// - PHASE=paid: after the test paid INVOICE_ID: the invoice, its payment
//   methods, the deliveries of WEBHOOK_ID and one redelivery.
// - PHASE=key: the settings page's key check alone (stores, api-keys/current).
//
// Every step is {route, ok, status, body} (or {…, ok: false, error} when the
// server answered an error). The package throws on any non-2xx and hands a
// success's body only, so a success's `status` is null here (the Python
// driver and the test's own requests see it). `plugin` holds what the
// plugin's own checks conclude from those answers. The run exits 0 even when
// steps fail: deciding is the test's job; 2 on a missing variable.
'use strict';

const client = require('btcpay-greenfield-node-client');

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
const PHASE = process.env.PHASE || 'setup';
const CURRENCY = process.env.CURRENCY || 'USD';

OpenAPI.BASE = BASE_URL;
OpenAPI.TOKEN = API_KEY; // sent as `Authorization: token API_KEY`

const out = { client: 'btcpay-greenfield-node-client@1.7.0', phase: PHASE, steps: {}, plugin: {} };

// Runs one call; keeps what the server answered, error or not.
async function step(name, route, call) {
  try {
    const body = await call();
    out.steps[name] = { route, ok: true, status: null, body: body === undefined ? null : body };
  } catch (e) {
    // ApiError carries the status and the parsed body (core/ApiError.ts).
    out.steps[name] = {
      route,
      ok: false,
      status: e && e.status !== undefined ? e.status : null,
      error: String(e && e.message ? e.message : e),
      body: e && e.body !== undefined ? e.body : null,
    };
  }
  return out.steps[name];
}

// A step the package has no call for: said so, left to the test.
function unsupported(name, route, why) {
  out.steps[name] = { route, ok: false, unsupported: why };
}

// The plugin's permission checks (GreenfieldApiAuthorization, v2.8.0).
const REQUIRED = [
  'btcpay.store.canviewinvoices',
  'btcpay.store.cancreateinvoice',
  'btcpay.store.canviewstoresettings',
  'btcpay.store.canmodifyinvoices',
];
const OPTIONAL = ['btcpay.store.cancreatenonapprovedpullpayments', 'btcpay.store.webhooks.canmodifywebhooks'];

function pluginKeyChecks(data) {
  const permissions = (data && data.permissions) || [];
  const names = permissions.map((p) => String(p).split(':')[0]);
  const left = names.filter((n) => !OPTIONAL.includes(n));
  const required = REQUIRED.every((r) => left.includes(r)) && left.every((n) => REQUIRED.includes(n));
  let single = true;
  let storeId = null;
  for (const p of permissions) {
    const parts = String(p).split(':');
    if (parts.length !== 2) {
      single = false;
      break;
    }
    if (storeId === null) storeId = parts[1];
    else if (storeId !== parts[1]) {
      single = false;
      break;
    }
  }
  return {
    hasSingleStore: single,
    hasRequiredPermissions: required,
    storeId: permissions.length ? String(permissions[0]).split(':')[1] || null : null,
    hasWebhookPermission: names.includes('btcpay.store.webhooks.canmodifywebhooks'),
    hasRefundsPermission: names.includes('btcpay.store.cancreatenonapprovedpullpayments'),
  };
}

// PHP's version_compare(a, b) < 0 for plain dotted numbers.
function versionBelow(a, b) {
  const x = String(a).split('.').map(Number);
  const y = String(b).split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] || 0) - (y[i] || 0);
    if (d !== 0) return d < 0;
  }
  return false;
}

const WEBHOOK_EVENTS = [
  'InvoiceReceivedPayment', 'InvoicePaymentSettled', 'InvoiceProcessing',
  'InvoiceExpired', 'InvoiceSettled', 'InvoiceInvalid',
];

// The plugin's invoice body (AbstractGateway::createInvoice with "send
// customer data" on, through greenfield-php's Invoice::createInvoice).
function pluginInvoice(orderId) {
  return {
    amount: '12.34',
    currency: CURRENCY,
    metadata: {
      buyerEmail: 'buyer@example.com',
      buyerName: 'Kim Minji',
      buyerAddress1: '1 Main St',
      buyerAddress2: '',
      buyerCity: 'Seoul',
      buyerState: '',
      buyerZip: '04524',
      buyerCountry: 'KR',
      taxIncluded: '1.10',
      posData: JSON.stringify({ WooCommerce: { 'Order ID': orderId, 'Order Number': orderId } }),
      orderUrl: `https://shop.example/wp-admin/post.php?post=${orderId}&action=edit`,
      orderId: String(orderId),
    },
    checkout: {
      speedPolicy: null,
      paymentMethods: ['BCH_CHAIN'],
      expirationMinutes: null,
      monitoringMinutes: null,
      paymentTolerance: null,
      redirectURL: `https://shop.example/checkout/order-received/${orderId}/?key=wc_order_x`,
      redirectAutomatically: null,
      defaultLanguage: null,
    },
  };
}

const R = {
  stores: 'GET /api/v1/stores',
  store: 'GET /api/v1/stores/{storeId}',
  apiKeyCurrent: 'GET /api/v1/api-keys/current',
  serverInfo: 'GET /api/v1/server/info',
  storePaymentMethods: 'GET /api/v1/stores/{storeId}/payment-methods',
  webhooks: 'GET /api/v1/stores/{storeId}/webhooks',
  webhookCreate: 'POST /api/v1/stores/{storeId}/webhooks',
  webhook: 'GET /api/v1/stores/{storeId}/webhooks/{webhookId}',
  deliveries: 'GET /api/v1/stores/{storeId}/webhooks/{webhookId}/deliveries',
  redeliver: 'POST /api/v1/stores/{storeId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver',
  invoiceCreate: 'POST /api/v1/stores/{storeId}/invoices',
  invoice: 'GET /api/v1/stores/{storeId}/invoices/{invoiceId}',
  invoicePaymentMethods: 'GET /api/v1/stores/{storeId}/invoices/{invoiceId}/payment-methods',
  invoiceStatus: 'POST /api/v1/stores/{storeId}/invoices/{invoiceId}/status',
};

async function setup() {
  const orderId = process.env.ORDER_ID || `${Date.now()}`;
  const webhookUrl = process.env.WEBHOOK_URL || 'http://127.0.0.1:9/?wc-api=btcpaygf_default';
  const s = StoresService;

  // GlobalSettings::save(): stores, api-keys/current, server/info, payment methods.
  const stores = await step('stores', R.stores, () => s.storesGetStores());
  out.plugin.storesNonEmpty = stores.ok && Array.isArray(stores.body) && stores.body.length > 0;
  await step('store', R.store, () => s.storesGetStore({ storeId: STORE_ID }));
  const key = await step('apiKeyCurrent', R.apiKeyCurrent, () => ApiKeysService.getApiKeysService());
  Object.assign(out.plugin, pluginKeyChecks(key.ok ? key.body : null));
  const info = await step('serverInfo', R.serverInfo, () => ServerInfoService.serverInfoGetServerInfo());
  if (info.ok && info.body) {
    out.plugin.fullySynchedNotice = Number(info.body.fullySynched) !== 1 // (int) cast;
    out.plugin.versionNotice = versionBelow(info.body.version, '1.7.6');
  }
  unsupported('storePaymentMethods', R.storePaymentMethods,
    'the package (generated before BTCPay 2.0) has no call for GET stores/{storeId}/payment-methods');

  // GreenfieldApiWebhook::registerWebhook(), then webhookExists().
  const created = await step('webhookCreate', R.webhookCreate, () =>
    WebhooksService.postWebhooksService({
      storeId: STORE_ID,
      requestBody: {
        enabled: true,
        automaticRedelivery: true,
        url: webhookUrl,
        authorizedEvents: { everything: false, specificEvents: WEBHOOK_EVENTS },
      },
    }));
  const webhookId = created.ok && created.body ? created.body.id : 'missing';
  const got = await step('webhookGet', R.webhook, () =>
    WebhooksService.webhokksGetWebhook({ storeId: STORE_ID, webhookId }));
  out.plugin.webhookExists = got.ok && got.body && got.body.id === webhookId &&
    typeof got.body.url === 'string' && got.body.url.includes(webhookUrl);
  await step('webhookList', R.webhooks, () => WebhooksService.webhokksGetWebhooks({ storeId: STORE_ID }));

  // Checkout: the plugin's invoice, read back as validInvoiceExists() does.
  const invoice = await step('invoiceCreate', R.invoiceCreate, () =>
    InvoicesService.invoicesCreateInvoice({ storeId: STORE_ID, requestBody: pluginInvoice(orderId) }));
  const invoiceId = invoice.ok && invoice.body ? invoice.body.id : 'missing';
  const read = await step('invoiceGet', R.invoice, () =>
    InvoicesService.invoicesGetInvoice({ storeId: STORE_ID, invoiceId }));
  if (read.ok && read.body) {
    out.plugin.validInvoiceExists = !['Expired', 'Invalid'].includes(read.body.status);
    const methods = ((read.body.checkout && read.body.checkout.paymentMethods) || [])
      .map((m) => String(m).replace(/-/g, '_')).sort();
    out.plugin.invoiceGateways = methods;
  }
  await step('invoicePaymentMethods', R.invoicePaymentMethods, () =>
    InvoicesService.invoicesGetInvoicePaymentMethods({ storeId: STORE_ID, invoiceId }));

  // markInvoiceInvalid(): another order whose customer picked another gateway.
  const other = await step('invoiceCreateOther', R.invoiceCreate, () =>
    InvoicesService.invoicesCreateInvoice({ storeId: STORE_ID, requestBody: pluginInvoice(`${orderId}1`) }));
  const otherId = other.ok && other.body ? other.body.id : 'missing';
  await step('invoiceMarkInvalid', R.invoiceStatus, () =>
    InvoicesService.invoicesMarkInvoiceStatus({ storeId: STORE_ID, invoiceId: otherId, requestBody: { status: 'Invalid' } }));
  await step('invoiceGetAfterMark', R.invoice, () =>
    InvoicesService.invoicesGetInvoice({ storeId: STORE_ID, invoiceId: otherId }));
  await step('webhookDeliveries', R.deliveries, () =>
    WebhooksService.getWebhooksService({ storeId: STORE_ID, webhookId, count: '50' }));

  // Errors in Greenfield's shapes.
  await step('invoiceGetUnknown', R.invoice, () =>
    InvoicesService.invoicesGetInvoice({ storeId: STORE_ID, invoiceId: 'inv_doesnotexist' }));
  await step('invoiceCreateBadAmount', R.invoiceCreate, () =>
    InvoicesService.invoicesCreateInvoice({ storeId: STORE_ID, requestBody: { amount: '-1', currency: CURRENCY } }));
}

// The settings page's key check alone (GlobalSettings::save()).
async function key() {
  const stores = await step('stores', R.stores, () => StoresService.storesGetStores());
  out.plugin.storesNonEmpty = stores.ok && Array.isArray(stores.body) && stores.body.length > 0;
  const current = await step('apiKeyCurrent', R.apiKeyCurrent, () => ApiKeysService.getApiKeysService());
  Object.assign(out.plugin, pluginKeyChecks(current.ok ? current.body : null));
}

async function paid() {
  const invoiceId = env('INVOICE_ID');
  const webhookId = env('WEBHOOK_ID');
  // After InvoiceSettled: invoiceIsFullyPaid() and updateWCOrderPayments().
  const read = await step('invoiceGet', R.invoice, () =>
    InvoicesService.invoicesGetInvoice({ storeId: STORE_ID, invoiceId }));
  if (read.ok && read.body) {
    out.plugin.isSettled = read.body.status === 'Settled' || read.body.additionalStatus === 'PaidLate';
  }
  const pms = await step('invoicePaymentMethods', R.invoicePaymentMethods, () =>
    InvoicesService.invoicesGetInvoicePaymentMethods({ storeId: STORE_ID, invoiceId }));
  if (pms.ok && Array.isArray(pms.body)) {
    out.plugin.payments = [];
    for (const pm of pms.body) {
      if (!(parseFloat(pm.paymentMethodPaid) > 0)) continue;
      for (const p of pm.payments || []) {
        out.plugin.payments.push({
          paymentMethod: pm.paymentMethod || pm.paymentMethodId,
          transactionId: String(p.id).split('-')[0],
          receivedTimestamp: Math.trunc(Number(p.receivedDate)),
          value: p.value,
          status: p.status,
        });
      }
    }
  }
  const deliveries = await step('webhookDeliveries', R.deliveries, () =>
    WebhooksService.getWebhooksService({ storeId: STORE_ID, webhookId, count: '50' }));
  const first = deliveries.ok && Array.isArray(deliveries.body) && deliveries.body.length
    ? deliveries.body[deliveries.body.length - 1].id : 'missing';
  await step('webhookRedeliver', R.redeliver, () =>
    WebhooksService.postWebhooksService1({ storeId: STORE_ID, webhookId, deliveryId: first }));
}

({ paid, key }[PHASE] || setup)()
  .catch((e) => {
    out.fatal = String(e && e.stack ? e.stack : e);
  })
  .then(() => process.stdout.write(JSON.stringify(out) + '\n'));
