import { describe, expect, it } from '@jest/globals';
import { seriesOf, totalsOf } from './usage-series';

const points = [
  { unit: 'scu.ai', bucket: '2026-11-28T10:01:00.000Z', quantity: '0.131866667' },
  { unit: 'scu.ai', bucket: '2026-11-28T10:00:00.000Z', quantity: '0.131866667' },
  { unit: 'mem.gib_h', bucket: '2026-11-28T10:00:00.000Z', quantity: '25.600000000' },
  { unit: 'scu.ai', bucket: '2026-11-28T10:02:00.000Z', quantity: '0.000000001' },
];

describe('usage series', () => {
  it('groups points per unit in time order', () => {
    const s = seriesOf(points);
    expect([...s.keys()]).toEqual(['scu.ai', 'mem.gib_h']);
    expect(s.get('scu.ai')?.map((p) => p.t)).toEqual([
      Date.parse('2026-11-28T10:00:00Z'),
      Date.parse('2026-11-28T10:01:00Z'),
      Date.parse('2026-11-28T10:02:00Z'),
    ]);
  });

  it('totals exactly (no binary floats)', () => {
    expect(totalsOf(points)).toEqual([
      { unit: 'scu.ai', quantity: '0.263733335' },
      { unit: 'mem.gib_h', quantity: '25.600000000' },
    ]);
    expect(
      totalsOf([
        { unit: 'u', bucket: '', quantity: '0.1' },
        { unit: 'u', bucket: '', quantity: '0.2' },
      ]),
    ).toEqual([{ unit: 'u', quantity: '0.300000000' }]);
  });
});
