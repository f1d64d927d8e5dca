import { z } from 'zod';

const cache = new WeakMap<z.ZodType, z.ZodType>();

type Def = Record<string, unknown> & { type: string };
const defOf = (s: z.ZodType): Def => s._zod.def as unknown as Def;
const rebuild = (s: z.ZodType, def: Def): z.ZodType => s.clone(def as never) as z.ZodType;

/**
 * The schema with every object in it strict: an unknown field is a validation error instead of
 * being silently dropped. Objects that opted into extra fields (`.passthrough()`, `.catchall()`)
 * keep them. Refinements, defaults and transforms are kept (the definitions are cloned).
 */
export function strictInput<S extends z.ZodType>(schema: S): S {
  return strict(schema) as S;
}

function strict(s: z.ZodType): z.ZodType {
  const hit = cache.get(s);
  if (hit) return hit;
  const def = defOf(s);
  let out: z.ZodType = s;
  switch (def.type) {
    case 'object': {
      const shape = def.shape as Record<string, z.ZodType>;
      const next = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, strict(v)]));
      out = rebuild(s, { ...def, shape: next, catchall: def.catchall ?? z.never() });
      break;
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      out = rebuild(s, { ...def, innerType: strict(def.innerType as z.ZodType) });
      break;
    case 'array':
      out = rebuild(s, { ...def, element: strict(def.element as z.ZodType) });
      break;
    case 'union':
      out = rebuild(s, { ...def, options: (def.options as z.ZodType[]).map(strict) });
      break;
    case 'intersection':
      // members of an intersection each see the whole input: leave them as they are
      break;
    case 'pipe':
      out = rebuild(s, { ...def, in: strict(def.in as z.ZodType) });
      break;
    case 'record':
      out = rebuild(s, { ...def, valueType: strict(def.valueType as z.ZodType) });
      break;
    default:
      break;
  }
  cache.set(s, out);
  return out;
}
