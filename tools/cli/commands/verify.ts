// `suanli verify …`: checks settlement records and checkpoints offline (see @suanli/transparency).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JSONWebKeySet } from '@suanli/crypto';
import {
  auditTiles,
  consistencyProofFromTiles,
  fromHex,
  inclusionProofFromTiles,
  recordLeafHash,
  tileReaderOf,
  TransparencyError,
  verifyCheckpoint,
  verifyCheckpointConsistency,
  verifyCheckpointNote,
  verifyConsistency,
  verifyInclusion,
  verifyRecord,
  type CheckpointCheck,
  type CheckpointNote,
  type ConsistencyBundle,
  type RecordBundle,
  type TileFetcher,
} from '@suanli/transparency';
import { runVerifyResolution, VERIFY_RESOLUTION_HELP } from './verify-resolution.js';

export const VERIFY_HELP = `suanli verify — check settlement records against the exchange's signed log,
and resolution records against the federation's directory

Usage:
  suanli verify record FILE --jwks FILE|URL [--max-age SECONDS] [--now ISO-8601] [--log URL]
      FILE is an invoice as the API returns it (its "transparency" member is used) or a
      bundle { record, leafIndex, leafHash, inclusionProof, checkpoint }. Checks that the
      record hashes to the leaf, that the proof leads from the leaf to the checkpoint's root,
      and that the checkpoint is signed by a key of the JWKS (and not older than --max-age).
      With --log (the log's tile prefix, e.g. <API>/v1/transparency/log) it also fetches the
      log's latest signed checkpoint and the tiles it needs, and checks from them that the
      record is in the log now and that the log still extends the record's checkpoint.
  suanli verify consistency FILE --jwks FILE|URL
      FILE is { first, second, hashes }: two checkpoints (JWS, older first) and the consistency
      proof between their sizes (GET /v1/transparency/proofs/consistency). Checks both
      signatures and that the newer tree extends the older one.

  suanli verify log URL --jwks FILE|URL [--since NOTE] [--entries] [--mirror DIR]
      URL is the log's tile prefix (C2SP tlog-tiles). Fetches its checkpoint (a signed note),
      checks the signature, fetches every tile and checks that each fits the tiles above it
      and that they lead to the checkpoint's root; --entries also checks every entry bundle
      against its leaf hashes; --since NOTE (a checkpoint saved earlier) checks that the log
      extends it; --mirror DIR writes the checkpoint, tiles and bundles under DIR.
${VERIFY_RESOLUTION_HELP}
The JWKS is the exchange's /.well-known/jwks.json (a saved copy makes the check offline).
Exit codes: 0 verified, 1 rejected (the reason is printed), 2 usage error.
`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function readJson(path: string): unknown {
  return JSON.parse(path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8'));
}

async function loadJwks(src: string): Promise<JSONWebKeySet> {
  if (/^https?:\/\//.test(src)) {
    const r = await fetch(src);
    if (!r.ok) throw new Error(`GET ${src}: ${r.status}`);
    return (await r.json()) as JSONWebKeySet;
  }
  return readJson(src) as JSONWebKeySet;
}

function check(args: string[]): CheckpointCheck | string {
  const out: CheckpointCheck = {};
  const maxAge = option(args, '--max-age');
  if (maxAge !== undefined) {
    if (!/^\d+$/.test(maxAge)) return '--max-age must be a whole number of seconds';
    out.maxAgeSeconds = Number(maxAge);
  }
  const now = option(args, '--now');
  if (now !== undefined) {
    if (Number.isNaN(Date.parse(now))) return '--now must be an ISO 8601 time';
    out.now = new Date(now);
  }
  return out;
}

/** Options that take no value. */
const FLAGS = new Set(['--entries']);

function positional(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith('--')) {
      if (!FLAGS.has(args[i])) i++;
      continue;
    }
    return args[i];
  }
  return undefined;
}

function reject(e: unknown): number {
  if (e instanceof TransparencyError) {
    console.error(`rejected: ${e.code}: ${e.message}`);
    return 1;
  }
  console.error(`rejected: ${(e as Error).message}`);
  return 1;
}

/** A fetcher of the log's resources under `prefix` (and a copy under `mirror`, if given). */
function httpFetcher(prefix: string, mirror?: string): TileFetcher {
  const base = prefix.replace(/\/+$/, '');
  return async (path) => {
    const r = await fetch(`${base}/${path}`);
    if (!r.ok) throw new Error(`GET ${base}/${path}: ${r.status}`);
    const data = new Uint8Array(await r.arrayBuffer());
    if (mirror) {
      const file = join(mirror, ...path.split('/'));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, data);
    }
    return data;
  };
}

/** The log's latest checkpoint note, verified against the JWKS. */
async function latestNote(
  fetchTile: TileFetcher,
  jwks: JSONWebKeySet,
  origin?: string,
): Promise<CheckpointNote & { kid: string; note: string }> {
  const note = Buffer.from(await fetchTile('checkpoint')).toString('utf8');
  return { ...verifyCheckpointNote(note, jwks, origin), note };
}

/** `verify record … --log URL`: the record's leaf and checkpoint against the tiles of now. */
async function recordAgainstLog(
  bundle: RecordBundle,
  jwks: JSONWebKeySet,
  prefix: string,
): Promise<string> {
  const cp = await verifyCheckpoint(bundle.checkpoint, jwks);
  const fetchTile = httpFetcher(prefix);
  const now = await latestNote(fetchTile, jwks, cp.origin);
  if (now.treeSize < cp.treeSize) {
    throw new TransparencyError(
      'inconsistent',
      `the log's checkpoint (size ${now.treeSize}) is older than the record's (${cp.treeSize})`,
    );
  }
  const read = tileReaderOf(fetchTile);
  const root = fromHex(now.rootHash);
  const leaf = recordLeafHash(bundle.record);
  verifyInclusion(
    bundle.leafIndex,
    now.treeSize,
    leaf,
    await inclusionProofFromTiles(bundle.leafIndex, now.treeSize, read),
    root,
  );
  verifyConsistency(
    cp.treeSize,
    now.treeSize,
    fromHex(cp.rootHash),
    root,
    await consistencyProofFromTiles(cp.treeSize, now.treeSize, read),
  );
  return `in the log's tiles at size ${now.treeSize} (key ${now.kid}), which extend the record's checkpoint`;
}

/** `verify log URL`: the whole log from its tiles, as a mirror would check it. */
async function verifyLog(
  prefix: string,
  jwks: JSONWebKeySet,
  opts: { since?: string; entries: boolean; mirror?: string },
): Promise<string> {
  const fetchTile = httpFetcher(prefix, opts.mirror);
  const now = await latestNote(fetchTile, jwks);
  const { tiles, entries } = await auditTiles(now.treeSize, fromHex(now.rootHash), fetchTile, {
    entries: opts.entries,
  });
  let extra = '';
  if (opts.since) {
    const old = verifyCheckpointNote(readFileSync(opts.since, 'utf8'), jwks, now.origin);
    if (old.treeSize > now.treeSize) {
      throw new TransparencyError(
        'inconsistent',
        `the saved checkpoint (size ${old.treeSize}) is larger than the log's (${now.treeSize})`,
      );
    }
    verifyConsistency(
      old.treeSize,
      now.treeSize,
      fromHex(old.rootHash),
      fromHex(now.rootHash),
      await consistencyProofFromTiles(old.treeSize, now.treeSize, tileReaderOf(fetchTile)),
    );
    extra = `, extends size ${old.treeSize}`;
  }
  return (
    `verified: ${now.origin} at size ${now.treeSize} (key ${now.kid}): ${tiles} tiles` +
    `${opts.entries ? `, ${entries} entries` : ''} lead to its root${extra}`
  );
}

export async function runVerify(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'resolution' && !rest.includes('--help')) return runVerifyResolution(rest);
  if (!sub || sub === 'help' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(VERIFY_HELP);
    return sub ? 0 : 2;
  }
  const file = positional(rest);
  const jwksSrc = option(rest, '--jwks');
  const opts = check(rest);
  if (
    (sub !== 'record' && sub !== 'consistency' && sub !== 'log') ||
    !file ||
    !jwksSrc ||
    typeof opts === 'string'
  ) {
    process.stderr.write(
      `${typeof opts === 'string' ? opts : 'verify: missing or unknown arguments'}\n\n${VERIFY_HELP}`,
    );
    return 2;
  }
  let jwks: JSONWebKeySet;
  let input: unknown;
  try {
    jwks = await loadJwks(jwksSrc);
    input = sub === 'log' ? null : readJson(file);
  } catch (e) {
    console.error(`cannot read input: ${(e as Error).message}`);
    return 2;
  }
  try {
    if (sub === 'log') {
      console.log(
        await verifyLog(file, jwks, {
          since: option(rest, '--since'),
          entries: rest.includes('--entries'),
          mirror: option(rest, '--mirror'),
        }),
      );
    } else if (sub === 'record') {
      const doc = input as { transparency?: RecordBundle } & RecordBundle;
      const bundle = doc.transparency ?? doc;
      const cp = await verifyRecord(bundle, jwks, opts);
      const rec = bundle.record as { type?: string; id?: string };
      const logSrc = option(rest, '--log');
      const inLog = logSrc ? `; ${await recordAgainstLog(bundle, jwks, logSrc)}` : '';
      console.log(
        `verified: ${rec.type ?? 'record'} ${rec.id ?? ''} is leaf ${bundle.leafIndex} of ${cp.origin} ` +
          `(tree size ${cp.treeSize}, checkpoint ${cp.timestamp}, key ${cp.kid})${inLog}`,
      );
    } else {
      const { first, second } = await verifyCheckpointConsistency(
        input as ConsistencyBundle,
        jwks,
        opts,
      );
      console.log(
        `verified: ${second.origin} at size ${second.treeSize} (${second.timestamp}) extends ` +
          `size ${first.treeSize} (${first.timestamp})`,
      );
    }
    return 0;
  } catch (e) {
    return reject(e);
  }
}
