import { z } from 'zod';

// ---------- errors ----------
/** Refusal codes of the credibility API (each a 4xx of its own). */
export const CREDIBILITY_ERROR_CODES = [
  'invalid_jwk',
  'duplicate_key',
  'invalid_jws',
  'invalid_evaluation',
  'issuer_mismatch',
  'unknown_key',
  'bad_signature',
  'issued_in_future',
  'evaluation_expired',
  'validity_too_long',
  'unknown_subject',
  'unknown_method',
  'jti_replayed',
  'conflict_of_interest',
] as const;
export type CredibilityErrorCode = (typeof CREDIBILITY_ERROR_CODES)[number];

// ---------- assessor keys ----------
/** A public JWK: Ed25519 (OKP) or P-256 (EC); private members are refused by the API. */
export const publicJwkSchema = z
  .object({
    kty: z.enum(['OKP', 'EC']),
    crv: z.enum(['Ed25519', 'P-256']),
    x: z.string().min(1).max(200),
    y: z.string().min(1).max(200).optional(),
    kid: z.string().min(1).max(200).optional(),
    alg: z.enum(['EdDSA', 'Ed25519', 'ES256']).optional(),
    use: z.literal('sig').optional(),
  })
  .passthrough();
export type PublicJwk = z.infer<typeof publicJwkSchema>;

export const registerAssessorKeySchema = z.object({ publicJwk: publicJwkSchema });
export const rotateAssessorKeySchema = z.object({
  publicJwk: publicJwkSchema,
  /** Keys to retire once the new one is registered; default: every other active key. */
  retire: z.array(z.string().min(1).max(200)).optional(),
});
export const accreditationSchema = z.object({ level: z.number().int().min(1).max(3) });

export interface AssessorKeyView {
  kid: string;
  publicJwk: Record<string, unknown>;
  status: 'active' | 'retired';
  createdAt: string;
  retiredAt: string | null;
}

export interface AssessorView {
  orgId: string;
  name: string;
  accreditationLevel: number;
  /** The weight the current formula gives this assessor's evaluations (0..1). */
  weight: number;
  keys: AssessorKeyView[];
}

// ---------- evaluations ----------
export const EVALUATION_METRIC_NAMES = [
  'availability',
  'perf_ratio',
  'latency_ms_p50',
  'security',
] as const;

/** The signed payload of an evaluation (a compact JWS, EdDSA or ES256). */
export const evaluationPayloadSchema = z.object({
  iss: z.string().uuid(),
  sub: z.string().min(1).max(200),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
  jti: z.string().min(1).max(200),
  method: z.string().min(1).max(100),
  metrics: z.record(z.string().max(64), z.string().max(64)).default({}),
  evidence: z.object({ uri: z.string().max(2000), sha256: z.string().max(128) }).optional(),
  summary: z.string().max(1000).optional(),
});
export type EvaluationPayload = z.infer<typeof evaluationPayloadSchema>;

export const submitEvaluationSchema = z.object({ jws: z.string().min(1).max(20000) });
export const revokeEvaluationSchema = z.object({ reason: z.string().max(500).optional() });
export const evaluationListSchema = z.object({
  /** Only evaluations by this assessor organization (a UUID). */
  assessor: z.string().uuid().optional(),
  /** Only evaluations of this subject: a resource's CRI or id, or a seller organization's id. */
  subject: z.string().max(200).optional(),
  /** `current`: only evaluations in force (not revoked or superseded); `all` (default): every one. */
  include: z.enum(['current', 'all']).default('all'),
});

export interface EvaluationView {
  id: string;
  jti: string;
  assessor: { id: string; name: string };
  kid: string;
  subject: { type: 'resource' | 'seller'; id: string; ref: string };
  method: string;
  metrics: Record<string, string>;
  summary: string | null;
  issuedAt: string;
  expiresAt: string;
  receivedAt: string;
  revokedAt: string | null;
  revokeReason: string | null;
  /** `active`, or why it stopped counting (it stays visible as history). */
  status: 'active' | 'revoked' | 'expired';
  /** The JWS exactly as received: anyone can re-verify it with the assessor's JWKS. */
  jws: string;
}

export interface EvaluationMethodView {
  id: string;
  description: string;
  /** How many observations one evaluation by this method is worth. */
  observations: number;
}

// ---------- disputes ----------
export const recordDisputeSchema = z.object({
  sellerOrgId: z.string().uuid(),
  resourceId: z.string().uuid().optional(),
  leaseId: z.string().uuid().optional(),
  outcome: z.enum(['upheld', 'rejected']),
  note: z.string().max(1000).optional(),
});

// ---------- scores ----------
export const CREDIBILITY_FORMULA_VERSION = 'beta-v1';

export interface CredibilityContribution {
  /** `telemetry`, `lease`, `dispute` or `evaluation`. */
  kind: 'telemetry' | 'lease' | 'dispute' | 'evaluation';
  /** What the piece of evidence is (lease id, evaluation id, …). */
  ref: string;
  label: string;
  at: string;
  /** Positive and negative evidence it added, after decay and weighting. */
  r: number;
  s: number;
}

export interface CredibilityBreakdown {
  kind: CredibilityContribution['kind'];
  r: number;
  s: number;
  items: number;
}

export interface CredibilityHistoryPoint {
  score: number;
  confidence: number;
  computedAt: string;
  formulaVersion: string;
}

export interface CredibilityView {
  subject: { type: 'resource' | 'seller'; id: string };
  formulaVersion: string;
  score: number;
  confidence: number;
  r: number;
  s: number;
  computedAt: string;
  breakdown: CredibilityBreakdown[];
  contributions: CredibilityContribution[];
  history: CredibilityHistoryPoint[];
}

export interface CredibilitySummary {
  score: number;
  confidence: number;
}
