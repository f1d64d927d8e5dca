import { z } from 'zod';
import { isoUtcInstant } from './api.js';

const nat = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** `GET /v1/transparency/proofs/inclusion?leafIndex=&treeSize=` */
export const InclusionProofQuery = z.object({
  /** The leaf's position in the log, counted from 0 (a record bundle's `leafIndex`). */
  leafIndex: nat,
  /** The size of the tree to prove inclusion in: a signed checkpoint's tree size. */
  treeSize: nat,
});
/** `GET /v1/transparency/proofs/consistency?first=&second=` */
export const ConsistencyProofQuery = z.object({
  /** The smaller tree size: an earlier checkpoint's. */
  first: nat,
  /** The larger tree size: a later checkpoint's. */
  second: nat,
});

export const SETTLEMENT_RECORD_KINDS = ['debit_note', 'invoice', 'payout', 'credit'] as const;
export type SettlementRecordKind = (typeof SETTLEMENT_RECORD_KINDS)[number];

/** `GET /v1/seller/records?kind=&limit=` */
export const SellerRecordsQuery = z.object({
  /** Only records of this kind: `debit_note`, `invoice`, `payout` or `credit`. */
  kind: z.enum(SETTLEMENT_RECORD_KINDS).optional(),
  /** The most records to return (1 to 1000), newest first. */
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** A record with what proves it: what each invoice carries as `transparency`. */
export type RecordBundleView = {
  record: unknown;
  leafIndex: number;
  leafHash: string;
  inclusionProof: { treeSize: number; hashes: string[] };
  checkpoint: string;
};

export type CheckpointView = {
  treeSize: number;
  rootHash: string;
  timestamp: string;
  kid: string;
  jws: string;
};

/** Billing profile: personal and billing data, stored encrypted field by field. */
export const BillingProfileInput = z.object({
  legalName: z.string().min(1).max(200).optional(),
  billingEmail: z.string().email().max(320).optional(),
  address: z.string().min(1).max(500).optional(),
  taxId: z.string().min(1).max(64).optional(),
  stripeCustomerId: z.string().min(1).max(255).optional(),
});
export type BillingProfile = z.infer<typeof BillingProfileInput>;

/** Why an operator reads an organization's personal data (written to the access log). */
export const PersonalDataReadQuery = z.object({
  /** Why the operator reads it (3 to 200 characters), written to the access log. */
  purpose: z.string().min(3).max(200),
});

/**
 * `GET /v1/admin/privacy/pseudonym?pseudonym=&viewer=&purpose=`: operators map a pseudonym back
 * to its organization. A buyer's pseudonym is scoped to the party that saw it (`viewer`: the
 * seller, or the assessor); a seller's is global.
 */
export const PseudonymResolveQuery = z
  .object({
    /** The pseudonym to resolve: `buyer-` or `seller-` and 16 hex digits. */
    pseudonym: z.string().regex(/^(buyer|seller)-[0-9a-f]{16}$/, 'must look like buyer-<16 hex>'),
    /** For a buyer pseudonym: the organization (seller or assessor) that saw it; buyer pseudonyms differ per viewer. */
    viewer: z.uuid().optional(),
    /** Why the operator resolves it (3 to 200 characters), written to the access log. */
    purpose: z.string().min(3).max(200),
  })
  .refine((q) => q.pseudonym.startsWith('seller-') || q.viewer !== undefined, {
    path: ['viewer'],
    message: 'a buyer pseudonym needs the organization that saw it',
  });

/** `GET /v1/admin/privacy/access-log?orgId=` */
export const AccessLogQuery = z.object({
  /** Only reads of this organization's personal data (a UUID). */
  orgId: z.uuid().optional(),
});

/** `GET /v1/statistics/market?from=&to=&bucket=&currency=` */
export const MarketStatisticsQuery = z.object({
  from: isoUtcInstant.optional(),
  to: isoUtcInstant.optional(),
  /** Width of each time bucket: `hour`, `day`, `week` or `month` (UTC). */
  bucket: z.enum(['hour', 'day', 'week', 'month']).optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
  class: z.enum(['GEN', 'AI', 'HPC']).optional(),
  region: z.string().min(2).max(10).optional(),
});

export type MarketStatisticsCell = {
  bucket: string;
  class: string;
  region: string;
  currency: string;
  /** True when fewer than k distinct buyers or sellers traded in the cell: figures withheld. */
  suppressed: boolean;
  /** Slot-hours settled (null when suppressed). */
  slotHours: string | null;
  /** Gross amount settled (null when suppressed). */
  volume: string | null;
  /** Volume-weighted price per slot-hour (null when suppressed or no slot-hours). */
  pricePerSlotHour: string | null;
};

export type MarketStatisticsView = {
  k: number;
  bucket: 'hour' | 'day' | 'week' | 'month';
  from: string;
  to: string;
  cells: MarketStatisticsCell[];
};

/** A window back from now (market overview, monitoring views). */
export const windowHoursQuery = z
  .object({
    /** Hours back from now that the figures cover (default 24). */
    windowHours: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 90)
      .optional(),
  })
  .strict();
