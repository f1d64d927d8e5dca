import { z } from 'zod';

/** The placeholder in STRIPE_CHECKOUT_URL (Stripe's own name for it in return URLs). */
export const CHECKOUT_SESSION_ID = '{CHECKOUT_SESSION_ID}';

const schema = z.object({
  /** Stripe secret key; absent = the labelled test-mode provider (credits top-ups directly). */
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  /** The webhook endpoint's signing secret (`whsec_…`); required with a secret key. */
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Stripe API base URL: stripe-mock in tests and local runs (`http://127.0.0.1:12111`). */
  STRIPE_API_BASE: z.string().url().optional(),
  /**
   * Development only: where to send the buyer instead of Stripe's hosted Checkout page, e.g. the
   * local stand-in of `npm start` (`http://127.0.0.1:3102/checkout/{CHECKOUT_SESSION_ID}`). The
   * session's id replaces `{CHECKOUT_SESSION_ID}`; its client reference, amount, currency and
   * return URLs are appended as query parameters. Refused with NODE_ENV=production.
   */
  STRIPE_CHECKOUT_URL: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL')
    .refine((u) => u.includes(CHECKOUT_SESSION_ID), `must contain ${'{CHECKOUT_SESSION_ID}'}`)
    .optional(),
  NODE_ENV: z.string().optional(),
  /** Where Checkout returns the buyer (`{PUBLIC_WEB_URL}/wallet?top-up=…`). */
  PUBLIC_WEB_URL: z.string().url().default('http://127.0.0.1:3000'),
  /** Seller payables below this (in the currency's major unit) wait for the next payout. */
  PAYOUT_MINIMUM: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .default('100.00'),
  /** `off` disables the in-process payout scheduler. */
  PAYOUT_SCHEDULER: z.enum(['on', 'off']).default('on'),
  /** Payout schedule period (default daily). */
  PAYOUT_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(86_400),
});

export type PaymentsConfigValues = z.input<typeof schema>;

/** Payment settings, validated from the environment. */
export class PaymentsConfig {
  readonly secretKey: string | null;
  readonly webhookSecret: string | null;
  readonly apiBase: URL | null;
  /** Development stand-in for Stripe's Checkout page (a template), or null: Stripe's own. */
  readonly checkoutUrl: string | null;
  readonly publicWebUrl: string;
  readonly payoutMinimum: string;
  readonly payoutScheduler: boolean;
  readonly payoutIntervalMs: number;

  constructor(v: Partial<PaymentsConfigValues> = {}) {
    const parsed = schema.safeParse(v);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      throw new Error(`invalid payments configuration:\n  ${problems.join('\n  ')}`);
    }
    const c = parsed.data;
    if (c.STRIPE_SECRET_KEY && !c.STRIPE_WEBHOOK_SECRET) {
      throw new Error('invalid payments configuration:\n  STRIPE_WEBHOOK_SECRET: required');
    }
    if (c.STRIPE_CHECKOUT_URL) {
      const refuse = (why: string): never => {
        throw new Error(`invalid payments configuration:\n  STRIPE_CHECKOUT_URL: ${why}`);
      };
      if (c.NODE_ENV === 'production') refuse('development only, refused with NODE_ENV=production');
      const key = c.STRIPE_SECRET_KEY ?? '';
      if (!key) refuse('needs STRIPE_SECRET_KEY (test mode has no checkout)');
      if (/^(sk|rk)_live_/.test(key)) refuse('refused with a live Stripe key');
    }
    this.secretKey = c.STRIPE_SECRET_KEY ?? null;
    this.webhookSecret = c.STRIPE_WEBHOOK_SECRET ?? null;
    this.apiBase = c.STRIPE_API_BASE ? new URL(c.STRIPE_API_BASE) : null;
    this.checkoutUrl = c.STRIPE_CHECKOUT_URL ?? null;
    this.publicWebUrl = c.PUBLIC_WEB_URL.replace(/\/$/, '');
    this.payoutMinimum = c.PAYOUT_MINIMUM;
    this.payoutScheduler = c.PAYOUT_SCHEDULER === 'on';
    this.payoutIntervalMs = c.PAYOUT_INTERVAL_SECONDS * 1000;
  }

  /** True when no Stripe key is configured: top-ups are credited by the test-mode provider. */
  get testMode(): boolean {
    return this.secretKey === null;
  }

  static fromEnv(env: Record<string, string | undefined>): PaymentsConfig {
    const pick = (k: keyof PaymentsConfigValues) => (env[k] === '' ? undefined : env[k]);
    return new PaymentsConfig({
      STRIPE_SECRET_KEY: pick('STRIPE_SECRET_KEY'),
      STRIPE_WEBHOOK_SECRET: pick('STRIPE_WEBHOOK_SECRET'),
      STRIPE_API_BASE: pick('STRIPE_API_BASE'),
      STRIPE_CHECKOUT_URL: pick('STRIPE_CHECKOUT_URL'),
      NODE_ENV: pick('NODE_ENV'),
      PUBLIC_WEB_URL: pick('PUBLIC_WEB_URL'),
      PAYOUT_MINIMUM: pick('PAYOUT_MINIMUM'),
      PAYOUT_SCHEDULER: pick('PAYOUT_SCHEDULER') as 'on' | 'off' | undefined,
      PAYOUT_INTERVAL_SECONDS: pick('PAYOUT_INTERVAL_SECONDS'),
    });
  }
}
