import { Decimal } from 'decimal.js';
import { z } from 'zod';

/** Decimal numbers travel as strings: never binary floats. */
export const decimalString = z
  .string()
  .regex(/^-?(0|[1-9]\d*)(\.\d+)?$/, 'must be a decimal string such as "12.50"');

/**
 * The one size rule for every price and amount (#18): at most 12 digits before the point and 9
 * after. Stored as numeric(38, 9), every product settlement forms of them (price × quantity ×
 * hours, totals of a lease) still fits; larger ones were a 500 or an orphaned row.
 */
export const MONEY_LIMITS = { integerDigits: 12, scale: 9 } as const;
const MONEY_PATTERN = new RegExp(
  `^-?(0|[1-9]\\d{0,${MONEY_LIMITS.integerDigits - 1}})(\\.\\d{1,${MONEY_LIMITS.scale}})?$`,
);
const MONEY_MESSAGE = `must be a decimal string such as "12.50", at most ${MONEY_LIMITS.integerDigits} digits before the point and ${MONEY_LIMITS.scale} after`;

/** A price, amount or money bound (filters): a decimal string within MONEY_LIMITS. */
export const moneyDecimalString = z.string().regex(MONEY_PATTERN, MONEY_MESSAGE);

/** A price, amount, bid or priced quantity: within MONEY_LIMITS and greater than zero. */
export const positiveDecimalString = moneyDecimalString.refine(
  (s) => !s.startsWith('-') && !/^0(\.0+)?$/.test(s),
  {
    message: 'must be greater than zero',
  },
);

/**
 * The currencies the exchange trades and settles in (#18: `XXX` and `ZZZ` were taken for
 * top-ups). A code outside the list is a 400 wherever a currency is accepted.
 */
export const SUPPORTED_CURRENCIES = ['CNY', 'USD', 'EUR', 'HKD', 'JPY', 'GBP', 'SGD'] as const;
export type SupportedCurrency = (typeof SUPPORTED_CURRENCIES)[number];
export const currencyCode = z.enum(SUPPORTED_CURRENCIES, {
  error: () => `must be a supported currency: ${SUPPORTED_CURRENCIES.join(', ')}`,
});

export const ROLES = ['buyer', 'seller', 'assessor', 'operator'] as const;
export type Role = (typeof ROLES)[number];

// ---------- accounts ----------
export const signUpSchema = z.object({
  email: z.string().email().max(254),
  password: z.string().min(10).max(200),
  displayName: z.string().min(1).max(100),
  organization: z.object({
    name: z.string().min(1).max(200),
    roles: z.array(z.enum(['buyer', 'seller'])).min(1),
    industry: z
      .string()
      .regex(/^[A-T]$/)
      .default('I'),
  }),
});
export type SignUpRequest = z.infer<typeof signUpSchema>;

export const logInSchema = z.object({ email: z.string().email(), password: z.string().min(1) });
export type LogInRequest = z.infer<typeof logInSchema>;

export const refreshSchema = z.object({ refreshToken: z.string().min(10) });

export interface OrganizationView {
  id: string;
  name: string;
  roles: Role[];
  registrant: string | null;
}
export interface UserView {
  id: string;
  email: string;
  displayName: string;
}
export interface SessionView {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  user: UserView;
  organization: OrganizationView;
}

// ---------- registry ----------
export const COMPUTE_CLASSES = ['GEN', 'AI', 'HPC'] as const;
export const COMPUTE_FORMS = ['BM', 'VM', 'CTR', 'API', 'JOB'] as const;
export const LIFECYCLE_STATES = [
  'prepared',
  'connected',
  'schedulable',
  'running',
  'retired',
] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export const resourceSpecSchema = z
  .object({
    cpu: z.number().int().positive().optional(),
    memGiB: z.number().int().positive().optional(),
    accel: z
      .object({ count: z.number().int().positive(), model: z.string().regex(/^[A-Z0-9]{1,16}$/) })
      .optional(),
    storageGiB: z.number().int().positive().optional(),
    netGbps: z.number().int().positive().optional(),
  })
  .refine((s) => Object.values(s).some((v) => v !== undefined), {
    message: 'at least one of cpu, memGiB, accel, storageGiB, netGbps is required',
  });
export type ResourceSpec = z.infer<typeof resourceSpecSchema>;

export const registerResourceSchema = z.object({
  name: z.string().min(1).max(200),
  class: z.enum(COMPUTE_CLASSES),
  form: z.enum(COMPUTE_FORMS),
  location: z.object({
    country: z.string().regex(/^[A-Z]{2}$/),
    subdivision: z.string().regex(/^[A-Z0-9]{1,3}$/),
    site: z.string().regex(/^[A-Z0-9]{1,8}$/),
  }),
  spec: resourceSpecSchema,
  cpuModel: z.string().max(64).optional(),
});
export type RegisterResourceRequest = z.infer<typeof registerResourceSchema>;

export interface ResourceView {
  id: string;
  handle: string;
  cri: string;
  name: string;
  ownerOrgId: string;
  class: (typeof COMPUTE_CLASSES)[number];
  form: (typeof COMPUTE_FORMS)[number];
  location: { country: string; subdivision: string; site: string };
  spec: ResourceSpec;
  state: LifecycleState;
  liveStatus: 'online' | 'degraded' | 'offline';
  lastHeartbeatAt: string | null;
  createdAt: string;
}

export const enrolAgentSchema = z.object({
  publicJwk: z
    .object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string().min(40) })
    .passthrough(),
});
export interface AgentView {
  id: string;
  resourceId: string;
  handle: string;
  kid: string;
  createdAt: string;
}

// ---------- offers ----------
export const PRICED_UNITS = [
  'slot_h',
  'scu.ai',
  'scu.hpc',
  'scu.gen',
  'mem.gib_h',
  'sto.gib_h',
  'net.egress_gib',
  'api.call',
] as const;
export type PricedUnit = (typeof PRICED_UNITS)[number];

export const PRICING_MODELS = ['fixed', 'tiered', 'reserved', 'interruptible'] as const;
export type PricingModel = (typeof PRICING_MODELS)[number];

const dec = (s: string): Decimal => new Decimal(s);

/** A percentage as a decimal string within 0..100 (SLA targets and credits). */
export const percentString = decimalString.refine((s) => !s.startsWith('-') && dec(s).lte(100), {
  message: 'must be a percentage within 0..100',
});

/**
 * An offer's SLA: the availability target and the credit schedule (availability strictly below
 * `below` % credits `credit` % of the lease's charge; the largest matching credit applies).
 */
export const offerSlaSchema = z
  .object({
    target: percentString,
    schedule: z
      .array(z.object({ below: percentString, credit: percentString }).strict())
      .min(1)
      .max(10),
  })
  .strict()
  .superRefine((sla, ctx) => {
    sla.schedule.forEach((step, i) => {
      if (dec(step.below).gt(dec(sla.target))) {
        ctx.addIssue({
          code: 'custom',
          path: ['schedule', i, 'below'],
          message: 'a credit step may not start above the target',
        });
      }
    });
  });
export type OfferSla = z.infer<typeof offerSlaSchema>;

/** One graduated tier: cumulative quantity up to `upTo` (exclusive; null = the rest). */
export const priceTierSchema = z
  .object({ upTo: positiveDecimalString.nullable(), price: positiveDecimalString })
  .strict();

/**
 * One priced unit of an offer. Which fields it carries depends on the offer's pricing model:
 * `fixed` {unit, price}; `tiered` {unit, tiers}; `reserved` {unit, price (on demand),
 * reserved:{quantity, price}}; `interruptible` {unit:'slot_h', price (the floor for bids)}.
 */
export const offerPriceSchema = z
  .object({
    unit: z.enum(PRICED_UNITS),
    price: positiveDecimalString.optional(),
    tiers: z.array(priceTierSchema).min(1).max(20).optional(),
    reserved: z
      .object({ quantity: positiveDecimalString, price: positiveDecimalString })
      .strict()
      .optional(),
  })
  .strict();
export type OfferPriceInput = z.infer<typeof offerPriceSchema>;

const offerPricesSchema = z
  .array(offerPriceSchema)
  .min(1)
  .max(10)
  .refine((p) => new Set(p.map((x) => x.unit)).size === p.length, {
    message: 'each unit may be priced once',
  });

/** Checks that the price rows fit the pricing model; issues name the offending field. */
export function checkOfferPrices(
  model: PricingModel,
  prices: readonly OfferPriceInput[],
  ctx: z.RefinementCtx,
  base: (string | number)[] = ['prices'],
): void {
  const issue = (path: (string | number)[], message: string): void => {
    ctx.addIssue({ code: 'custom', path: [...base, ...path], message });
  };
  if (model === 'interruptible' && (prices.length !== 1 || prices[0].unit !== 'slot_h')) {
    issue([], 'an interruptible offer has exactly one price: the floor per slot-hour (slot_h)');
  }
  prices.forEach((row, i) => {
    const needs = {
      price: model !== 'tiered',
      tiers: model === 'tiered',
      reserved: model === 'reserved',
    };
    for (const field of ['price', 'tiers', 'reserved'] as const) {
      if (needs[field] && row[field] === undefined) {
        issue([i, field], `required for the ${model} pricing model`);
      } else if (!needs[field] && row[field] !== undefined) {
        issue([i, field], `not allowed for the ${model} pricing model`);
      }
    }
    if (row.tiers) {
      let lo = new Decimal(0);
      row.tiers.forEach((t, j) => {
        const last = j === row.tiers!.length - 1;
        if (last !== (t.upTo === null)) {
          issue([i, 'tiers', j, 'upTo'], 'only the last tier is open-ended (upTo null)');
        } else if (t.upTo !== null) {
          if (!dec(t.upTo).gt(lo)) issue([i, 'tiers', j, 'upTo'], 'tier bounds must ascend');
          lo = dec(t.upTo);
        }
      });
    }
    if (row.reserved && row.price !== undefined && !dec(row.reserved.price).lt(dec(row.price))) {
      issue(
        [i, 'reserved', 'price'],
        'the reserved block must be cheaper than the on-demand price',
      );
    }
  });
}

/**
 * Whether PostgreSQL can store an ISO 8601 time: it refuses year 0000 and UTC offsets beyond
 * ±15:59 (JSON Schema's `date-time` and zod admit both; unchecked, they were a 500).
 */
export const storableTime = (s: string): boolean => {
  const offset = /([+-])(\d{2}):?(\d{2})$/.exec(s);
  return !s.startsWith('0000') && (!offset || Number(offset[2]) <= 15);
};
const storable = {
  message: 'must be a time from year 0001 on, with a UTC offset within ±15:59',
};

/** An ISO 8601 instant with any UTC offset, as the API's queries and bodies take it. */
export const isoInstant = z.iso.datetime({ offset: true }).refine(storableTime, storable);
/** An ISO 8601 instant in UTC (`…Z`). */
export const isoUtcInstant = z.iso.datetime().refine(storableTime, storable);

export const createOfferSchema = z
  .object({
    resourceId: z.string().uuid(),
    title: z.string().min(1).max(200),
    currency: currencyCode,
    capacity: z.number().int().positive().max(100000),
    pricingModel: z.enum(PRICING_MODELS).default('fixed'),
    prices: offerPricesSchema,
    minHours: z.number().int().positive().default(1),
    maxHours: z.number().int().positive().max(8760).default(720),
    acceptsUnsigned: z.boolean().default(false),
    /** The availability window (ISO 8601); absent = from now, open-ended. */
    availableFrom: isoInstant.optional(),
    availableUntil: isoInstant.optional(),
    /** Absent = the platform's default SLA (docs/rating.md, "SLA credits"). */
    sla: offerSlaSchema.optional(),
  })
  .strict()
  .superRefine((o, ctx) => checkOfferPrices(o.pricingModel, o.prices, ctx));
export type CreateOfferRequest = z.infer<typeof createOfferSchema>;

export interface OfferPriceView {
  unit: PricedUnit;
  price: string;
  model?: PricingModel;
  tiers?: { upTo: string | null; price: string }[];
  reserved?: { quantity: string; price: string };
}

export interface OfferView {
  id: string;
  title: string;
  status: 'active' | 'paused' | 'closed';
  resource: Pick<
    ResourceView,
    'id' | 'handle' | 'cri' | 'name' | 'class' | 'form' | 'location' | 'spec'
  > & {
    /**
     * The resource's live status from its agent's heartbeats (online within 3 minutes, degraded
     * within 15, offline after that; docs/decisions.md, "Live status in the market"). An offline
     * resource cannot be ordered; "available now" means online with a free slot.
     */
    live: { status: 'online' | 'degraded' | 'offline'; lastHeartbeatAt: string | null };
  };
  seller: { id: string; name: string };
  currency: string;
  capacity: number;
  available: number;
  pricingModel: PricingModel;
  /**
   * As pinned on leases: `price` is the unit price (fixed), the first tier's price (tiered),
   * the on-demand price (reserved) or the floor for bids (interruptible).
   */
  prices: OfferPriceView[];
  /** Price per standard unit of the resource's class, for comparing across architectures. */
  normalizedPrice: { unit: string; price: string } | null;
  minHours: number;
  maxHours: number;
  acceptsUnsigned: boolean;
  availableFrom: string | null;
  availableUntil: string | null;
  /** The SLA leases of this offer get (the default when the seller stated none). */
  sla: OfferSla & { isDefault: boolean };
  createdAt: string;
  /** The resource's credibility score (0..100) and confidence (0..1); null before any evidence. */
  credibility: { score: number; confidence: number } | null;
}

export const offerSearchSchema = z.object({
  class: z.enum(COMPUTE_CLASSES).optional(),
  form: z.enum(COMPUTE_FORMS).optional(),
  region: z.string().max(16).optional(),
  currency: currencyCode.optional(),
  q: z.string().max(100).optional(),
  /** Only offers whose resource's credibility score is at least this (0..100). */
  minCredibility: z.coerce.number().min(0).max(100).optional(),
  /** Accelerator model code from the unit catalog, e.g. H200. */
  accelerator: z
    .string()
    .regex(/^[A-Z0-9]{1,16}$/)
    .optional(),
  /** Only offers whose resource has at least this many accelerators. */
  minAccelerators: z.coerce.number().int().positive().max(100000).optional(),
  /** Bounds on the normalized price (per standard unit of the class), decimal strings. */
  minPrice: moneyDecimalString.optional(),
  /** Upper bound on the normalized price, a decimal string in the offer's currency. */
  maxPrice: moneyDecimalString.optional(),
  /** Only offers whose resource is online and that have a free slot right now. */
  availableNow: z.enum(['true', 'false']).optional(),
  /** The order: `newest` first (default), lowest normalized `price` first, or highest `credibility` first. */
  sort: z.enum(['newest', 'price', 'credibility']).default('newest'),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export type OfferSearchQuery = z.infer<typeof offerSearchSchema>;

export const updateOfferSchema = z
  .object({
    title: z.string().min(1).max(200),
    capacity: z.number().int().positive().max(100000),
    /** Changing the model needs the new prices in the same request. */
    pricingModel: z.enum(PRICING_MODELS),
    prices: offerPricesSchema,
    minHours: z.number().int().positive(),
    maxHours: z.number().int().positive().max(8760),
    acceptsUnsigned: z.boolean(),
    availableFrom: isoInstant.nullable(),
    availableUntil: isoInstant.nullable(),
    /** null = back to the default SLA. */
    sla: offerSlaSchema.nullable(),
  })
  .partial()
  .strict()
  .refine((u) => Object.keys(u).length > 0, { message: 'nothing to change' })
  .superRefine((u, ctx) => {
    if (u.pricingModel !== undefined && u.prices === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['prices'],
        message: 'changing the pricing model needs the new prices',
      });
    }
    if (u.pricingModel !== undefined && u.prices !== undefined) {
      checkOfferPrices(u.pricingModel, u.prices, ctx);
    }
  });
export type UpdateOfferRequest = z.infer<typeof updateOfferSchema>;

// ---------- orders and leases ----------
export const createOrderSchema = z
  .object({
    offerId: z.string().uuid(),
    slots: z.number().int().positive().max(10000),
    hours: z.number().int().positive().max(8760),
    /** Interruptible offers only: the bid per slot-hour, at or above the offer's floor. */
    bid: positiveDecimalString.optional(),
  })
  .strict();
export type CreateOrderRequest = z.infer<typeof createOrderSchema>;

/**
 * A lease's states (docs/delivery.md, "The market side"): `pending` (ordered, escrow held) →
 * `provisioning` (the agent prepares access) → `active` (access works; billed from here) →
 * `suspended` ⇄ `active` → `ended`; `provisioning_failed` when access was not ready in time.
 * Leases on a resource without delivery (no agent reported a provisioner) start `active`.
 */
export const LEASE_STATES = [
  'pending',
  'provisioning',
  'active',
  'suspended',
  'ended',
  'provisioning_failed',
] as const;
export type LeaseState = (typeof LEASE_STATES)[number];
export const LEASE_END_REASONS = [
  'completed',
  'cancelled_by_buyer',
  'terminated_by_seller',
  'insufficient_funds',
  'sla_breach',
  'resource_retired',
  'provisioning_failed',
] as const;
export type LeaseEndReason = (typeof LEASE_END_REASONS)[number];

export interface LeaseView {
  id: string;
  orderId: string;
  offerId: string;
  resourceId: string;
  cri: string;
  slots: number;
  state: LeaseState;
  startsAt: string;
  endsAt: string;
  endedAt: string | null;
  endReason: LeaseEndReason | null;
  currency: string;
  catalogVersion: string;
  takeRate: string;
  /** Interruptible leases: the bid per slot-hour, and whether the lease is paused (outbid). */
  bid: string | null;
  paused: boolean;
}

/** One pause of an interruptible lease, with why it paused and why it resumed. */
export interface LeaseInterruptionView {
  pausedAt: string;
  pauseReason: string;
  resumedAt: string | null;
  resumeReason: string | null;
}
export interface OrderView {
  id: string;
  offerId: string;
  buyerOrgId: string;
  slots: number;
  hours: number;
  bid: string | null;
  status: 'accepted' | 'rejected';
  createdAt: string;
  lease: LeaseView;
}

export interface UsagePoint {
  unit: string;
  bucket: string;
  quantity: string;
}

// ---------- wallet, settlement ----------
export interface WalletView {
  balances: { currency: string; available: string; held: string; total: string }[];
}
export interface InvoiceLineView {
  description: string;
  unit: string;
  quantity: string;
  unitPrice: string;
  amount: string;
}
export interface DebitNoteView {
  id: string;
  leaseId: string;
  periodStart: string;
  periodEnd: string;
  currency: string;
  lines: InvoiceLineView[];
  gross: string;
  fee: string;
  net: string;
  createdAt: string;
}
export interface InvoiceView {
  id: string;
  number: string;
  leaseId: string;
  buyerOrgId: string;
  currency: string;
  periodStart: string;
  periodEnd: string;
  lines: InvoiceLineView[];
  subtotal: string;
  credits: string;
  total: string;
  debitNotes: string[];
  issuedAt: string;
}
export interface Page<T> {
  items: T[];
  /** Opaque cursor of the next page, when there is one. */
  nextCursor?: string | null;
}

// ---------- demand matching (供需匹配) ----------
export const demandSchema = z
  .object({
    class: z.enum(COMPUTE_CLASSES),
    form: z.enum(COMPUTE_FORMS).optional(),
    /** Acceptable accelerator models (any of), and the least count per slot. */
    accelerators: z
      .object({
        models: z
          .array(z.string().regex(/^[A-Z0-9]{1,16}$/))
          .min(1)
          .max(20),
        minCount: z.number().int().positive().max(1024).default(1),
      })
      .optional(),
    minCpu: z.number().int().positive().optional(),
    minMemGiB: z.number().int().positive().optional(),
    /** Preferred location prefix, e.g. CN or CN-GZ: closer offers rank higher. */
    region: z
      .string()
      .regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/)
      .optional(),
    slots: z.number().int().positive().max(10000),
    hours: z.number().int().positive().max(8760),
    currency: currencyCode,
    /** The most the buyer pays per standard unit of the class (normalized price). */
    maxPricePerUnit: positiveDecimalString.optional(),
    minCredibility: z.number().min(0).max(100).optional(),
    limit: z.number().int().min(1).max(50).default(10),
  })
  .strict();
export type DemandRequest = z.infer<typeof demandSchema>;

export interface DemandMatchView {
  offer: OfferView;
  /** 0..1, the weighted sum of the components below. */
  score: string;
  components: {
    name: 'price' | 'credibility' | 'locality' | 'availability';
    weight: string;
    value: string;
    contribution: string;
    reason: string;
  }[];
  /** The body to POST to /v1/orders to take this candidate. */
  order: { offerId: string; slots: number; hours: number };
}
