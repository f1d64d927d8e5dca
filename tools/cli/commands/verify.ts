// `suanli verify …`: checks settlement records and checkpoints offline (see @suanli/transparency).
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from '@suanli/crypto';
import {
  TransparencyError,
  verifyCheckpointConsistency,
  verifyRecord,
  type CheckpointCheck,
  type ConsistencyBundle,
  type RecordBundle,
} from '@suanli/transparency';

export const VERIFY_HELP = `suanli verify — check settlement records against the exchange's signed log

Usage:
  suanli verify record FILE --jwks FILE|URL [--max-age SECONDS] [--now ISO-8601]
      FILE is an invoice as the API returns it (its "transparency" member is used) or a
      bundle { record, leafIndex, leafHash, inclusionProof, checkpoint }. Checks that the
      record hashes to the leaf, that the proof leads from the leaf to the checkpoint's root,
      and that the checkpoint is signed by a key of the JWKS (and not older than --max-age).
  suanli verify consistency FILE --jwks FILE|URL
      FILE is { first, second, hashes }: two checkpoints (JWS, older first) and the consistency
      proof between their sizes (GET /v1/transparency/proofs/consistency). Checks both
      signatures and that the newer tree extends the older one.

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

function positional(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith('--')) {
      i++;
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

export async function runVerify(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === 'help' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(VERIFY_HELP);
    return sub ? 0 : 2;
  }
  const file = positional(rest);
  const jwksSrc = option(rest, '--jwks');
  const opts = check(rest);
  if (
    (sub !== 'record' && sub !== 'consistency') ||
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
    input = readJson(file);
  } catch (e) {
    console.error(`cannot read input: ${(e as Error).message}`);
    return 2;
  }
  try {
    if (sub === 'record') {
      const doc = input as { transparency?: RecordBundle } & RecordBundle;
      const bundle = doc.transparency ?? doc;
      const cp = await verifyRecord(bundle, jwks, opts);
      const rec = bundle.record as { type?: string; id?: string };
      console.log(
        `verified: ${rec.type ?? 'record'} ${rec.id ?? ''} is leaf ${bundle.leafIndex} of ${cp.origin} ` +
          `(tree size ${cp.treeSize}, checkpoint ${cp.timestamp}, key ${cp.kid})`,
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
