// The metering benchmarks' shared fixture: a resource, its leases in the ingest's read model,
// enrolled agents, and every agent's signed, chained batches (signed before any clock starts:
// signing is the agents' CPU, not the pipeline's).
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { generateSigningKey } from '@suanli/crypto';
import { MeteringAgent } from '../../apps/metering/src/agent/agent.js';
import { SimulatorCollector } from '../../apps/metering/src/agent/collectors/simulator.js';
import type { ActiveLease, UsageSample } from '../../apps/metering/src/agent/types.js';

const SPEC = { cpu: 192, memGiB: 2048, accel: { count: 8, model: 'H200' } };
const CRI = 'CRI1:86.R03.E00042:I:CN-GZ.GA1:AI-CTR:C192.M2048.G8-H200:000137:U';
export const LEASE_START = Date.parse('2026-01-01T00:00:00Z');

export interface SignedBatch {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Seeds the database and returns every agent's batches, in each agent's order. */
export async function signedBatches(
  pool: pg.Pool,
  opts: { events: number; perBatch: number; agents: number; leases: number },
): Promise<{ batches: SignedBatch[]; events: number }> {
  const org = randomUUID();
  const resource = randomUUID();
  await pool.query(
    `INSERT INTO organizations (id, name, roles, industry) VALUES ($1, 'Bench', '{seller}', 'I')`,
    [org],
  );
  await pool.query(
    `INSERT INTO resources (id, handle, cri, name, owner_org_id, registrant, serial, industry, class, form,
                            country, subdivision, site, spec, state)
     VALUES ($1, '86.R03.E00042/000137', $2, 'bench', $3, '86.R03.E00042', '000137', 'I', 'AI', 'CTR',
             'CN', 'GZ', 'GA1', $4, 'running')`,
    [resource, CRI, org, JSON.stringify(SPEC)],
  );
  const leaseIds = Array.from({ length: opts.leases }, () => randomUUID());
  await pool.query(
    `INSERT INTO metering_leases (id, resource_id, seller_org_id, state, cri, class, spec, slots,
                                  starts_at, ends_at, catalog_version, event_at, event_id)
     SELECT id, $2, $3, 'active', $4, 'AI', $5, 1, $6::timestamptz, $6::timestamptz + interval '365 days', '2026.1', $6::timestamptz, id::text
       FROM unnest($1::uuid[]) AS id`,
    [leaseIds, resource, org, CRI, JSON.stringify(SPEC), new Date(LEASE_START)],
  );

  // A capturing producer keeps the messages the agents would send.
  const batches: SignedBatch[] = [];
  const capture = {
    send: async (r: { messages: SignedBatch[] }) => {
      batches.push(...r.messages);
      return [];
    },
  } as unknown as ConstructorParameters<typeof MeteringAgent>[0]['producer'];
  const collector = new SimulatorCollector();
  const perAgent = Math.ceil(opts.events / opts.agents);
  let minute = 0;
  for (let a = 0; a < opts.agents; a++) {
    const key = await generateSigningKey();
    const id = `86.R03.E00042/000137#b${a}`;
    await pool.query(
      'INSERT INTO agents (id, resource_id, kid, public_jwk) VALUES ($1, $2, $3, $4)',
      [id, resource, key.kid, JSON.stringify(key.publicJwk)],
    );
    const agent = new MeteringAgent({ agentId: id, privateJwk: key.privateJwk, producer: capture });
    for (let done = 0; done < perAgent; done += opts.perBatch) {
      const samples: UsageSample[] = [];
      for (let i = 0; i < Math.min(opts.perBatch, perAgent - done); i++, minute++) {
        const lease: ActiveLease = {
          leaseId: leaseIds[minute % opts.leases],
          cri: CRI,
          class: 'AI',
          spec: SPEC,
          slots: 1,
          startsAt: new Date(LEASE_START).toISOString(),
          endsAt: new Date(LEASE_START + 365 * 86_400_000).toISOString(),
          catalogVersion: '2026.1',
        };
        const m = Math.floor(minute / opts.leases);
        const window = {
          start: new Date(LEASE_START + m * 60_000),
          end: new Date(LEASE_START + (m + 1) * 60_000),
        };
        samples.push({ lease, window, usage: await collector.sample(lease, window) });
      }
      await agent.sendBatch(samples);
    }
  }
  return { batches, events: perAgent * opts.agents };
}
