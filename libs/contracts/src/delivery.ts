import { z } from 'zod';
import { COMPUTE_FORMS, type ResourceSpec } from './api.js';

/**
 * Delivery between the market and the agent on the seller's host (docs/delivery.md, "The
 * market side"): the control channel's view, the agent's step reports, the lease's recorded
 * delivery steps and the buyer's SSH keys.
 */

/** What the agent must make true on its host for a lease. */
export const DESIRED_STATES = ['active', 'suspended', 'ended'] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];

/** A step the agent reports; each is recorded on the lease once per desired-state version. */
export const DELIVERY_STEPS = [
  'provisioning',
  'granted',
  'suspended',
  'resumed',
  'revoked',
  'failed',
] as const;
export type DeliveryStep = (typeof DELIVERY_STEPS)[number];

/** One lease as the control channel shows it to the agent of its resource. */
export interface AgentDeliveryLease {
  leaseId: string;
  form: (typeof COMPUTE_FORMS)[number];
  slots: number;
  spec: ResourceSpec;
  desired: DesiredState;
  /** Changes whenever `desired` changes; reports name the version they acted on. */
  version: string;
  /** The step already recorded for this version (null: none yet). */
  reported: DeliveryStep | null;
  /** True while the market waits for the access (the lease is pending or provisioning). */
  awaitingAccess: boolean;
  /** The buyer's SSH public keys (BM, VM), OpenSSH lines. */
  sshPublicKeys: string[];
}

export interface AgentDeliveryView {
  /** Pass it back as `cursor`: the answer waits until something changed after it. */
  cursor: string;
  leases: AgentDeliveryLease[];
}

export const agentDeliveryQuerySchema = z
  .object({
    cursor: z
      .string()
      .regex(/^\d{1,19}$/, 'a cursor from an earlier answer')
      .optional(),
    /**
     * Long-poll: wait up to this many seconds for a change after `cursor` (0: answer now; at most
     * 30, below the idle timeouts of common proxies).
     */
    waitSeconds: z.coerce.number().int().min(0).max(30).default(0),
  })
  .strict();

/** What a grant handed out; `token` is a secret (stored encrypted for the buyer only). */
export const deliveryAccessSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('ssh'),
      host: z.string().min(1).max(255),
      port: z.number().int().min(1).max(65535),
      user: z.string().min(1).max(64),
      hostKeyFingerprints: z.array(z.string().max(128)).max(8).default([]),
    })
    .strict(),
  z
    .object({
      kind: z.literal('http'),
      endpoint: z.string().url().max(2048),
      token: z.string().min(1).max(512),
      concurrency: z.number().int().positive(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('container'),
      name: z.string().min(1).max(255),
      host: z.string().min(1).max(255),
      port: z.number().int().min(1).max(65535).optional(),
      image: z.string().min(1).max(512),
    })
    .strict(),
]);
export type DeliveryAccess = z.infer<typeof deliveryAccessSchema>;

export const deliveryReportSchema = z
  .object({
    step: z.enum(DELIVERY_STEPS),
    /** The `version` of the lease the step acted on. */
    version: z.string().regex(/^\d{1,19}$/),
    /** `granted` only: how the buyer reaches what it bought. */
    access: deliveryAccessSchema.optional(),
    /** `failed` only: the provisioner's code (`invalid_grant` ends the lease at once). */
    code: z.enum(['invalid_grant', 'host_failure', 'unavailable']).optional(),
    reason: z.string().max(500).optional(),
  })
  .strict()
  .refine((r) => (r.step === 'granted') === (r.access !== undefined), {
    message: 'access is required with granted, and only with it',
    path: ['access'],
  });
export type DeliveryReport = z.infer<typeof deliveryReportSchema>;

/** The agent's provisioners as their probes found them (at start and at enrolment). */
export const deliveryCapabilitiesSchema = z
  .object({
    provisioners: z
      .array(
        z
          .object({
            name: z.string().min(1).max(64),
            ok: z.boolean(),
            forms: z.array(z.enum(COMPUTE_FORMS)).max(5),
            detail: z.string().max(1000).optional(),
          })
          .strict(),
      )
      .max(16),
  })
  .strict();
export type DeliveryCapabilities = z.infer<typeof deliveryCapabilitiesSchema>;

/** One recorded delivery step of a lease, as buyer and seller see it. */
export interface LeaseDeliveryEventView {
  step: DeliveryStep;
  at: string;
  /** `failed`: why (never a secret). */
  reason: string | null;
}

/** The lease's access, for its buyer only (secrets included). */
export interface LeaseAccessView {
  leaseId: string;
  access: DeliveryAccess | null;
  grantedAt: string | null;
}

export const addSshKeySchema = z
  .object({
    name: z.string().min(1).max(100),
    publicKey: z.string().min(1).max(16384),
  })
  .strict();

export interface SshKeyView {
  id: string;
  name: string;
  /** The OpenSSH line as stored (type, base64 blob, comment). */
  publicKey: string;
  /** SHA256:… as ssh-keygen -l prints it. */
  fingerprint: string;
  createdAt: string;
}
