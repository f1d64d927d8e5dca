import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  assessorWeight,
  BETA_V1,
  betaScore,
  computeScore,
  confidenceOf,
  decay,
  type Evidence,
  metricQuality,
} from './scoring.js';

const AS_OF = '2026-11-28T10:00:00.000Z';
const DAY = 86_400_000;
const ago = (ms: number) => new Date(Date.parse(AS_OF) - ms).toISOString();
const evidence = (over: Partial<Evidence> = {}): Evidence => ({
  subject: { type: 'resource', id: 'r1' },
  asOf: AS_OF,
  formula: BETA_V1,
  telemetry: [],
  leases: [],
  disputes: [],
  evaluations: [],
  assessors: [],
  ...over,
});
const evidenceCount = fc.double({ min: 0, max: 1e4, noNaN: true });

describe('beta-v1 scoring', () => {
  it('is 50 with confidence 0 without evidence', () => {
    const s = computeScore(evidence());
    expect(s.score).toBe(50);
    expect(s.confidence).toBe(0);
    expect(s.contributions).toEqual([]);
  });

  it('stays within [0, 100] for any evidence', () => {
    fc.assert(
      fc.property(evidenceCount, evidenceCount, (r, s) => {
        const x = betaScore(r, s);
        return x > 0 && x < 100;
      }),
    );
  });

  it('rises with positive evidence and falls with negative evidence', () => {
    fc.assert(
      fc.property(
        evidenceCount,
        evidenceCount,
        fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
        (r, s, d) => {
          return betaScore(r + d, s) > betaScore(r, s) && betaScore(r, s + d) < betaScore(r, s);
        },
      ),
    );
  });

  it('halves evidence weight every half-life and never weighs more than fresh evidence', () => {
    expect(decay(0, 30)).toBe(1);
    expect(decay(30 * DAY, 30)).toBeCloseTo(0.5, 12);
    expect(decay(60 * DAY, 30)).toBeCloseTo(0.25, 12);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 3650 * DAY, noNaN: true }),
        fc.double({ min: 1, max: 365 * DAY, noNaN: true }),
        (age, more) => {
          const a = decay(age, 30);
          return a <= 1 && a >= 0 && decay(age + more, 30) < a;
        },
      ),
    );
  });

  it('lets old negative evidence fade: the same breach weighs less the older it is', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 365 }), fc.integer({ min: 1, max: 365 }), (d1, dd) => {
        const at = (days: number) =>
          computeScore(
            evidence({
              leases: [
                { id: 'l', resourceId: 'r1', endReason: 'sla_breach', endedAt: ago(days * DAY) },
              ],
            }),
          ).score;
        return at(d1 + dd) > at(d1) && at(d1) < 50;
      }),
    );
  });

  it('is monotone in telemetry: one more online hour raises, one more offline hour lowers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), (on, off) => {
        const hours = (a: number, b: number) => [
          ...Array.from({ length: a }, (_, i) => ({
            leaseId: 'l',
            resourceId: 'r1',
            hour: ago((i + 1) * 3_600_000),
            online: true,
          })),
          ...Array.from({ length: b }, (_, i) => ({
            leaseId: 'l',
            resourceId: 'r1',
            hour: ago((i + 1) * 3_600_000),
            online: false,
          })),
        ];
        const score = (a: number, b: number) =>
          computeScore(evidence({ telemetry: hours(a, b) })).score;
        return score(on + 1, off) > score(on, off) && score(on, off + 1) < score(on, off);
      }),
    );
  });

  it('explains each contribution and sums them into r and s', () => {
    const s = computeScore(
      evidence({
        leases: [
          { id: 'l1', resourceId: 'r1', endReason: 'completed', endedAt: AS_OF },
          { id: 'l2', resourceId: 'r1', endReason: 'cancelled_by_buyer', endedAt: AS_OF },
        ],
        disputes: [
          { id: 'd1', resourceId: 'r1', outcome: 'upheld', decidedAt: AS_OF },
          { id: 'd2', resourceId: 'r1', outcome: 'rejected', decidedAt: AS_OF },
        ],
      }),
    );
    expect(s.contributions.map((c) => [c.kind, c.ref, c.r, c.s])).toEqual([
      ['lease', 'l1', 1, 0],
      ['dispute', 'd1', 0, 3],
    ]);
    expect(s.r).toBe(1);
    expect(s.s).toBe(3);
    expect(s.score).toBeCloseTo((100 * 2) / 6, 12);
    expect(s.confidence).toBeCloseTo(4 / 14, 12);
  });

  it('maps metrics to a quality and weights evaluations by assessor weight and method', () => {
    expect(metricQuality({ availability: '0.9', perf_ratio: '1.2', security: 'pass' })).toBeCloseTo(
      (0.9 + 1 + 1) / 3,
      12,
    );
    expect(metricQuality({ latency_ms_p50: '12' })).toBeNull();
    const ev = (revokedAt: string | null, expiresAt = ago(-DAY)) => ({
      id: 'e1',
      assessorOrgId: 'a1',
      subjectId: 'r1',
      method: 'uptime-probe.v1',
      observations: 10,
      metrics: { availability: '0.8' },
      issuedAt: AS_OF,
      expiresAt,
      revokedAt,
      jws: 'x.y.z',
    });
    const assessors = [{ orgId: 'a1', accreditationLevel: 2, agreements: [] }];
    const live = computeScore(evidence({ evaluations: [ev(null)], assessors }));
    expect(live.r).toBeCloseTo(10 * 0.75 * 0.8, 12);
    expect(live.s).toBeCloseTo(10 * 0.75 * 0.2, 12);
    expect(computeScore(evidence({ evaluations: [ev(AS_OF)], assessors })).r).toBe(0);
    expect(computeScore(evidence({ evaluations: [ev(null, AS_OF)], assessors })).r).toBe(0);
  });

  it('lowers an assessor whose claims keep contradicting telemetry (EigenTrust-like)', () => {
    const base = { orgId: 'a', accreditationLevel: 3 };
    expect(assessorWeight({ ...base, agreements: [] }, BETA_V1)).toBe(1);
    const claims = (observed: number, k: number) =>
      Array.from({ length: k }, (_, i) => ({
        evaluationId: `e${i}`,
        resourceId: 'r',
        claimed: 0.99,
        observed,
        observedHours: 24,
      }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), (k) => {
        const honest = assessorWeight({ ...base, agreements: claims(0.99, k) }, BETA_V1);
        const liar = assessorWeight({ ...base, agreements: claims(0.2, k) }, BETA_V1);
        const worse = assessorWeight({ ...base, agreements: claims(0.2, k + 1) }, BETA_V1);
        return honest > liar && worse < liar && liar > 0 && honest <= 1;
      }),
    );
    // Too little observation does not count.
    const thin = claims(0, 3).map((g) => ({ ...g, observedHours: 0 }));
    expect(assessorWeight({ ...base, agreements: thin }, BETA_V1)).toBe(1);
  });

  it('grows confidence with evidence weight, within [0, 1)', () => {
    fc.assert(
      fc.property(evidenceCount, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (w, d) => {
        const c = confidenceOf(w, 10);
        return c >= 0 && c < 1 && confidenceOf(w + d, 10) > c;
      }),
    );
  });
});
