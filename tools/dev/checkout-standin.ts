// A local stand-in for Stripe's hosted Checkout page, for `npm start` only (development tooling,
// never deployed). stripe-mock keeps no state, hosts no Checkout page and sends no webhooks, so
// with STRIPE_CHECKOUT_URL pointing here market-api sends the buyer to this page with the
// session's id, client reference (the top-up), amount, currency and return URLs. "Pay" delivers a
// `checkout.session.completed` event, signed with the webhook secret, to market-api's
// `/v1/stripe/webhook` as Stripe would, then returns the buyer to the success URL; "Cancel"
// returns to the cancel URL. Only the verified webhook credits the wallet, and market-api checks
// the amount against the top-up, so a tampered URL credits nothing.
//
// env: STRIPE_WEBHOOK_SECRET (required), MARKET_API_URL, PUBLIC_WEB_URL (the only origin it
// returns buyers to), CHECKOUT_STANDIN_PORT (default 3102), CHECKOUT_STANDIN_HOST (127.0.0.1).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { fromMinorUnits } from '@suanli/money';
import { checkoutSession, deliverStripeEvent, stripeEvent } from './stripe-events.js';

export interface StandInOptions {
  port: number;
  host?: string;
  webhookSecret: string;
  marketApiUrl: string;
  /** Success and cancel URLs must be on this origin (no open redirect). */
  publicWebUrl: string;
  log?: (s: string) => void;
}

export interface StandIn {
  url: string;
  close(): Promise<void>;
}

interface SessionParams {
  sessionId: string;
  topUpId: string;
  amountTotal: number;
  currency: string;
  successUrl: string;
  cancelUrl: string;
}

const esc = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** 50000 minor units of `cny` → "500.00 CNY". */
export function formatMinor(amountTotal: number, currency: string): string {
  const money = fromMinorUnits(amountTotal, currency);
  return `${money.toString()} ${money.currency}`;
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; color: #1a1a1a; }
.note { background: #fff4d6; border: 1px solid #e0b84a; padding: .5rem .75rem; border-radius: 4px; }
dl { display: grid; grid-template-columns: auto 1fr; gap: .25rem 1rem; }
dt { font-weight: 600; }
.amount { font-size: 2rem; font-weight: 700; }
button { font: inherit; padding: .5rem 1.25rem; margin-right: .75rem; border-radius: 4px; border: 1px solid #444; cursor: pointer; }
button[value=pay] { background: #1d4ed8; color: #fff; border-color: #1d4ed8; }
button:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
  });
  res.end(html);
}

const NOTE = `<p class="note" role="note">Development stand-in for Stripe Checkout: no real money
moves. <span lang="zh-CN">开发用的 Stripe Checkout 替身：不涉及真实资金。</span></p>`;

function problem(res: ServerResponse, status: number, message: string): void {
  page(
    res,
    status,
    'Checkout stand-in: error',
    `<h1>Cannot show this checkout <span lang="zh-CN">无法显示此支付页面</span></h1>
${NOTE}
<p role="alert">${esc(message)}</p>`,
  );
}

function params(url: URL, publicWebUrl: string): SessionParams | string {
  const m = /^\/checkout\/(cs_[A-Za-z0-9_]{1,200})$/.exec(url.pathname);
  if (!m) return 'no such checkout session path';
  const q = url.searchParams;
  const topUpId = q.get('client_reference_id') ?? '';
  if (!/^[0-9a-f-]{36}$/i.test(topUpId)) return 'client_reference_id: a top-up id is required';
  const amount = q.get('amount_total') ?? '';
  if (!/^[1-9]\d{0,14}$/.test(amount)) return 'amount_total: positive minor units are required';
  const currency = q.get('currency') ?? '';
  if (!/^[a-z]{3}$/.test(currency)) return 'currency: a lower-case ISO 4217 code is required';
  const origin = new URL(publicWebUrl).origin;
  const back = (name: string): string | undefined => {
    try {
      const u = new URL(q.get(name) ?? '');
      return u.origin === origin ? u.toString() : undefined;
    } catch {
      return undefined;
    }
  };
  const successUrl = back('success_url');
  const cancelUrl = back('cancel_url');
  if (!successUrl || !cancelUrl) return `success_url and cancel_url must be on ${origin}`;
  return {
    sessionId: m[1],
    topUpId,
    amountTotal: Number(amount),
    currency,
    successUrl,
    cancelUrl,
  };
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > 10_000) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

function checkoutPage(res: ServerResponse, url: URL, s: SessionParams): void {
  const amount = formatMinor(s.amountTotal, s.currency);
  page(
    res,
    200,
    `Pay ${amount} – Checkout stand-in`,
    `<h1>Suanli wallet top-up <span lang="zh-CN">算力钱包充值</span></h1>
${NOTE}
<p class="amount" data-testid="amount">${esc(amount)}</p>
<dl>
<dt>Checkout session <span lang="zh-CN">支付会话</span></dt><dd><code>${esc(s.sessionId)}</code></dd>
<dt>Top-up <span lang="zh-CN">充值单</span></dt><dd><code>${esc(s.topUpId)}</code></dd>
</dl>
<form method="post" action="${esc(url.pathname + url.search)}">
<button type="submit" name="action" value="pay">Pay ${esc(amount)} <span lang="zh-CN">支付</span></button>
<button type="submit" name="action" value="cancel">Cancel <span lang="zh-CN">取消</span></button>
</form>`,
  );
}

export function startCheckoutStandIn(o: StandInOptions): Promise<StandIn> {
  const log = o.log ?? ((s: string): void => console.log(s));
  const webhook = `${o.marketApiUrl.replace(/\/$/, '')}/v1/stripe/webhook`;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/health')) {
      page(
        res,
        200,
        'Stripe Checkout stand-in',
        `<h1>Stripe Checkout stand-in <span lang="zh-CN">Stripe Checkout 替身</span></h1>
${NOTE}
<p>Top up a wallet in the storefront to get here with a checkout session.
<span lang="zh-CN">在商城中为钱包充值即可进入支付页面。</span></p>`,
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' }).end();
      return;
    }
    const s = params(url, o.publicWebUrl);
    if (typeof s === 'string') {
      problem(res, url.pathname.startsWith('/checkout/') ? 400 : 404, s);
      return;
    }
    if (req.method === 'GET') {
      checkoutPage(res, url, s);
      return;
    }
    const action = (await readForm(req)).get('action');
    if (action === 'cancel') {
      log(`session ${s.sessionId}: cancelled`);
      res.writeHead(303, { location: s.cancelUrl }).end();
      return;
    }
    if (action !== 'pay') {
      problem(res, 400, 'action must be pay or cancel');
      return;
    }
    const payload = stripeEvent(
      'checkout.session.completed',
      checkoutSession({
        id: s.sessionId,
        topUpId: s.topUpId,
        amountTotal: s.amountTotal,
        currency: s.currency,
      }),
    );
    let outcome: { status: number; body: unknown };
    try {
      outcome = await deliverStripeEvent(webhook, payload, o.webhookSecret);
    } catch (e) {
      problem(res, 502, `market-api did not take the webhook: ${String(e)}`);
      return;
    }
    const what = (outcome.body as { outcome?: string } | null)?.outcome ?? '';
    log(
      `session ${s.sessionId}: paid ${formatMinor(s.amountTotal, s.currency)}; webhook ${outcome.status} ${what}`,
    );
    if (outcome.status !== 200) {
      problem(res, 502, `market-api refused the webhook (HTTP ${outcome.status})`);
      return;
    }
    res.writeHead(303, { location: s.successUrl }).end();
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) problem(res, 500, String(e));
      else res.destroy();
    });
  });
  const host = o.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : o.port;
      resolve({
        url: `http://${host}:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function main(): Promise<void> {
  const env = process.env;
  const webhookSecret = env.STRIPE_WEBHOOK_SECRET;
  if (!webhookSecret) throw new Error('STRIPE_WEBHOOK_SECRET is required');
  const standIn = await startCheckoutStandIn({
    port: Number(env.CHECKOUT_STANDIN_PORT ?? 3102),
    host: env.CHECKOUT_STANDIN_HOST ?? '127.0.0.1',
    webhookSecret,
    marketApiUrl: env.MARKET_API_URL ?? 'http://127.0.0.1:3100',
    publicWebUrl: env.PUBLIC_WEB_URL ?? 'http://127.0.0.1:3000',
  });
  console.log(`Stripe Checkout stand-in listening on ${standIn.url}`);
  const stop = (): void => {
    void standIn.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
