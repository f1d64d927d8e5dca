import type { JsonSchema } from './source-analysis.js';

/** Candidate strings tried, in order, against a `pattern` (the first that matches wins). */
const PATTERN_CANDIDATES = [
  '12.50',
  '0.05',
  '1',
  'CNY',
  'CN',
  'GZ',
  'A1',
  'H200',
  'I',
  'key-0001-example',
  'sk_3mYpZ1X0exampleexampleexampleexampleexample',
  '86.N00',
  'buyer-3f6c2a4e8b1d4c3e',
  'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs',
  'example',
];

const FIELD_HINTS: Record<string, string> = {
  email: 'buyer@example.com',
  password: 'correct horse battery staple',
  currency: 'CNY',
  country: 'CN',
  cri: '86.N00/CN-GZ-A1.AI.BM.H200x8.000001-K',
  name: 'Example',
  title: 'H200 x8 in Guangzhou',
};

const AMOUNT_FIELDS =
  /^(price|amount|total|subtotal|gross|fee|net|quantity|available|held|balance|credits|takeRate)$/;

const FORMATS: Record<string, string> = {
  uuid: '3f6c2a4e-8b1d-4c3e-9a7f-2d5b8e1c0a94',
  'date-time': '2026-11-28T08:00:00.000Z',
  date: '2026-11-28',
  email: 'buyer@example.com',
  uri: 'https://example.com/',
  url: 'https://example.com/',
};

type Components = Record<string, JsonSchema>;

/**
 * A plausible example value for a JSON Schema: consts, enums, defaults and formats first, then
 * a few known shapes for patterns. Used where no hand-written example is given.
 */
export function sampleOf(
  schema: JsonSchema,
  components: Components,
  field = '',
  depth = 0,
  /** Requests: only the required fields (or the first one when none is required). */
  minimal = false,
): unknown {
  // deep enough for the nested views (a search page → offer → prices → tiers); a bound for cycles
  if (depth > 24) return null;
  const ref = schema.$ref;
  if (typeof ref === 'string') {
    const target = components[ref.replace('#/components/schemas/', '')];
    return target ? sampleOf(target, components, field, depth + 1, minimal) : null;
  }
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if ('const' in schema) return schema.const;
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const alts = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (alts) {
    const first = alts.find((a) => a.type !== 'null') ?? alts[0];
    return sampleOf(first, components, field, depth + 1, minimal);
  }
  if (Array.isArray(schema.allOf)) {
    return Object.assign(
      {},
      ...(schema.allOf as JsonSchema[]).map((s) =>
        sampleOf(s, components, field, depth + 1, minimal),
      ),
    ) as unknown;
  }
  const type = Array.isArray(schema.type)
    ? (schema.type as string[]).find((t) => t !== 'null')
    : (schema.type as string | undefined);
  switch (type) {
    case 'string':
      return stringSample(schema, field);
    case 'integer':
    case 'number': {
      const min =
        typeof schema.minimum === 'number'
          ? schema.minimum
          : typeof schema.exclusiveMinimum === 'number'
            ? schema.exclusiveMinimum + 1
            : 1;
      const max = typeof schema.maximum === 'number' ? schema.maximum : Number.MAX_SAFE_INTEGER;
      return Math.min(Math.max(min, 1), max);
    }
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array': {
      const items = (schema.items as JsonSchema | undefined) ?? {};
      const n = typeof schema.minItems === 'number' ? Math.max(1, schema.minItems) : 1;
      return Array.from({ length: n }, () =>
        sampleOf(items, components, field, depth + 1, minimal),
      );
    }
    case 'object':
    case undefined: {
      const props = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
      if (type === undefined && Object.keys(props).length === 0) return {};
      const out: Record<string, unknown> = {};
      const required = new Set((schema.required as string[] | undefined) ?? []);
      const keys = Object.keys(props);
      const chosen = minimal
        ? required.size > 0
          ? keys.filter((k) => required.has(k))
          : keys.slice(0, 1)
        : keys.filter((k) => required.has(k) || props[k].default === undefined);
      for (const k of chosen) out[k] = sampleOf(props[k], components, k, depth + 1, minimal);
      return out;
    }
    default:
      return null;
  }
}

function stringSample(schema: JsonSchema, field: string): string {
  const format = schema.format as string | undefined;
  if (format && FORMATS[format]) return FORMATS[format];
  const pattern = schema.pattern as string | undefined;
  const hint = FIELD_HINTS[field];
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const fits = (s: string): boolean =>
    s.length >= min &&
    (typeof schema.maxLength !== 'number' || s.length <= schema.maxLength) &&
    (!pattern || new RegExp(pattern, 'u').test(s));
  if (hint && fits(hint)) return hint;
  if (!pattern && (field === 'id' || field.endsWith('Id'))) return FORMATS.uuid;
  if (!pattern && field.endsWith('At')) return FORMATS['date-time'];
  if (!pattern && AMOUNT_FIELDS.test(field)) return '12.50';
  for (const c of pattern ? PATTERN_CANDIDATES : []) if (fits(c)) return c;
  const base = 'example';
  return base.length >= min ? base : base.padEnd(min, 'x');
}
