import { describe, expect, it } from '@jest/globals';
import { usageEventSchema, type UsageEvent } from '@suanli/contracts';
import { looksValidUsageEvent, parseUsageEvent } from './fast-event.js';

const good: UsageEvent = {
  specversion: '1.0',
  id: '01JDXABCDEF',
  source: '86.R03.E00042/000137#a1',
  type: 'exchange.usage.v1',
  subject: '22222222-2222-4222-8222-222222222222',
  time: '2026-11-28T08:01:00.000Z',
  datacontenttype: 'application/json',
  data: {
    cri: 'CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C96.M1536.G8-H200:000137:U',
    window: { start: '2026-11-28T08:00:00Z', end: '2026-11-28T08:01:00+08:00' },
    usage: { duration_s: '60', cpu_core_s: '5760', acc_s: { H200: '480' }, egress_bytes: '0' },
    units: { 'scu.ai': '0.131866667', 'mem.gib_h': '25.600000000' },
    catalog: '2026.1',
  },
};

const clone = (): UsageEvent => JSON.parse(JSON.stringify(good)) as UsageEvent;
type Loose = Record<string, unknown> & {
  data: Record<string, unknown> & {
    usage: Record<string, unknown>;
    window: Record<string, unknown>;
  };
};
type Mut = (e: Loose) => void;

const mutations: [string, Mut][] = [
  ['specversion', (e) => (e.specversion = '0.3')],
  ['empty id', (e) => (e.id = '')],
  ['long id', (e) => (e.id = 'x'.repeat(129))],
  ['type', (e) => (e.type = 'other')],
  ['subject not a uuid', (e) => (e.subject = 'lease-1')],
  ['time without offset', (e) => (e.time = '2026-11-28T08:01:00')],
  ['time month 13', (e) => (e.time = '2026-13-28T08:01:00Z')],
  ['content type', (e) => (e.datacontenttype = 'text/plain')],
  ['no data', (e) => Reflect.deleteProperty(e, 'data')],
  ['long cri', (e) => (e.data.cri = 'C'.repeat(129))],
  ['window end', (e) => (e.data.window.end = 'tomorrow')],
  ['duration float', (e) => (e.data.usage.duration_s = 60)],
  ['duration exp', (e) => (e.data.usage.duration_s = '6e1')],
  ['extra usage key', (e) => (e.data.usage.gpu_s = '1')],
  ['acc model', (e) => (e.data.usage.acc_s = { h200: '1' })],
  ['acc value', (e) => (e.data.usage.acc_s = { H200: '1.' })],
  ['units value', (e) => (e.data.units = { 'scu.ai': 'NaN' })],
  ['units array', (e) => (e.data.units = ['1'])],
  ['catalog', (e) => (e.data.catalog = '')],
  ['leading zero', (e) => (e.data.usage.cpu_core_s = '05')],
];

describe('the hand-written usage event check', () => {
  it('takes the fast path for a valid event, which zod accepts too', () => {
    expect(looksValidUsageEvent(clone())).toBe(true);
    expect(usageEventSchema.safeParse(clone()).success).toBe(true);
    expect(parseUsageEvent(clone())).toEqual({ success: true, data: clone() });
  });

  it.each(mutations)('never accepts what zod refuses (%s), and reports zod’s issue', (_n, mut) => {
    const e = clone() as unknown as Loose;
    mut(e);
    const z = usageEventSchema.safeParse(e);
    if (!z.success) expect(looksValidUsageEvent(e)).toBe(false);
    const r = parseUsageEvent(e);
    expect(r.success).toBe(z.success);
    if (!r.success && !z.success) {
      expect(r.issue.path).toBe(z.error.issues[0]?.path.join('.'));
    }
  });

  it('is much cheaper than zod on valid events', () => {
    const events = Array.from({ length: 2000 }, clone);
    const t0 = process.hrtime.bigint();
    for (const e of events) usageEventSchema.safeParse(e);
    const zod = Number(process.hrtime.bigint() - t0);
    const t1 = process.hrtime.bigint();
    for (const e of events) looksValidUsageEvent(e);
    const fast = Number(process.hrtime.bigint() - t1);
    console.log(
      `per event: zod ${(zod / events.length / 1000).toFixed(1)} µs, ` +
        `hand-written ${(fast / events.length / 1000).toFixed(1)} µs`,
    );
    expect(fast).toBeLessThan(zod);
  });
});
