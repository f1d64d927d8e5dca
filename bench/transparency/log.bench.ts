// Settlement-log benchmark: append BENCH_LEAVES (1,000,000) pseudonymized debit-note records to
// the settlement log in PostgreSQL (SettlementLogService: append in the records' transactions,
// BENCH_APPENDERS at once as parallel settlement transactions would, then sequence into C2SP
// tiles), then time inclusion and consistency proofs at that size with a cold tile cache.
// Baselines in the same run and database: the RFC 9162 leaf hash of the same canonical JSON in
// memory; a plain INSERT of the same rows (same columns, same concurrency) into a table with only
// a primary key; for proofs, a primary-key lookup of one tile row, and a naive in-memory proof
// (every subtree hash recomputed from all leaf hashes held in memory, O(n) per proof).
//
//   DATABASE_URL=... node --max-old-space-size=4096 --import @swc-node/register/esm-register bench/transparency/log.bench.ts
//
// Options (env): BENCH_LEAVES (1000000), BENCH_CHUNK (2000 leaves per append transaction),
// BENCH_APPENDERS (2), BENCH_BASELINE_EVERY (1: the plain INSERT baseline on every k-th group of
// chunks), BENCH_PROOFS (1000 proofs of each kind), BENCH_NAIVE (3 naive proofs), BENCH_PREFILL
// (0: leaves bulk-loaded by SQL and sequenced through the service before the timed appends, to
// measure appends, sequencing and proofs at 10M without hours of appending first).
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { canonicalJson, generateSigningKey } from '@suanli/crypto';
import {
  fromHex,
  inclusionProofRanges,
  leafHash,
  perfectNodesOf,
  rootFromInclusionProof,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type Range,
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
const APPENDERS = Number(process.env.BENCH_APPENDERS ?? 2);
const BASELINE_EVERY = Number(process.env.BENCH_BASELINE_EVERY ?? 1);
const PROOFS = Number(process.env.BENCH_PROOFS ?? 1000);
const NAIVE = Number(process.env.BENCH_NAIVE ?? 3);
const PREFILL = Number(process.env.BENCH_PREFILL ?? 0);

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

/** Naive RFC 9162 MTH of leaves [start, end) held in one flat buffer: every node recomputed. */
function naiveMth(all: Buffer, start: number, end: number): Buffer {
  if (end - start === 1) return all.subarray(start * 32, start * 32 + 32);
  let k = 1;
  while (k * 2 < end - start) k *= 2;
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(naiveMth(all, start, start + k))
    .update(naiveMth(all, start + k, end))
    .digest();
}
const naiveProof = (all: Buffer, ranges: Range[]): string[] =>
  ranges.map((r) => naiveMth(all, r.start, r.end).toString('hex'));

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
  const ds = await openDataSource(db.url, APPENDERS + 3);
  const key = await generateSigningKey('bench-platform');
  const config = AppConfig.fromEnv({
    DATABASE_URL: db.url,
    PLATFORM_SIGNING_JWK: JSON.stringify(key.privateJwk),
  });
  const clock = new FixedClock(new Date('2026-11-28T12:00:00Z'));
  const service = (tileCache: string) =>
    new SettlementLogService(
      ds,
      config,
      clock as Clock,
      new SettlementLogConfig({
        SETTLEMENT_LOG_BATCH: '20000',
        SETTLEMENT_LOG_TILE_CACHE: tileCache,
      }),
      new SettlementConfig({ PSEUDONYM_SECRET: 'bench-secret' }),
    );
  const log = service('8192');
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
    // Prefill: leaves of about the same size made by SQL (tx 2: before every appending
    // transaction), then sequenced through the service (timed).
    let prefillS = 0;
    let prefillSeqS = 0;
    for (let done = 0; done < PREFILL;) {
      const n = Math.min(500_000, PREFILL - done);
      const t = performance.now();
      await ds.query(
        `INSERT INTO settlement_log_leaves (tx, kind, record_id, seller_org_id, buyer_org_id, leaf, leaf_hash)
         SELECT 2, 'debit_note', 'prefill-' || g, NULL, NULL, x.leaf, sha256('\\x00'::bytea || convert_to(x.leaf, 'UTF8'))
         FROM generate_series($1::bigint, $2::bigint) g,
           LATERAL (SELECT '{"i":' || g || ',"pad":"' || repeat(chr(97 + (g % 26)::int), 400) || '","type":"prefill"}' AS leaf) x`,
        [done, done + n - 1],
      );
      prefillS += (performance.now() - t) / 1000;
      const s = performance.now();
      await log.sequenceAll();
      prefillSeqS += (performance.now() - s) / 1000;
      done += n;
      console.log(
        `prefilled ${fmt(done)}: insert ${fmt(prefillS, 1)} s, sequence ${fmt(prefillSeqS, 1)} s`,
      );
    }
    // Every leaf hash in index order (one transaction per chunk, chunks of a group committed
    // before the group is sequenced: index order = generation order), for the naive baseline.
    const allHashes = Buffer.alloc((PREFILL + N) * 32);
    // Per group of APPENDERS chunks (the same records on every path): baseline 1, the leaf hash
    // of each canonical JSON leaf in memory; baseline 2, a plain INSERT of the same rows, one
    // transaction per chunk, APPENDERS at once; the log's append, likewise; then the sequencer.
    let hashS = 0;
    let plainS = 0;
    let plainRows = 0;
    let appendS = 0;
    let sequenceS = 0;
    let genS = 0;
    let group = 0;
    for (let i = 0; i < N; group++) {
      let t = performance.now();
      const chunks: LeafInput[][] = [];
      for (let a = 0; a < APPENDERS && i < N; a++) {
        const n = Math.min(CHUNK, N - i);
        const base = i;
        chunks.push(Array.from({ length: n }, (_, j) => leafAt(base + j, sellers, buyers, names)));
        i += n;
      }
      const first = PREFILL + i - chunks.reduce((x, c) => x + c.length, 0);
      genS += (performance.now() - t) / 1000;
      t = performance.now();
      let at = first;
      for (const c of chunks) {
        for (const l of c) allHashes.set(leafHash(canonicalJson(l.record)), 32 * at++);
      }
      hashS += (performance.now() - t) / 1000;
      if (group % BASELINE_EVERY === 0) {
        t = performance.now();
        await Promise.all(
          chunks.map((part) => {
            const texts = part.map((l) => canonicalJson(l.record));
            return ds.query(
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
          }),
        );
        plainS += (performance.now() - t) / 1000;
        plainRows += chunks.reduce((x, c) => x + c.length, 0);
      }
      t = performance.now();
      // The chunks' transactions take their ids in chunk order (one round trip each), so the
      // log's (tx, seq) order is generation order and the naive baseline sees the same tree.
      let gate: Promise<unknown> = Promise.resolve();
      await Promise.all(
        chunks.map((part) => {
          let open!: () => void;
          const before = gate;
          gate = new Promise<void>((r) => (open = r));
          return ds.transaction(async (m) => {
            await before;
            await m.query('SELECT pg_current_xact_id()');
            open();
            await log.append(m, part);
          });
        }),
      );
      appendS += (performance.now() - t) / 1000;
      t = performance.now();
      await log.sequenceAll();
      sequenceS += (performance.now() - t) / 1000;
      if (group % Math.max(1, Math.round(100_000 / (CHUNK * APPENDERS))) === 0 || i === N) {
        console.log(
          `${fmt(i)} leaves: plain ${fmt(plainS, 1)} s (${fmt(plainRows)} rows), append ${fmt(appendS, 1)} s, ` +
            `sequence ${fmt(sequenceS, 1)} s`,
        );
      }
    }
    console.log(`generated ${fmt(N)} records in ${fmt(genS, 1)} s (not counted)`);
    let t = performance.now();
    const cp = await log.checkpoint();
    const checkpointMs = performance.now() - t;
    if (cp.treeSize !== PREFILL + N)
      throw new Error(`tree of ${cp.treeSize}, expected ${PREFILL + N}`);
    if (PREFILL > 0) {
      // The prefilled leaves were hashed by PostgreSQL: take every leaf hash from the level-0
      // tiles (not timed), so the naive baselines below see the whole tree.
      for (let k = 0; k * 256 < PREFILL + N; k += 1000) {
        const rows = (await ds.query(
          'SELECT idx::int AS idx, hashes FROM settlement_log_tiles WHERE level = 0 AND idx >= $1 AND idx < $2',
          [k, k + 1000],
        )) as { idx: number; hashes: Buffer }[];
        for (const r of rows) r.hashes.copy(allHashes, r.idx * 256 * 32);
      }
    }
    const SIZE = PREFILL + N;
    // The naive root (O(n) hashes) is checked up to 1M leaves; beyond, its minutes are skipped.
    t = performance.now();
    const checkNaive = SIZE <= 2_000_000;
    const naiveRoot = checkNaive ? naiveMth(allHashes, 0, SIZE).toString('hex') : cp.rootHash;
    const naiveRootS = (performance.now() - t) / 1000;
    if (naiveRoot !== cp.rootHash) throw new Error('the log root differs from the naive root');
    const [{ tiles, size }] = (await ds.query(
      `SELECT (SELECT count(*) FROM settlement_log_tiles)::int AS tiles,
         pg_size_pretty(pg_total_relation_size('settlement_log_leaves') + pg_total_relation_size('settlement_log_tiles')
           + pg_total_relation_size('settlement_log_tile_leaves')) AS size`,
    )) as { tiles: number; size: string }[];
    const [{ plainSize }] = (await ds.query(
      `SELECT pg_size_pretty(pg_total_relation_size('bench_plain')) AS "plainSize"`,
    )) as { plainSize: string }[];

    // Proofs at size N with a fresh service (cold tile cache): random leaves, random older
    // sizes; each verified (not timed).
    const prover = service('8192');
    const root = fromHex(cp.rootHash);
    const inc: number[] = [];
    const cons: number[] = [];
    const lookup: number[] = [];
    for (let k = 0; k < PROOFS; k++) {
      const i = Math.floor(Math.random() * SIZE);
      let s = performance.now();
      const p = await prover.inclusionProof(i, SIZE);
      inc.push(performance.now() - s);
      s = performance.now();
      await ds.query('SELECT hashes FROM settlement_log_tiles WHERE level = 0 AND idx = $1', [
        Math.floor(i / 256),
      ]);
      lookup.push(performance.now() - s);
      verifyInclusion(
        i,
        SIZE,
        allHashes.subarray(i * 32, i * 32 + 32),
        p.hashes.map((h) => fromHex(h)),
        root,
      );
      const m = 1 + Math.floor(Math.random() * (SIZE - 1));
      s = performance.now();
      const c = await prover.consistencyProof(m, SIZE);
      cons.push(performance.now() - s);
      verifyConsistency(
        m,
        SIZE,
        checkNaive ? naiveMthCached(allHashes, m) : fromHex(await prover.rootAt(ds.manager, m)),
        root,
        c.hashes.map((h) => fromHex(h)),
      );
    }
    // Naive in-memory proofs: every subtree hash recomputed from the leaf hashes.
    const naiveMs: number[] = [];
    for (let k = 0; k < NAIVE; k++) {
      const i = Math.floor(Math.random() * SIZE);
      const s = performance.now();
      const hashes = naiveProof(allHashes, inclusionProofRanges(i, SIZE));
      naiveMs.push(performance.now() - s);
      const got = rootFromInclusionProof(
        i,
        SIZE,
        allHashes.subarray(i * 32, i * 32 + 32),
        hashes.map((h) => fromHex(h)),
      );
      if (toHex(got) !== cp.rootHash) throw new Error('naive proof does not verify');
    }

    const total = appendS + sequenceS;
    const rows: [string, string][] = [
      [
        'leaves appended (after prefill); appenders x leaves per transaction',
        `${fmt(N)} (${fmt(PREFILL)}); ${APPENDERS} x ${fmt(CHUNK)}`,
      ],
      ...(PREFILL > 0
        ? ([
            [
              'prefill: SQL insert; sequenced through the service',
              `${fmt(PREFILL / prefillS)} rows/s; ${fmt(PREFILL / prefillSeqS)} leaves/s (${fmt(prefillSeqS, 1)} s)`,
            ],
          ] as [string, string][])
        : []),
      ['baseline: SHA-256 leaf hash in memory', `${fmt(N / hashS)} leaves/s (${fmt(hashS, 1)} s)`],
      [
        `baseline: plain INSERT of the same rows${BASELINE_EVERY > 1 ? ` (1 group in ${BASELINE_EVERY})` : ''}`,
        `${fmt(plainRows / plainS)} rows/s (${fmt(plainS, 1)} s for ${fmt(plainRows)})`,
      ],
      [
        'log append (in-transaction, unsequenced)',
        `${fmt(N / appendS)} leaves/s (${fmt(appendS, 1)} s)`,
      ],
      ['log sequence (tiles)', `${fmt(N / sequenceS)} leaves/s (${fmt(sequenceS, 1)} s)`],
      ['log append + sequence, end to end', `${fmt(N / total)} leaves/s (${fmt(total, 1)} s)`],
      ['ratio log / plain INSERT (time per row)', `${fmt(total / N / (plainS / plainRows), 2)}x`],
      ['tiles stored; log on disk; plain table on disk', `${fmt(tiles)}; ${size}; ${plainSize}`],
      ['checkpoint (sequence check, root from tiles, 2 signatures)', `${fmt(checkpointMs, 1)} ms`],
      [
        'naive root from all leaf hashes in memory',
        checkNaive ? `${fmt(naiveRootS * 1000, 0)} ms` : 'skipped (over 2M leaves)',
      ],
      [
        'baseline: one tile row by primary key, p50 / p99',
        `${fmt(median(lookup), 2)} / ${fmt(p99(lookup), 2)} ms`,
      ],
      [
        `baseline: naive in-memory inclusion proof at ${fmt(SIZE)}, median of ${NAIVE}`,
        `${fmt(median(naiveMs), 1)} ms`,
      ],
      [
        `inclusion proof at ${fmt(SIZE)}, p50 / p99 (${fmt(PROOFS)}, cold cache)`,
        `${fmt(median(inc), 2)} / ${fmt(p99(inc), 2)} ms`,
      ],
      [
        `consistency proof m → ${fmt(SIZE)}, p50 / p99`,
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

/**
 * MTH of the first m leaves for checking consistency proofs (not timed): perfect subtrees of
 * 4,096 leaves or more from a precomputed row of level-12 hashes, smaller ones naively.
 */
let level12: Buffer[] | undefined;
function naiveMthCached(all: Buffer, m: number): Uint8Array {
  const n = all.length / 32;
  level12 ??= Array.from({ length: Math.floor(n / 4096) }, (_, k) =>
    naiveMth(all, k * 4096, (k + 1) * 4096),
  );
  const row = level12;
  const fromRow = (start: number, end: number): Buffer => {
    if (end - start === 1) return row[start];
    const k = (end - start) / 2;
    return createHash('sha256')
      .update(Buffer.from([1]))
      .update(fromRow(start, start + k))
      .update(fromRow(start + k, end))
      .digest();
  };
  const parts = perfectNodesOf(0, m).map((p) =>
    p.level >= 12
      ? fromRow(p.index * 2 ** (p.level - 12), (p.index + 1) * 2 ** (p.level - 12))
      : naiveMth(all, p.index * 2 ** p.level, (p.index + 1) * 2 ** p.level),
  );
  let r = parts[parts.length - 1];
  for (let i = parts.length - 2; i >= 0; i--) {
    r = createHash('sha256')
      .update(Buffer.from([1]))
      .update(parts[i])
      .update(r)
      .digest();
  }
  return r;
}

await main();
