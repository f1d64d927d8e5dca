// The credibility formula `beta-v1`: pure functions over published evidence. Anyone holding the
// evidence (GET /v1/credibility/{resources|sellers}/:id/evidence) and the parameters
// (GET /v1/credibility/formula) can recompute a score.
import type {
  CredibilityBreakdown,
  CredibilityContribution,
  LeaseEndReason,
} from '@suanli/contracts';

export const FORMULA_VERSION = 'beta-v1';

export interface FormulaParams {
  version: string;
  /** Evidence loses half its weight every this many days. */
  halfLifeDays: number;
  /** Evidence added per leased hour online (to r) and offline (to s). */
  telemetry: { onlineHour: number; offlineHour: number };
  /** Evidence added per lease ended with a reason (to r for `completed`, to s otherwise). */
  leases: {
    positive: Partial<Record<LeaseEndReason, number>>;
    negative: Partial<Record<LeaseEndReason, number>>;
  };
  /** Evidence added to s per upheld dispute. */
  disputeUpheld: number;
  /** Base weight of an assessor by accreditation level. */
  accreditationWeights: Record<string, number>;
  /** Agreements computed over fewer observed hours than this are ignored. */
  minAgreementHours: number;
  /** confidence = W / (W + confidenceK), W the total decayed evidence weight. */
  confidenceK: number;
  /** How metrics map to a quality q in [0, 1] (the mean of the mapped metrics present). */
  metrics: Record<string, string>;
}

export const BETA_V1: FormulaParams = {
  version: FORMULA_VERSION,
  halfLifeDays: 30,
  telemetry: { onlineHour: 0.1, offlineHour: 0.1 },
  leases: {
    positive: { completed: 1 },
    negative: { terminated_by_seller: 2, sla_breach: 2 },
  },
  disputeUpheld: 3,
  accreditationWeights: { '1': 0.5, '2': 0.75, '3': 1 },
  minAgreementHours: 1,
  confidenceK: 10,
  metrics: {
    availability: 'q = clamp(availability, 0, 1)',
    perf_ratio: 'q = clamp(perf_ratio, 0, 1)',
    security: 'q = 1 for "pass", 0 for "fail"',
    latency_ms_p50: 'informational, not scored',
  },
};

export interface TelemetryHour {
  leaseId: string;
  resourceId: string;
  /** Start of the hour (ISO). */
  hour: string;
  online: boolean;
}
export interface LeaseOutcome {
  id: string;
  resourceId: string;
  endReason: LeaseEndReason | null;
  endedAt: string | null;
}
export interface DisputeRecord {
  id: string;
  resourceId: string | null;
  outcome: 'upheld' | 'rejected';
  decidedAt: string;
}
export interface EvaluationRecord {
  id: string;
  assessorOrgId: string;
  subjectId: string;
  method: string;
  /** Observations one evaluation of this method is worth. */
  observations: number;
  metrics: Record<string, string>;
  issuedAt: string;
  expiresAt: string;
  revokedAt: string | null;
  jws: string;
}
export interface AgreementRecord {
  evaluationId: string;
  resourceId: string;
  /** The availability the evaluation claimed. */
  claimed: number;
  /** The availability telemetry observed on the resource after the evaluation. */
  observed: number;
  observedHours: number;
}
export interface AssessorRecord {
  orgId: string;
  accreditationLevel: number;
  agreements: AgreementRecord[];
}

/** Everything a score is computed from. */
export interface Evidence {
  subject: { type: 'resource' | 'seller'; id: string };
  asOf: string;
  formula: FormulaParams;
  telemetry: TelemetryHour[];
  leases: LeaseOutcome[];
  disputes: DisputeRecord[];
  evaluations: EvaluationRecord[];
  assessors: AssessorRecord[];
}

export interface ScoreResult {
  formulaVersion: string;
  score: number;
  confidence: number;
  r: number;
  s: number;
  breakdown: CredibilityBreakdown[];
  contributions: CredibilityContribution[];
  assessorWeights: Record<string, number>;
}

const DAY_MS = 86_400_000;

/** The beta reputation expectation, scaled to [0, 100]. */
export function betaScore(r: number, s: number): number {
  return (100 * (r + 1)) / (r + s + 2);
}

/** The weight left to evidence `ageMs` old: 1/2 every half-life; future evidence counts fully. */
export function decay(ageMs: number, halfLifeDays: number): number {
  return Math.pow(0.5, Math.max(0, ageMs) / (halfLifeDays * DAY_MS));
}

export function confidenceOf(totalWeight: number, k: number): number {
  return totalWeight / (totalWeight + k);
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** The quality in [0, 1] an evaluation's metrics express, or null when none is scored. */
export function metricQuality(metrics: Record<string, string>): number | null {
  const qs: number[] = [];
  for (const name of ['availability', 'perf_ratio'] as const) {
    const v = metrics[name];
    if (v === undefined) continue;
    const x = Number(v);
    if (Number.isFinite(x)) qs.push(clamp01(x));
  }
  if (metrics.security === 'pass') qs.push(1);
  else if (metrics.security === 'fail') qs.push(0);
  if (qs.length === 0) return null;
  return qs.reduce((a, b) => a + b, 0) / qs.length;
}

/**
 * An assessor's weight: its accreditation's base weight times (A + 1) / (A + D + 1), where A sums
 * the agreement (1 − |claimed − observed|) of its past availability claims with the telemetry
 * later observed, and D the disagreement (EigenTrust-like feedback: no history keeps the base).
 */
export function assessorWeight(a: AssessorRecord, p: FormulaParams): number {
  const base = p.accreditationWeights[String(a.accreditationLevel)] ?? 0;
  let agree = 0;
  let disagree = 0;
  for (const g of a.agreements) {
    if (g.observedHours < p.minAgreementHours) continue;
    const ag = 1 - Math.min(1, Math.abs(g.claimed - g.observed));
    agree += ag;
    disagree += 1 - ag;
  }
  return (base * (agree + 1)) / (agree + disagree + 1);
}

/**
 * Whether an evaluation counts at `asOf`: not revoked and not expired. (It was received by then:
 * an `iat` slightly ahead, within the accepted clock skew, counts fully.)
 */
export function evaluationCounts(e: EvaluationRecord, asOf: number): boolean {
  return e.revokedAt === null && Date.parse(e.expiresAt) > asOf;
}

/** Computes the score of `ev.subject` from its evidence under `ev.formula`. */
export function computeScore(ev: Evidence): ScoreResult {
  const p = ev.formula;
  const asOf = Date.parse(ev.asOf);
  const d = (at: string) => decay(asOf - Date.parse(at), p.halfLifeDays);
  const contributions: CredibilityContribution[] = [];

  // Telemetry, one contribution per lease (summing its hours).
  const perLease = new Map<string, CredibilityContribution & { on: number; off: number }>();
  for (const h of ev.telemetry) {
    let c = perLease.get(h.leaseId);
    if (!c) {
      c = { kind: 'telemetry', ref: h.leaseId, label: '', at: h.hour, r: 0, s: 0, on: 0, off: 0 };
      perLease.set(h.leaseId, c);
    }
    const w = d(h.hour);
    if (h.online) {
      c.r += p.telemetry.onlineHour * w;
      c.on += 1;
    } else {
      c.s += p.telemetry.offlineHour * w;
      c.off += 1;
    }
    if (h.hour > c.at) c.at = h.hour;
  }
  for (const c of perLease.values()) {
    const { on, off, ...rest } = c;
    contributions.push({ ...rest, label: `${on} leased hours online, ${off} offline` });
  }

  for (const l of ev.leases) {
    if (!l.endReason || !l.endedAt) continue;
    const pos = p.leases.positive[l.endReason];
    const neg = p.leases.negative[l.endReason];
    if (pos === undefined && neg === undefined) continue;
    const w = d(l.endedAt);
    contributions.push({
      kind: 'lease',
      ref: l.id,
      label: `lease ended ${l.endReason}`,
      at: l.endedAt,
      r: (pos ?? 0) * w,
      s: (neg ?? 0) * w,
    });
  }

  for (const x of ev.disputes) {
    if (x.outcome !== 'upheld') continue;
    contributions.push({
      kind: 'dispute',
      ref: x.id,
      label: 'usage dispute upheld against the seller',
      at: x.decidedAt,
      r: 0,
      s: p.disputeUpheld * d(x.decidedAt),
    });
  }

  const weights: Record<string, number> = {};
  for (const a of ev.assessors) weights[a.orgId] = assessorWeight(a, p);
  for (const e of ev.evaluations) {
    if (!evaluationCounts(e, asOf)) continue;
    const q = metricQuality(e.metrics);
    if (q === null) continue;
    const w = e.observations * (weights[e.assessorOrgId] ?? 0) * d(e.issuedAt);
    contributions.push({
      kind: 'evaluation',
      ref: e.id,
      label: `${e.method} evaluation, quality ${q.toFixed(3)}`,
      at: e.issuedAt,
      r: w * q,
      s: w * (1 - q),
    });
  }

  let r = 0;
  let s = 0;
  const byKind = new Map<CredibilityContribution['kind'], CredibilityBreakdown>();
  for (const c of contributions) {
    r += c.r;
    s += c.s;
    const b = byKind.get(c.kind) ?? { kind: c.kind, r: 0, s: 0, items: 0 };
    b.r += c.r;
    b.s += c.s;
    b.items += 1;
    byKind.set(c.kind, b);
  }
  return {
    formulaVersion: p.version,
    score: betaScore(r, s),
    confidence: confidenceOf(r + s, p.confidenceK),
    r,
    s,
    breakdown: [...byKind.values()],
    contributions,
    assessorWeights: weights,
  };
}
