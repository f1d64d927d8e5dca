import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { JSONWebKeySet } from '@suanli/crypto';
import {
  decodeEntryBundle,
  fromHex,
  inclusionProofFromTiles,
  leafHash,
  rootOf,
  TileHashes,
  tileReaderOf,
  toHex,
  verifyCheckpointNote,
  verifyInclusion,
} from '@suanli/transparency';
import { apiClient } from '../../../../test/support/http.js';
import { startMarketApi, type TestMarketApi } from '../../../../test/support/market-api.js';
import { Clock } from '../common/clock.js';
import { AppConfig } from '../config/app-config.js';
import { SettlementConfig } from '../settlement/settlement.config.js';
import type { LeafInput } from './leaf-records.js';
import { SettlementLogConfig } from './settlement-log.config.js';
import { SettlementLogService, type CheckpointView } from './settlement-log.service.js';

jest.setTimeout(180_000);

let api: TestMarketApi;
let ds: DataSource;
let log: SettlementLogService;

beforeAll(async () => {
  api = await startMarketApi();
  ds = api.app.get(DataSource);
  log = api.app.get(SettlementLogService);
}, 60_000);

afterAll(async () => {
  await api?.close();
});

const leaves = (n: number, tag: string): LeafInput[] =>
  Array.from({ length: n }, (_, i) => {
    const id = randomUUID();
    return {
      kind: 'debit_note',
      recordId: id,
      sellerOrgId: null,
      buyerOrgId: null,
      record: { type: 'debit_note', v: 1, id, tag, i },
    };
  });

/** Every sequenced leaf's text in index order, and the log's own view of its size. */
async function sequencedLeaves(): Promise<{ seq: string; leaf: string }[]> {
  return ds.query(
    `SELECT o.seq::text AS seq, l.leaf FROM settlement_log_tile_leaves t
     CROSS JOIN unnest(t.seqs) WITH ORDINALITY AS o(seq, ord)
     JOIN settlement_log_leaves l ON l.seq = o.seq ORDER BY t.idx, o.ord`,
  );
}

describe('sequencing', () => {
  it('orders leaves by transaction once every older writer has ended; rolled-back leaves never appear', async () => {
    const before = await log.size();
    // A: an older transaction that stays open while younger ones commit.
    const a = ds.createQueryRunner();
    await a.connect();
    await a.startTransaction();
    const aLeaves = leaves(300, 'a');
    await log.append(a.manager, aLeaves);
    // B1..B3 commit (1,200 leaves: their seqs cross 999 → 1000, sequenced in one batch); R rolls back.
    const bLeaves = [leaves(400, 'b1'), leaves(400, 'b2'), leaves(400, 'b3')];
    for (const part of bLeaves) await ds.transaction((m) => log.append(m, part));
    const r = ds.createQueryRunner();
    await r.connect();
    await r.startTransaction();
    await log.append(r.manager, leaves(50, 'rolled-back'));
    await r.rollbackTransaction();
    await r.release();

    // While A runs nothing younger may take an index: A's leaves would have to come first.
    await log.sequenceAll();
    expect(await log.size()).toBe(before);
    const b1 = bLeaves[0][0];
    expect((await log.leafOf('debit_note', b1.recordId))?.leafIndex).toBeNull();

    await a.commitTransaction();
    await a.release();
    // (catchUp, not sequenceAll: any other writer in the cluster also holds leaves back.)
    await log.catchUp();
    expect(await log.size()).toBe(before + 1500);

    // A first (older transaction), then B1, B2, B3; each leaf exactly once.
    const idx = async (l: LeafInput) =>
      (await log.leafOf('debit_note', l.recordId))?.leafIndex as number;
    expect(await idx(aLeaves[0])).toBe(before);
    expect(await idx(aLeaves[299])).toBe(before + 299);
    expect(await idx(bLeaves[0][0])).toBe(before + 300);
    expect(await idx(bLeaves[2][399])).toBe(before + 1499);
    const all = await sequencedLeaves();
    expect(all).toHaveLength(before + 1500);
    expect(new Set(all.map((x) => x.seq)).size).toBe(all.length);
    expect(all.some((x) => x.leaf.includes('rolled-back'))).toBe(false);

    // The signed root is the RFC 9162 root of the leaves in that order.
    const cp = await log.checkpoint(0);
    expect(cp.treeSize).toBe(all.length);
    expect(cp.rootHash).toBe(toHex(rootOf(all.map((x) => leafHash(x.leaf)))));
    // A record appended twice stays one leaf.
    await ds.transaction((m) => log.append(m, [aLeaves[0]]));
    await log.catchUp();
    expect(await log.size()).toBe(all.length);
  });

  it('lets concurrent sequencers share the work without gaps or repeats', async () => {
    const before = await log.size();
    for (let i = 0; i < 6; i++) await ds.transaction((m) => log.append(m, leaves(250, `c${i}`)));
    // A second "process": its own tile cache and known size, smaller batches, same database.
    const other = new SettlementLogService(
      ds,
      api.app.get(AppConfig),
      api.app.get(Clock),
      new SettlementLogConfig({ SETTLEMENT_LOG_BATCH: '100' }),
      api.app.get(SettlementConfig),
    );
    await Promise.all([other.catchUp(), log.catchUp()]);
    expect(await log.size()).toBe(before + 1500);
    const all = await sequencedLeaves();
    expect(new Set(all.map((l) => l.seq)).size).toBe(before + 1500);
    const cp = await other.checkpoint(0);
    expect(cp.rootHash).toBe(toHex(rootOf(all.map((l) => leafHash(l.leaf)))));
  });
});

describe('tiles over HTTP (C2SP tlog-tiles)', () => {
  it('serve the checkpoint note, tiles and entry bundles a client can prove from', async () => {
    await ds.transaction((m) => log.append(m, leaves(700, 'http')));
    const latest = (await apiClient(api.url).get<CheckpointView>('/v1/transparency/checkpoint'))
      .body;
    const jwks = (await apiClient(api.url).get<JSONWebKeySet>('/.well-known/jwks.json')).body;
    const prefix = `${api.url}/v1/transparency/log`;

    const cpRes = await fetch(`${prefix}/checkpoint`);
    expect(cpRes.status).toBe(200);
    expect(cpRes.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(cpRes.headers.get('cache-control')).toBe('no-cache');
    const note = await cpRes.text();
    expect(note).toBe(latest.note);
    const verified = verifyCheckpointNote(note, jwks, '86.N00/settlement');
    expect(verified).toMatchObject({ treeSize: latest.treeSize, rootHash: latest.rootHash });

    const fetchTile = async (path: string) => {
      const r = await fetch(`${prefix}/${path}`);
      if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
      expect(r.headers.get('content-type')).toBe('application/octet-stream');
      expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      return new Uint8Array(await r.arrayBuffer());
    };
    // A proof computed from the tiles is the API's proof, and verifies against the note.
    const n = latest.treeSize;
    for (const i of [0, 255, 256, n - 1]) {
      const fromTiles = await inclusionProofFromTiles(i, n, tileReaderOf(fetchTile));
      const api1 = await apiClient(api.url).get<{ hashes: string[] }>(
        `/v1/transparency/proofs/inclusion?leafIndex=${i}&treeSize=${n}`,
      );
      expect(fromTiles.map(toHex)).toEqual(api1.body.hashes);
    }
    // An entry bundle's entries hash to the leaves of the level-0 tile beside it.
    const tile = new TileHashes(await fetchTile('tile/0/000'));
    const bundle = decodeEntryBundle(await fetchTile('tile/entries/000'));
    expect(bundle).toHaveLength(256);
    bundle.forEach((e, i) => expect(toHex(leafHash(e))).toBe(toHex(tile.entries()[i])));
    const root = fromHex(verified.rootHash);
    verifyInclusion(
      5,
      n,
      leafHash(bundle[5]),
      await inclusionProofFromTiles(5, n, tileReaderOf(fetchTile)),
      root,
    );
    // A partial tile is a prefix of what the full one becomes.
    const part = await fetchTile('tile/0/000.p/7');
    expect(Buffer.from(part)).toEqual(Buffer.from(tile.data.subarray(0, 7 * 32)));

    // Malformed paths are 400 with the reason, tiles the tree does not have yet 404.
    for (const bad of ['tile/0/1', 'tile/0/000.p/256', 'tile/01/000', 'tile/x/000']) {
      const r = await fetch(`${prefix}/${bad}`);
      expect({ bad, status: r.status }).toEqual({ bad, status: 400 });
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe(
        'validation_failed',
      );
    }
    for (const missing of ['tile/0/x001/000', 'tile/entries/x001/000', 'tile/3/000']) {
      const r = await fetch(`${prefix}/${missing}`);
      expect({ missing, status: r.status }).toEqual({ missing, status: 404 });
      expect(r.headers.get('cache-control')).not.toContain('immutable');
    }
  });
});
