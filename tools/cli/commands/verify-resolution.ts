// `suanli verify resolution FILE`: checks a resolution record offline (docs/federation.md,
// section 1): the directory against the pinned national thumbprint, the record against the keys
// the directory lists for its authority.
import { readFileSync } from 'node:fs';
import {
  FederationError,
  verifyDirectory,
  verifyResolutionRecord,
  type ResolutionRecord,
} from '@suanli/federation';

export const VERIFY_RESOLUTION_HELP = `  suanli verify resolution FILE --directory FILE|URL --pin THUMBPRINT[,THUMBPRINT]
      FILE is an answer of GET /v1/cri/{code} (its "record" member is used) or the record JWS.
      The directory is GET /v1/federation/directory of any platform (a file or its URL); it
      must be signed by a national key with a pinned RFC 7638 thumbprint and valid when the
      record was signed. Checks that the record is signed by a key the directory lists for its
      authority, and that the authority owns the code.
`;

async function loadDirectory(src: string): Promise<string> {
  const text = /^https?:\/\//.test(src)
    ? await (await fetch(src, { signal: AbortSignal.timeout(10_000) })).text()
    : readFileSync(src, 'utf8');
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  const doc = JSON.parse(trimmed) as { directory?: unknown };
  if (typeof doc.directory !== 'string') throw new Error('no "directory" member');
  return doc.directory;
}

function recordOf(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  const doc = JSON.parse(trimmed) as { record?: unknown };
  if (typeof doc.record !== 'string') throw new Error('no "record" member');
  return doc.record;
}

const opt = (args: string[], name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

export async function runVerifyResolution(args: string[]): Promise<number> {
  const file = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const dirSrc = opt(args, '--directory');
  const pins = opt(args, '--pin')
    ?.split(',')
    .filter((p) => p !== '');
  if (!file || !dirSrc || !pins?.length) {
    process.stderr.write(`verify resolution: missing arguments\n\n${VERIFY_RESOLUTION_HELP}`);
    return 2;
  }
  let record: string;
  let directoryJws: string;
  try {
    record = recordOf(readFileSync(file, 'utf8'));
    directoryJws = await loadDirectory(dirSrc);
  } catch (e) {
    console.error(`cannot read input: ${(e as Error).message}`);
    return 2;
  }
  try {
    // The directory must have been in force when the record was signed (its iat, checked below).
    const claimedIat = (
      JSON.parse(Buffer.from(record.split('.')[1] ?? '', 'base64url').toString()) as {
        iat?: number;
      }
    ).iat;
    const directory = await verifyDirectory(directoryJws, {
      pins,
      nowSeconds: typeof claimedIat === 'number' ? claimedIat : Math.floor(Date.now() / 1000),
    });
    const { record: r, state }: { record: ResolutionRecord; state: string } =
      await verifyResolutionRecord(record, directory);
    console.log(
      `verified: ${r.code} resolved by ${r.authority} at ${new Date(r.iat * 1000).toISOString()} ` +
        `(directory serial ${directory.serial}; ${r.authority} ${state})`,
    );
    return 0;
  } catch (e) {
    if (e instanceof FederationError || e instanceof SyntaxError) {
      console.error(
        `NOT verified: ${e instanceof FederationError ? `${e.code}: ` : ''}${e.message}`,
      );
      return 1;
    }
    throw e;
  }
}
