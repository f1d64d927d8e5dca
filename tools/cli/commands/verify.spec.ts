import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSigningKey, type SigningKey } from '@suanli/crypto';
import {
  consistencyProofRanges,
  inclusionProofRanges,
  rangeHash,
  recordLeafHash,
  rootOf,
  signCheckpoint,
  toHex,
  type Hash,
  type RecordBundle,
} from '@suanli/transparency';
import { runVerifyCaptured } from './verify.testing.js';

jest.setTimeout(60_000);

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'suanli.mjs');
/** The real `suanli` binary (slow to start: used once, for the wiring). */
const spawnCli = (...args: string[]) =>
  new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [cli, ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
/** `suanli verify …` in-process, with its output captured. */
const run = (_verify: string, ...args: string[]) => runVerifyCaptured(...args);

const ORIGIN = '86.N00/settlement';
const records = Array.from({ length: 13 }, (_, i) => ({
  type: 'invoice',
  v: 1,
  id: `inv-${i}`,
  buyer: `buyer-${String(i).padStart(16, '0')}`,
  total: `${i + 1}0.00`,
  currency: 'CNY',
}));
const leaves: Hash[] = records.map((r) => recordLeafHash(r));
const read = (ls: Hash[]) => (n: { level: number; index: number }) =>
  rootOf(ls.slice(n.index * 2 ** n.level, (n.index + 1) * 2 ** n.level));

let dir: string;
let platform: SigningKey;
let attacker: SigningKey;
let server: Server;
let jwksUrl: string;
const file = (name: string, v: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof v === 'string' ? v : JSON.stringify(v));
  return p;
};
const sign = (key: SigningKey, size: number, ts: string, ls = leaves) =>
  signCheckpoint(
    { origin: ORIGIN, treeSize: size, rootHash: toHex(rootOf(ls.slice(0, size))), timestamp: ts },
    key.privateJwk,
  );
async function bundle(i: number, size: number, key = platform): Promise<RecordBundle> {
  return {
    record: records[i],
    leafIndex: i,
    leafHash: toHex(leaves[i]),
    inclusionProof: {
      treeSize: size,
      hashes: inclusionProofRanges(i, size).map((r) => toHex(rangeHash(r, read(leaves)))),
    },
    checkpoint: await sign(key, size, '2026-11-28T10:00:00.000Z'),
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'suanli-verify-'));
  platform = await generateSigningKey('platform-1');
  attacker = await generateSigningKey('platform-1');
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [platform.publicJwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  jwksUrl = `http://127.0.0.1:${addr.port}/.well-known/jwks.json`;
});

afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('suanli verify', () => {
  it('verifies an invoice (as the API returns it) offline against a saved JWKS, or a JWKS URL', async () => {
    const jwks = file('jwks.json', { keys: [platform.publicJwk] });
    const invoice = file('invoice.json', { id: 'inv-4', transparency: await bundle(4, 11) });
    const ok = await run('verify', 'record', invoice, '--jwks', jwks);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(
      /^verified: invoice inv-4 is leaf 4 of 86\.N00\/settlement \(tree size 11/,
    );
    const viaUrl = await run('verify', 'record', invoice, '--jwks', jwksUrl);
    expect(viaUrl.status).toBe(0);
    // The same through the installed command.
    const bin = await spawnCli('verify', 'record', invoice, '--jwks', jwks);
    expect(bin.status).toBe(0);
    expect(bin.stdout).toMatch(/^verified: invoice inv-4/);
    const tampered = file('tampered-bin.json', {
      transparency: { ...(await bundle(4, 11)), record: { ...records[4], total: '1.00' } },
    });
    const rejected = await spawnCli('verify', 'record', tampered, '--jwks', jwks);
    expect(rejected.status).toBe(1);
    expect(rejected.stderr).toMatch(/^rejected: bad_record/);
  });

  it('rejects a tampered record, a wrong proof, a forged and a stale checkpoint', async () => {
    const jwks = file('jwks.json', { keys: [platform.publicJwk] });
    const good = await bundle(4, 11);
    const cases: [string, RecordBundle, string[], RegExp][] = [
      ['tampered', { ...good, record: { ...records[4], total: '9.00' } }, [], /bad_record/],
      [
        'wrong-proof',
        { ...good, inclusionProof: (await bundle(5, 11)).inclusionProof },
        [],
        /bad_proof/,
      ],
      ['wrong-index', { ...good, leafIndex: 6 }, [], /bad_proof/],
      ['forged', await bundle(4, 11, attacker), [], /bad_checkpoint/],
      ['stale', good, ['--max-age', '3600', '--now', '2026-11-28T12:00:00Z'], /stale_checkpoint/],
    ];
    for (const [name, b, extra, reason] of cases) {
      const r = await run('verify', 'record', file(`${name}.json`, b), '--jwks', jwks, ...extra);
      expect({ name, status: r.status }).toEqual({ name, status: 1 });
      expect(r.stderr).toMatch(reason);
    }
    // Fresh enough: the same bundle passes with a generous max age.
    const fresh = await run(
      'verify',
      'record',
      file('fresh.json', good),
      '--jwks',
      jwks,
      '--max-age',
      '86400',
      '--now',
      '2026-11-28T12:00:00Z',
    );
    expect(fresh.status).toBe(0);
  });

  it('checks that a newer checkpoint extends an older one; rejects a fork', async () => {
    const jwks = file('jwks.json', { keys: [platform.publicJwk] });
    const proof = (m: number, n: number, ls = leaves) =>
      consistencyProofRanges(m, n).map((r) => toHex(rangeHash(r, read(ls))));
    const first = await sign(platform, 7, '2026-11-28T10:00:00Z');
    const second = await sign(platform, 13, '2026-11-28T11:00:00Z');
    const ok = await run(
      'verify',
      'consistency',
      file('c-ok.json', { first, second, hashes: proof(7, 13) }),
      '--jwks',
      jwks,
    );
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/size 13 .* extends size 7/);
    const forked = [...leaves];
    forked[3] = recordLeafHash({ ...records[3], total: '0.01' });
    const forkedSecond = await sign(platform, 13, '2026-11-28T11:00:00Z', forked);
    const bad = await run(
      'verify',
      'consistency',
      file('c-fork.json', { first, second: forkedSecond, hashes: proof(7, 13, forked) }),
      '--jwks',
      jwks,
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/inconsistent/);
    const swapped = await run(
      'verify',
      'consistency',
      file('c-swap.json', { first: second, second: first, hashes: proof(7, 13) }),
      '--jwks',
      jwks,
    );
    expect(swapped.status).toBe(1);
    expect((await run('verify', 'record')).status).toBe(2);
  });
});
