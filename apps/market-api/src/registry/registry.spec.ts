import { describe, expect, it } from '@jest/globals';
import { resourceSearchSchema } from '@suanli/contracts';
import { DomainError } from '../common/errors.js';
import { assertTransition, canTransition, liveStatus } from './lifecycle.js';
import { buildResourceSearch, decodeCursor, encodeCursor } from './resource-search.js';

const now = new Date('2026-11-28T10:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

describe('lifecycle graph', () => {
  it('allows the plan order and refuses skips with the current state', () => {
    expect(canTransition('prepared', 'connected')).toBe(true);
    expect(canTransition('schedulable', 'connected')).toBe(true);
    expect(canTransition('running', 'retired')).toBe(true);
    expect(canTransition('retired', 'prepared')).toBe(false);
    try {
      assertTransition('prepared', 'running');
      throw new Error('not refused');
    } catch (err) {
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).status).toBe(409);
      expect((err as DomainError).details).toMatchObject({ state: 'prepared', to: 'running' });
    }
  });
});

describe('liveStatus', () => {
  it('derives online, degraded and offline from the heartbeat age', () => {
    expect(liveStatus(null, now)).toBe('offline');
    expect(liveStatus(ago(0), now)).toBe('online');
    expect(liveStatus(ago(3 * 60_000), now)).toBe('online');
    expect(liveStatus(ago(3 * 60_000 + 1), now)).toBe('degraded');
    expect(liveStatus(ago(15 * 60_000), now)).toBe('degraded');
    expect(liveStatus(ago(15 * 60_000 + 1), now)).toBe('offline');
  });

  it('lets the agent’s own report only make it worse', () => {
    expect(liveStatus(ago(0), now, 'degraded')).toBe('degraded');
    expect(liveStatus(ago(0), now, 'offline')).toBe('offline');
    expect(liveStatus(ago(10 * 60_000), now, 'online')).toBe('degraded');
    expect(liveStatus(ago(20 * 60_000), now, 'degraded')).toBe('offline');
  });
});

describe('search SQL', () => {
  const q = (query: Record<string, string>) =>
    buildResourceSearch(resourceSearchSchema.parse(query), now);

  it('turns each filter into a parameterized predicate and keeps the stable order', () => {
    const { sql, params } = q({
      class: 'AI',
      location: 'CN-GZ.GA1',
      registrant: '86.R07',
      accelModel: 'H200',
      accelMin: '8',
      cpuMin: '16',
      memMax: '2048',
    });
    expect(sql).toContain('r.class = $1');
    expect(sql).toContain('r.country = $2 AND r.subdivision = $3 AND r.site = $4');
    expect(sql).toContain('r.registrant LIKE $5');
    expect(sql).toContain("r.state <> 'retired'");
    expect(sql).toMatch(/ORDER BY r\.created_at, r\.id LIMIT \$\d+$/);
    expect(params).toEqual(['AI', 'CN', 'GZ', 'GA1', '86.R07.%', 'H200', 8, 16, 2048, 21]);
    expect(q({ registrant: '86.R07.E00042' }).sql).toContain('r.registrant = $1');
    expect(q({ state: 'retired' }).sql).not.toContain("<> 'retired'");
  });

  it('round-trips the cursor and refuses one it did not issue', () => {
    const c = { t: '2026-11-28 09:59:59.123456+00', i: '3c02c7ef-44e9-4a0c-8517-efd7a0539cc8' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    const { sql, params } = q({ cursor: encodeCursor(c) });
    expect(sql).toContain('(r.created_at, r.id) > ($1::timestamptz, $2::uuid)');
    expect(params.slice(0, 2)).toEqual([c.t, c.i]);
    for (const bad of ['', 'bm9wZQ', Buffer.from('["x","y"]').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(DomainError);
    }
  });
});
