import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as edSign,
  verify as edVerify,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import type { JSONWebKeySet, JWK } from '@suanli/crypto';
import { TransparencyError } from './errors.js';
import { toHex } from './merkle.js';

/**
 * C2SP signed notes with Ed25519 signatures, and the tlog-checkpoint note text (docs/decisions.md,
 * "Settlement log as tiles"): `<origin>\n<tree size>\n<base64 root>\n`, a blank line, then
 * `— <key name> base64(key ID ‖ signature)` lines. Key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public
 * key)[:4]; a verifier key is written `<name>+<key ID hex>+base64(0x01 ‖ public key)`.
 */
const ED25519 = 0x01;
const EM_DASH = '\u2014';
const MAX_SIGNATURES = 100;

const fail = (why: string): never => {
  throw new TransparencyError('bad_checkpoint', why);
};

function checkKeyName(name: string): void {
  if (name.length === 0 || /[\s+]/u.test(name)) {
    throw new TransparencyError('invalid_argument', `bad key name ${JSON.stringify(name)}`);
  }
}

/** The 32-bit key ID of an Ed25519 key under a name. */
export function noteKeyId(name: string, publicKey: Uint8Array): number {
  checkKeyName(name);
  const h = createHash('sha256')
    .update(name, 'utf8')
    .update(new Uint8Array([0x0a, ED25519]))
    .update(publicKey)
    .digest();
  return h.readUInt32BE(0);
}

/** A note verifier: a key name, its ID and the Ed25519 public key (32 bytes). */
export type NoteVerifier = { name: string; id: number; publicKey: Uint8Array; kid?: string };

/** The verifier key string of a note verifier. */
export function formatVerifierKey(v: Pick<NoteVerifier, 'name' | 'publicKey'>): string {
  const id = noteKeyId(v.name, v.publicKey);
  const body = Buffer.concat([Buffer.from([ED25519]), Buffer.from(v.publicKey)]);
  return `${v.name}+${id.toString(16).padStart(8, '0')}+${body.toString('base64')}`;
}

/** Parses `<name>+<hex id>+<base64 key>`; throws unless well formed and the ID matches. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey);
  if (!m) throw new TransparencyError('invalid_argument', 'malformed verifier key');
  const raw = Buffer.from(m[3], 'base64');
  if (raw.toString('base64') !== m[3] || raw.length !== 33 || raw[0] !== ED25519) {
    throw new TransparencyError('invalid_argument', 'verifier key is not an Ed25519 key');
  }
  const publicKey = new Uint8Array(raw.subarray(1));
  const id = noteKeyId(m[1], publicKey);
  if (id !== parseInt(m[2], 16)) {
    throw new TransparencyError('invalid_argument', 'verifier key ID does not match the key');
  }
  return { name: m[1], id, publicKey };
}

const b64url = (s: string): Buffer => Buffer.from(s, 'base64url');

/** The Ed25519 public key (32 bytes) of an OKP JWK, or null for any other key. */
export function ed25519PublicKey(jwk: JWK): Uint8Array | null {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') return null;
  const x = b64url(jwk.x);
  return x.length === 32 ? new Uint8Array(x) : null;
}

/** Note verifiers for every Ed25519 key of a JWKS (retired keys too), named `name`. */
export function verifiersFromJwks(name: string, jwks: JWK[] | JSONWebKeySet): NoteVerifier[] {
  const keys = Array.isArray(jwks) ? jwks : jwks.keys;
  const out: NoteVerifier[] = [];
  for (const k of keys) {
    const pub = ed25519PublicKey(k);
    if (pub) out.push({ name, id: noteKeyId(name, pub), publicKey: pub, kid: k.kid });
  }
  return out;
}

/** A signer: the key name and the Ed25519 private key. */
export type NoteSigner = { name: string; id: number; key: KeyObject };

/** A note signer from an Ed25519 private JWK (the platform signing key). */
export function noteSignerFromJwk(name: string, jwk: JWK): NoteSigner {
  const pub = ed25519PublicKey(jwk);
  if (!pub || typeof jwk.d !== 'string') {
    throw new TransparencyError('invalid_argument', 'notes are signed with an Ed25519 private JWK');
  }
  const key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  return { name, id: noteKeyId(name, pub), key };
}

/** A note signer from a 32-byte Ed25519 seed. */
export function noteSignerFromSeed(name: string, seed: Uint8Array): NoteSigner {
  if (seed.length !== 32) throw new TransparencyError('invalid_argument', 'seed must be 32 bytes');
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const pub = new Uint8Array(spki.subarray(spki.length - 32));
  return { name, id: noteKeyId(name, pub), key };
}

function checkText(text: string): void {
  if (!text.endsWith('\n')) fail('note text must end in a newline');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) fail('note text has a control character');
}

/** Signs a note text (ending in a newline) with each signer; returns the signed note. */
export function signNote(text: string, ...signers: NoteSigner[]): string {
  checkText(text);
  const lines = signers.map((s) => {
    checkKeyName(s.name);
    const sig = edSign(null, Buffer.from(text, 'utf8'), s.key);
    const id = Buffer.alloc(4);
    id.writeUInt32BE(s.id >>> 0);
    return `${EM_DASH} ${s.name} ${Buffer.concat([id, sig]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

export type NoteSignature = { name: string; id: number; signature: Uint8Array };

/** Splits a signed note into its text and signature lines; throws for a malformed note. */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } {
  if (!note.endsWith('\n')) fail('malformed note: no final newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) fail('malformed note: no signatures');
  const text = note.slice(0, split + 1);
  checkText(text);
  const sigLines = note.slice(split + 2, -1).split('\n');
  if (sigLines.length > MAX_SIGNATURES) fail('malformed note: too many signatures');
  const signatures = sigLines.map((line) => {
    const m = /^\u2014 ([^\s+]+) ([A-Za-z0-9+/]+=*)$/.exec(line);
    if (!m) fail('malformed note: bad signature line');
    const [, name, b64] = m as RegExpExecArray;
    const raw = Buffer.from(b64, 'base64');
    if (raw.toString('base64') !== b64 || raw.length < 5) fail('malformed note: bad signature');
    return { name, id: raw.readUInt32BE(0), signature: new Uint8Array(raw.subarray(4)) };
  });
  return { text, signatures };
}

/**
 * Opens a signed note: every signature by a known verifier (same name and ID) must verify,
 * unknown ones are ignored, and at least one must be known. Returns the text and the
 * verifiers that signed it.
 */
export function openNote(
  note: string,
  verifiers: readonly NoteVerifier[],
): { text: string; signedBy: NoteVerifier[] } {
  const { text, signatures } = parseNote(note);
  const signedBy: NoteVerifier[] = [];
  for (const s of signatures) {
    const matches = verifiers.filter((v) => v.name === s.name && v.id === s.id);
    if (matches.length === 0) continue;
    const ok = matches.some((v) =>
      edVerify(
        null,
        Buffer.from(text, 'utf8'),
        createPublicKey({
          key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(v.publicKey).toString('base64url') },
          format: 'jwk',
        }),
        s.signature,
      ),
    );
    if (!ok) fail(`invalid signature for key ${s.name}+${s.id.toString(16).padStart(8, '0')}`);
    const v = matches[0];
    if (!signedBy.includes(v)) signedBy.push(v);
  }
  if (signedBy.length === 0) fail('note has no signature by a known key');
  return { text, signedBy };
}

/** A tlog checkpoint: origin, tree size and root hash (hex here, base64 in the note). */
export type CheckpointNote = { origin: string; treeSize: number; rootHash: string };

/** The checkpoint note text: origin, size, base64 root, each on its line. */
export function formatCheckpointText(c: CheckpointNote): string {
  if (c.origin.length === 0 || c.origin.includes('\n')) {
    throw new TransparencyError('invalid_argument', 'bad origin');
  }
  if (!Number.isSafeInteger(c.treeSize) || c.treeSize < 0) {
    throw new TransparencyError('invalid_argument', 'bad tree size');
  }
  const root = Buffer.from(c.rootHash, 'hex');
  if (root.length !== 32 || toHex(root) !== c.rootHash) {
    throw new TransparencyError('invalid_argument', 'root hash must be 64 lower-case hex digits');
  }
  return `${c.origin}\n${c.treeSize}\n${root.toString('base64')}\n`;
}

/** Parses checkpoint note text (extension lines are returned, not interpreted). */
export function parseCheckpointText(text: string): CheckpointNote & { extensions: string[] } {
  const lines = text.split('\n');
  if (lines.pop() !== '' || lines.length < 3 || lines.some((l) => l === '')) {
    fail('malformed checkpoint');
  }
  const [origin, size, root, ...extensions] = lines;
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) {
    fail('malformed checkpoint: tree size');
  }
  const raw = Buffer.from(root, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== root) fail('malformed checkpoint: root hash');
  return { origin, treeSize: Number(size), rootHash: toHex(raw), extensions };
}

/** Signs a checkpoint note with the log's key, named after the origin. */
export function signCheckpointNote(c: CheckpointNote, privateJwk: JWK): string {
  return signNote(formatCheckpointText(c), noteSignerFromJwk(c.origin, privateJwk));
}

/**
 * Verifies a checkpoint note against a JWKS: a signature by one of its Ed25519 keys under the
 * key name `origin` (the log's own name; also checked against the note's first line).
 */
export function verifyCheckpointNote(
  note: string,
  jwks: JWK[] | JSONWebKeySet,
  origin?: string,
): CheckpointNote & { kid: string } {
  const { text } = parseNote(note);
  const parsed = parseCheckpointText(text);
  if (origin !== undefined && parsed.origin !== origin) {
    fail(`checkpoint of ${parsed.origin}, not ${origin}`);
  }
  const { signedBy } = openNote(note, verifiersFromJwks(parsed.origin, jwks));
  return {
    origin: parsed.origin,
    treeSize: parsed.treeSize,
    rootHash: parsed.rootHash,
    kid: signedBy[0].kid ?? '',
  };
}
