// Settlement-log benchmark: append BENCH_LEAVES (1,000,000) pseudonymized debit-note records to
// the RFC 9162 log in PostgreSQL (SettlementLogService: append in the record's transaction, then
// sequence: indices and every perfect subtree stored), then time inclusion and consistency
// proofs at that size. Baselines in the same run and database: raw SHA-256 (RFC 9162 leaf hash)
// of the same canonical JSON leaves in memory, and a plain INSERT of the same rows into a table
// without the tree; for proofs, a primary-key lookup of one leaf.
//
//   DATABASE_URL=... node --import @swc-node/register/esm-register bench/transparency/log.bench.ts
//
// Options (env): BENCH_LEAVES (1000000), BENCH_CHUNK (2000 leaves per append transaction),
// BENCH_PROOFS (300 proofs of each kind).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { canonicalJson, generateSigningKey } from '@suanli/crypto';
import {
  leafHash,
  rootFromInclusionProof,
  verifyConsistency,
  fromHex,
  toHex,
} from '@suanli/transparency';
import { FixedClock, type Clock } from '../../apps/market-api/src/common/clock.js';
import { AppConfig } from '../../apps/market-api/src/config/app-config.js';
import { SettlementConfig } from '../../apps/market-api/src/settlement/settlement.config.js';
import { SettlementLogConfig } from '../../apps/market-api/src/settlement-log/settlement-log.config.js';
import { SettlementLogService } from '../../apps/market-api/src/settlement-log/settlement-log.service.js';
import {
  debitNoteLeaf,
  type LeafInput,
} from '../../apps/market-api/src/settlement-log/leaf-records.js';
import { openDataSource } from '../../apps/market-api/src/settlement/testing/settlement-fixtures.js';
import { createTestDatabase } from '../../test/support/db.js';

const N = Number(process.env.BENCH_LEAVES ?? 1_000_000);
const CHUNK = Number(process.env.BENCH_CHUNK ?? 2000);
const PROOFS = Number(process.env.BENCH_PROOFS ?? 300);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const p99 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))];
};
const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/**
 * Leaf `i`: the shape `debitNoteLeaf` produces (pseudonyms precomputed per seller and buyer, so
 * that generating a million records does not dominate the run).
 */
function leafAt(i: number, sellers: string[], buyers: string[], names: string[][]): LeafInput {
  const s = i % sellers.length;
  const b = i % buyers.length;
  const start = new Date(Date.UTC(2026, 5, 1) + (i % 8760) * 3_600_000).toISOString();
  const end = new Date(Date.UTC(2026, 5, 1) + ((i % 8760) + 1) * 3_600_000).toISOString();
  const id = randomUUID();
  return {
    kind: 'debit_note',
    recordId: id,
    sellerOrgId: sellers[s],
    buyerOrgId: buyers[b],
    record: {
      type: 'debit_note',
      v: 1,
      id,
      noteKind: 'period',
      lease: randomUUID(),
      seller: names[s][0],
      buyer: names[s][1 + (b % (names[s].length - 1))],
      currency: 'CNY',
      periodStart: start,
      periodEnd: end,
      lines: [
        {
          description: 'Slot-hours',
          unit: 'slot_h',
          quantity: '1',
          unitPrice: '12.50',
          amount: '12.50',
        },
      ],
      gross: '12.50',
      fee: '0.63',
      net: '11.87',
      createdAt: end,
    },
  };
}

function sample(sellerOrgId: string, buyerOrgId: string) {
  const at = new Date('2026-06-01T00:00:00Z');
  return {
    id: 'x',
    kind: 'period',
    leaseId: 'x',
    sellerOrgId,
    buyerOrgId,
    currency: 'CNY',
    periodStart: at,
    periodEnd: at,
    lines: [],
    gross: '0',
    fee: '0',
    net: '0',
    createdAt: at,
  };
}

async function main(): Promise<void> {
  const db = await createTestDatabase();
  const ds = await openDataSource(db.url, 4);
  const key = await generateSigningKey('bench-platform');
  const config = AppConfig.fromEnv({
    DATABASE_URL: db.url,
    PLATFORM_SIGNING_JWK: JSON.stringify(key.privateJwk),
  });
  const clock = new FixedClock(new Date('2026-11-28T12:00:00Z'));
  const log = new SettlementLogService(
    ds,
    config,
    clock as Clock,
    new SettlementLogConfig({ SETTLEMENT_LOG_BATCH: '20000' }),
    new SettlementConfig({ PSEUDONYM_SECRET: 'bench-secret' }),
  );
  try {
    const sellers = Array.from({ length: 200 }, () => randomUUID());
    const buyers = Array.from({ length: 2000 }, () => randomUUID());
    // Per seller: its pseudonym and how it sees 20 of the buyers (as debitNoteLeaf would).
    const names = sellers.map((sid, k) => [
      debitNoteLeaf('bench-secret', sample(sid, buyers[k])).record.seller as string,
      ...Array.from(
        { length: 20 },
        (_, j) =>
          debitNoteLeaf('bench-secret', sample(sid, buyers[(k + j * 97) % buyers.length])).record
            .buyer as string,
      ),
    ]);
    await ds.query(
      `CREATE TABLE bench_plain (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind text NOT NULL,
        record_id text NOT NULL, seller_org_id uuid, buyer_org_id uuid, leaf text NOT NULL, leaf_hash bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())`,
    );
    // Each chunk of records goes through the three paths in turn (same records, same run):
    // baseline 1, the RFC 9162 leaf hash of each canonical JSON leaf in memory; baseline 2, a
    // plain INSERT of the same rows (same columns, no tree); the log's append, one transaction
    // per chunk as settlement transactions would.
    let hashS = 0;
    let plainS = 0;
    let appendS = 0;
    let genS = 0;
    for (let i = 0; i < N; i += CHUNK) {
      let t = performance.now();
      const part = Array.from({ length: Math.min(CHUNK, N - i) }, (_, j) =>
        leafAt(i + j, sellers, buyers, names),
      );
      genS += (performance.now() - t) / 1000;
      t = performance.now();
      for (const l of part) leafHash(canonicalJson(l.record));
      hashS += (performance.now() - t) / 1000;
      t = performance.now();
      const texts = part.map((l) => canonicalJson(l.record));
      await ds.query(
        `INSERT INTO bench_plain (kind, record_id, seller_org_id, buyer_org_id, leaf, leaf_hash)
         SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::text[], $6::bytea[])`,
        [
          part.map((l) => l.kind),
          part.map((l) => l.recordId),
          part.map((l) => l.sellerOrgId),
          part.map((l) => l.buyerOrgId),
          texts,
          texts.map((x) => `\\x${toHex(leafHash(x))}`),
        ],
      );
      plainS += (performance.now() - t) / 1000;
      t = performance.now();
      await ds.transaction((m) => log.append(m, part));
      appendS += (performance.now() - t) / 1000;
      if ((i / CHUNK) % 100 === 99) {
        console.log(
          `${fmt(i + part.length)} leaves: hash ${fmt(hashS, 1)} s, plain ${fmt(plainS, 1)} s, append ${fmt(appendS, 1)} s`,
        );
      }
    }
    console.log(`generated ${fmt(N)} records in ${fmt(genS, 1)} s (not counted)`);
    let t = performance.now();
    const sequenced = await log.sequenceAll();
    const sequenceS = (performance.now() - t) / 1000;
    if (sequenced !== N) throw new Error(`sequenced ${sequenced}, expected ${N}`);
    t = performance.now();
    const cp = await log.checkpoint();
    const checkpointMs = performance.now() - t;
    const [{ nodes }] = (await ds.query(
      'SELECT count(*)::int AS nodes FROM settlement_log_nodes',
    )) as { nodes: number }[];
    const [{ size }] = (await ds.query(
      `SELECT pg_size_pretty(pg_total_relation_size('settlement_log_leaves') + pg_total_relation_size('settlement_log_nodes')) AS size`,
    )) as { size: string }[];

    // Proofs at size N: random leaves / random older sizes; each verified (not timed).
    const root = fromHex(cp.rootHash);
    const inc: number[] = [];
    const cons: number[] = [];
    const lookup: number[] = [];
    for (let k = 0; k < PROOFS; k++) {
      const i = Math.floor(Math.random() * N);
      let s = performance.now();
      const p = await log.inclusionProof(i, N);
      inc.push(performance.now() - s);
      s = performance.now();
      const [row] = (await ds.query(
        'SELECT leaf_hash FROM settlement_log_leaves WHERE leaf_index = $1',
        [i],
      )) as {
        leaf_hash: Buffer;
      }[];
      lookup.push(performance.now() - s);
      const got = rootFromInclusionProof(
        i,
        N,
        new Uint8Array(row.leaf_hash),
        p.hashes.map((h) => fromHex(h)),
      );
      if (toHex(got) !== toHex(root)) throw new Error(`inclusion proof of ${i} does not verify`);
      const m = 1 + Math.floor(Math.random() * (N - 1));
      s = performance.now();
      const c = await log.consistencyProof(m, N);
      cons.push(performance.now() - s);
      const oldRoot = fromHex(await log.rootAt(ds.manager, m));
      verifyConsistency(
        m,
        N,
        oldRoot,
        root,
        c.hashes.map((h) => fromHex(h)),
      );
    }

    const total = appendS + sequenceS;
    const rows: [string, string][] = [
      ['leaves', fmt(N)],
      ['baseline: SHA-256 leaf hash in memory', `${fmt(N / hashS)} leaves/s (${fmt(hashS, 1)} s)`],
      [
        'baseline: plain INSERT of the same rows',
        `${fmt(N / plainS)} rows/s (${fmt(plainS, 1)} s)`,
      ],
      [
        'log append (in-transaction, unsequenced)',
        `${fmt(N / appendS)} leaves/s (${fmt(appendS, 1)} s)`,
      ],
      [
        'log sequence (indices + perfect nodes)',
        `${fmt(N / sequenceS)} leaves/s (${fmt(sequenceS, 1)} s)`,
      ],
      ['log append + sequence, end to end', `${fmt(N / total)} leaves/s (${fmt(total, 1)} s)`],
      ['ratio log / plain INSERT (time)', `${fmt(total / plainS, 2)}x`],
      ['perfect nodes stored; leaves+nodes on disk', `${fmt(nodes)}; ${size}`],
      ['checkpoint (sequence check + root + EdDSA sign)', `${fmt(checkpointMs, 1)} ms`],
      [
        'baseline: one leaf by primary key, p50 / p99',
        `${fmt(median(lookup), 2)} / ${fmt(p99(lookup), 2)} ms`,
      ],
      [
        `inclusion proof at ${fmt(N)}, p50 / p99`,
        `${fmt(median(inc), 2)} / ${fmt(p99(inc), 2)} ms`,
      ],
      [
        `consistency proof m → ${fmt(N)}, p50 / p99`,
        `${fmt(median(cons), 2)} / ${fmt(p99(cons), 2)} ms`,
      ],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
  } finally {
    await ds.destroy();
    await db.drop();
  }
}

await main();
