import { CryptoError } from './errors.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function fail(path: string, message: string): never {
  throw new CryptoError('invalid_json', `canonicalJson: ${path || '(root)'} ${message}`);
}

function isSkipped(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

function serialize(value: unknown, key: string, path: string, seen: Set<object>): string {
  let v = value;
  if (typeof v === 'object' && v !== null) {
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') v = (toJSON as (k: string) => unknown).call(v, key);
  }
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) fail(path, `is ${String(v)}, which JSON cannot represent`);
      // ECMAScript Number::toString is exactly RFC 8785's number serialization (-0 → "0").
      return String(v);
    case 'string':
      if (LONE_SURROGATE.test(v)) fail(path, 'contains a lone surrogate (not I-JSON)');
      // JSON.stringify escapes exactly as RFC 8785 requires: \b \t \n \f \r \" \\, other
      // control characters as \u00xx (lower-case hex), everything else verbatim.
      return JSON.stringify(v);
    case 'bigint':
      fail(path, 'is a bigint; serialize it as a string');
    // eslint-disable-next-line no-fallthrough
    case 'object':
      break;
    default:
      fail(path, `is a ${typeof v}`);
  }
  const obj = v as object;
  if (seen.has(obj)) fail(path, 'is a circular reference');
  seen.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = `[${obj
      .map((item: unknown, i) =>
        isSkipped(item) ? 'null' : serialize(item, String(i), `${path}[${i}]`, seen),
      )
      .join(',')}]`;
  } else {
    const record = obj as Record<string, unknown>;
    // Default sort compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
    const keys = Object.keys(record).sort();
    const members: string[] = [];
    for (const k of keys) {
      const item = record[k];
      if (isSkipped(item)) continue;
      if (LONE_SURROGATE.test(k)) fail(path, `has a key with a lone surrogate`);
      members.push(`${JSON.stringify(k)}:${serialize(item, k, `${path}.${k}`, seen)}`);
    }
    out = `{${members.join(',')}}`;
  }
  seen.delete(obj);
  return out;
}

/**
 * RFC 8785 JSON Canonicalization Scheme: object keys sorted by UTF-16 code units, no whitespace,
 * numbers as ECMAScript serializes them, strings escaped minimally. Follows JSON.stringify for
 * `toJSON()` and for `undefined`/functions (omitted in objects, `null` in arrays); throws
 * `CryptoError('invalid_json')` for non-finite numbers, bigints, lone surrogates, cycles and
 * a top-level value that JSON cannot hold.
 */
export function canonicalJson(value: unknown): string {
  if (isSkipped(value)) fail('', `is ${typeof value}, which JSON cannot represent`);
  return serialize(value, '', '', new Set());
}
