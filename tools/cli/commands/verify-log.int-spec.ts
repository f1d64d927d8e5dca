import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { generateSigningKey } from '@suanli/crypto';
import { SettlementLogService } from '../../../apps/market-api/src/settlement-log/settlement-log.service.js';
import { startMarketApi, type TestMarketApi } from '../../../test/support/market-api.js';
import { runVerifyCaptured } from './verify.testing.js';

jest.setTimeout(180_000);

/** `suanli verify …` in-process: the API under test lives in this event loop. */
const run = runVerifyCaptured;

describe('suanli verify from the log’s tiles (real API)', () => {
  let api: TestMarketApi;
  let log: SettlementLogService;
  let dir: string;
  beforeAll(async () => {
    api = await startMarketApi();
    log = api.app.get(SettlementLogService);
    dir = mkdtempSync(join(tmpdir(), 'suanli-verify-log-'));
  });
  afterAll(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const append = async (n: number) => {
    const ids = Array.from({ length: n }, () => randomUUID());
    await api.app.get(DataSource).transaction((m) =>
      log.append(
        m,
        ids.map((id, i) => ({
          kind: 'payout' as const,
          recordId: id,
          sellerOrgId: null,
          buyerOrgId: null,
          record: { type: 'payout', v: 1, id, amount: `${i}.00`, currency: 'CNY' },
        })),
      ),
    );
    return ids;
  };

  it('audits and mirrors the whole log, checks it extends a saved checkpoint, and finds a record in it', async () => {
    const ids = await append(600);
    const first = await log.checkpoint();
    const prefix = `${api.url}/v1/transparency/log`;
    const jwks = `${api.url}/.well-known/jwks.json`;
    const mirror = join(dir, 'mirror');

    const audit = await run('log', prefix, '--jwks', jwks, '--entries', '--mirror', mirror);
    expect(audit).toMatchObject({ status: 0, stderr: '' });
    expect(audit.stdout).toContain(`verified: 86.N00/settlement at size ${first.treeSize}`);
    expect(audit.stdout).toContain(`${first.treeSize} entries lead to its root`);
    // The mirror holds the log as served: checkpoint, tiles, bundles, at their tlog-tiles paths.
    expect(readFileSync(join(mirror, 'checkpoint'), 'utf8')).toBe(first.note);
    for (const p of [
      'tile/0/000',
      'tile/0/001',
      'tile/0/002.p/88',
      'tile/1/000.p/2',
      'tile/entries/001',
    ]) {
      expect({ p, there: existsSync(join(mirror, ...p.split('/'))) }).toEqual({ p, there: true });
    }

    // The log grows; the saved checkpoint is extended by the new one (proof from tiles).
    const saved = join(dir, 'old-checkpoint');
    writeFileSync(saved, first.note as string);
    await append(300);
    const grown = await run('log', prefix, '--jwks', jwks, '--since', saved);
    expect(grown.status).toBe(0);
    expect(grown.stdout).toContain(`extends size ${first.treeSize}`);

    // A record bundle (as an invoice carries it) checked against the log's tiles of now.
    const bundle = await log.bundleFor('payout', ids[42]);
    const file = join(dir, 'record.json');
    writeFileSync(file, JSON.stringify(bundle));
    const rec = await run('record', file, '--jwks', jwks, '--log', prefix);
    expect(rec.status).toBe(0);
    expect(rec.stdout).toContain("in the log's tiles at size 900");
    // A record the log does not hold at that index is rejected.
    writeFileSync(file, JSON.stringify({ ...bundle, record: { forged: true } }));
    expect((await run('record', file, '--jwks', jwks, '--log', prefix)).status).toBe(1);

    // Another key, or another log's checkpoint, is refused.
    const stranger = await generateSigningKey('stranger');
    const otherJwks = join(dir, 'other-jwks.json');
    writeFileSync(otherJwks, JSON.stringify({ keys: [stranger.publicJwk] }));
    const refused = await run('log', prefix, '--jwks', otherJwks);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('rejected: bad_checkpoint');
  });
});
