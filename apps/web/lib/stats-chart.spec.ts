import { describe, expect, it } from '@jest/globals';
import type { MarketStatisticsCell } from '@suanli/contracts';
import { chartSeries, currenciesOf } from './stats-chart';

const cell = (bucket: string, over: Partial<MarketStatisticsCell> = {}): MarketStatisticsCell => ({
  bucket,
  class: 'AI',
  region: 'CN-SH',
  currency: 'CNY',
  suppressed: false,
  slotHours: '10',
  volume: '120.00',
  pricePerSlotHour: '12.00',
  ...over,
});

describe('stats chart series', () => {
  it('groups by class and region, orders by time, and leaves suppressed cells as gaps', () => {
    const cells = [
      cell('2026-11-29T00:00:00.000Z', { pricePerSlotHour: '13.50' }),
      cell('2026-11-28T00:00:00.000Z'),
      cell('2026-11-30T00:00:00.000Z', {
        suppressed: true,
        volume: null,
        pricePerSlotHour: null,
        slotHours: null,
      }),
      cell('2026-11-28T00:00:00.000Z', { region: 'CN-GZ', pricePerSlotHour: '9.00' }),
      cell('2026-11-28T00:00:00.000Z', { currency: 'USD', pricePerSlotHour: '2.00' }),
    ];
    const s = chartSeries(cells, 'CNY', 'pricePerSlotHour');
    expect(s.map((x) => x.key)).toEqual(['AI|CN-GZ', 'AI|CN-SH']);
    expect(s[1].points.map((p) => p.label)).toEqual(['12.00', '13.50', null]);
    expect(s[1].points[2].v).toBeNull();
    expect(currenciesOf(cells)).toEqual(['CNY', 'USD']);
  });
});
