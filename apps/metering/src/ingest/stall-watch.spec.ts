import { describe, expect, it } from '@jest/globals';
import { partitionKey, StallWatch } from './stall-watch.js';

const LEASES = 'exchange.lease.v1';
const USAGE = 'exchange.usage.v1';
const watch = () => new StallWatch((topic) => (topic === USAGE ? 120_000 : 60_000));
const owned = new Set([partitionKey(LEASES, 0), partitionKey(USAGE, 1)]);

describe('StallWatch', () => {
  it('reports an owned partition whose offset has not moved with lag beyond its limit', () => {
    const w = watch();
    const at = (ms: number, offset: string, lag: number) =>
      w.observe([{ topic: LEASES, partition: 0, offset, lag }], owned, ms);
    expect(at(0, '10', 3)).toEqual([]);
    expect(at(30_000, '10', 3)).toEqual([]);
    expect(at(60_000, '10', 4)).toEqual([]); // exactly the limit: not yet
    expect(at(61_000, '10', 4)).toEqual([
      { topic: LEASES, partition: 0, lag: 4, stalledMs: 61_000 },
    ]);
  });

  it('starts the clock again when the offset moves or the lag is gone', () => {
    const w = watch();
    const at = (ms: number, offset: string, lag: number) =>
      w.observe([{ topic: LEASES, partition: 0, offset, lag }], owned, ms);
    at(0, '10', 3);
    at(50_000, '11', 2); // progress
    expect(at(100_000, '11', 2)).toEqual([]); // 50 s since the move
    at(101_000, '11', 0); // caught up
    expect(at(150_000, '11', 1)).toEqual([]); // a new message 49 s after
    expect(at(162_000, '11', 1)).toHaveLength(1);
  });

  it('gives each topic its own limit, and ignores partitions other instances own', () => {
    const w = watch();
    const round = (ms: number) =>
      w.observe(
        [
          { topic: USAGE, partition: 1, offset: '5', lag: 9 },
          { topic: USAGE, partition: 2, offset: '7', lag: 9 }, // not ours
        ],
        owned,
        ms,
      );
    round(0);
    expect(round(90_000)).toEqual([]); // held usage may wait for its lease event
    expect(round(121_000)).toEqual([{ topic: USAGE, partition: 1, lag: 9, stalledMs: 121_000 }]);
  });

  it('forgets the history on reset (after a restart the limit runs again)', () => {
    const w = watch();
    const at = (ms: number) =>
      w.observe([{ topic: LEASES, partition: 0, offset: '1', lag: 1 }], owned, ms);
    at(0);
    expect(at(61_000)).toHaveLength(1);
    w.reset();
    expect(at(62_000)).toEqual([]);
    expect(at(100_000)).toEqual([]);
    expect(at(123_001)).toHaveLength(1);
  });
});
