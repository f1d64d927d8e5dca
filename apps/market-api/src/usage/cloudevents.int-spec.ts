// The CloudEvents HTTP binding of `POST /v1/usage/events`, driven by the official CloudEvents
// SDK for JavaScript (`cloudevents`) as a collector would use it: its default emitter (binary
// content mode), its structured mode, and a batch of its events. Through the real API, Kafka,
// the ingest and PostgreSQL to a settlement run and the debit note that bills the usage.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CloudEvent, CONSTANTS, emitterFor, httpTransport, Mode } from 'cloudevents';
import pg from 'pg';
import type {
  CreatedApiKeyView,
  DeadLetterPage,
  DebitNoteView,
  UsageIngestAccepted,
  UsagePoint,
} from '@suanli/contracts';
import { Decimal } from '@suanli/money';
import { computeUnits, CURRENT_CATALOG, type RawUsage } from '@suanli/units';
import { buyerWithLease, sellerWithOffer, signUpActor } from '../../../../test/support/actors.js';
import { expectEventually } from '../../../../test/support/eventually.js';
import type { TestMarketApi } from '../../../../test/support/market-api.js';
import { startUsageStack, type UsageStack } from '../../../../test/support/usage-stack.js';
import { apiClient } from '../../../../test/support/http.js';

let stack: UsageStack;
let api: TestMarketApi;
let pool: pg.Pool;

beforeAll(async () => {
  stack = await startUsageStack('cloudevents');
  ({ api, pool } = stack);
}, 120_000);

afterAll(() => stack?.close(), 60_000);

const T0 = Date.parse('2026-11-28T10:00:00Z');
const MINUTE = 60_000;
// 400 of the 480 accelerator-seconds 8 H100 deliver in a minute: a second copy cannot fit.
const H100_S: RawUsage = { duration_s: '60', acc_s: { H100: '400' }, cpu_core_s: '600' };

/** An SDK event of `minute` of the lease: raw usage, with the sender's units or without. */
function usageEvent(
  lease: { id: string; cri: string },
  minute: number,
  source: string,
  rating: 'sender' | { catalog?: string },
): CloudEvent<Record<string, unknown>> {
  const start = new Date(T0 + minute * MINUTE);
  const end = new Date(start.getTime() + MINUTE);
  const data: Record<string, unknown> = {
    cri: lease.cri,
    window: { start: start.toISOString(), end: end.toISOString() },
    usage: H100_S,
  };
  if (rating === 'sender') {
    data.units = computeUnits(H100_S, { catalog: CURRENT_CATALOG, class: 'AI' });
    data.catalog = CURRENT_CATALOG;
  } else if (rating.catalog !== undefined) {
    data.catalog = rating.catalog;
  }
  return new CloudEvent({
    id: randomUUID(),
    source,
    type: 'exchange.usage.v1',
    subject: lease.id,
    time: end.toISOString(),
    datacontenttype: 'application/json',
    data,
  });
}

describe('CloudEvents HTTP binding (official SDK as the client)', () => {
  it('meters and bills usage sent in binary, structured and batched mode; rates events without units', async () => {
    // A seller whose H100 offer accepts unsigned usage and bills scu.ai besides slot-hours.
    const { seller, resource, offer } = await sellerWithOffer(api, {
      title: 'H100, metered by an exporter',
      capacity: 1,
      prices: [
        { unit: 'slot_h', price: '10.00' },
        { unit: 'scu.ai', price: '12.00' },
      ],
      acceptsUnsigned: true,
    });
    const { lease } = await buyerWithLease(api, offer.id, { hours: 1 });
    const target = { id: lease.id, cri: resource.cri };
    await expectEventually(async () => {
      const { rows } = await pool.query('SELECT 1 FROM metering_leases WHERE id = $1', [lease.id]);
      expect(rows).toHaveLength(1);
    });
    const secret = (
      await seller.client.post<CreatedApiKeyView>('/v1/api-keys', {
        name: 'cloudevents exporter',
        scopes: ['usage:write'],
      })
    ).body.secret;
    const sink = `${api.url}/v1/usage/events`;
    const auth = { headers: { authorization: `Bearer ${secret}` } };
    const answer = (r: unknown) => JSON.parse((r as { body: string }).body) as UsageIngestAccepted;
    const source = '//exporter.example/dcgm';

    // Binary content mode: the SDK's default emitter. Raw usage only, no catalog named.
    const binary = usageEvent(target, 0, source, {});
    const sent = answer(await emitterFor(httpTransport(sink))(binary, auth));
    expect(sent).toEqual({
      accepted: 1,
      ids: [binary.id],
      rated: [{ id: binary.id, catalog: CURRENT_CATALOG }],
    });

    // Structured content mode, with the sender's own units (checked against the exchange's).
    const structured = usageEvent(target, 1, source, 'sender');
    expect(
      answer(await emitterFor(httpTransport(sink), { mode: Mode.STRUCTURED })(structured, auth)),
    ).toEqual({ accepted: 1, ids: [structured.id], rated: [] });

    // Batched content mode: SDK events serialized as a batch, one naming the catalog.
    const batch = [
      usageEvent(target, 2, source, { catalog: CURRENT_CATALOG }),
      usageEvent(target, 3, source, {}),
    ];
    const batched = answer(
      await httpTransport(sink)(
        { headers: { 'content-type': CONSTANTS.MIME_CE_BATCH }, body: JSON.stringify(batch) },
        auth,
      ),
    );
    expect(batched).toEqual({
      accepted: 2,
      ids: batch.map((e) => e.id),
      rated: batch.map((e) => ({ id: e.id, catalog: CURRENT_CATALOG })),
    });

    // The capacity rule holds in every mode: minute 0 again under another id and source.
    const copy = usageEvent(target, 0, '//exporter.example/copy', {});
    await emitterFor(httpTransport(sink))(copy, auth);
    // An unknown catalog version is refused at the door, naming the field.
    const unknown = usageEvent(target, 4, source, { catalog: '1999.1' });
    const refused = JSON.parse(
      ((await emitterFor(httpTransport(sink))(unknown, auth)) as { body: string }).body,
    ) as { error: { code: string; details: { issues: { path: string; message: string }[] } } };
    expect(refused.error.code).toBe('validation_failed');
    expect(refused.error.details.issues[0].path).toBe('0.data.catalog');

    // Metered: four minutes, each rated like the agent would; the exchange's ratings recorded.
    const perMinute = computeUnits(H100_S, { catalog: CURRENT_CATALOG, class: 'AI' });
    await expectEventually(async () => {
      const { rows } = await pool.query<{ event_id: string; rated_catalog: string | null }>(
        'SELECT event_id, rated_catalog FROM usage_events WHERE lease_id = $1 ORDER BY window_start',
        [lease.id],
      );
      expect(rows).toEqual([
        { event_id: binary.id, rated_catalog: CURRENT_CATALOG },
        { event_id: structured.id, rated_catalog: null },
        { event_id: batch[0].id, rated_catalog: CURRENT_CATALOG },
        { event_id: batch[1].id, rated_catalog: CURRENT_CATALOG },
      ]);
    });
    const series = await seller.client.get<{ items: UsagePoint[] }>(
      `/v1/resources/${resource.id}/usage?granularity=minute`,
    );
    expect(series.body.items.filter((p) => p.unit === 'scu.ai').map((p) => p.quantity)).toEqual(
      [0, 1, 2, 3].map(() => perMinute['scu.ai']),
    );
    await expectEventually(async () => {
      const dead = await seller.client.get<DeadLetterPage>(
        `/v1/usage/dead-letters?lease=${lease.id}`,
      );
      expect(dead.body.items.map((d) => [d.reason, d.eventId])).toEqual([
        ['over_capacity', copy.id],
      ]);
    });

    // Billed: the settlement run after the hour rates the four minutes on the debit note.
    api.clock.advance(60 * MINUTE);
    const operator = apiClient(api.url, await api.operatorToken());
    expect((await operator.post('/v1/admin/settlement/run', {})).status).toBe(200);
    const notes = await seller.client.get<{ items: DebitNoteView[] }>(
      `/v1/leases/${lease.id}/debit-notes`,
    );
    expect(notes.body.items).toHaveLength(1);
    const scu = new Decimal(perMinute['scu.ai'] as string).times(4);
    const line = notes.body.items[0].lines.find((l) => l.unit === 'scu.ai');
    expect(line).toMatchObject({
      quantity: scu.toFixed(9),
      unitPrice: '12.00',
      amount: scu.times(12).toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN).toFixed(2),
    });
  }, 120_000);

  it('refuses what is not a usage CloudEvent in any mode, naming what is wrong', async () => {
    const seller = await signUpActor(api, ['seller']);
    const secret = (
      await seller.client.post<CreatedApiKeyView>('/v1/api-keys', {
        name: 'k',
        scopes: ['usage:write'],
      })
    ).body.secret;
    const post = async (headers: Record<string, string>, body: string) => {
      const r = await fetch(`${api.url}/v1/usage/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, ...headers },
        body,
      });
      return { status: r.status, body: (await r.json()) as { error: { message: string } } };
    };
    // Binary mode without ce-id / ce-source.
    const partial = await post(
      {
        'content-type': 'application/json',
        'ce-specversion': '1.0',
        'ce-type': 'exchange.usage.v1',
      },
      '{}',
    );
    expect(partial.status).toBe(400);
    expect(partial.body.error.message).toMatch(/ce-id, ce-source/);
    // JSON without any ce-* header is not a CloudEvent; nor is text.
    expect((await post({ 'content-type': 'application/json' }, '{}')).status).toBe(415);
    expect((await post({ 'content-type': 'text/plain' }, 'x')).status).toBe(415);
    // Binary mode whose data lacks the usage: 400 naming the field.
    const { headers, body } = (await import('cloudevents')).HTTP.binary(
      new CloudEvent({
        id: 'x1',
        source: 's',
        type: 'exchange.usage.v1',
        subject: randomUUID(),
        datacontenttype: 'application/json',
        data: {
          cri: 'c',
          window: { start: new Date().toISOString(), end: new Date().toISOString() },
        },
      }),
    );
    const noUsage = await post(headers as Record<string, string>, String(body));
    expect(noUsage.status).toBe(400);
    expect(JSON.stringify(noUsage.body)).toContain('0.data.usage');
    // Units without the catalog that computed them.
    const unitsOnly = await post(
      { 'content-type': CONSTANTS.DEFAULT_CE_CONTENT_TYPE },
      JSON.stringify({
        specversion: '1.0',
        id: 'x2',
        source: 's',
        type: 'exchange.usage.v1',
        subject: randomUUID(),
        time: new Date().toISOString(),
        data: {
          cri: 'c',
          window: { start: new Date().toISOString(), end: new Date().toISOString() },
          usage: { duration_s: '60' },
          units: { 'scu.gen': '1' },
        },
      }),
    );
    expect(unitsOnly.status).toBe(400);
    expect(JSON.stringify(unitsOnly.body)).toContain('0.data.catalog');
  }, 60_000);
});
