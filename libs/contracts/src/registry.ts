import { z } from 'zod';
import {
  COMPUTE_CLASSES,
  COMPUTE_FORMS,
  isoInstant,
  LIFECYCLE_STATES,
  type LifecycleState,
  type ResourceView,
} from './api.js';

// Sane upper bounds on a resource's facts: beyond these a value is a typo, not a machine.
export const RESOURCE_LIMITS = {
  cpu: 1_048_576,
  memGiB: 16_777_216,
  accelCount: 100_000,
  storageGiB: 1_073_741_824,
  netGbps: 100_000,
  capacity: 100_000,
} as const;

const bounded = (max: number) => z.number().int().positive().max(max);

export const boundedResourceSpecSchema = z
  .object({
    cpu: bounded(RESOURCE_LIMITS.cpu).optional(),
    memGiB: bounded(RESOURCE_LIMITS.memGiB).optional(),
    accel: z
      .object({
        count: bounded(RESOURCE_LIMITS.accelCount),
        model: z.string().regex(/^[A-Z0-9]{1,16}$/, 'must be a catalog model code such as H200'),
      })
      .optional(),
    storageGiB: bounded(RESOURCE_LIMITS.storageGiB).optional(),
    netGbps: bounded(RESOURCE_LIMITS.netGbps).optional(),
  })
  .strict()
  .refine((s) => Object.values(s).some((v) => v !== undefined), {
    message: 'at least one of cpu, memGiB, accel, storageGiB, netGbps is required',
  });

export const resourceLocationSchema = z.object({
  country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as CN'),
  subdivision: z
    .string()
    .regex(/^[A-Z0-9]{1,3}$/, 'must be an ISO 3166-2 subdivision suffix such as GZ'),
  site: z.string().regex(/^[A-Z0-9]{1,8}$/, 'must be 1-8 upper-case letters or digits'),
});

/** `POST /v1/resources`: the facts of a resource. */
export const registerResourceRequestSchema = z.object({
  name: z.string().min(1).max(200),
  class: z.enum(COMPUTE_CLASSES),
  form: z.enum(COMPUTE_FORMS),
  location: resourceLocationSchema,
  spec: boundedResourceSpecSchema,
  cpuModel: z.string().max(64).optional(),
  /** Slots the resource can lease out at once. */
  capacity: bounded(RESOURCE_LIMITS.capacity).default(1),
});
export type RegisterResourceInput = z.infer<typeof registerResourceRequestSchema>;

/** `PATCH /v1/resources/:id`: a change of location or spec issues a new revision (new CRI). */
export const updateResourceSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    location: resourceLocationSchema.optional(),
    spec: boundedResourceSpecSchema.optional(),
    cpuModel: z.string().max(64).nullable().optional(),
    capacity: bounded(RESOURCE_LIMITS.capacity).optional(),
  })
  .strict()
  .refine((u) => Object.values(u).some((v) => v !== undefined), {
    message: 'nothing to change',
  });
export type UpdateResourceInput = z.infer<typeof updateResourceSchema>;

/** `POST /v1/resources/:id/lifecycle`: an explicit transition. */
export const lifecycleTransitionSchema = z.object({ to: z.enum(LIFECYCLE_STATES) });

export const LIVE_STATUSES = ['online', 'degraded', 'offline'] as const;
export type LiveStatus = (typeof LIVE_STATUSES)[number];

const intParam = (max: number) => z.coerce.number().int().min(0).max(max);

/** `GET /v1/resources/search` query. */
export const resourceSearchSchema = z
  .object({
    class: z.enum(COMPUTE_CLASSES).optional(),
    form: z.enum(COMPUTE_FORMS).optional(),
    /** `CN`, `CN-GZ` or `CN-GZ.GA1`. */
    location: z
      .string()
      .regex(/^[A-Z]{2}(-[A-Z0-9]{1,3}(\.[A-Z0-9]{1,8})?)?$/, 'must be CN, CN-GZ or CN-GZ.GA1')
      .optional(),
    /** The industry section (one letter A to T, GB/T 4754) the resource serves. */
    industry: z
      .string()
      .regex(/^[A-T]$/)
      .optional(),
    /** `86`, `86.R07` or `86.R07.E00042`. */
    registrant: z
      .string()
      .regex(
        /^\d{2,4}(\.[NRI][0-9A-Z]{2}(\.E[0-9A-Z]{5})?)?$/,
        'must be 86, 86.R07 or 86.R07.E00042',
      )
      .optional(),
    /** Accelerator model code from the unit catalog, e.g. `H200`. */
    accelModel: z
      .string()
      .regex(/^[A-Z0-9]{1,16}$/)
      .optional(),
    /** At least this many accelerators. */
    accelMin: intParam(RESOURCE_LIMITS.accelCount).optional(),
    /** At least this many CPU cores. */
    cpuMin: intParam(RESOURCE_LIMITS.cpu).optional(),
    /** At most this many CPU cores. */
    cpuMax: intParam(RESOURCE_LIMITS.cpu).optional(),
    /** At least this much memory, in GiB. */
    memMin: intParam(RESOURCE_LIMITS.memGiB).optional(),
    /** At most this much memory, in GiB. */
    memMax: intParam(RESOURCE_LIMITS.memGiB).optional(),
    /** Only resources in this lifecycle state (`prepared`, `connected`, `schedulable`, `running`, `retired`). */
    state: z.enum(LIFECYCLE_STATES).optional(),
    /** Only resources whose agents last reported this live status (`online`, `degraded`, `offline`). */
    status: z.enum(LIVE_STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ResourceSearchQuery = z.infer<typeof resourceSearchSchema>;

/** `POST /v1/agents/me/heartbeats`: the agent's report of the resource's health. */
export const heartbeatSchema = z
  .object({
    status: z.enum(LIVE_STATUSES),
    /** Fraction of capacity in use, 0..1. */
    utilization: z.number().min(0).max(1).optional(),
    /** When the agent observed it; defaults to the time the API receives it. */
    at: isoInstant.optional(),
  })
  .strict();
export type HeartbeatInput = z.infer<typeof heartbeatSchema>;

export const heartbeatRangeSchema = z.object({
  from: isoInstant.optional(),
  to: isoInstant.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
});

export interface HeartbeatView {
  at: string;
  agentId: string;
  status: LiveStatus;
  utilization: string | null;
}

/** A resource as the registry describes it to its owner and in search. */
export interface ResourceDetailView extends ResourceView {
  registrant: string;
  industry: string;
  capacity: number;
  revision: number;
  retiredAt: string | null;
}

/** What the identifier gateway answers for a CRI or handle. */
export interface ResolutionView extends ResourceDetailView {
  /** The code asked for: the current revision, or a superseded one pointing to `cri`. */
  resolved: {
    cri: string;
    revision: number;
    current: boolean;
    supersededAt: string | null;
  };
  lifecycle: LifecycleState;
  live: { status: LiveStatus; lastHeartbeatAt: string | null };
  accessPath: {
    region: string;
    site: string;
    endpointKind: 'ssh' | 'container' | 'https' | 'batch-queue';
    gateway: string;
  };
}

/**
 * The gateway's answer in a federation (docs/federation.md, section 1): the owner's resolution,
 * who owns it, whether it was forwarded or served `stale` from cache, and the owner's signed
 * record (JWS) that verifies offline.
 */
export interface FederatedResolutionView extends ResolutionView {
  authority: string;
  forwarded: boolean;
  stale: boolean;
  record: string;
}

export interface ResourceSearchPage {
  items: ResourceDetailView[];
  nextCursor: string | null;
}
